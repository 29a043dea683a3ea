namespace FastInfer.Kernels.Gemm;

/// <summary>An activation applied in a kernel's epilogue, while the result is still in registers.</summary>
public enum ActivationKind
{
    None,
    Relu,
    /// <summary>min(max(x, Alpha), Beta).</summary>
    Clip,
    /// <summary>x &lt; 0 ? Alpha·x : x.</summary>
    LeakyRelu,
    Sigmoid,
    Tanh,
    /// <summary>The exact (erf) GELU, 0.5·x·(1 + erf(x/√2)), as <see cref="Elementwise.GeluKernel"/> computes it.</summary>
    Gelu,
}

/// <summary>An activation and its parameters.</summary>
public readonly record struct Activation(ActivationKind Kind, float Alpha = 0, float Beta = 0)
{
    public static Activation None => default;
    public static Activation Relu => new(ActivationKind.Relu);
    public static Activation Clip(float min, float max) => new(ActivationKind.Clip, min, max);
    public static Activation LeakyRelu(float alpha) => new(ActivationKind.LeakyRelu, alpha);

    /// <summary>The scalar definition, used by references and tails.</summary>
    public float Apply(float x) => Kind switch
    {
        ActivationKind.Relu => x > 0 ? x : 0,
        ActivationKind.Clip => Math.Min(Math.Max(x, Alpha), Beta),
        ActivationKind.LeakyRelu => x < 0 ? Alpha * x : x,
        ActivationKind.Sigmoid => 1f / (1f + MathF.Exp(-x)),
        ActivationKind.Tanh => MathF.Tanh(x),
        ActivationKind.Gelu => Elementwise.GeluKernel.Gelu(x),
        _ => x,
    };
}
