using BenchmarkDotNet.Attributes;
using FastInfer.Kernels.Convolution;
using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Threading;

namespace FastInfer.Benchmarks;

/// <summary>
/// ResNet-18 convolution layers (batch 1, NCHW) through Conv2D.Run, im2col/transforms included, bias + ReLU fused;
/// with the algorithm a session would choose (Winograd F(4×4, 3×3) for 3×3 s1 at 56×56 and 28×28, F(2×2, 3×3) at
/// 14×14 and 7×7) and with Winograd off (direct tiles or the pixel-rows GEMM).
/// </summary>
[MemoryDiagnoser]
public unsafe class ConvBenchmarks
{
    /// <summary>"name CxH M KsS": input channels and size, output channels (or "dw" for depthwise), kernel and stride.</summary>
    [Params("conv1 3x224 64 7s2", "layer1 64x56 64 3s1", "layer2 128x28 128 3s1", "layer3 256x14 256 3s1", "layer4 512x7 512 3s1", "layer4.0 256x14 512 3s2", "down2 64x56 128 1s2", "dw 128x56 dw 3s1")]
    public string Layer { get; set; } = "layer1 64x56 64 3s1";

    [Params(1, 2)]
    public int Threads { get; set; }

    [Params(true, false)]
    public bool Winograd { get; set; }

    private ConvShape _s;
    private ConvWeights? _w;
    private AlignedBuffer? _x, _y, _ws;
    private WorkerPool? _pool;
    private ConvAlgorithm _algorithm;

    [GlobalSetup]
    public void Setup()
    {
        var p = Layer.Split(' ');
        var ch = p[1].Split('x');
        int c = int.Parse(ch[0]), h = int.Parse(ch[1]);
        bool dw = p[2] == "dw"; // depthwise: as many outputs as channels
        int m = dw ? c : int.Parse(p[2]);
        string ks = p[3];
        int k = ks[0] - '0', stride = ks[2] - '0';
        _s = new ConvShape
        {
            Batch = 1, InChannels = c, InHeight = h, InWidth = h, OutChannels = m, KernelHeight = k, KernelWidth = k,
            StrideHeight = stride, StrideWidth = stride, DilationHeight = 1, DilationWidth = 1,
            PadTop = k / 2, PadLeft = k / 2, PadBottom = k / 2, PadRight = k / 2, Group = dw ? c : 1,
        };
        var rnd = new Random(2);
        using var w = new AlignedBuffer((long)m * _s.KernelSize * 4);
        for (long i = 0; i < (long)m * _s.KernelSize; i++) w.Floats[i] = (float)rnd.NextDouble() - 0.5f;
        using var bias = new AlignedBuffer(m * 4);
        _w = new ConvWeights(m, _s.InChannelsPerGroup, k, k, _s.Group, w.Floats, bias.Floats);
        _algorithm = Conv2D.Choose(_s, Winograd);
        _w.PrepareFor(_algorithm);
        _x = new AlignedBuffer((long)c * h * h * 4);
        for (long i = 0; i < (long)c * h * h; i++) _x.Floats[i] = (float)rnd.NextDouble();
        _y = new AlignedBuffer((long)m * _s.OutHeight * _s.OutWidth * 4);
        _ws = new AlignedBuffer(Math.Max(64, Conv2D.WorkspaceBytes(_s, _algorithm)));
        _pool = new WorkerPool(Threads);
    }

    [Benchmark]
    public void Run() => Conv2D.Run(_s, _w!, _x!.Floats, _y!.Floats, null, Activation.Relu, _ws!.Floats, _pool!, _algorithm);

    [GlobalCleanup]
    public void Cleanup() { _w?.Dispose(); _x?.Dispose(); _y?.Dispose(); _ws?.Dispose(); _pool?.Dispose(); }
}
