using FastInfer.Ir;
using FastInfer.Kernels.Gemm;

namespace FastInfer.Runtime.Operators.NeuralNet;

/// <summary>
/// MatMul with NumPy semantics: 1-D operands promoted and the added axis removed, batch axes broadcast.
/// A constant 2-D right operand (a weight) is packed once and the whole batch of left rows runs as one GEMM.
/// Also serves the fused <c>fastinfer:MatMulAdd</c> (MatMul followed by a bias Add, and possibly a residual Add and a GELU).
/// </summary>
internal sealed unsafe class MatMulOperator : WeightGemmOperator
{
    public MatMulOperator(Node node, OperatorContext context) : base(node, context) { }

    public static IEnumerable<OperatorEntry> Entries()
    {
        yield return new("MatMul", (n, c) => new MatMulOperator(n, c), 1, OperatorRegistry.MaxSupportedOpset, Array.Empty<int>());
        yield return new("fastinfer:MatMulAdd", (n, c) => new MatMulOperator(n, c), 1, OperatorRegistry.MaxSupportedOpset, Array.Empty<int>(),
            "MatMul with a per-column bias (input 2), an optional residual (input 3) and activation in the GEMM epilogue");
    }

    protected override StepAction PlanUnderIsa(PlanContext ctx)
    {
        ctx.RequireType(0, DataType.Float);
        ctx.RequireType(1, DataType.Float);
        var sa = ctx.InputShape(0);
        var sb = ctx.InputShape(1);
        if (sa.Rank == 0 || sb.Rank == 0) throw ctx.Fail("MatMul operands must have rank >= 1");
        int[] da = sa.Rank == 1 ? new[] { 1, sa[0] } : sa.ToArray();
        int[] db = sb.Rank == 1 ? new[] { sb[0], 1 } : sb.ToArray();
        int m = da[^2], k = da[^1], n = db[^1];
        if (db[^2] != k) throw ctx.Fail($"inner dimensions differ: {sa} x {sb}");
        var batchA = new TensorShape(da[..^2]);
        var batchB = new TensorShape(db[..^2]);
        var batch = Elementwise.Broadcast.Shape(batchA, batchB);
        var outDims = batch.ToArray().ToList();
        if (sa.Rank > 1) outDims.Add(m);
        if (sb.Rank > 1) outDims.Add(n);
        var productShape = new TensorShape(outDims.ToArray());

        bool hasBias = ctx.HasInput(2);
        if (hasBias && ctx.InputShape(2).ElementCount != n) throw ctx.Fail($"bias {ctx.InputShape(2)} does not have {n} values");
        var activation = NeuralNet.FusedActivation.Read(ctx.Node);

        // A fused residual (input 3, from MatMulEpilogueFusion): added in the epilogue when it is shaped like the
        // product; otherwise (it broadcasts, or the GEMV path runs) added after the product, then the activation.
        bool hasResidual = ctx.HasInput(3);
        if (hasResidual) ctx.RequireType(3, DataType.Float);
        var residualShape = hasResidual ? ctx.InputShape(3) : productShape;
        var outShape = hasResidual ? Elementwise.Broadcast.Shape(productShape, residualShape) : productShape;
        ctx.SetOutput(0, DataType.Float, outShape);

        var blas = Blas;
        bool weightPath = ctx.IsConstant(1) && sb.Rank == 2 && batchA.ElementCount == batch.ElementCount && blas is null;
        int rows = weightPath ? checked((int)(batch.ElementCount * m)) : 0;
        bool gemv = weightPath && GemvStep.Applies(rows) && outShape.Equals(productShape); // GEMV writes only the output
        bool residualInEpilogue = hasResidual && residualShape.Equals(productShape) && !gemv;
        if (hasResidual && !residualInEpilogue)
        {
            var product = PlanProduct(ctx, weightPath, gemv, rows, m, n, k, batchA, batchB, batch, hasBias, Activation.None, false, outShape.Equals(productShape));
            return ResidualStep.After(product, productShape, residualShape, outShape, activation);
        }
        return PlanProduct(ctx, weightPath, gemv, rows, m, n, k, batchA, batchB, batch, hasBias, activation, residualInEpilogue, true);
    }

