using System.Text.Json;
using FastInfer.Ir;

namespace FastInfer.Formats.Keras;

/// <summary>Dense and the shape-changing layers.</summary>
internal sealed partial class KerasConverter
{
    private KTensor Dense(KerasLayer layer, KTensor x, string scope)
    {
        var cfg = layer.Config;
        int units = KerasJson.Int(cfg, 0, "units", "output_dim");
        if (units <= 0) throw Error(layer, "units must be positive");
        bool useBias = KerasJson.Bool(cfg, true, "use_bias", "bias");
        long inDim = x.Shape[^1];
        if (inDim < 0) throw Error(layer, "the input's last dimension is unknown");
        var w = Weights(layer, useBias ? 2 : 1, useBias ? "kernel, bias" : "kernel");
        CheckShape(layer, w[0], "kernel", inDim, units);
        if (useBias) CheckShape(layer, w[1], "bias", units);
        string y;
        if (x.Rank == 2)
        {
            string kernel;
            if (x.Layout == Layout.FlatChannelsFirst)
            {
                var src = x.FlatSource!;
                long channels = src[^1], spatial = KerasLayout.Product(src[1..^1]);
                kernel = InitFilled(layer, "kernel_chw", [inDim, units], dst => { w[0].CopyTo(dst); KerasWeightMath.PermuteFlattenRowsInPlace(dst.Span, spatial, channels, units); });
            }
            else kernel = InitFilled(layer, "kernel", [inDim, units], w[0].CopyTo);
            var inputs = new List<string> { x.Value, kernel };
            if (useBias) inputs.Add(InitFilled(layer, "bias", [units], w[1].CopyTo));
            y = B.Node("Gemm", scope, inputs, NodeAttribute.Of("alpha", 1f), NodeAttribute.Of("beta", 1f),
                NodeAttribute.Of("transA", 0L), NodeAttribute.Of("transB", 0L));
        }
        else
        {
            x = B.Plain(x);
            string kernel = InitFilled(layer, "kernel", [inDim, units], w[0].CopyTo);
            y = B.Node("MatMul", scope, [x.Value, kernel]);
            if (useBias) y = B.Node("Add", scope, [y, InitFilled(layer, "bias", [units], w[1].CopyTo)]);
        }
        var outT = new KTensor(y, [.. x.Shape[..^1], units], Layout.Plain);
        return Activate(ActivationName(cfg), outT, scope);
    }

    private KTensor Flatten(KerasLayer layer, KTensor x, string scope)
    {
        if (x.Rank <= 2) return x with { Value = B.Node("Identity", scope, [x.Value]) };
        long total = KerasLayout.Product(x.Shape[1..]);
        string y = B.Node("Flatten", scope, [x.Value], NodeAttribute.Of("axis", 1L));
        long[] shape = [x.Shape[0], total];
        if (x.Layout == Layout.ChannelsFirst)
        {
            bool orderSame = x.Channels == 1 || x.Shape[1..^1].All(d => d == 1);
            if (!orderSame)
            {
                if (total < 0) throw Error(layer, "flattening a tensor with unknown spatial size is not supported");
                return new KTensor(y, shape, Layout.FlatChannelsFirst, x.Shape);
            }
        }
        return new KTensor(y, shape, Layout.Plain);
    }

    private KTensor Reshape(KerasLayer layer, KTensor x, string scope)
    {
        var target = KerasJson.Shape(layer.Config, "target_shape") ?? throw Error(layer, "no target_shape");
        if (target.Length + 1 > B.Limits.MaxRank) throw Error(layer, "target_shape has too many dimensions");
        x = B.Plain(x);
        long total = KerasLayout.Product(x.Shape[1..]);
        var outShape = new long[target.Length + 1];
        outShape[0] = x.Shape[0];
        int unknown = -1;
        long known = 1;
        for (int i = 0; i < target.Length; i++)
        {
            outShape[i + 1] = target[i];
            if (target[i] < 0) { if (unknown >= 0) throw Error(layer, "target_shape has more than one -1"); unknown = i + 1; }
            else if (target[i] == 0) throw Error(layer, "target_shape has a zero dimension");
            else known = checked(known * target[i]);
        }
        if (total >= 0)
        {
            if (unknown >= 0)
            {
                if (total % known != 0) throw Error(layer, $"cannot reshape {x.ShapeText} to target_shape {string.Join(",", target)}");
                outShape[unknown] = total / known;
            }
            else if (known != total) throw Error(layer, $"cannot reshape {x.ShapeText} ({total} elements) to target_shape {string.Join(",", target)}");
        }
        string shapeConst = B.ConstI64(scope + "/shape", [0, .. target.Select(t => t < 0 ? -1L : t)]);
        string y = B.Node("Reshape", scope, [x.Value, shapeConst]);
        return new KTensor(y, outShape, Layout.Plain);
    }

