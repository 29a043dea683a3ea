using FastInfer.Ir;
using FastInfer.Kernels.Gemm;

namespace FastInfer.Runtime.Operators.NeuralNet;

/// <summary>
/// The activation a graph pass fused into a Conv or Gemm, stored as node attributes
/// (<c>activation</c>, <c>activation_alpha</c>, <c>activation_beta</c>) so the fused node stays a plain IR node.
/// </summary>
internal static class FusedActivation
{
    public const string Kind = "activation";
    public const string Alpha = "activation_alpha";
    public const string Beta = "activation_beta";

    public static Activation Read(Node node) => node.GetString(Kind, "") switch
    {
        "" => Activation.None,
        "Relu" => Activation.Relu,
        "Clip" => Activation.Clip(node.GetFloat(Alpha, float.NegativeInfinity), node.GetFloat(Beta, float.PositiveInfinity)),
        "LeakyRelu" => Activation.LeakyRelu(node.GetFloat(Alpha, 0.01f)),
        "Sigmoid" => new Activation(ActivationKind.Sigmoid),
        "Tanh" => new Activation(ActivationKind.Tanh),
        "Gelu" => new Activation(ActivationKind.Gelu),
        var other => throw new InvalidModelException($"Node '{node.DisplayName}': unknown fused activation '{other}'."),
    };

    public static void Write(Node node, string kind, float alpha = 0, float beta = 0)
    {
        node.SetAttribute(NodeAttribute.Of(Kind, kind));
        node.SetAttribute(NodeAttribute.Of(Alpha, alpha));
        node.SetAttribute(NodeAttribute.Of(Beta, beta));
    }
}
