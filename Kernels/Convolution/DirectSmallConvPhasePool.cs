using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Pooling;
using FastInfer.Kernels.Threading;

namespace FastInfer.Kernels.Convolution;

/// <summary>
/// A first layer with the stride-2 max pool after it fused (ResNet's stem and its 3×3 pool, the seed CNN's 2×2): conv rows are
/// computed a few at a time into per-thread scratch and pooled from there while they are in L2, so the full-size output
/// (3.2 MB at 224×224) is never written to memory and read back by a separate pooling step.
/// </summary>
public static unsafe partial class DirectSmallConv
{
    /// <summary>Pooled rows per chunk: the chunk holds their 2·4 + 1 conv rows (64 channels × 112 pixels: 258 KiB).</summary>
    private const int PooledRowsPerChunk = 4;

    /// <summary>
    /// Whether <see cref="RunPooledFromPhases"/> runs this convolution followed by this max pool: the phase path's shape
    /// (few input channels), a stride-2 pool without dilation over its whole output, 3×3 with pads under 3 or 2×2
    /// without, floor rounding (so every window holds at least one conv row).
    /// </summary>
    public static bool CanPoolFromPhases(in ConvShape s, in PoolShape p) =>
        Applies(s) && p.Planes == s.Batch * s.OutChannels && p.InHeight == s.OutHeight && p.InWidth == s.OutWidth
        && p.KernelWidth == p.KernelHeight && p.StrideHeight == 2 && p.StrideWidth == 2 && p.DilationHeight == 1 && p.DilationWidth == 1
        && (p.KernelHeight == 3 && p.PadTop is >= 0 and < 3 && p.PadLeft is >= 0 and < 3 && p.PadBottom is >= 0 and < 3 && p.PadRight is >= 0 and < 3
            || p.KernelHeight == 2 && p.PadTop == 0 && p.PadLeft == 0 && p.PadBottom == 0 && p.PadRight == 0)
        && s.OutHeight + p.PadTop + p.PadBottom >= p.KernelHeight && s.OutWidth + p.PadLeft + p.PadRight >= p.KernelWidth
        && p.OutHeight == (s.OutHeight + p.PadTop + p.PadBottom - p.KernelHeight) / 2 + 1
        && p.OutWidth == (s.OutWidth + p.PadLeft + p.PadRight - p.KernelWidth) / 2 + 1;

    /// <param name="workspace"><see cref="WorkspaceBytes"/> of scratch for the column phases on one thread.</param>
    public static void RunPooledFromPhases(in ConvShape s, ConvWeights weights, float* x, float* y, Activation activation, in PoolShape pool,
        WorkerPool workers, float* workspace)
    {
        if (!CanPoolFromPhases(s, pool)) throw new ArgumentException($"convolution {s} with max pool {pool} does not take the pooled phase path");
        var taps = weights.TapMajor ?? throw new InvalidOperationException("ConvWeights.PrepareTapMajor was not called for this convolution.");
        var runOn = s.MultiplyAdds < SerialMultiplyAdds ? WorkerPool.Serial : workers;
        // The tiles write one image's chunk of conv rows: channels ChunkRows rows apart, OutFirstRow set per chunk.
        var tiles = PhaseTileBody.For(s, taps.Floats, weights.Bias != null ? weights.Bias.Floats : null, activation);
        tiles.OutChannelStride = (long)ChunkRows * s.OutWidth;
        var body = new PooledBandBody
        {
            Split = PhaseBody.For(s, x), Tiles = tiles, Pool = pool, Y = y, Shared = workspace,
            Bands = SplitByBands && s.Batch * pool.OutHeight >= runOn.Concurrency ? runOn.Concurrency : 1,
        };
        if (body.Bands > 1) ThreadScratch.For(runOn, body.Bands, ref body, WorkspaceBytes(s) / sizeof(float) + (long)s.OutChannels * ChunkRows * s.OutWidth);
        else body.Invoke(0);
    }

    /// <summary>Whether a 2×2 pool is taken in registers from two-row tiles (<see cref="PhaseTileBody.RunPooledPair"/>); a switch for the benchmarks' A/B.</summary>
    internal static bool PoolPairsInRegisters = true;

    /// <summary>Conv rows one chunk may need: 2·(pooled rows − 1) + 3.</summary>
    private const int ChunkRows = 2 * PooledRowsPerChunk + 1;

