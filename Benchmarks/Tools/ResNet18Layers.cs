using FastInfer.Kernels.Convolution;

namespace FastInfer.Benchmarks.Tools;

/// <summary>The 20 convolutions of ResNet-18 at 224×224, batch 1 (NCHW), as (name, shape).</summary>
public static class ResNet18Layers
{
    public static (string Name, ConvShape Shape)[] All()
    {
        var list = new List<(string, ConvShape)>();
        list.Add(("conv1 7x7s2 3->64 @224", Make(3, 224, 64, 7, 2)));
        for (int i = 0; i < 4; i++) list.Add(($"layer1.{i} 3x3 64 @56", Make(64, 56, 64, 3, 1)));
        int c = 64, h = 56;
        foreach (int m in new[] { 128, 256, 512 })
        {
            string l = m switch { 128 => "layer2", 256 => "layer3", _ => "layer4" };
            list.Add(($"{l}.0 3x3s2 {c}->{m} @{h}", Make(c, h, m, 3, 2)));
            list.Add(($"{l}.down 1x1s2 {c}->{m} @{h}", Make(c, h, m, 1, 2)));
            h /= 2;
            for (int i = 1; i < 4; i++) list.Add(($"{l}.{i} 3x3 {m} @{h}", Make(m, h, m, 3, 1)));
            c = m;
        }
        return list.ToArray();
    }

    public static ConvShape Make(int c, int h, int m, int k, int stride) => new()
    {
        Batch = 1, InChannels = c, InHeight = h, InWidth = h, OutChannels = m, KernelHeight = k, KernelWidth = k,
        StrideHeight = stride, StrideWidth = stride, DilationHeight = 1, DilationWidth = 1,
        PadTop = k / 2, PadLeft = k / 2, PadBottom = k / 2, PadRight = k / 2, Group = 1,
    };
}
