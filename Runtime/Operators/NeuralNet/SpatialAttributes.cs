namespace FastInfer.Runtime.Operators.NeuralNet;

/// <summary>
/// Kernel size, strides, dilations and padding of a convolution or pooling node over its spatial axes,
/// resolved against the input's spatial size (auto_pad, ceil_mode) exactly as the ONNX spec defines.
/// </summary>
internal sealed class SpatialAttributes
{
    public int[] Kernel = Array.Empty<int>();
    public int[] Strides = Array.Empty<int>();
    public int[] Dilations = Array.Empty<int>();
    /// <summary>Begin pads then end pads: [x1_begin, x2_begin, ..., x1_end, x2_end, ...].</summary>
    public int[] Pads = Array.Empty<int>();
    public int[] Output = Array.Empty<int>();

    public int Rank => Kernel.Length;
    public int PadBegin(int axis) => Pads[axis];
    public int PadEnd(int axis) => Pads[Rank + axis];

    /// <param name="kernel">Kernel spatial dims (from the attribute or the weight shape).</param>
    /// <param name="input">Input spatial dims.</param>
    public static SpatialAttributes Resolve(PlanContext ctx, int[] kernel, ReadOnlySpan<int> input, bool ceilMode)
    {
        var node = ctx.Node;
        int rank = kernel.Length;
        if (input.Length != rank) throw ctx.Fail($"kernel rank {rank} does not match the input's {input.Length} spatial axes");
        var s = new SpatialAttributes
        {
            Kernel = kernel,
            Strides = Ints(node.GetInts("strides"), rank, 1, ctx, "strides"),
            Dilations = Ints(node.GetInts("dilations"), rank, 1, ctx, "dilations"),
            Pads = Ints(node.GetInts("pads"), 2 * rank, 0, ctx, "pads"),
            Output = new int[rank],
        };
        if (s.Strides.Any(v => v < 1) || s.Dilations.Any(v => v < 1) || s.Kernel.Any(v => v < 1) || s.Pads.Any(v => v < 0))
            throw ctx.Fail("kernel, strides and dilations must be positive and pads non-negative");
        string autoPad = node.GetString("auto_pad", "NOTSET");
        for (int i = 0; i < rank; i++)
        {
            int extent = (s.Kernel[i] - 1) * s.Dilations[i] + 1;
            switch (autoPad)
            {
                case "SAME_UPPER":
                case "SAME_LOWER":
                {
                    int o = (input[i] + s.Strides[i] - 1) / s.Strides[i];
                    int total = Math.Max(0, (o - 1) * s.Strides[i] + extent - input[i]);
                    int small = total / 2, large = total - small;
                    s.Pads[i] = autoPad == "SAME_UPPER" ? small : large;
                    s.Pads[rank + i] = autoPad == "SAME_UPPER" ? large : small;
                    s.Output[i] = o;
                    break;
                }
                case "VALID":
                    s.Pads[i] = s.Pads[rank + i] = 0;
                    s.Output[i] = OutputSize(input[i], 0, 0, extent, s.Strides[i], ceilMode);
                    break;
                case "NOTSET":
                case "":
                    s.Output[i] = OutputSize(input[i], s.Pads[i], s.Pads[rank + i], extent, s.Strides[i], ceilMode);
                    break;
                default:
                    throw ctx.Fail($"auto_pad '{autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
            }
            if (s.Output[i] < 1) throw ctx.Fail($"the kernel ({extent} wide with dilation) does not fit input size {input[i]} with the given pads");
        }
        return s;
    }

    private static int OutputSize(int input, int begin, int end, int extent, int stride, bool ceilMode)
    {
        int span = input + begin + end - extent;
        if (span < 0) return 0;
        int o = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
        // With ceil_mode, the last window must start inside the input or the leading padding.
        if (ceilMode && (o - 1) * stride >= input + begin) o--;
        return o;
    }

    private static int[] Ints(long[]? values, int count, int fallback, PlanContext ctx, string name)
    {
        if (values is null) return Enumerable.Repeat(fallback, count).ToArray();
        if (values.Length != count) throw ctx.Fail($"'{name}' has {values.Length} values, expected {count}");
        return values.Select(v => checked((int)v)).ToArray();
    }
}
