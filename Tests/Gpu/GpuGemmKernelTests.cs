using FastInfer.Gpu.Kernels;
using FastInfer.Kernels.Gemm;
using FastInfer.Tests.Support;
using ILGPU;
using ILGPU.Runtime;
using Xunit;

namespace FastInfer.Tests.Gpu;

/// <summary>The tiled SGEMM kernel launched directly, against <see cref="SgemmReference"/>: sizes below, at and past the 64×64×16 tile.</summary>
[Collection(GpuCollection.Name)]
public sealed unsafe class GpuGemmKernelTests
{
    [Theory]
    [InlineData(1, 1, 1, false, 0, false, ActivationKind.None)]
    [InlineData(3, 5, 7, false, 2, false, ActivationKind.Relu)]
    [InlineData(17, 65, 33, true, 2, false, ActivationKind.None)]
    [InlineData(65, 17, 63, false, 1, true, ActivationKind.Sigmoid)]
    [InlineData(64, 64, 16, true, 0, true, ActivationKind.Tanh)]
    [InlineData(70, 129, 17, false, 1, false, ActivationKind.LeakyRelu)]
    public void GemmMatchesReference(int m, int n, int k, bool transB, int biasKind, bool residual, ActivationKind activation) =>
        CheckGemm(m, n, k, transB, biasKind, residual, activation, large: false);

    private static void CheckGemm(int m, int n, int k, bool transB, int biasKind, bool residual, ActivationKind activation, bool large)
    {
        var gpu = GpuTest.Accelerator;
        var a = TensorAssert.RandomFloats(m * k, 1);
        var b = TensorAssert.RandomFloats(k * n, 2);
        var bias = TensorAssert.RandomFloats(Math.Max(m, n), 3);
        var res = TensorAssert.RandomFloats(m * n, 4);
        var act = new Activation(activation, activation == ActivationKind.LeakyRelu ? 0.1f : 0f);
        var expected = new float[m * n];
        fixed (float* pa = a, pb = b, pbias = bias, pres = res, pc = expected)
        {
            var ep = new GemmEpilogue
            {
                Bias = pbias, BiasKind = biasKind switch { 1 => BiasKind.PerRow, 2 => BiasKind.PerColumn, _ => BiasKind.None },
                Residual = residual ? pres : null, ResidualStride = n, Activation = act,
            };
            SgemmReference.Multiply(false, transB, m, n, k, 1f, pa, k, pb, transB ? k : n, 0f, pc, n, ep);
        }
        var p = new GemmParams
        {
            M = m, N = n, K = k, Lda = k, Ldb = transB ? k : n, Ldc = n, TransB = transB ? 1 : 0, InnerCount = 1,
            BiasKind = biasKind, HasResidual = residual ? 1 : 0, Activation = (int)activation, Alpha = act.Alpha, Beta = act.Beta,
        };
        var actual = Launch(gpu, a, b, bias, res, m * n, p, 1, large: large);
        TensorAssert.Close(expected, actual, 1e-3, 1e-4, $"{(large ? "128x128-tile " : "")}SGEMM {m}x{n}x{k} transB={transB}");
        if (m <= GemmKernel.SkinnyRows)
            TensorAssert.Close(expected, Launch(gpu, a, b, bias, res, m * n, p, 1, skinny: true), 1e-3, 1e-4, $"skinny SGEMM {m}x{n}x{k} transB={transB}");
    }

    [Theory]
    [InlineData(128, 128, 8, false, 0, false, ActivationKind.None)]
    [InlineData(130, 257, 19, true, 2, true, ActivationKind.Relu)]
    [InlineData(255, 129, 33, false, 1, false, ActivationKind.None)]
    public void LargeTileGemmMatchesReference(int m, int n, int k, bool transB, int biasKind, bool residual, ActivationKind activation) =>
        CheckGemm(m, n, k, transB, biasKind, residual, activation, large: true);

    [Theory]
    [InlineData(1, 129, 65, false)]
    [InlineData(8, 17, 33, true)]
    public void SkinnyGemmMatchesReference(int m, int n, int k, bool transB) =>
        CheckGemm(m, n, k, transB, 2, true, ActivationKind.Relu, large: false);

