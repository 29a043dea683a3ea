using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Platform;
using FastInfer.Kernels.Pooling;
using FastInfer.Kernels.Threading;
using Xunit;
using static FastInfer.Tests.Kernels.KernelTestUtil;

namespace FastInfer.Tests.Kernels;

/// <summary>Vectorized pooling against the scalar reference: strides 1 and 2, padding, ceil-mode output sizes,
/// dilation, count_include_pad, global pooling. Max is exact; averages within rtol 1e-5 / atol 1e-6.</summary>
public unsafe class PoolTests
{
    private static PoolShape Shape(int h, int w, int k, int s, int pad, bool ceil, int dil = 1)
    {
        int span = (k - 1) * dil + 1;
        int Out(int size) => ceil ? (size + 2 * pad - span + s - 1) / s + 1 : (size + 2 * pad - span) / s + 1;
        return new PoolShape
        {
            Planes = 3, InHeight = h, InWidth = w, OutHeight = Out(h), OutWidth = Out(w), KernelHeight = k, KernelWidth = k,
            StrideHeight = s, StrideWidth = s, DilationHeight = dil, DilationWidth = dil, PadTop = pad, PadLeft = pad, PadBottom = pad, PadRight = pad,
        };
    }

    public static IEnumerable<object[]> Cases()
    {
        foreach (int threads in new[] { 1, 2 })
        foreach (var kind in new[] { PoolKind.Max, PoolKind.Average })
        foreach (bool includePad in new[] { false, true })
        foreach (var isa in new[] { KernelIsa.Best, IsaLevel.Scalar })
            yield return new object[] { kind, includePad, threads, isa };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesReference(PoolKind kind, bool countIncludePad, int threads, IsaLevel isa)
    {
        using var tier = KernelIsa.Override(isa);
        using var pool = new WorkerPool(threads);
        var rnd = new Random(3);
        var shapes = new[]
        {
            Shape(112, 112, 3, 2, 1, false), Shape(17, 19, 3, 2, 1, true), Shape(16, 15, 2, 2, 0, false),
            Shape(9, 13, 3, 1, 1, false), Shape(10, 10, 3, 1, 0, true), Shape(7, 6, 5, 2, 2, true),
            Shape(11, 12, 3, 1, 2, false, dil: 2), Shape(1, 1, 1, 1, 0, false), Shape(5, 33, 2, 3, 1, true), Shape(3, 75, 3, 2, 0, true), Shape(4, 67, 2, 2, 1, false),
            Shape(30, 30, 2, 2, 0, false), Shape(3, 4100, 2, 2, 0, false), Shape(3, 4097, 3, 1, 1, true), Shape(2, 2100, 3, 2, 1, true, dil: 2),
            // One window over the whole plane (ResNet's final 7×7 average, a plain reduction), and one output from a
            // padded window that is not the plane (the window path).
            Shape(7, 7, 7, 1, 0, false), Shape(5, 5, 7, 1, 1, false),
        };
        foreach (var s in shapes)
        {
            long inCount = (long)s.Planes * s.InHeight * s.InWidth, outCount = (long)s.Planes * s.OutHeight * s.OutWidth;
            using var x = Random(inCount, rnd);
            using var want = new AlignedBuffer(outCount * 4);
            using var got = new AlignedBuffer(outCount * 4);
            PoolReference.Run(kind, s, countIncludePad, x.Floats, want.Floats);
            Pool2D.Run(kind, s, countIncludePad, x.Floats, got.Floats, pool);
            AssertClose(want.Floats, got.Floats, outCount, 1e-5, 1e-6, $"{kind} pad={countIncludePad} {s}");
        }
    }

    [Fact]
    public void GlobalPooling()
    {
        var rnd = new Random(4);
        using var x = Random(5 * 49, rnd);
        using var y = new AlignedBuffer(5 * 4);
        using var pool = new WorkerPool(2);
        Pool2D.Global(PoolKind.Average, 5, 49, x.Floats, y.Floats, pool);
        for (int p = 0; p < 5; p++)
        {
            double sum = 0; for (int i = 0; i < 49; i++) sum += x.Floats[p * 49 + i];
            Assert.InRange(y.Floats[p], sum / 49 - 1e-5, sum / 49 + 1e-5);
        }
        Pool2D.Global(PoolKind.Max, 5, 49, x.Floats, y.Floats, pool);
        for (int p = 0; p < 5; p++)
            Assert.Equal(new ReadOnlySpan<float>(x.Floats + p * 49, 49).ToArray().Max(), y.Floats[p]);
    }
}
