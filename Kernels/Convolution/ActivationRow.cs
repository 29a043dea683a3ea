using System.Numerics.Tensors;
using FastInfer.Kernels.Gemm;

namespace FastInfer.Kernels.Convolution;

/// <summary>Applies an activation in place over a row, vectorized through TensorPrimitives where it has the op.</summary>
public static unsafe class ActivationRow
{
    public static void Apply(float* p, int n, in Activation a)
    {
        var span = new Span<float>(p, n);
        switch (a.Kind)
        {
            case ActivationKind.None: return;
            case ActivationKind.Relu: TensorPrimitives.Max(span, 0f, span); return;
            case ActivationKind.Clip: TensorPrimitives.Max(span, a.Alpha, span); TensorPrimitives.Min(span, a.Beta, span); return;
            case ActivationKind.Sigmoid: TensorPrimitives.Sigmoid(span, span); return;
            case ActivationKind.Tanh: TensorPrimitives.Tanh(span, span); return;
            case ActivationKind.Gelu: Elementwise.GeluKernel.Row(span, span); return;
            default:
                for (int i = 0; i < n; i++) p[i] = a.Apply(p[i]);
                return;
        }
    }
}
