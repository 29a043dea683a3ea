using BenchmarkDotNet.Attributes;
using FastInfer.Kernels.Blas;
using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Platform;
using FastInfer.Kernels.Threading;

namespace FastInfer.Benchmarks;

/// <summary>
/// SGEMM at the shapes that matter (1024³, the ResNet-18 convolutions as GEMMs, batch-1 fully connected),
/// per ISA tier and thread count, managed (weights prepacked, as a session runs them) against CBLAS
/// (OpenBLAS/MKL where one loads). GFLOP/s = 2·M·N·K / time; peak here ≈ 220 GFLOP/s per core nominal.
/// For OpenBLAS at its best, run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset.
/// </summary>
[MemoryDiagnoser]
public unsafe class GemmBenchmarks
{
    [Params("256x256x256", "1024x1024x1024", "64x3136x576", "128x784x1152", "256x196x2304", "512x49x4608", "64x12544x147", "1x1000x512")]
    public string Shape { get; set; } = "1024x1024x1024";

    [Params(IsaLevel.Avx512, IsaLevel.Avx2Fma)]
    public IsaLevel Isa { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    private int _m, _n, _k;
    private AlignedBuffer? _a, _b, _c;
    private PackedMatrix? _packedA, _packedB;
    private WorkerPool? _pool;
    private CblasProvider? _blas;

    [GlobalSetup]
    public void Setup()
    {
        var parts = Shape.Split('x');
        (_m, _n, _k) = (int.Parse(parts[0]), int.Parse(parts[1]), int.Parse(parts[2]));
        if (!KernelIsa.IsSupported(Isa)) throw new NotSupportedException($"{Isa} not supported here");
        KernelIsa.Default = Isa;
        var rnd = new Random(1);
        _a = Fill((long)_m * _k, rnd); _b = Fill((long)_k * _n, rnd); _c = new AlignedBuffer((long)_m * _n * 4);
        _packedA = Sgemm.PackA(false, _m, _k, _a.Floats, _k);
        _packedB = Sgemm.PackB(false, _k, _n, _b.Floats, _n);
        _pool = new WorkerPool(Threads);
        CblasProvider.TryLoad(out _blas, out _);
        _blas?.LimitThreads(Threads); // like for like: OpenBLAS would otherwise use every core
    }

    private static AlignedBuffer Fill(long n, Random rnd)
    {
        var b = new AlignedBuffer(n * 4);
        for (long i = 0; i < n; i++) b.Floats[i] = (float)rnd.NextDouble() - 0.5f;
        return b;
    }

    /// <summary>Weights (A) prepacked, activations (B) packed on the fly: the convolution-as-GEMM case.</summary>
    [Benchmark(Baseline = true)]
    public void ManagedPackedA() => Sgemm.MultiplyPackedA(_packedA!, _n, _b!.Floats, _n, _c!.Floats, _n, default, _pool!);

    /// <summary>
    /// Weights (B) prepacked, activations (A) packed on the fly: a MatMul or Gemm node, and the batch-1 fully connected
    /// shape (1×1000×512), which runs as a GEMV over the packed weights.
    /// </summary>
    [Benchmark]
    public void ManagedPackedB() => Sgemm.MultiplyPacked(_m, _n, _k, 1, _a!.Floats, _k, _packedB!, 0, _c!.Floats, _n, default, _pool!);

    /// <summary>Both operands unpacked.</summary>
    [Benchmark]
    public void ManagedUnpacked() => Sgemm.Multiply(false, false, _m, _n, _k, 1, _a!.Floats, _k, _b!.Floats, _n, 0, _c!.Floats, _n, default, _pool!);

    /// <summary>Native CBLAS, limited to the same thread count as the managed kernels.</summary>
    [Benchmark]
    public void Cblas()
    {
        if (_blas == null) return;
        _blas.Sgemm(false, false, _m, _n, _k, 1, _a!.Floats, _k, _b!.Floats, _n, 0, _c!.Floats, _n);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _packedA?.Dispose(); _packedB?.Dispose(); _a?.Dispose(); _b?.Dispose(); _c?.Dispose(); _pool?.Dispose(); _blas?.Dispose();
        KernelIsa.Default = KernelIsa.Best;
    }
}
