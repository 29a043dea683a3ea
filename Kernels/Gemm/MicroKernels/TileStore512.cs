using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastInfer.Kernels.Gemm.MicroKernels;

/// <summary>
/// Stores an AVX-512 tile into C with the epilogue applied in registers; masked for N tails. The micro-kernel
/// makes one call per tile (<see cref="Tile"/>), inside which every row's merge, bias, residual and activation
/// are inlined: a call per 16-float piece cost as much as a fifth of a kc = 256 kernel call.
/// </summary>
internal static unsafe class TileStore512
{
    /// <summary>Stores <paramref name="rows"/> rows of a tile kept on the stack at a row stride of 32 floats.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Tile(float* c, nint ldc, float* tile, int rows, int cols, int row0, int col0, TileContext* t)
    {
        if (t->MergesPlainly && (!t->Last || FastLastStore))
        {
            // Alpha 1, and C either accumulated from earlier K blocks or not read.
            if (cols >= 32) { FullWidth(c, ldc, tile, rows, row0, col0, t); return; }
            if (t->Last) { LastPartialWidth(c, ldc, tile, rows, row0, col0, cols, t); return; }
        }
        for (int r = 0; r < rows; r++, c += ldc, tile += 32)
            Row(c, Vector512.Load(tile), Vector512.Load(tile + 16), row0 + r, col0, cols, t);
    }

    /// <summary>
    /// Whether last-block stores with alpha 1 take <see cref="FullWidth"/> / <see cref="LastPartialWidth"/> (and
    /// <see cref="TileStore256.Tile"/> its own); a switch for the benchmarks' A/B.
    /// </summary>
    internal static bool FastLastStore = true;

    /// <summary>
    /// A full-width tile with alpha 1 and C either accumulated from earlier K blocks or not read, through
    /// <see cref="RowEpilogue512"/> (the epilogue on the last K block): the context's fields read once per tile, a per-column
    /// bias loaded once for all rows. Through <see cref="Row"/> every vector re-read them from the context after each
    /// store to C (which might alias it), a dozen loads and branches per vector: a kc = 256 call alone ran at 84% of peak
    /// that way and 90% this way, ResNet-18's Winograd layer1 (K = 64) 7% faster.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FullWidth(float* c, nint ldc, float* tile, int rows, int row0, int col0, TileContext* t)
    {
        var e = new RowEpilogue512(t, row0, col0, two: true);
        for (int r = 0; r < rows; r++, c += ldc, tile += 32)
            e.Store(c, Vector512.Load(tile), Vector512.Load(tile + 16), r, anyActivation: true);
    }

