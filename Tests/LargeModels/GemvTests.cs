using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Threading;
using FastInfer.Tests.Support;
using Xunit;

namespace FastInfer.Tests.LargeModels;

/// <summary>The batch-1 matrix-vector kernel against its scalar double-precision reference, over odd sizes that hit
/// every column tile and tail, both weight layouts, with bias and activation, serial and threaded.</summary>
public class GemvTests
{
    public static IEnumerable<object[]> Cases()
    {
        foreach (int k in new[] { 1, 3, 17, 65, 1000, 70000 })
            foreach (int n in new[] { 1, 3, 16, 17, 63, 65, 128, 130, 257 })
                foreach (bool t in new[] { false, true })
                    yield return new object[] { k, n, t };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public unsafe void MatchesReference(int k, int n, bool transposed)
    {
        if ((long)k * n > 4_000_000) return; // keeps the sweep fast; large k is covered with small n
        var x = TensorAssert.RandomFloats(k, seed: k);
        var w = TensorAssert.RandomFloats(k * n + 5, seed: n + 1); // +5: a padded row stride below
        var bias = TensorAssert.RandomFloats(n, seed: 3);
        var expected = new float[n];
        var scratch = new float[Gemv.ScratchFloats(n)];
        foreach (int threads in new[] { 1, 2 })
        {
            using var pool = new WorkerPool(threads);
            var actual = new float[n];
            fixed (float* px = x, pw = w, pb = bias, py = actual, pe = expected, ps = scratch)
            {
                var ep = new GemmEpilogue { Bias = pb, BiasKind = BiasKind.PerColumn, Activation = Activation.Relu };
                Gemv.Reference(transposed, k, n, px, pw, transposed ? k : n, pe, ep);
                Gemv.Multiply(transposed, k, n, px, pw, transposed ? k : n, py, ep, ps, pool);
            }
            // fp32 accumulation error grows with k (the reference sums in double), hence an atol that scales with k.
            TensorAssert.Close(expected, actual, 1e-3, 1e-4 + 2e-8 * k, $"k={k} n={n} t={transposed} threads={threads}");
        }
    }

    [Fact]
    public unsafe void RowStrideWiderThanTheRowIsHonoured()
    {
        const int k = 33, n = 19, ld = 24;
        var x = TensorAssert.RandomFloats(k, seed: 1);
        var w = TensorAssert.RandomFloats(k * ld, seed: 2);
        var expected = new float[n];
        var actual = new float[n];
        var scratch = new float[Gemv.ScratchFloats(n)];
        using var pool = new WorkerPool(2);
        fixed (float* px = x, pw = w, py = actual, pe = expected, ps = scratch)
        {
            Gemv.Reference(false, k, n, px, pw, ld, pe, default);
            Gemv.Multiply(false, k, n, px, pw, ld, py, default, ps, pool);
        }
        TensorAssert.Close(expected, actual, 1e-4, 1e-5);
    }
}
