using System.Text.Json;
using FastInfer.Ir;

namespace FastInfer.Formats.Keras;

/// <summary>BatchNormalization, LayerNormalization, Rescaling and Normalization.</summary>
internal sealed partial class KerasConverter
{
    private int[] Axes(KerasLayer layer, int rank, int fallback)
    {
        var el = KerasJson.Find(layer.Config, "axis");
        int[] axes = el is null ? [fallback]
            : el.Value.ValueKind == JsonValueKind.Array ? el.Value.EnumerateArray().Select(e => KerasJson.ToInt(e, "axis")).ToArray()
            : [KerasJson.ToInt(el.Value, "axis")];
        return axes.Select(a => NormalizeAxis(a, rank, layer, File)).Distinct().Order().ToArray();
    }

    private KTensor BatchNorm(KerasLayer layer, KTensor x, string scope)
    {
        var cfg = layer.Config;
        var axes = Axes(layer, x.Rank, -1);
        if (axes.Length != 1 || axes[0] == 0) throw Error(layer, "only a single non-batch axis is supported");
        int axis = axes[0];
        long c = x.Shape[axis];
        if (c < 0) throw Error(layer, "the normalized axis has unknown size");
        if (KerasJson.Int(cfg, 0, "mode") != 0) throw Error(layer, "Keras 1 BatchNormalization modes 1 and 2 (batch statistics at inference) are not supported");
        bool center = KerasJson.Bool(cfg, true, "center"), scale = KerasJson.Bool(cfg, true, "scale");
        float eps = (float)KerasJson.Num(cfg, 1e-3, "epsilon");
        int count = 2 + (center ? 1 : 0) + (scale ? 1 : 0);
        var w = Weights(layer, count, "[gamma], [beta], moving_mean, moving_variance");
        for (int i = 0; i < count; i++) CheckShape(layer, w[i], i == count - 2 ? "moving_mean" : i == count - 1 ? "moving_variance" : "gamma/beta", c);
        int k = 0;
        float[] gamma = scale ? w[k++].Data : Enumerable.Repeat(1f, (int)c).ToArray();
        float[] beta = center ? w[k++].Data : new float[c];
        float[] mean = w[k++].Data, variance = w[k].Data;
        if (axis == x.Rank - 1)
        {
            x = x.Rank >= 3 ? B.ChannelsFirst(x) : B.Plain(x);
            string y = B.Node("BatchNormalization", scope,
                [x.Value, Init(layer, "gamma", () => ([c], gamma)), Init(layer, "beta", () => ([c], beta)),
                 Init(layer, "moving_mean", () => ([c], mean)), Init(layer, "moving_variance", () => ([c], variance))],
                NodeAttribute.Of("epsilon", eps));
            return x with { Value = y };
        }
        // Another axis: fold into y = x·a + b with constants broadcast along that axis (plain layout).
        x = B.Plain(x);
        var a = new float[c];
        var b = new float[c];
        for (int i = 0; i < c; i++)
        {
            a[i] = gamma[i] / MathF.Sqrt(variance[i] + eps);
            b[i] = beta[i] - mean[i] * a[i];
        }
        long[] dims = [c, .. Enumerable.Repeat(1L, x.Rank - 1 - axis)];
        string mul = B.Node("Mul", scope, [x.Value, Init(layer, "scale_folded", () => (dims, a))]);
        string add = B.Node("Add", scope, [mul, Init(layer, "shift_folded", () => (dims, b))]);
        return x with { Value = add };
    }

    private KTensor LayerNorm(KerasLayer layer, KTensor x, string scope)
    {
        var cfg = layer.Config;
        var axes = Axes(layer, x.Rank, -1);
        for (int i = 0; i < axes.Length; i++)
            if (axes[i] != x.Rank - axes.Length + i || axes[i] == 0)
                throw Error(layer, $"axis ({string.Join(",", axes)}) must be the trailing non-batch axes");
        if (KerasJson.Bool(cfg, false, "rms_scaling")) throw Error(layer, "rms_scaling is not supported");
        bool center = KerasJson.Bool(cfg, true, "center"), scale = KerasJson.Bool(cfg, true, "scale");
        float eps = (float)KerasJson.Num(cfg, 1e-3, "epsilon");
        long[] pshape = x.Shape[axes[0]..];
        long n = KerasLayout.Product(pshape);
        if (n < 0) throw Error(layer, "the normalized axes have unknown size");
        int count = (center ? 1 : 0) + (scale ? 1 : 0);
        var w = Weights(layer, count, "[gamma], [beta]");
        int k = 0;
        float[] gamma, beta;
        if (scale) { CheckShape(layer, w[k], "gamma", pshape.Length == 1 ? pshape : [.. pshape]); gamma = w[k++].Data; }
        else gamma = Enumerable.Repeat(1f, (int)n).ToArray();
        if (center) { CheckShape(layer, w[k], "beta", pshape); beta = w[k].Data; }
        else beta = new float[n];
        x = B.Plain(x);
        string y = B.Node("LayerNormalization", scope,
            [x.Value, Init(layer, "gamma", () => (pshape, gamma)), Init(layer, "beta", () => (pshape, beta))],
            NodeAttribute.Of("axis", (long)axes[0]), NodeAttribute.Of("epsilon", eps));
        return x with { Value = y };
    }