    /// <summary>
    /// <see cref="FullWidth"/>'s last K block for an N tail of under 32 columns (Winograd's 16-tile products on a 14×14
    /// image are all such tails): masked moves for the columns past the tile's edge.
    /// </summary>
    private static void LastPartialWidth(float* c, nint ldc, float* tile, int rows, int row0, int col0, int cols, TileContext* t)
    {
        bool accumulate = !t->First, two = cols > 16;
        var activation = t->Activation;
        float* bias = t->BiasKind == BiasKind.PerRow ? t->Bias + row0 : null;
        float* residual = t->Residual != null ? t->Residual + row0 * t->ResidualStride + col0 : null;
        nint residualStride = (nint)t->ResidualStride;
        var mask0 = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(cols)).AsSingle();
        var mask1 = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(cols - 16)).AsSingle();
        var zero = Vector512<float>.Zero;
        bool columnBias = t->BiasKind == BiasKind.PerColumn;
        var cb0 = columnBias ? Avx512F.MaskLoad(t->Bias + col0, mask0, zero) : zero;
        var cb1 = columnBias && two ? Avx512F.MaskLoad(t->Bias + col0 + 16, mask1, zero) : zero;
        for (int r = 0; r < rows; r++, c += ldc, tile += 32)
        {
            var v0 = Vector512.Load(tile) + cb0;
            var v1 = Vector512.Load(tile + 16) + cb1;
            if (accumulate) { v0 += Avx512F.MaskLoad(c, mask0, zero); if (two) v1 += Avx512F.MaskLoad(c + 16, mask1, zero); }
            if (bias != null) { var b = Vector512.Create(bias[r]); v0 += b; v1 += b; }
            if (residual != null)
            {
                v0 += Avx512F.MaskLoad(residual, mask0, zero);
                if (two) v1 += Avx512F.MaskLoad(residual + 16, mask1, zero);
                residual += residualStride;
            }
            Avx512F.MaskStore(c, mask0, Activate(v0, activation));
            if (two) Avx512F.MaskStore(c + 16, mask1, Activate(v1, activation));
        }
    }

    /// <summary>Stores up to 32 columns held in two vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Row(float* c, Vector512<float> v0, Vector512<float> v1, int row, int col, int cols, TileContext* t)
    {
        Piece(c, v0, row, col, cols, t);
        if (cols > 16) Piece(c + 16, v1, row, col + 16, cols - 16, t);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Piece(float* c, Vector512<float> v, int row, int col, int valid, TileContext* t)
    {
        if (valid >= 16)
        {
            if (!t->AlphaIsOne) v *= Vector512.Create(t->Alpha);
            if (!t->First) v += Vector512.Load(c);
            else if (t->Beta != 0) v += Vector512.Create(t->Beta) * Vector512.Load(c);
            if (t->Last) v = Finish(v, Vector512<float>.AllBitsSet, row, col, t);
            Vector512.Store(v, c);
            return;
        }
        var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(valid)).AsSingle();
        if (!t->AlphaIsOne) v *= Vector512.Create(t->Alpha);
        if (!t->First) v += Avx512F.MaskLoad(c, mask, Vector512<float>.Zero);
        else if (t->Beta != 0) v += Vector512.Create(t->Beta) * Avx512F.MaskLoad(c, mask, Vector512<float>.Zero);
        if (t->Last) v = Finish(v, mask, row, col, t);
        Avx512F.MaskStore(c, mask, v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Finish(Vector512<float> v, Vector512<float> mask, int row, int col, TileContext* t)
    {
        if (t->BiasKind == BiasKind.PerRow) v += Vector512.Create(t->Bias[row]);
        else if (t->BiasKind == BiasKind.PerColumn) v += Avx512F.MaskLoad(t->Bias + col, mask, Vector512<float>.Zero);
        if (t->Residual != null) v += Avx512F.MaskLoad(t->Residual + row * t->ResidualStride + col, mask, Vector512<float>.Zero);
        return Activate(v, t->Activation);
    }

    /// <summary>The activation: the cheap kinds inline, the transcendental ones out of line.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Activate(Vector512<float> v, in Activation a)
    {
        switch (a.Kind)
        {
            case ActivationKind.None: return v;
            case ActivationKind.Relu: return Vector512.Max(v, Vector512<float>.Zero);
            case ActivationKind.Clip: return Vector512.Min(Vector512.Max(v, Vector512.Create(a.Alpha)), Vector512.Create(a.Beta));
            case ActivationKind.LeakyRelu:
                return Vector512.ConditionalSelect(Vector512.LessThan(v, Vector512<float>.Zero), v * Vector512.Create(a.Alpha), v);
            default: return Transcendental(v, a.Kind);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector512<float> Transcendental(Vector512<float> v, ActivationKind kind)
    {
        switch (kind)
        {
            case ActivationKind.Sigmoid: return Vector512<float>.One / (Vector512<float>.One + Vector512.Exp(-v));
            case ActivationKind.Tanh:
                // 1 - 2/(e^{2x}+1): saturates cleanly to ±1 where e^{2x} overflows or underflows.
                return Vector512<float>.One - Vector512.Create(2f) / (Vector512.Exp(v + v) + Vector512<float>.One);
            case ActivationKind.Gelu: return Gelu(v);
            default: return v;
        }
    }

    /// <summary>Out of line: the GELU's dozen vector constants and temporaries stay out of the tile store.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector512<float> Gelu(Vector512<float> v) => Elementwise.GeluKernel.Gelu512(v);
}