    [Fact]
    public void BatchedGemmWithInnerGroupsMatchesReference()
    {
        // 2 outer × 3 inner batches: A shared across outer (as convolution filters), B and C per batch.
        const int m = 5, n = 19, k = 9, outer = 2, inner = 3;
        var gpu = GpuTest.Accelerator;
        var a = TensorAssert.RandomFloats(inner * m * k, 5);
        var b = TensorAssert.RandomFloats(outer * inner * k * n, 6);
        var bias = TensorAssert.RandomFloats(inner * m, 7);
        var expected = new float[outer * inner * m * n];
        fixed (float* pa = a, pb = b, pbias = bias, pc = expected)
            for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                var ep = new GemmEpilogue { Bias = pbias + i * m, BiasKind = BiasKind.PerRow };
                SgemmReference.Multiply(false, false, m, n, k, 1f, pa + i * m * k, k, pb + (o * inner + i) * k * n, n, 0f,
                    pc + (o * inner + i) * m * n, n, ep);
            }
        var p = new GemmParams
        {
            M = m, N = n, K = k, Lda = k, Ldb = n, Ldc = n, InnerCount = inner,
            AOuter = 0, AInner = m * k, BOuter = inner * k * n, BInner = k * n, COuter = inner * m * n, CInner = m * n,
            BiasKind = 1, BiasInner = m,
        };
        var actual = Launch(gpu, a, b, bias, new float[1], expected.Length, p, outer * inner);
        TensorAssert.Close(expected, actual, 1e-3, 1e-4, "batched SGEMM");
        var skinny = Launch(gpu, a, b, bias, new float[1], expected.Length, p, outer * inner, skinny: true);
        TensorAssert.Close(expected, skinny, 1e-3, 1e-4, "batched skinny SGEMM");
    }

    private static float[] Launch(FastInfer.Gpu.GpuAccelerator gpu, float[] a, float[] b, float[] bias, float[] residual, int outCount, GemmParams p, int batch, bool skinny = false, bool large = false)
    {
        var acc = gpu.Accelerator;
        using var da = acc.Allocate1D(a);
        using var db = acc.Allocate1D(b);
        using var dbias = acc.Allocate1D(bias);
        using var dres = acc.Allocate1D(residual);
        using var dc = acc.Allocate1D<float>(outCount);
        lock (gpu.LaunchLock)
        {
            if (skinny) gpu.Kernels.GemmSkinny(acc.DefaultStream, batch * p.M * p.N, da.View, db.View, dc.View, dbias.View, dres.View, p);
            else if (large) gpu.Kernels.GemmLarge(acc.DefaultStream, GemmKernelLarge.Config(p, batch), da.View, db.View, dc.View, dbias.View, dres.View, p);
            else gpu.Kernels.Gemm(acc.DefaultStream, GemmKernel.Config(p, batch), da.View, db.View, dc.View, dbias.View, dres.View, p);
            acc.Synchronize();
        }
        return dc.GetAsArray1D();
    }
}

/// <summary>Layer normalization (no CPU operator yet) launched directly against a scalar double-precision definition.</summary>
[Collection(GpuCollection.Name)]
public sealed class GpuLayerNormKernelTests
{
    [Theory]
    [InlineData(1, 1, true)]
    [InlineData(3, 17, true)]
    [InlineData(5, 63, false)]
    public void LayerNormMatchesScalarDefinition(int rows, int cols, bool hasBias)
    {
        var gpu = GpuTest.Accelerator;
        var x = TensorAssert.RandomFloats(rows * cols, 11, 3f);
        var scale = TensorAssert.RandomFloats(cols, 12);
        var bias = TensorAssert.RandomFloats(cols, 13);
        const float eps = 1e-5f;
        var expected = new float[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            double mean = 0, var = 0;
            for (int c = 0; c < cols; c++) mean += x[r * cols + c];
            mean /= cols;
            for (int c = 0; c < cols; c++) var += (x[r * cols + c] - mean) * (x[r * cols + c] - mean);
            var /= cols;
            for (int c = 0; c < cols; c++)
                expected[r * cols + c] = (float)((x[r * cols + c] - mean) / Math.Sqrt(var + eps) * scale[c] + (hasBias ? bias[c] : 0));
        }
        var acc = gpu.Accelerator;
        using var dx = acc.Allocate1D(x);
        using var ds = acc.Allocate1D(scale);
        using var db = acc.Allocate1D(bias);
        using var dy = acc.Allocate1D<float>(rows * cols);
        lock (gpu.LaunchLock)
        {
            gpu.Kernels.LayerNorm(acc.DefaultStream, rows, dx.View, ds.View, db.View, dy.View, cols, eps, hasBias ? 1 : 0);
            acc.Synchronize();
        }
        TensorAssert.Close(expected, dy.GetAsArray1D(), 1e-3, 1e-4, $"LayerNorm {rows}x{cols}");
    }
}
