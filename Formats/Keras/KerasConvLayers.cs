using FastInfer.Ir;

namespace FastInfer.Formats.Keras;

/// <summary>Convolutions and pooling, run channels-first with kernels converted at load time.</summary>
internal sealed partial class KerasConverter
{
    private sealed record Geometry(long[] Pads, long[] OutSpatial, bool AutoPad);

    /// <summary>TF/Keras output size and explicit ONNX pads (begin..., end...) for valid / same / causal.</summary>
    private Geometry ComputeGeometry(KerasLayer layer, long[] inSpatial, int[] k, int[] s, int[] d, string padding)
    {
        int n = inSpatial.Length;
        var pads = new long[2 * n];
        var outs = new long[n];
        bool auto = false;
        for (int i = 0; i < n; i++)
        {
            long inp = inSpatial[i];
            long eff = (long)(k[i] - 1) * d[i] + 1;
            if (k[i] <= 0 || s[i] <= 0 || d[i] <= 0) throw Error(layer, "kernel size, strides and dilation must be positive");
            switch (padding)
            {
                case "valid":
                    outs[i] = inp < 0 ? -1 : (inp - eff) / s[i] + 1;
                    if (inp >= 0 && inp < eff) throw Error(layer, $"input size {inp} is smaller than the window {eff}");
                    break;
                case "same":
                    if (inp >= 0)
                    {
                        outs[i] = (inp + s[i] - 1) / s[i];
                        long total = Math.Max((outs[i] - 1) * s[i] + eff - inp, 0);
                        pads[i] = total / 2; pads[n + i] = total - total / 2;
                    }
                    else
                    {
                        outs[i] = -1;
                        if (s[i] == 1) { long total = eff - 1; pads[i] = total / 2; pads[n + i] = total - total / 2; }
                        else auto = true;
                    }
                    break;
                case "causal" when n == 1:
                    pads[i] = eff - 1;
                    outs[i] = inp < 0 ? -1 : (inp - 1) / s[i] + 1;
                    break;
                default: throw Error(layer, $"unsupported padding '{padding}'");
            }
        }
        return new Geometry(pads, outs, auto);
    }

    private List<NodeAttribute> WindowAttributes(int[] k, int[] s, Geometry g, int[]? dilations)
    {
        var attrs = new List<NodeAttribute>
        {
            NodeAttribute.Of("kernel_shape", k.Select(v => (long)v).ToArray()),
            NodeAttribute.Of("strides", s.Select(v => (long)v).ToArray()),
        };
        if (g.AutoPad) attrs.Add(NodeAttribute.Of("auto_pad", "SAME_UPPER"));
        else attrs.Add(NodeAttribute.Of("pads", g.Pads));
        if (dilations is not null) attrs.Add(NodeAttribute.Of("dilations", dilations.Select(v => (long)v).ToArray()));
        return attrs;
    }

    private int[] KernelSize(KerasLayer layer, int n)
    {
        var cfg = layer.Config;
        var k = KerasJson.Tuple(cfg, n, "kernel_size");
        if (k is null && n == 2 && KerasJson.Has(cfg, "nb_row")) k = [KerasJson.Int(cfg, 0, "nb_row"), KerasJson.Int(cfg, 0, "nb_col")];
        if (k is null && n == 1) k = KerasJson.Tuple(cfg, 1, "filter_length");
        return k ?? throw Error(layer, "no kernel_size in the config");
    }

    private (int[] Strides, int[] Dilation, string Padding) ConvParams(KerasLayer layer, int n)
    {
        var cfg = layer.Config;
        var s = KerasJson.Tuple(cfg, n, "strides", "subsample", "subsample_length") ?? Enumerable.Repeat(1, n).ToArray();
        var d = KerasJson.Tuple(cfg, n, "dilation_rate", "atrous_rate") ?? Enumerable.Repeat(1, n).ToArray();
        string p = (KerasJson.Str(cfg, "padding", "border_mode") ?? "valid").ToLowerInvariant();
        return (s, d, p);
    }

    private KTensor ExpectRank(KerasLayer layer, KTensor x, int rank)
    {
        if (x.Rank != rank) throw Error(layer, $"expects a rank-{rank} input (batch included), got shape {x.ShapeText}");
        if (x.Channels < 0) throw Error(layer, "the input's channel count is unknown");
        return B.ChannelsFirst(x);
    }

