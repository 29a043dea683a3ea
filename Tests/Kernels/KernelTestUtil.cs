using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Platform;
using Xunit;

namespace FastInfer.Tests.Kernels;

/// <summary>Shared helpers for the kernel tests: random aligned buffers, tolerant comparison, ISA × thread sweeps.</summary>
internal static unsafe class KernelTestUtil
{
    /// <summary>Every ISA tier this CPU can run, each with 1 and 2 threads.</summary>
    public static IEnumerable<object[]> IsaAndThreads()
    {
        foreach (var isa in KernelIsa.Supported())
            foreach (int threads in new[] { 1, 2 })
                yield return new object[] { isa, threads };
    }

    public static AlignedBuffer Random(long count, Random rnd, float scale = 1f)
    {
        var b = new AlignedBuffer(Math.Max(1, count) * sizeof(float), zero: false);
        for (long i = 0; i < count; i++) b.Floats[i] = (float)(rnd.NextDouble() * 2 - 1) * scale;
        return b;
    }

    public static AlignedBuffer Copy(AlignedBuffer src, long count)
    {
        var b = new AlignedBuffer(Math.Max(1, count) * sizeof(float), zero: false);
        Buffer.MemoryCopy(src.Pointer, b.Pointer, count * sizeof(float), count * sizeof(float));
        return b;
    }

    /// <summary>Asserts |got − want| ≤ atol + rtol·|want| element-wise, naming the first bad index.</summary>
    public static void AssertClose(float* want, float* got, long count, double rtol, double atol, string what)
    {
        for (long i = 0; i < count; i++)
        {
            double w = want[i], g = got[i];
            if (w == g || (double.IsNaN(w) && double.IsNaN(g))) continue;
            if (Math.Abs(g - w) <= atol + rtol * Math.Abs(w)) continue;
            Assert.Fail($"{what}: element {i}: expected {w}, got {g} (rtol {rtol:G3}, atol {atol:G3})");
        }
    }

    public static void AssertEqual(float* want, float* got, long count, string what)
    {
        for (long i = 0; i < count; i++)
            if (BitConverter.SingleToInt32Bits(want[i]) != BitConverter.SingleToInt32Bits(got[i]))
                Assert.Fail($"{what}: element {i} differs: {want[i]} vs {got[i]}");
    }
}
