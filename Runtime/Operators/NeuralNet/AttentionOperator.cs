using FastInfer.Ir;
using FastInfer.Kernels.Attention;
using FastInfer.Kernels.Threading;

namespace FastInfer.Runtime.Operators.NeuralNet;

/// <summary>
/// <c>fastinfer:Attention</c> (made by <see cref="Optimization.AttentionFusion"/>): inputs Q [batch, query, heads, dim],
/// K [batch, key, heads, dim], V [batch, key, heads, value_dim] and an optional additive mask broadcast to
/// [batch, heads, query, key]; attribute <c>scale</c>; output [batch, query, heads, value_dim]. The head pairs are
/// split into one contiguous range per thread, each with its own score buffer in the workspace.
/// </summary>
internal sealed unsafe class AttentionOperator : Operator
{
    private readonly Kernels.Platform.IsaLevel? _isa;
    private readonly int _threads;

    private AttentionOperator(Node node, SessionOptions options) : base(node)
    {
        _isa = KernelScope.Validate(options);
        _threads = options.EffectiveThreads;
    }

    public static OperatorEntry Entry => new("fastinfer:Attention", (n, c) => new AttentionOperator(n, c.Options), 1,
        OperatorRegistry.MaxSupportedOpset, Array.Empty<int>(),
        "softmax(scale·Q·Kᵀ + mask)·V on [batch, sequence, heads, dim] operands, fused from MatMul/Div/Add/Softmax/MatMul and the head Transposes");

    public override StepAction Plan(PlanContext ctx)
    {
        for (int i = 0; i < 3; i++) ctx.RequireType(i, DataType.Float);
        var q = ctx.InputShape(0);
        var k = ctx.InputShape(1);
        var v = ctx.InputShape(2);
        if (q.Rank != 4 || k.Rank != 4 || v.Rank != 4)
            throw ctx.Fail($"Q, K and V must be [batch, sequence, heads, dim]; got {q}, {k}, {v}");
        if (k[3] != q[3]) throw ctx.Fail($"Q's head dim {q[3]} differs from K's {k[3]}");
        if (v[1] != k[1]) throw ctx.Fail($"V has {v[1]} positions, K has {k[1]}");
        int batch = Joint(ctx, "batch", q[0], k[0], v[0]);
        int heads = Joint(ctx, "heads", q[2], k[2], v[2]);
        int sq = q[1], sk = k[1], d = q[3], dv = v[3];
        ctx.SetOutput(0, DataType.Float, new TensorShape(batch, sq, heads, dv));

        var p = new AttentionProblem
        {
            Batch = batch, Heads = heads, QueryLength = sq, KeyLength = sk, Dim = d, ValueDim = dv,
            Scale = ctx.Node.Attribute("scale")?.Float ?? 1f,
            QRowStride = checked(q[2] * d), KRowStride = checked(k[2] * d), VRowStride = checked(v[2] * dv), ORowStride = checked(heads * dv),
            QBatchStride = Broadcast(q[0], (long)sq * q[2] * d), QHeadStride = Broadcast(q[2], d),
            KBatchStride = Broadcast(k[0], (long)sk * k[2] * d), KHeadStride = Broadcast(k[2], d),
            VBatchStride = Broadcast(v[0], (long)sk * v[2] * dv), VHeadStride = Broadcast(v[2], dv),
            OBatchStride = (long)sq * heads * dv, OHeadStride = dv,
        };
        bool hasMask = ctx.HasInput(3);
        if (hasMask) SetMaskStrides(ctx, ref p, new[] { batch, heads, sq, sk });

        int pairs = checked(batch * heads);
        int slots = Math.Max(1, Math.Min(_threads, pairs));
        long scoreFloats = ScaledDotProductAttention.ScoreFloats(sq, sk);
        ctx.WorkspaceBytes = checked(slots * scoreFloats * sizeof(float));
        var isa = _isa;
        return (in StepArgs a) =>
        {
            var problem = p;
            problem.Q = a.InF(0); problem.K = a.InF(1); problem.V = a.InF(2); problem.O = a.OutF(0);
            if (hasMask) problem.Mask = a.InF(3);
            var body = new HeadRanges
            {
                Problem = problem, Pairs = pairs, Parts = Math.Min(slots, a.Pool.Concurrency),
                Scores = (float*)a.Workspace, ScoreFloats = scoreFloats, Isa = isa,
            };
            a.Pool.For(body.Parts, ref body);
        };
    }

    /// <summary>The size of a batch or head axis shared by Q, K and V: each is 1 (broadcast) or the same.</summary>
    private static int Joint(PlanContext ctx, string axis, params int[] sizes)
    {
        int n = sizes.Contains(0) ? 0 : sizes.Max();
        if (sizes.Any(s => s != 1 && s != n)) throw ctx.Fail($"the {axis} axes of Q, K and V ({string.Join(", ", sizes)}) do not broadcast");
        return n;
    }

    private static long Broadcast(int size, long stride) => size == 1 ? 0 : stride;

    /// <summary>The mask's strides over [batch, heads, query, key], right-aligned as NumPy broadcasts; it may not widen the scores.</summary>
    private static void SetMaskStrides(PlanContext ctx, ref AttentionProblem p, int[] target)
    {
        ctx.RequireType(3, DataType.Float);
        var m = ctx.InputShape(3);
        if (m.Rank > 4) throw ctx.Fail($"the attention mask {m} has more than 4 axes");
        var strides = new long[4];
        long stride = 1;
        for (int axis = 3, mi = m.Rank - 1; axis >= 0; axis--, mi--)
        {
            int size = mi >= 0 ? m[mi] : 1;
            if (size != 1 && size != target[axis])
                throw ctx.Fail($"the attention mask {m} does not broadcast to the scores [{string.Join(", ", target)}]");
            strides[axis] = size == 1 ? 0 : stride;
            stride *= size;
        }
        p.MaskBatchStride = strides[0];
        p.MaskHeadStride = strides[1];
        p.MaskRowStride = strides[2];
        p.MaskColumnStride = strides[3];
        if (p.MaskRowStride > int.MaxValue) throw ctx.Fail($"the attention mask {m} is too large");
    }

    /// <summary>Part i of the pool loop runs one contiguous range of head pairs with score buffer i.</summary>
    private struct HeadRanges : IParallelBody
    {
        public AttentionProblem Problem;
        public int Pairs, Parts;
        public float* Scores;
        public long ScoreFloats;
        public Kernels.Platform.IsaLevel? Isa;

        public void Invoke(int i)
        {
            // Workers run without the caller's thread-scoped ISA override: enter the session's tier here.
            using var scope = KernelScope.Enter(Isa);
            ScaledDotProductAttention.Heads(Problem, (int)((long)Pairs * i / Parts), (int)((long)Pairs * (i + 1) / Parts), Scores + i * ScoreFloats);
        }
    }
}
