using System.Runtime.Intrinsics;
using FastInfer.Kernels.Elementwise;
using Xunit;

namespace FastInfer.Tests.Kernels;

/// <summary>The fast exponential and the softmax row kernel (both forms) against double-precision definitions.</summary>
public unsafe class SoftmaxKernelTests
{
    [Fact]
    public void FastExpMatchesMathExpOnNonPositiveArguments()
    {
        var xs = new List<float> { 0f, -0f, -1e-30f, -1e-7f, -0.5f, -1f, -86.9f, -87f, -87.5f, -100f, -1e30f, float.NegativeInfinity };
        for (float x = -90f; x <= 0f; x += 0.0137f) xs.Add(x);
        for (int i = 0; i + 16 <= xs.Count; i += 16)
        {
            var got = FastExp.NonPositive512(Vector512.Create(xs.ToArray(), i));
            for (int j = 0; j < 16; j++)
            {
                float x = xs[i + j];
                double want = x < -87f ? 0 : Math.Exp(x);
                Assert.True(Math.Abs(got[j] - want) <= 3e-7 * want, $"exp({x:R}) = {got[j]:R}, want {want:R}");
            }
        }
        Assert.True(float.IsNaN(FastExp.NonPositive512(Vector512.Create(float.NaN))[0]));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RowMatchesTheDefinition(bool wide)
    {
        var rnd = new Random(21);
        foreach (int n in new[] { 1, 2, 15, 16, 17, 128, 385 })
        {
            var x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float)((rnd.NextDouble() - 0.5) * 40);
            if (n > 3) { x[1] = float.NegativeInfinity; x[n - 1] = -1e4f; } // masked scores
            var y = new float[n];
            fixed (float* px = x, py = y) SoftmaxKernel.Row(px, py, n, wide);
            // x − max as float arithmetic forms it (its rounding moves e^(x−max) by up to 4e-6 relative at |x − max| ≈ 40).
            float max = x.Max();
            double sum = x.Sum(v => Math.Exp(v - max));
            for (int i = 0; i < n; i++)
            {
                double want = Math.Exp(x[i] - max) / sum;
                Assert.True(Math.Abs(y[i] - want) <= 1e-6 * want + 1e-30, $"n={n} wide={wide}: y[{i}] = {y[i]:R}, want {want:R}");
            }
            if (n > 3) Assert.Equal(0f, y[1]);
        }
    }
}
