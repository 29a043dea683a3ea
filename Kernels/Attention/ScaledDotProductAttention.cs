using FastInfer.Kernels.Elementwise;
using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Platform;
using FastInfer.Kernels.Threading;

namespace FastInfer.Kernels.Attention;

/// <summary>
/// Where the operands of one attention call live. Q, K, V and O keep the layout transformer exports have before their
/// head Transposes, [batch, sequence, heads, dim]: a head's rows are <c>RowStride</c> floats apart, and the kernel
/// reads them in place instead of transposing every head to [batch, heads, sequence, dim] and back.
/// A batch or head stride of 0 broadcasts that operand (ONNX MatMul's batch broadcasting).
/// </summary>
public unsafe struct AttentionProblem
{
    public int Batch, Heads, QueryLength, KeyLength, Dim, ValueDim;
    public float Scale;
    public float* Q, K, V, O;
    public long QBatchStride, QHeadStride, KBatchStride, KHeadStride, VBatchStride, VHeadStride, OBatchStride, OHeadStride;
    public int QRowStride, KRowStride, VRowStride, ORowStride;

    /// <summary>Additive mask broadcast to [batch, heads, query, key] by its strides (0 = broadcast); null for none.</summary>
    public float* Mask;
    public long MaskBatchStride, MaskHeadStride, MaskRowStride, MaskColumnStride;
}

/// <summary>
/// Scaled dot-product attention, one (batch, head) pair at a time: O = softmax(scale·Q·Kᵀ + mask)·V.
/// Both products go through the packed SGEMM with strided operands (Kᵀ is packed straight from K's rows); a block of
/// query rows' scores lives in the caller's buffer between them (L2-sized), with the mask added in the first
/// product's epilogue and the softmax run in place. Each call is serial: the caller spreads head pairs over threads,
/// so a head's scores never leave the core that computed them and no step waits for another.
/// </summary>
public static unsafe class ScaledDotProductAttention
{
    /// <summary>Query rows per score block: a block of scores stays within 256 KiB (a quarter of L2) when the key length
    /// allows, so K and V, packed again for every block, are packed once per head up to 256 keys.</summary>
    public static int BlockRows(int queryLength, int keyLength) =>
        Math.Clamp(65536 / Math.Max(1, keyLength), 16, Math.Max(16, queryLength));

    /// <summary>Floats of score buffer one thread needs.</summary>
    public static long ScoreFloats(int queryLength, int keyLength) =>
        (long)Math.Min(queryLength, BlockRows(queryLength, keyLength)) * keyLength;