    private KTensor Permute(KerasLayer layer, KTensor x, string scope)
    {
        var dims = KerasJson.Tuple(layer.Config, x.Rank - 1, "dims") ?? throw Error(layer, "no dims");
        if (dims.Distinct().Count() != dims.Length || dims.Any(d => d < 1 || d >= x.Rank))
            throw Error(layer, $"dims ({string.Join(",", dims)}) is not a permutation of 1..{x.Rank - 1}");
        x = B.Plain(x);
        long[] perm = [0, .. dims.Select(d => (long)d)];
        string y = B.Node("Transpose", scope, [x.Value], NodeAttribute.Of("perm", perm));
        return new KTensor(y, perm.Select(p => x.Shape[p]).ToArray(), Layout.Plain);
    }

    private KTensor ZeroPadding(KerasLayer layer, KTensor x, string scope, int n)
    {
        if (x.Rank != n + 2) throw Error(layer, $"expects a rank-{n + 2} input, got {x.ShapeText}");
        var begin = new long[n];
        var end = new long[n];
        var p = KerasJson.Find(layer.Config, "padding");
        if (p is null) { Array.Fill(begin, 1); Array.Fill(end, 1); }
        else if (p.Value.ValueKind == JsonValueKind.Number) { Array.Fill(begin, KerasJson.ToInt(p.Value, "padding")); Array.Fill(end, begin[0]); }
        else if (p.Value.ValueKind == JsonValueKind.Array && n == 1 && p.Value.GetArrayLength() == 2 && p.Value[0].ValueKind == JsonValueKind.Number)
        { begin[0] = KerasJson.ToInt(p.Value[0], "padding"); end[0] = KerasJson.ToInt(p.Value[1], "padding"); }
        else if (p.Value.ValueKind == JsonValueKind.Array && p.Value.GetArrayLength() == n)
        {
            for (int i = 0; i < n; i++)
            {
                var e = p.Value[i];
                if (e.ValueKind == JsonValueKind.Number) { begin[i] = end[i] = KerasJson.ToInt(e, "padding"); }
                else if (e.ValueKind == JsonValueKind.Array && e.GetArrayLength() == 2)
                { begin[i] = KerasJson.ToInt(e[0], "padding"); end[i] = KerasJson.ToInt(e[1], "padding"); }
                else throw Error(layer, "malformed padding");
            }
        }
        else throw Error(layer, "malformed padding");
        if (begin.Concat(end).Any(v => v < 0)) throw Error(layer, "negative padding");
        x = B.ChannelsFirst(x);
        long[] pads = [0, 0, .. begin, 0, 0, .. end];
        string padsConst = B.ConstI64(scope + "/pads", pads);
        string y = B.Node("Pad", scope, [x.Value, padsConst], NodeAttribute.Of("mode", "constant"));
        var shape = (long[])x.Shape.Clone();
        for (int i = 0; i < n; i++) shape[i + 1] = shape[i + 1] < 0 ? -1 : shape[i + 1] + begin[i] + end[i];
        return new KTensor(y, shape, Layout.ChannelsFirst);
    }

    private KTensor UpSampling(KerasLayer layer, KTensor x, string scope, int n)
    {
        if (x.Rank != n + 2) throw Error(layer, $"expects a rank-{n + 2} input, got {x.ShapeText}");
        var size = KerasJson.Tuple(layer.Config, n, "size", "length") ?? Enumerable.Repeat(2, n).ToArray();
        string interp = KerasJson.Str(layer.Config, "interpolation") ?? "nearest";
        if (interp != "nearest") throw Error(layer, $"interpolation '{interp}' is not supported (only nearest)");
        if (size.Any(v => v < 1)) throw Error(layer, "size must be positive");
        x = B.ChannelsFirst(x);
        float[] scales = [1f, 1f, .. size.Select(v => (float)v)];
        string scalesConst = B.Const(scope + "/scales", [scales.Length], scales);
        string y = B.Node("Resize", scope, [x.Value, "", scalesConst], NodeAttribute.Of("mode", "nearest"),
            NodeAttribute.Of("coordinate_transformation_mode", "asymmetric"), NodeAttribute.Of("nearest_mode", "floor"));
        var shape = (long[])x.Shape.Clone();
        for (int i = 0; i < n; i++) shape[i + 1] = shape[i + 1] < 0 ? -1 : shape[i + 1] * size[i];
        return new KTensor(y, shape, Layout.ChannelsFirst);
    }
}
