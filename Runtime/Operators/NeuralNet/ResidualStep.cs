using System.Numerics.Tensors;
using FastInfer.Kernels.Convolution;
using FastInfer.Kernels.Gemm;
using FastInfer.Runtime.Operators.Elementwise;

namespace FastInfer.Runtime.Operators.NeuralNet;

/// <summary>
/// A residual (input 3) that could not go into a GEMM epilogue — it broadcasts against the product, or the product
/// is a GEMV — added after the product step, then the activation: y = act(product ⊕ residual) with NumPy broadcasting.
/// </summary>
internal static unsafe class ResidualStep
{
    /// <param name="product">Writes the product to the output when it has the output's shape, else to the workspace start.</param>
    public static StepAction After(StepAction product, TensorShape productShape, TensorShape residualShape, TensorShape outShape, Activation activation)
    {
        bool inPlace = outShape.Equals(productShape);
        var plan = new Broadcast(productShape, residualShape);
        long outer = plan.OuterCount;
        int inner = checked((int)plan.InnerLength);
        bool productScalar = plan.Strides[0][^1] == 0, residualScalar = plan.Strides[1][^1] == 0;
        long total = outShape.ElementCount;
        return (in StepArgs a) =>
        {
            product(a);
            float* src = inPlace ? a.OutF(0) : (float*)a.Workspace;
            float* r = a.InF(3), y = a.OutF(0);
            for (long row = 0; row < outer; row++)
            {
                var dst = new Span<float>(y + row * inner, inner);
                float* ps = src + plan.Offset(0, row), rs = r + plan.Offset(1, row);
                if (productScalar && residualScalar) dst.Fill(*ps + *rs);
                else if (productScalar) TensorPrimitives.Add(new ReadOnlySpan<float>(rs, inner), *ps, dst);
                else if (residualScalar) TensorPrimitives.Add(new ReadOnlySpan<float>(ps, inner), *rs, dst);
                else TensorPrimitives.Add(new ReadOnlySpan<float>(ps, inner), new ReadOnlySpan<float>(rs, inner), dst);
            }
            for (long start = 0; start < total; start += int.MaxValue / 2)
                ActivationRow.Apply(y + start, (int)Math.Min(int.MaxValue / 2, total - start), activation);
        };
    }
}
