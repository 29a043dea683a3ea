using FastInfer.Ir;
using FastInfer.Kernels.Gemm;
using FastInfer.Runtime.Operators.Elementwise;

namespace FastInfer.Runtime.Operators.NeuralNet;

/// <summary>
/// Gemm: Y = alpha·op(A)·op(B) + beta·C. A constant B (the usual fully connected weight) is packed once per
/// session; a C that is a per-column vector with beta = 1 rides in the GEMM epilogue as a bias, together with
/// any fused activation.
/// </summary>
internal sealed unsafe class GemmOperator : WeightGemmOperator
{
    public GemmOperator(Node node, OperatorContext context) : base(node, context) { }

    public static OperatorEntry Entry => new("Gemm", (n, c) => new GemmOperator(n, c), 1, OperatorRegistry.MaxSupportedOpset, Array.Empty<int>());

    protected override StepAction PlanUnderIsa(PlanContext ctx)
    {
        ctx.RequireType(0, DataType.Float);
        ctx.RequireType(1, DataType.Float);
        var sa = ctx.InputShape(0);
        var sb = ctx.InputShape(1);
        if (sa.Rank != 2 || sb.Rank != 2) throw ctx.Fail($"A {sa} and B {sb} must be 2-D");
        bool ta = ctx.Node.GetInt("transA", 0) != 0, tb = ctx.Node.GetInt("transB", 0) != 0;
        float alpha = ctx.Node.GetFloat("alpha", 1f), beta = ctx.Node.GetFloat("beta", 1f);
        int m = ta ? sa[1] : sa[0], k = ta ? sa[0] : sa[1];
        int kb = tb ? sb[1] : sb[0], n = tb ? sb[0] : sb[1];
        if (k != kb) throw ctx.Fail($"inner dimensions differ: op(A) is {m}x{k}, op(B) is {kb}x{n}");
        var output = new TensorShape(m, n);
        ctx.SetOutput(0, DataType.Float, output);
        var activation = FusedActivation.Read(ctx.Node);
        int lda = sa[1], ldb = sb[1];

        bool hasC = ctx.HasInput(2) && beta != 0;
        Broadcast? cPlan = null;
        bool cIsColumnBias = false;
        if (hasC)
        {
            var sc = ctx.InputShape(2);
            if (!Broadcast.Shape(output, sc).Equals(output)) throw ctx.Fail($"C {sc} does not broadcast to {output}");
            cIsColumnBias = beta == 1 && sc.ElementCount == n && (sc.Rank == 1 || sc[sc.Rank - 2] == 1) && (sc.Rank == 0 || sc[^1] == n);
            if (!cIsColumnBias) cPlan = new Broadcast(output, sc);
        }

        if (ctx.IsConstant(1) && GemvStep.Applies(m) && !ta && alpha == 1 && cPlan is null)
            return GemvStep.Create(ctx, tb, k, n, ldb, cIsColumnBias ? 2 : -1, activation);

        PackedMatrix? packed = null;
        var blas = Blas;
        if (ctx.IsConstant(1) && blas is null)
        {
            packed = PackedWeight(tb, k, n, (float*)ctx.InputValue(1).ConstantPointer, ldb);
        }

        return (in StepArgs a) =>
        {
            float* y = a.OutF(0);
            float gemmBeta = 0;
            var epilogue = new GemmEpilogue { Activation = activation };
            if (cIsColumnBias) epilogue = epilogue with { Bias = a.InF(2), BiasKind = BiasKind.PerColumn };
            else if (cPlan is not null)
            {
                // Y = beta·C broadcast, then accumulate the product on top of it.
                BroadcastRunner.Run<float, float, ScaledSecond>(cPlan, y, a.InF(2), y);
                if (beta != 1) System.Numerics.Tensors.TensorPrimitives.Multiply(new ReadOnlySpan<float>(y, m * n), beta, new Span<float>(y, m * n));
                gemmBeta = 1;
            }
            if (packed is not null && !ta) Sgemm.MultiplyPacked(m, n, k, alpha, a.InF(0), lda, packed, gemmBeta, y, n, epilogue, a.Pool);
            else GemmBackend.Multiply(blas, ta, tb, m, n, k, alpha, a.InF(0), lda, a.InF(1), ldb, gemmBeta, y, n, epilogue, a.Pool);
        };
    }

    /// <summary>Copies the broadcast second operand (C) into the output.</summary>
    private struct ScaledSecond : IBinaryOp<float, float>
    {
        public static void Rows(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => b.CopyTo(y);
        public static void RowScalarB(ReadOnlySpan<float> a, float b, Span<float> y) => y.Fill(b);
        public static void RowScalarA(float a, ReadOnlySpan<float> b, Span<float> y) => b.CopyTo(y);
    }

}