    private KTensor Conv(KerasLayer layer, KTensor x, string scope, int n)
    {
        var cfg = layer.Config;
        x = ExpectRank(layer, x, n + 2);
        int filters = KerasJson.Int(cfg, 0, "filters", "nb_filter");
        if (filters <= 0) throw Error(layer, "filters must be positive");
        var k = KernelSize(layer, n);
        var (s, d, padding) = ConvParams(layer, n);
        int groups = KerasJson.Int(cfg, 1, "groups");
        bool useBias = KerasJson.Bool(cfg, true, "use_bias", "bias");
        long inC = x.Channels;
        if (groups < 1 || inC % groups != 0 || filters % groups != 0) throw Error(layer, $"groups={groups} does not divide {inC} input and {filters} output channels");
        var w = Weights(layer, useBias ? 2 : 1, useBias ? "kernel, bias" : "kernel");
        if (n == 1 && w[0].Shape is [var k0, 1, var ci, var co])
        {
            // Keras 1 Convolution1D stored its kernel as (filter_length, 1, input_dim, nb_filter).
            w = [w[0].WithShape([k0, ci, co]), .. w.Skip(1)];
        }
        CheckShape(layer, w[0], "kernel", [.. k.Select(v => (long)v), inC / groups, filters]);
        if (useBias) CheckShape(layer, w[1], "bias", filters);
        // HWIO → OIHW (1-D: [k, in, out] → [out, in, k]).
        int[] perm = n == 2 ? [3, 2, 0, 1] : [2, 1, 0];
        string kernel = InitTransposed(layer, "kernel", w[0], perm);
        var inputs = new List<string> { x.Value, kernel };
        if (useBias) inputs.Add(InitFilled(layer, "bias", [filters], w[1].CopyTo));
        var g = ComputeGeometry(layer, x.Shape[1..^1], k, s, d, padding);
        var attrs = WindowAttributes(k, s, g, d);
        attrs.Add(NodeAttribute.Of("group", (long)groups));
        string y = B.Node("Conv", scope, inputs, [.. attrs]);
        var outT = new KTensor(y, [x.Shape[0], .. g.OutSpatial, filters], Layout.ChannelsFirst);
        return Activate(ActivationName(cfg), outT, scope);
    }


    private KTensor DepthwiseConv(KerasLayer layer, KTensor x, string scope, int n)
    {
        var cfg = layer.Config;
        x = ExpectRank(layer, x, n + 2);
        var k = KernelSize(layer, n);
        var (s, d, padding) = ConvParams(layer, n);
        int dm = KerasJson.Int(cfg, 1, "depth_multiplier");
        bool useBias = KerasJson.Bool(cfg, true, "use_bias", "bias");
        long inC = x.Channels;
        var w = Weights(layer, useBias ? 2 : 1, useBias ? "depthwise_kernel, bias" : "depthwise_kernel");
        CheckShape(layer, w[0], "depthwise_kernel", [.. k.Select(v => (long)v), inC, dm]);
        if (useBias) CheckShape(layer, w[1], "bias", inC * dm);
        string kernel = DepthwiseKernel(layer, w[0], n, inC, dm, k);
        var inputs = new List<string> { x.Value, kernel };
        if (useBias) inputs.Add(InitFilled(layer, "bias", [inC * dm], w[1].CopyTo));
        var g = ComputeGeometry(layer, x.Shape[1..^1], k, s, d, padding);
        var attrs = WindowAttributes(k, s, g, d);
        attrs.Add(NodeAttribute.Of("group", inC));
        string y = B.Node("Conv", scope, inputs, [.. attrs]);
        var outT = new KTensor(y, [x.Shape[0], .. g.OutSpatial, inC * dm], Layout.ChannelsFirst);
        return Activate(ActivationName(cfg), outT, scope);
    }

    /// <summary>[k..., in, dm] → [in·dm, 1, k...]; output channel c·dm + m as TF orders it.</summary>
    private string DepthwiseKernel(KerasLayer layer, WeightArray w, int n, long inC, long dm, int[] k)
    {
        int[] perm = n == 2 ? [2, 3, 0, 1] : [1, 2, 0];
        return InitTransposed(layer, "depthwise_kernel", w, perm, [inC * dm, 1, .. k.Select(v => (long)v)]);
    }