    /// <summary>Runs head pairs [<paramref name="first"/>, <paramref name="end"/>) of batch × heads, serially.</summary>
    /// <param name="scores">At least <see cref="ScoreFloats"/> floats, private to this call.</param>
    public static void Heads(in AttentionProblem p, int first, int end, float* scores)
    {
        int sq = p.QueryLength, sk = p.KeyLength;
        if (sq == 0 || p.ValueDim == 0) return;
        if (sk == 0)
        {
            // No keys: every output row is an empty sum.
            ZeroOutputs(p, first, end);
            return;
        }
        int block = Math.Min(sq, BlockRows(sq, sk));
        bool wide = KernelIsa.Current == IsaLevel.Avx512;
        for (int pair = first; pair < end; pair++)
        {
            int b = pair / p.Heads, h = pair % p.Heads;
            float* q = p.Q + b * p.QBatchStride + h * p.QHeadStride;
            float* k = p.K + b * p.KBatchStride + h * p.KHeadStride;
            float* v = p.V + b * p.VBatchStride + h * p.VHeadStride;
            float* o = p.O + b * p.OBatchStride + h * p.OHeadStride;
            float* mask = p.Mask == null ? null : p.Mask + b * p.MaskBatchStride + h * p.MaskHeadStride;
            for (int r0 = 0; r0 < sq; r0 += block)
            {
                int rows = Math.Min(block, sq - r0);
                float* blockMask = mask == null ? null : mask + r0 * p.MaskRowStride;
                // The mask rides in the epilogue when its keys are contiguous: one row for every query (a padding
                // mask, [batch, 1, 1, key]) is a per-column bias, a full one a residual with its row stride.
                var epilogue = blockMask == null || p.MaskColumnStride != 1 ? default
                    : p.MaskRowStride == 0 ? new GemmEpilogue { Bias = blockMask, BiasKind = BiasKind.PerColumn }
                    : new GemmEpilogue { Residual = blockMask, ResidualStride = checked((int)p.MaskRowStride) };
                Sgemm.Multiply(false, true, rows, sk, p.Dim, p.Scale, q + (long)r0 * p.QRowStride, p.QRowStride,
                    k, p.KRowStride, 0f, scores, sk, epilogue, WorkerPool.Serial);
                if (blockMask != null && p.MaskColumnStride != 1) AddStridedMask(scores, rows, sk, blockMask, p.MaskRowStride, p.MaskColumnStride);
                for (int r = 0; r < rows; r++) SoftmaxKernel.Row(scores + (long)r * sk, scores + (long)r * sk, sk, wide);
                Sgemm.Multiply(false, false, rows, p.ValueDim, sk, 1f, scores, sk, v, p.VRowStride, 0f,
                    o + (long)r0 * p.ORowStride, p.ORowStride, default, WorkerPool.Serial);
            }
        }
    }

    private static void ZeroOutputs(in AttentionProblem p, int first, int end)
    {
        for (int pair = first; pair < end; pair++)
        {
            float* o = p.O + pair / p.Heads * p.OBatchStride + pair % p.Heads * p.OHeadStride;
            for (int r = 0; r < p.QueryLength; r++) new Span<float>(o + (long)r * p.ORowStride, p.ValueDim).Clear();
        }
    }

    /// <summary>A mask broadcast along the keys (column stride 0) or otherwise not contiguous: added element by element.</summary>
    private static void AddStridedMask(float* scores, int rows, int keys, float* mask, long rowStride, long columnStride)
    {
        for (int r = 0; r < rows; r++)
        {
            float* s = scores + (long)r * keys, m = mask + r * rowStride;
            for (int j = 0; j < keys; j++) s[j] += m[j * columnStride];
        }
    }

    /// <summary>The definition in double precision, for tests: every product and the softmax computed directly.</summary>
    public static void Reference(in AttentionProblem p)
    {
        var s = new double[p.KeyLength];
        for (int b = 0; b < p.Batch; b++)
            for (int h = 0; h < p.Heads; h++)
                for (int i = 0; i < p.QueryLength; i++)
                {
                    float* q = p.Q + b * p.QBatchStride + h * p.QHeadStride + (long)i * p.QRowStride;
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < p.KeyLength; j++)
                    {
                        float* k = p.K + b * p.KBatchStride + h * p.KHeadStride + (long)j * p.KRowStride;
                        double dot = 0;
                        for (int t = 0; t < p.Dim; t++) dot += (double)q[t] * k[t];
                        s[j] = p.Scale * dot;
                        if (p.Mask != null)
                            s[j] += p.Mask[b * p.MaskBatchStride + h * p.MaskHeadStride + i * p.MaskRowStride + j * p.MaskColumnStride];
                        max = Math.Max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < p.KeyLength; j++) sum += s[j] = Math.Exp(s[j] - max);
                    float* o = p.O + b * p.OBatchStride + h * p.OHeadStride + (long)i * p.ORowStride;
                    for (int t = 0; t < p.ValueDim; t++)
                    {
                        double acc = 0;
                        for (int j = 0; j < p.KeyLength; j++)
                            acc += s[j] / sum * p.V[b * p.VBatchStride + h * p.VHeadStride + (long)j * p.VRowStride + t];
                        o[t] = (float)acc;
                    }
                }
    }
}
