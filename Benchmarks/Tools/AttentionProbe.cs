using System.Diagnostics;
using FastInfer.Kernels.Attention;
using FastInfer.Kernels.Elementwise;
using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Threading;

namespace FastInfer.Benchmarks.Tools;

/// <summary>
/// The fused attention kernel on MiniLM's shapes (12 heads of 32, sequence 64–512, one thread), whole and piece by
/// piece: the Q·Kᵀ product, the softmax rows and the ·V product of one score block, each timed alone over every head,
/// with the fraction of one core's FMA peak the products reach.
/// </summary>
public static unsafe class AttentionProbe
{
    public static void Run(double peak, int reps)
    {
        const int heads = 12, d = 32;
        foreach (int seq in new[] { 64, 128, 256, 512 })
        {
            var rnd = new Random(seq);
            long n = (long)seq * heads * d;
            using var q = Fill(n, rnd); using var k = Fill(n, rnd); using var v = Fill(n, rnd);
            using var o = new AlignedBuffer(n * 4);
            using var mask = new AlignedBuffer(seq * 4);
            using var scores = new AlignedBuffer(ScaledDotProductAttention.ScoreFloats(seq, seq) * 4);
            var p = new AttentionProblem
            {
                Batch = 1, Heads = heads, QueryLength = seq, KeyLength = seq, Dim = d, ValueDim = d, Scale = 0.17f,
                Q = q.Floats, K = k.Floats, V = v.Floats, O = o.Floats, Mask = mask.Floats, MaskColumnStride = 1,
                QRowStride = heads * d, KRowStride = heads * d, VRowStride = heads * d, ORowStride = heads * d,
                QHeadStride = d, KHeadStride = d, VHeadStride = d, OHeadStride = d,
            };
            int block = Math.Min(seq, ScaledDotProductAttention.BlockRows(seq, seq));
            float* s = scores.Floats;
            double flops = 4.0 * heads * seq * seq * d;
            double whole = Time(reps, () => ScaledDotProductAttention.Heads(p, 0, heads, s));
            var ep = new GemmEpilogue { Bias = mask.Floats, BiasKind = BiasKind.PerColumn };
            int blocks = (seq + block - 1) / block;
            double qk = Time(reps, () =>
            {
                for (int h = 0; h < heads; h++)
                    for (int r0 = 0; r0 < seq; r0 += block)
                        Sgemm.Multiply(false, true, Math.Min(block, seq - r0), seq, d, 0.17f, q.Floats + h * d + r0 * heads * d, heads * d, k.Floats + h * d, heads * d, 0f, s, seq, ep, WorkerPool.Serial);
            });
            double softmax = Time(reps, () =>
            {
                for (int h = 0; h < heads * blocks; h++)
                    for (int r = 0; r < block; r++) SoftmaxKernel.Row(s + r * seq, s + r * seq, seq, true);
            });
            double pv = Time(reps, () =>
            {
                for (int h = 0; h < heads; h++)
                    for (int r0 = 0; r0 < seq; r0 += block)
                        Sgemm.Multiply(false, false, Math.Min(block, seq - r0), d, seq, 1f, s, seq, v.Floats + h * d, heads * d, 0f, o.Floats + h * d + r0 * heads * d, heads * d, default, WorkerPool.Serial);
            });
            Console.WriteLine($"seq {seq,4} (block {block,3} rows): whole {whole * 1e3,7:F3} ms ({flops / whole / 1e9 / peak:P0} of peak)  " +
                $"Q·Kᵀ {qk * 1e3,7:F3} ms ({flops / 2 / qk / 1e9 / peak:P0})  softmax {softmax * 1e3,7:F3} ms  ·V {pv * 1e3,7:F3} ms ({flops / 2 / pv / 1e9 / peak:P0})");
        }
    }

    private static double Time(int reps, Action run)
    {
        long end = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 2;
        for (int i = 0; i < 3 || Stopwatch.GetTimestamp() < end; i++) run();
        var t = new List<double>();
        for (int i = 0; i < Math.Max(reps, 20); i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            run();
            t.Add((Stopwatch.GetTimestamp() - t0) / (double)Stopwatch.Frequency);
        }
        t.Sort();
        return t[t.Count / 2];
    }

    private static AlignedBuffer Fill(long n, Random rnd)
    {
        var b = new AlignedBuffer(n * 4);
        for (long i = 0; i < n; i++) b.Floats[i] = (float)rnd.NextDouble() - 0.5f;
        return b;
    }
}
