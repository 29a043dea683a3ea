using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Gemm.MicroKernels;
using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Platform;
using FastInfer.Kernels.Threading;

namespace FastInfer.Kernels.Convolution;

/// <summary>
/// Direct convolution for a first layer: few input channels (an RGB image), stride 1 or 2, so the column matrix of
/// im2col would be a dozen times the input (27 rows for 3×3×3) and the GEMM's K a few dozen — each micro-kernel call
/// too short to pay for its tile store. Here 16 horizontally adjacent output pixels are one vector: for each of the
/// K taps one (masked at the image edge) load of the input row — for stride 2, two loads and a permute keeping the
/// even columns — then one FMA into each of 16 output channels' accumulators with the tap's weight broadcast. The input is read in place and the output written once.
/// Needs AVX-512 F; parallel over (output row, 16-channel block). Given a workspace, a layer takes the padded-row /
/// column-phase path instead (DirectSmallConvPhases.cs): three pixel vectors by eight channels per tile.
/// </summary>
public static unsafe partial class DirectSmallConv
{
    private const int Lanes = 16;
    /// <summary>Output channels held in registers per pass.</summary>
    private const int ChannelBlock = 16;
    /// <summary>Largest Cin·KH·KW this path takes for any channel count: beyond it im2col's matrix is no longer mostly copies.</summary>
    public const int MaxTaps = 64;
    /// <summary>An image's first layer (RGB, gray, RGBA) takes this path up to this many taps (ResNet's 7×7 stem: 147).</summary>
    private const int MaxImageTaps = 256;

    public static bool Applies(in ConvShape s) =>
        s.Group == 1 && s.StrideHeight == s.StrideWidth && s.DilationHeight == 1 && s.DilationWidth == 1
        && s.KernelHeight * s.KernelWidth > 1 // 1×1 needs no im2col: the GEMM path reads the input in place
        && ((s.StrideWidth == 1 && s.KernelSize <= MaxTaps) || (s.StrideWidth is 1 or 2 && s.InChannels <= 4 && s.KernelSize <= MaxImageTaps))
        && s.OutWidth >= Lanes && s.OutChannels >= 8
        && KernelIsa.Current == IsaLevel.Avx512 && Avx512F.IsSupported;

    /// <summary>Multiply-adds below which the convolution runs on the calling thread alone.</summary>
    private const long SerialMultiplyAdds = 2_000_000;

    /// <summary>The filters as [tap][output channel], channels padded to a multiple of 16 with zeros.</summary>
    internal static float[] TapMajorFilters(float* oihw, int outChannels, int taps)
    {
        int padded = (outChannels + ChannelBlock - 1) / ChannelBlock * ChannelBlock;
        var t = new float[taps * padded];
        for (int m = 0; m < outChannels; m++)
            for (int k = 0; k < taps; k++)
                t[k * padded + m] = oihw[(long)m * taps + k];
        return t;
    }

    /// <param name="workspace"><see cref="WorkspaceBytes"/> of scratch for the padded rows or column phases (the tiled
    /// path); null runs 16 pixels × 16 channels straight from the input, masking the edges per tap.</param>
    public static void Run(in ConvShape s, ConvWeights weights, float* x, float* y, float* residual, Activation activation, WorkerPool pool,
        float* workspace = null)
    {
        var taps = weights.TapMajor ?? throw new InvalidOperationException("ConvWeights.PrepareTapMajor was not called for this convolution.");
        int blocks = (s.OutChannels + ChannelBlock - 1) / ChannelBlock;
        // Under ~10 µs of FMAs (a 32×32 image's first layer) one core finishes before a split would pay for itself.
        var runOn = s.MultiplyAdds < SerialMultiplyAdds ? WorkerPool.Serial : pool;
        var body = new RowBody
        {
            S = s, X = x, Y = y, Residual = residual, Taps = taps.Floats, Bias = weights.Bias != null ? weights.Bias.Floats : null,
            Activation = activation, Blocks = blocks, PaddedChannels = blocks * ChannelBlock,
        };
        if (workspace != null && SplitPhases) { RunFromPhases(s, body, workspace, runOn); return; }
        runOn.For(s.Batch * s.OutHeight * blocks, ref body);
    }

    /// <summary>Whether convolutions given a workspace take the phase path; a switch for the benchmarks' A/B.</summary>
    internal static bool SplitPhases = true;

    /// <summary>Whether stride-2 convolutions run in per-thread bands (<see cref="PhaseBandBody"/>); a switch for the benchmarks' A/B.</summary>
    internal static bool SplitByBands = true;

