using BenchmarkDotNet.Attributes;
using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Pooling;
using FastInfer.Kernels.Threading;

namespace FastInfer.Benchmarks;

/// <summary>Pooling as ResNet-18 runs it: max 3×3/2 pad 1 on 64×112×112, and global average on 512×7×7; plus max 2×2/2.</summary>
[MemoryDiagnoser]
public unsafe class PoolBenchmarks
{
    [Params(1, 2)]
    public int Threads { get; set; }

    private AlignedBuffer? _x, _y;
    private WorkerPool? _pool;
    private PoolShape _max3, _max2;

    [GlobalSetup]
    public void Setup()
    {
        _x = new AlignedBuffer(64L * 112 * 112 * 4);
        var rnd = new Random(1);
        for (long i = 0; i < 64L * 112 * 112; i++) _x.Floats[i] = (float)rnd.NextDouble();
        _y = new AlignedBuffer(64L * 56 * 56 * 4);
        _pool = new WorkerPool(Threads);
        _max3 = new PoolShape
        {
            Planes = 64, InHeight = 112, InWidth = 112, OutHeight = 56, OutWidth = 56, KernelHeight = 3, KernelWidth = 3,
            StrideHeight = 2, StrideWidth = 2, DilationHeight = 1, DilationWidth = 1, PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1,
        };
        _max2 = _max3 with { KernelHeight = 2, KernelWidth = 2, PadTop = 0, PadLeft = 0, PadBottom = 0, PadRight = 0 };
    }

    [Benchmark(Baseline = true)]
    public void MaxPool3x3s2() => Pool2D.Run(PoolKind.Max, _max3, false, _x!.Floats, _y!.Floats, _pool!);

    [Benchmark]
    public void MaxPool2x2s2() => Pool2D.Run(PoolKind.Max, _max2, false, _x!.Floats, _y!.Floats, _pool!);

    [Benchmark]
    public void GlobalAveragePool512x7x7() => Pool2D.Global(PoolKind.Average, 512, 49, _x!.Floats, _y!.Floats, _pool!);

    [GlobalCleanup]
    public void Cleanup() { _x?.Dispose(); _y?.Dispose(); _pool?.Dispose(); }
}
