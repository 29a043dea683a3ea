using FastInfer.Ir;

namespace FastInfer.Formats.Keras;

/// <summary>ReLU (with max_value / negative_slope) and PReLU layers.</summary>
internal sealed partial class KerasConverter
{
    private KTensor ReluLayer(KerasLayer layer, KTensor x, string scope)
    {
        var cfg = layer.Config;
        double? max = KerasJson.NumOrNull(cfg, "max_value");
        double slope = KerasJson.Num(cfg, 0, "negative_slope");
        double threshold = KerasJson.Num(cfg, 0, "threshold");
        if (threshold != 0) throw Error(layer, $"threshold={threshold} is not supported");
        string v = slope == 0
            ? max is null ? B.Node("Relu", scope, [x.Value]) : Clip(x.Value, 0f, (float)max.Value, scope)
            : B.Node("LeakyRelu", scope, [x.Value], NodeAttribute.Of("alpha", (float)slope));
        if (slope != 0 && max is not null) v = Clip(v, null, (float)max.Value, scope);
        return x with { Value = v };
    }

    private KTensor PRelu(KerasLayer layer, KTensor x, string scope)
    {
        var w = Weights(layer, 1, "alpha");
        var shared = KerasJson.Find(layer.Config, "shared_axes") is { } s
            ? (s.ValueKind == System.Text.Json.JsonValueKind.Array ? s.EnumerateArray().Select(e => KerasJson.ToInt(e, "shared_axes")).ToArray() : [KerasJson.ToInt(s, "shared_axes")])
            : [];
        var expected = new long[x.Rank - 1];
        for (int i = 1; i < x.Rank; i++) expected[i - 1] = shared.Contains(i) ? 1 : x.Shape[i];
        CheckShape(layer, w[0], "alpha", expected);
        var alphaShape = w[0].Shape;
        if (x.Layout == Layout.FlatChannelsFirst) x = B.Plain(x);
        string alpha;
        if (x.Layout == Layout.ChannelsFirst)
        {
            int r = alphaShape.Length;
            int[] perm = [r - 1, .. Enumerable.Range(0, r - 1)];
            alpha = InitTransposed(layer, "alpha_cf", w[0], perm);
        }
        else alpha = InitFilled(layer, "alpha", alphaShape, w[0].CopyTo);
        return x with { Value = B.Node("PRelu", scope, [x.Value, alpha]) };
    }
}