    private KTensor SeparableConv(KerasLayer layer, KTensor x, string scope, int n)
    {
        var cfg = layer.Config;
        x = ExpectRank(layer, x, n + 2);
        int filters = KerasJson.Int(cfg, 0, "filters", "nb_filter");
        var k = KernelSize(layer, n);
        var (s, d, padding) = ConvParams(layer, n);
        int dm = KerasJson.Int(cfg, 1, "depth_multiplier");
        bool useBias = KerasJson.Bool(cfg, true, "use_bias", "bias");
        long inC = x.Channels;
        var w = Weights(layer, useBias ? 3 : 2, useBias ? "depthwise_kernel, pointwise_kernel, bias" : "depthwise_kernel, pointwise_kernel");
        CheckShape(layer, w[0], "depthwise_kernel", [.. k.Select(v => (long)v), inC, dm]);
        CheckShape(layer, w[1], "pointwise_kernel", [.. Enumerable.Repeat(1L, n), inC * dm, filters]);
        if (useBias) CheckShape(layer, w[2], "bias", filters);
        string dk = DepthwiseKernel(layer, w[0], n, inC, dm, k);
        var g = ComputeGeometry(layer, x.Shape[1..^1], k, s, d, padding);
        var attrs = WindowAttributes(k, s, g, d);
        attrs.Add(NodeAttribute.Of("group", inC));
        string mid = B.Node("Conv", scope + "/depthwise", [x.Value, dk], [.. attrs]);
        int[] perm = n == 2 ? [3, 2, 0, 1] : [2, 1, 0];
        string pk = InitTransposed(layer, "pointwise_kernel", w[1], perm);
        var inputs = new List<string> { mid, pk };
        if (useBias) inputs.Add(InitFilled(layer, "bias", [filters], w[2].CopyTo));
        var ones = Enumerable.Repeat(1L, n).ToArray();
        string y = B.Node("Conv", scope + "/pointwise", inputs,
            NodeAttribute.Of("kernel_shape", ones), NodeAttribute.Of("strides", ones), NodeAttribute.Of("pads", new long[2 * n]),
            NodeAttribute.Of("dilations", ones), NodeAttribute.Of("group", 1L));
        var outT = new KTensor(y, [x.Shape[0], .. g.OutSpatial, filters], Layout.ChannelsFirst);
        return Activate(ActivationName(cfg), outT, scope);
    }

    private KTensor Pool(KerasLayer layer, KTensor x, string scope, int n, string op)
    {
        var cfg = layer.Config;
        x = ExpectRank(layer, x, n + 2);
        var k = KerasJson.Tuple(cfg, n, "pool_size", "pool_length") ?? Enumerable.Repeat(2, n).ToArray();
        var s = KerasJson.Tuple(cfg, n, "strides", "stride") ?? k;
        string padding = (KerasJson.Str(cfg, "padding", "border_mode") ?? "valid").ToLowerInvariant();
        var g = ComputeGeometry(layer, x.Shape[1..^1], k, s, Enumerable.Repeat(1, n).ToArray(), padding);
        var attrs = WindowAttributes(k, s, g, null);
        if (op == "AveragePool") attrs.Add(NodeAttribute.Of("count_include_pad", 0L));
        string y = B.Node(op, scope, [x.Value], [.. attrs]);
        return new KTensor(y, [x.Shape[0], .. g.OutSpatial, x.Channels], Layout.ChannelsFirst);
    }

    private KTensor GlobalPool(KerasLayer layer, KTensor x, string scope, string op)
    {
        if (x.Rank < 3) throw Error(layer, $"expects a rank-3+ input, got {x.ShapeText}");
        x = B.ChannelsFirst(x);
        string y = B.Node(op, scope, [x.Value]);
        bool keepDims = KerasJson.Bool(layer.Config, false, "keepdims");
        if (keepDims) return new KTensor(y, [x.Shape[0], .. Enumerable.Repeat(1L, x.Rank - 2), x.Channels], Layout.ChannelsFirst);
        string f = B.Node("Flatten", scope, [y], NodeAttribute.Of("axis", 1L));
        return new KTensor(f, [x.Shape[0], x.Channels], Layout.Plain);
    }
}