    /// <summary>
    /// One thread's band of pooled rows (over batch × pooled height): the column phases its conv rows read, then per
    /// chunk of pooled rows the conv rows not yet computed (the row two chunks share is moved, not recomputed), then
    /// the pool of those rows into Y. A conv row on a band boundary is computed by both threads.
    /// </summary>
    private struct PooledBandBody : IParallelBody
    {
        public PhaseBody Split;
        public PhaseTileBody Tiles;
        public PoolShape Pool;
        public float* Y, Shared;
        public int Bands;

        public void Invoke(int band)
        {
            var s = Tiles.S;
            var p = Pool;
            int total = s.Batch * p.OutHeight;
            int r0 = (int)((long)total * band / Bands), r1 = (int)((long)total * (band + 1) / Bands);
            if (r0 >= r1) return;
            int ow = s.OutWidth, oc = s.OutChannels, vectors = Tiles.VectorsPerRow;
            long phaseFloats = Bands == 1 ? 0 : WorkspaceBytes(s) / sizeof(float), rowStride = Tiles.OutChannelStride;
            float* scratch = ThreadScratch.Get(phaseFloats + oc * rowStride);
            var split = Split;
            var tiles = Tiles;
            split.Phases = tiles.Phases = Bands == 1 ? Shared : scratch;
            float* chunk = scratch + phaseFloats;
            tiles.Y = chunk;
            bool pairs = p.KernelHeight == 2 && PoolPairsInRegisters && tiles.StoresFromRegisters && oc % PhaseChannels == 0;
            for (int n = r0 / p.OutHeight; n <= (r1 - 1) / p.OutHeight; n++)
            {
                int q0 = Math.Max(r0 - n * p.OutHeight, 0), q1 = Math.Min(r1 - n * p.OutHeight, p.OutHeight);
                split.SplitFor(n, FirstConvRow(q0), EndConvRow(q1 - 1, s.OutHeight));
                if (pairs)
                {
                    // 2×2: each pooled row is two conv rows, pooled in registers and stored once; no chunk of conv rows.
                    long planeSize = (long)p.OutHeight * p.OutWidth;
                    for (int q = q0; q < q1; q++)
                        for (int v = 0; v < vectors && v * Lanes / 2 < p.OutWidth; v++)
                            tiles.RunPooledPair(n, q, v, Y + (long)n * oc * planeSize + (long)q * p.OutWidth + v * Lanes / 2, planeSize,
                                Math.Min(Lanes / 2, p.OutWidth - v * Lanes / 2));
                    continue;
                }
                int have0 = 0, have1 = 0; // conv rows [have0, have1) are in the chunk, row r at (r − have0)·OW
                for (int q = q0; q < q1; q += PooledRowsPerChunk)
                {
                    int qe = Math.Min(q1, q + PooledRowsPerChunk);
                    int ca = FirstConvRow(q), cb = EndConvRow(qe - 1, s.OutHeight);
                    if (have1 > ca) // rows shared with the previous chunk move to the front
                        for (int c = 0; c < oc; c++)
                            Buffer.MemoryCopy(chunk + c * rowStride + (long)(ca - have0) * ow, chunk + c * rowStride,
                                (long)(have1 - ca) * ow * sizeof(float), (long)(have1 - ca) * ow * sizeof(float));
                    tiles.OutFirstRow = ca;
                    int v1 = (n * s.OutHeight + cb) * vectors;
                    for (int v = (n * s.OutHeight + Math.Max(ca, have1)) * vectors; v < v1; v += PhaseVectors)
                        tiles.Run(v, Math.Min(PhaseVectors, v1 - v));
                    (have0, have1) = (ca, cb);
                    for (int c = 0; c < oc; c++)
                    {
                        // Row r of this channel's plane is at plane + r·OW for the rows in the chunk, which are all the pool reads.
                        float* plane = chunk + c * rowStride - (long)ca * ow;
                        float* pooled = Y + ((long)n * oc + c) * p.OutHeight * p.OutWidth;
                        if (p.KernelHeight == 3)
                            for (int r = q; r < qe; r++) Pool2D.Max3x3Stride2Row(p, plane, pooled + (long)r * p.OutWidth, r);
                        else
                            for (int r = q; r < qe; r++) Pool2D.Max2x2Stride2Row(p, plane, pooled + (long)r * p.OutWidth, r);
                    }
                }
            }
        }

        /// <summary>The first conv row pooled row q reads (its window's first row inside the image).</summary>
        private readonly int FirstConvRow(int q) => Math.Max(0, 2 * q - Pool.PadTop);

        /// <summary>One past the last conv row pooled row q reads.</summary>
        private readonly int EndConvRow(int q, int height) => Math.Min(height, 2 * q - Pool.PadTop + Pool.KernelHeight);
    }
}
