using FastInfer.Ir;
using FastInfer.Kernels.Gemm;

namespace FastInfer.Runtime.Operators.NeuralNet;

/// <summary>
/// What Gemm and MatMul share: the session's GEMM provider and ISA (planning and steps run under it), and a
/// constant right-hand weight packed once per session and reused by every plan.
/// </summary>
internal abstract unsafe class WeightGemmOperator : Operator
{
    private PackedMatrix? _packedB;
    private readonly object _lock = new();
    private readonly Kernels.Platform.IsaLevel? _isa;

    private readonly IPackedOperandStore? _store;

    protected WeightGemmOperator(Node node, OperatorContext context) : base(node)
    {
        Blas = GemmBackend.Resolve(context.Options);
        _isa = KernelScope.Validate(context.Options);
        _store = context.PackedOperands;
    }

    /// <summary>The native CBLAS library when the session asked for it; null for the managed kernels.</summary>
    protected Kernels.Blas.CblasProvider? Blas { get; }

    public sealed override StepAction Plan(PlanContext ctx)
    {
        using (KernelScope.Enter(_isa)) return KernelScope.Wrap(_isa, PlanUnderIsa(ctx));
    }

    /// <summary>Plans the node with the session's ISA in force.</summary>
    protected abstract StepAction PlanUnderIsa(PlanContext ctx);

    /// <summary>The constant weight B packed for the GEMM, packed on first use only.</summary>
    protected PackedMatrix PackedWeight(bool transB, int k, int n, float* b, int ldb)
    {
        lock (_lock) return _packedB ??= Sgemm.PackB(transB, k, n, b, ldb, _store, Prepacking.SessionPackedOperands.KeyFor(Node) + "/b");
    }

    public override void Dispose() => _packedB?.Dispose();
}