    private struct RowBody : IParallelBody
    {
        public ConvShape S;
        public float* X, Y, Residual, Taps, Bias;
        public Activation Activation;
        public int Blocks, PaddedChannels;

        [SkipLocalsInit]
        public void Invoke(int index)
        {
            int block = index % Blocks, row = index / Blocks;
            int n = row / S.OutHeight, oh = row - n * S.OutHeight;
            int ow = S.OutWidth, oc = S.OutChannels, c0 = block * ChannelBlock;
            int channels = Math.Min(ChannelBlock, oc - c0);
            long plane = (long)S.OutHeight * ow;
            float* yRow = Y + ((long)n * oc + c0) * plane + (long)oh * ow;
            float* rRow = Residual != null ? Residual + ((long)n * oc + c0) * plane + (long)oh * ow : null;
            float* tile = stackalloc float[ChannelBlock * Lanes];
            for (int x0 = 0; x0 < ow; x0 += Lanes)
            {
                int valid = Math.Min(Lanes, ow - x0);
                Accumulate(S, X, Taps, Bias, PaddedChannels, n, oh, x0, c0, channels, tile);
                var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(valid)).AsSingle();
                for (int c = 0; c < channels; c++)
                {
                    var o = Vector512.Load(tile + c * Lanes);
                    float* dst = yRow + c * plane + x0;
                    if (rRow != null) o += Avx512F.MaskLoad(rRow + c * plane + x0, mask, Vector512<float>.Zero);
                    o = TileStore512.Activate(o, Activation);
                    if (valid == Lanes) Vector512.Store(o, dst);
                    else Avx512F.MaskStore(dst, mask, o);
                }
            }
        }
    }

    /// <summary>
    /// tile[c·16 + i] = bias[c0 + c] + Σ taps of output pixel (oh, x0 + i), channel c0 + c, for 16 pixels × 16 channels
    /// held in registers through the tap loop; lanes past the row compute on zero-padded loads and are not stored.
    /// Stride 2 reads the even columns with two loads and a permute per tap (the phase path avoids that).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate(in ConvShape S, float* X, float* Taps, float* Bias, int PaddedChannels, int n, int oh, int x0, int c0, int channels, float* tile)
    {
        int stride = S.StrideWidth;
        int ih0 = oh * S.StrideHeight - S.PadTop, iw = S.InWidth, ih = S.InHeight, kh = S.KernelHeight, kw = S.KernelWidth;
        float* image = X + (long)n * S.InChannels * ih * iw;
        var a0 = Vector512.Create(Bias != null && 0 < channels ? Bias[c0 + 0] : 0f);
        var a1 = Vector512.Create(Bias != null && 1 < channels ? Bias[c0 + 1] : 0f);
        var a2 = Vector512.Create(Bias != null && 2 < channels ? Bias[c0 + 2] : 0f);
        var a3 = Vector512.Create(Bias != null && 3 < channels ? Bias[c0 + 3] : 0f);
        var a4 = Vector512.Create(Bias != null && 4 < channels ? Bias[c0 + 4] : 0f);
        var a5 = Vector512.Create(Bias != null && 5 < channels ? Bias[c0 + 5] : 0f);
        var a6 = Vector512.Create(Bias != null && 6 < channels ? Bias[c0 + 6] : 0f);
        var a7 = Vector512.Create(Bias != null && 7 < channels ? Bias[c0 + 7] : 0f);
        var a8 = Vector512.Create(Bias != null && 8 < channels ? Bias[c0 + 8] : 0f);
        var a9 = Vector512.Create(Bias != null && 9 < channels ? Bias[c0 + 9] : 0f);
        var a10 = Vector512.Create(Bias != null && 10 < channels ? Bias[c0 + 10] : 0f);
        var a11 = Vector512.Create(Bias != null && 11 < channels ? Bias[c0 + 11] : 0f);
        var a12 = Vector512.Create(Bias != null && 12 < channels ? Bias[c0 + 12] : 0f);
        var a13 = Vector512.Create(Bias != null && 13 < channels ? Bias[c0 + 13] : 0f);
        var a14 = Vector512.Create(Bias != null && 14 < channels ? Bias[c0 + 14] : 0f);
        var a15 = Vector512.Create(Bias != null && 15 < channels ? Bias[c0 + 15] : 0f);
        float* w = Taps + c0;
        for (int ci = 0; ci < S.InChannels; ci++)
        {
            for (int r = 0; r < kh; r++)
            {
                int iy = ih0 + r;
                if ((uint)iy >= (uint)ih) { w += kw * PaddedChannels; continue; }
                float* src = image + ((long)ci * ih + iy) * iw;
                for (int q = 0; q < kw; q++, w += PaddedChannels)
                {
                    var v = stride == 1 ? LoadRow(src, x0 + q - S.PadLeft, iw) : LoadEvenColumns(src, 2 * x0 + q - S.PadLeft, iw);
                    a0 = Avx512F.FusedMultiplyAdd(v, Vector512.Create(w[0]), a0);
                    a1 = Avx512F.FusedMultiplyAdd(v, Vector512.Create(w[1]), a1);
                    a2 = Avx512F.FusedMultiplyAdd(v, Vector512.Create(w[2]), a2);
                    a3 = Avx512F.FusedMultiplyAdd(v, Vector512.Create(w[3]), a3);
                    a4 = Avx512F.FusedMultiplyAdd(v, Vector512.Create(w[4]), a4);
                    a5 = Avx512F.FusedMultiplyAdd(v, Vector512.Create(w[5]), a5);
                    a6 = Avx512F.FusedMultiplyAdd(v, Vector512.Create(w[6]), a6);
                    a7 = Avx512F.FusedMultiplyAdd(v, Vector512.Create(w[7]), a7);
                    a8 = Avx512F.FusedMultiplyAdd(v, Vector512.Create(w[8]), a8);
                    a9 = Avx512F.FusedMultiplyAdd(v, Vector512.Create(w[9]), a9);
                    a10 = Avx512F.FusedMultiplyAdd(v, Vector512.Create(w[10]), a10);
                    a11 = Avx512F.FusedMultiplyAdd(v, Vector512.Create(w[11]), a11);
                    a12 = Avx512F.FusedMultiplyAdd(v, Vector512.Create(w[12]), a12);
                    a13 = Avx512F.FusedMultiplyAdd(v, Vector512.Create(w[13]), a13);
                    a14 = Avx512F.FusedMultiplyAdd(v, Vector512.Create(w[14]), a14);
                    a15 = Avx512F.FusedMultiplyAdd(v, Vector512.Create(w[15]), a15);
                }
            }
        }
        // Through the stack before the epilogue's calls, so the accumulators stay in registers in the tap loop.
        Vector512.Store(a0, tile + 0 * Lanes);
        Vector512.Store(a1, tile + 1 * Lanes);
        Vector512.Store(a2, tile + 2 * Lanes);
        Vector512.Store(a3, tile + 3 * Lanes);
        Vector512.Store(a4, tile + 4 * Lanes);
        Vector512.Store(a5, tile + 5 * Lanes);
        Vector512.Store(a6, tile + 6 * Lanes);
        Vector512.Store(a7, tile + 7 * Lanes);
        Vector512.Store(a8, tile + 8 * Lanes);
        Vector512.Store(a9, tile + 9 * Lanes);
        Vector512.Store(a10, tile + 10 * Lanes);
        Vector512.Store(a11, tile + 11 * Lanes);
        Vector512.Store(a12, tile + 12 * Lanes);
        Vector512.Store(a13, tile + 13 * Lanes);
        Vector512.Store(a14, tile + 14 * Lanes);
        Vector512.Store(a15, tile + 15 * Lanes);
    }

    /// <summary>Input pixels start, start + 2, …, start + 30 of one row (stride 2), zero outside [0, width).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> LoadEvenColumns(float* row, int start, int width)
    {
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        if (start >= 0 && start + 2 * Lanes <= width)
            return Avx512F.PermuteVar16x32x2(Vector512.Load(row + start), even, Vector512.Load(row + start + Lanes));
        return Avx512F.PermuteVar16x32x2(LoadRow(row, start, width), even, LoadRow(row, start + Lanes, width));
    }

    /// <summary>Input pixels [start, start + 16) of one row, zero where outside [0, width) (the padding).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> LoadRow(float* row, int start, int width)
    {
        if (start >= 0 && start + Lanes <= width) return Vector512.Load(row + start);
        var lane = Vector512<int>.Indices + Vector512.Create(start);
        var inside = Vector512.GreaterThanOrEqual(lane, Vector512<int>.Zero) & Vector512.LessThan(lane, Vector512.Create(width));
        // Masked-off lanes are never read, so the address may lie outside the row.
        return Avx512F.MaskLoad(row + start, inside.AsSingle(), Vector512<float>.Zero);
    }
}