    /// <summary>
    /// The product step: one GEMM (or GEMV) against a packed weight, or one GEMM per broadcast batch index.
    /// It writes the output tensor, or the start of the workspace when <paramref name="intoOutput"/> is false.
    /// </summary>
    private StepAction PlanProduct(PlanContext ctx, bool weightPath, bool gemv, int rows, int m, int n, int k,
        TensorShape batchA, TensorShape batchB, TensorShape batch, bool hasBias, Activation activation, bool residual, bool intoOutput)
    {
        long productFloats = batch.ElementCount * m * n;
        if (weightPath)
        {
            if (gemv)
            {
                if (!intoOutput) throw ctx.Fail("a broadcasting residual after a matrix-vector product is not supported");
                return GemvStep.Create(ctx, false, k, n, n, hasBias ? 2 : -1, activation);
            }
            var packed = PackedWeight(false, k, n, (float*)ctx.InputValue(1).ConstantPointer, n);
            if (!intoOutput) ctx.WorkspaceBytes = Math.Max(ctx.WorkspaceBytes, productFloats * sizeof(float));
            return (in StepArgs a) =>
            {
                var ep = Epilogue(activation, hasBias ? a.InF(2) : null, residual ? a.InF(3) : null, n);
                Sgemm.MultiplyPacked(rows, n, k, 1f, a.InF(0), k, packed, 0f, intoOutput ? a.OutF(0) : (float*)a.Workspace, n, ep, a.Pool);
            };
        }

        // General: one GEMM per broadcast batch index.
        var blas = Blas;
        var plan = new Elementwise.Broadcast(batchA, batchB);
        long count = batch.ElementCount;
        long strideA = (long)m * k, strideB = (long)k * n, strideY = (long)m * n;
        var offsets = new (long A, long B)[count];
        for (long i = 0; i < count; i++) offsets[i] = (BatchOffset(plan, 0, i, batch), BatchOffset(plan, 1, i, batch));
        if (!intoOutput) ctx.WorkspaceBytes = Math.Max(ctx.WorkspaceBytes, productFloats * sizeof(float));
        return (in StepArgs a) =>
        {
            var body = new BatchedGemm
            {
                Blas = blas, M = m, N = n, K = k, Offsets = offsets, StrideA = strideA, StrideB = strideB, StrideY = strideY,
                A = a.InF(0), B = a.InF(1), Y = intoOutput ? a.OutF(0) : (float*)a.Workspace, Residual = residual ? a.InF(3) : null,
                Bias = hasBias ? a.InF(2) : null, Activation = activation,
            };
            // Many small products (attention heads): one per task, each on one thread. Few: each product uses the pool.
            if (blas is null && offsets.Length >= 2 * a.Pool.Concurrency && a.Pool.Concurrency > 1)
            {
                body.Pool = Kernels.Threading.WorkerPool.Serial;
                a.Pool.For(offsets.Length, ref body);
            }
            else
            {
                body.Pool = a.Pool;
                for (int i = 0; i < offsets.Length; i++) body.Invoke(i);
            }
        };
    }

    /// <summary>A per-column bias (or none), a residual shaped like the n-column product (or none), then the activation.</summary>
    private static GemmEpilogue Epilogue(Activation activation, float* bias, float* residual, int n) => new()
    {
        Activation = activation, Bias = bias, BiasKind = bias != null ? BiasKind.PerColumn : BiasKind.None,
        Residual = residual, ResidualStride = n,
    };

    /// <summary>One output batch index of a broadcast batched MatMul.</summary>
    private struct BatchedGemm : Kernels.Threading.IParallelBody
    {
        public Kernels.Blas.CblasProvider? Blas;
        public Kernels.Threading.WorkerPool Pool;
        public int M, N, K;
        public (long A, long B)[] Offsets;
        public long StrideA, StrideB, StrideY;
        public float* A, B, Y, Residual, Bias;
        public Activation Activation;

        public void Invoke(int i)
        {
            var ep = Epilogue(Activation, Bias, Residual != null ? Residual + i * StrideY : null, N);
            GemmBackend.Multiply(Blas, false, false, M, N, K, 1f, A + Offsets[i].A * StrideA, K, B + Offsets[i].B * StrideB, N, 0f, Y + i * StrideY, N, ep, Pool);
        }
    }

    /// <summary>Which batch matrix of operand <paramref name="input"/> feeds output batch index <paramref name="index"/>.</summary>
    private static long BatchOffset(Elementwise.Broadcast plan, int input, long index, TensorShape batch)
    {
        if (batch.ElementCount <= 1) return 0;
        long inner = plan.InnerLength, stride = plan.Strides[input][^1];
        return plan.Offset(input, index / inner) + (index % inner) * stride;
    }

}
