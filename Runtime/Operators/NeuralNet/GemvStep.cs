using FastInfer.Kernels.Gemm;

namespace FastInfer.Runtime.Operators.NeuralNet;

/// <summary>
/// The batch-1 step of a fully connected layer (Gemm, MatMul, MatMulAdd with one row of A and a constant B): a
/// matrix-vector product reading the weight in place. Choosing it instead of the packed GEMM keeps a large weight
/// (the seed CNN's 4 GB Dense) from being copied into packed panels, which would double memory.
/// </summary>
internal static unsafe class GemvStep
{
    /// <summary>Whether a product of <paramref name="rows"/> rows should take this path.</summary>
    public static bool Applies(int rows) => rows == 1;

    /// <param name="biasInput">Input index of a per-column bias, or -1.</param>
    public static StepAction Create(PlanContext ctx, bool transposed, int k, int n, long ldw, int biasInput, Activation activation)
    {
        ctx.WorkspaceBytes = Math.Max(ctx.WorkspaceBytes, Gemv.ScratchFloats(n) * sizeof(float));
        return (in StepArgs a) =>
        {
            var ep = new GemmEpilogue
            {
                Activation = activation,
                Bias = biasInput >= 0 ? a.InF(biasInput) : null,
                BiasKind = biasInput >= 0 ? BiasKind.PerColumn : BiasKind.None,
            };
            Gemv.Multiply(transposed, k, n, a.InF(0), a.InF(1), ldw, a.OutF(0), ep, (float*)a.Workspace, a.Pool);
        };
    }
}
