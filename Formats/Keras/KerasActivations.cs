using FastInfer.Ir;

namespace FastInfer.Formats.Keras;

/// <summary>Keras' built-in activation functions as ONNX nodes (opset 17).</summary>
internal sealed partial class KerasConverter
{
    public static readonly HashSet<string> KnownActivations = new(StringComparer.Ordinal)
    {
        "linear", "relu", "relu6", "sigmoid", "tanh", "softmax", "log_softmax", "elu", "selu", "gelu", "swish", "silu",
        "hard_sigmoid", "hard_silu", "hard_swish", "leaky_relu", "softplus", "softsign", "exponential", "mish",
    };

    /// <summary>Applies the named activation (null/linear → none). Layout and shape are preserved.</summary>
    private KTensor Activate(string? name, KTensor x, string scope)
    {
        if (name is null or "linear" or "None") return x;
        string v = x.Value;
        string Op(string op, params NodeAttribute[] a) => B.Node(op, scope, [v], a);
        string result = name switch
        {
            "relu" => Op("Relu"),
            "relu6" => Clip(v, 0f, 6f, scope),
            "sigmoid" => Op("Sigmoid"),
            "tanh" => Op("Tanh"),
            "softmax" => SoftmaxNode(x, x.Rank - 1, scope, "Softmax"),
            "log_softmax" => SoftmaxNode(x, x.Rank - 1, scope, "LogSoftmax"),
            "elu" => Op("Elu", NodeAttribute.Of("alpha", 1f)),
            "selu" => Op("Selu", NodeAttribute.Of("alpha", 1.6732632423543772f), NodeAttribute.Of("gamma", 1.0507009873554805f)),
            "gelu" => Gelu(v, scope),
            "swish" or "silu" => B.Node("Mul", scope, [v, Op("Sigmoid")]),
            "hard_sigmoid" => HardSigmoid(v, scope),
            "hard_silu" or "hard_swish" => B.Node("Mul", scope, [v, B.Node("HardSigmoid", scope, [v],
                NodeAttribute.Of("alpha", 1f / 6f), NodeAttribute.Of("beta", 0.5f))]),
            "leaky_relu" => Op("LeakyRelu", NodeAttribute.Of("alpha", 0.2f)),
            "softplus" => Op("Softplus"),
            "softsign" => Op("Softsign"),
            "exponential" => Op("Exp"),
            "mish" => B.Node("Mul", scope, [v, B.Node("Tanh", scope, [Op("Softplus")])]),
            _ => throw new ModelFormatException($"unsupported activation '{name}'", File, scope),
        };
        return x with { Value = result };
    }

    private string HardSigmoid(string v, string scope)
    {
        // Keras 1/2: clip(0.2x + 0.5); Keras 3: relu6(x + 3) / 6.
        float alpha = KerasMajor >= 3 ? 1f / 6f : 0.2f;
        return B.Node("HardSigmoid", scope, [v], NodeAttribute.Of("alpha", alpha), NodeAttribute.Of("beta", 0.5f));
    }

    private string Clip(string v, float? min, float? max, string scope)
    {
        string lo = min is { } a ? B.Scalar(scope + "/clip_min", a) : "";
        string hi = max is { } b ? B.Scalar(scope + "/clip_max", b) : "";
        var inputs = hi.Length > 0 ? new[] { v, lo, hi } : new[] { v, lo };
        return B.Node("Clip", scope, inputs);
    }

    /// <summary>Exact (erf) GELU: x · 0.5 · (1 + erf(x / √2)).</summary>
    private string Gelu(string v, string scope)
    {
        string div = B.Node("Div", scope, [v, B.Scalar(scope + "/sqrt2", MathF.Sqrt(2f))]);
        string erf = B.Node("Erf", scope, [div]);
        string add = B.Node("Add", scope, [erf, B.Scalar(scope + "/one", 1f)]);
        string mul = B.Node("Mul", scope, [v, add]);
        return B.Node("Mul", scope, [mul, B.Scalar(scope + "/half", 0.5f)]);
    }

    private string SoftmaxNode(KTensor x, int kerasAxis, string scope, string op)
    {
        int axis;
        if (x.Layout == Layout.FlatChannelsFirst) axis = 1; // the whole flat vector: order does not matter
        else axis = KerasLayout.PhysicalAxis(kerasAxis, x.Rank, x.Layout);
        if (axis == x.Rank - 1) axis = -1;
        return B.Node(op, scope, [x.Value], NodeAttribute.Of("axis", (long)axis));
    }
}