    /// <summary>y = x·scale + offset (scalars or per-channel lists).</summary>
    private KTensor Rescaling(KerasLayer layer, KTensor x, string scope)
    {
        var scale = KerasJson.Floats(layer.Config, "scale") ?? [1f];
        var offset = KerasJson.Floats(layer.Config, "offset") ?? [0f];
        string v = x.Value;
        if (scale.Length > 1 || offset.Length > 1)
        {
            if (x.Layout == Layout.FlatChannelsFirst) x = B.Plain(x);
            v = x.Value;
        }
        if (!(scale.Length == 1 && scale[0] == 1f)) v = B.Node("Mul", scope, [v, PerChannel(layer, x, scope + "/scale", scale)]);
        if (!(offset.Length == 1 && offset[0] == 0f)) v = B.Node("Add", scope, [v, PerChannel(layer, x, scope + "/offset", offset)]);
        if (v == x.Value) v = B.Node("Identity", scope, [v]);
        return x with { Value = v };
    }

    private string PerChannel(KerasLayer layer, KTensor x, string name, float[] values)
    {
        if (values.Length == 1) return B.Scalar(name, values[0]);
        if (values.Length != x.Channels) throw Error(layer, $"{values.Length} values do not match {x.Channels} channels");
        return B.ChannelConst(name, x, values);
    }

    /// <summary>Keras Normalization: (x − mean) / max(√variance, 1e-7).</summary>
    private KTensor Normalization(KerasLayer layer, KTensor x, string scope)
    {
        var cfg = layer.Config;
        if (KerasJson.Bool(cfg, false, "invert")) throw Error(layer, "invert=True is not supported");
        var axes = Axes(layer, x.Rank, -1);
        if (KerasJson.Find(cfg, "axis") is { ValueKind: JsonValueKind.Array } ae && ae.GetArrayLength() == 0) axes = [];
        if (axes.Length > 1 || (axes.Length == 1 && axes[0] != x.Rank - 1))
            throw Error(layer, "only the last axis is supported");
        float[]? mean = KerasJson.Floats(cfg, "mean"), variance = KerasJson.Floats(cfg, "variance");
        if (mean is null || variance is null)
        {
            var w = Weights(layer);
            if (w.Count < 2) throw Error(layer, $"has {w.Count} weight arrays and no mean/variance in the config");
            mean = w[0].Data; variance = w[1].Data;
        }
        if (mean.Length != variance.Length) throw Error(layer, "mean and variance differ in size");
        var inv = new float[variance.Length];
        for (int i = 0; i < inv.Length; i++) inv[i] = 1f / MathF.Max(MathF.Sqrt(variance[i]), 1e-7f);
        if (mean.Length > 1 && x.Layout == Layout.FlatChannelsFirst) x = B.Plain(x);
        var negMean = mean.Select(m => -m).ToArray();
        string add = B.Node("Add", scope, [x.Value, PerChannelCached(layer, x, "neg_mean", negMean)]);
        string mul = B.Node("Mul", scope, [add, PerChannelCached(layer, x, "inv_std", inv)]);
        return x with { Value = mul };
    }

    private string PerChannelCached(KerasLayer layer, KTensor x, string role, float[] values)
    {
        if (values.Length == 1) return Init(layer, role, () => ([], values));
        if (values.Length != x.Channels) throw Error(layer, $"{values.Length} values do not match {x.Channels} channels");
        long[] dims = x.Layout == Layout.ChannelsFirst ? [values.Length, .. Enumerable.Repeat(1L, x.Rank - 2)] : [values.Length];
        return Init(layer, role + (x.Layout == Layout.ChannelsFirst ? "_cf" : ""), () => (dims, values));
    }
}
