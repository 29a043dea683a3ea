using System.Numerics.Tensors;
using FastInfer.Ir;

namespace FastInfer.Runtime.Operators.NeuralNet;

/// <summary>LayerNormalization (also the fused <c>fastinfer:LayerNorm</c> form of its decomposed export), InstanceNormalization and LRN.</summary>
internal static unsafe class NormalizationExtraOperators
{
    public static IEnumerable<OperatorEntry> Entries()
    {
        yield return OperatorRegistry.Simple("LayerNormalization", PlanLayerNorm, 17) with { Notes = "float32; Mean and InvStdDev outputs" };
        yield return new("fastinfer:LayerNorm", (n, _) => new FunctionOperator(n, PlanLayerNorm), 1, OperatorRegistry.MaxSupportedOpset, Array.Empty<int>(),
            "LayerNormalization fused from its ReduceMean/Sub/Pow/Sqrt/Div export");
        yield return OperatorRegistry.Simple("InstanceNormalization", PlanInstanceNorm);
        yield return OperatorRegistry.Simple("LRN", PlanLrn);
    }

    /// <summary>Y = (X − mean) / √(var + ε) · scale + bias over the axes from <c>axis</c> on; optional Mean and InvStdDev outputs.</summary>
    private static StepAction PlanLayerNorm(PlanContext ctx)
    {
        ctx.RequireType(0, DataType.Float);
        var x = ctx.InputShape(0);
        int axis = x.Axis(ctx.Node.GetInt("axis", -1));
        float eps = ctx.Node.GetFloat("epsilon", 1e-5f);
        long rows = x.Size(0, axis);
        int length = checked((int)x.Size(axis, x.Rank));
        var normalized = x.ToArray()[axis..];
        var scalePlan = BroadcastTo(ctx, 1, normalized);
        var biasPlan = ctx.HasInput(2) ? BroadcastTo(ctx, 2, normalized) : null;
        ctx.SetOutput(0, DataType.Float, x);
        var statDims = x.ToArray();
        for (int i = axis; i < statDims.Length; i++) statDims[i] = 1;
        bool wantMean = ctx.HasOutput(1), wantInv = ctx.HasOutput(2);
        if (wantMean) ctx.SetOutput(1, DataType.Float, new TensorShape(statDims));
        if (wantInv) ctx.SetOutput(2, DataType.Float, new TensorShape(statDims));
        // Scale and bias expanded once per run into the workspace when they are not already one full row.
        bool expandScale = scalePlan is not null, expandBias = biasPlan is not null;
        ctx.WorkspaceBytes = (expandScale ? length * 4L : 0) + (expandBias ? length * 4L : 0);
        return (in StepArgs a) =>
        {
            float* ws = (float*)a.Workspace;
            float* scale = a.InF(1), bias = a.InF(2);
            if (expandScale) { ExpandRow(scalePlan!, scale, ws); scale = ws; ws += length; }
            if (expandBias) { ExpandRow(biasPlan!, bias, ws); bias = ws; }
            var kernel = new LayerNormRows
            {
                X = a.InF(0), Y = a.OutF(0), Scale = scale, Bias = bias, Mean = wantMean ? a.OutF(1) : null,
                InvStd = wantInv ? a.OutF(2) : null, Length = length, Epsilon = eps,
            };
            // Shared across the pool like softmax: on two threads the rows a GEMM just wrote are half in each core's
            // cache, and one core normalizing them all ran slower than on one thread (MiniLM: 0.19 → 0.46 ms).
            ParallelRows.Run(a.Pool, rows, 1 + 8192 / Math.Max(1, length), ref kernel);
        };
    }

    private struct LayerNormRows : IRowRange
    {
        public float* X, Y, Scale, Bias, Mean, InvStd;
        public int Length;
        public float Epsilon;

        public readonly void Rows(long start, long end)
        {
            var sc = new ReadOnlySpan<float>(Scale, Length);
            var bi = Bias is null ? default : new ReadOnlySpan<float>(Bias, Length);
            for (long r = start; r < end; r++)
            {
                var row = new ReadOnlySpan<float>(X + r * Length, Length);
                var y = new Span<float>(Y + r * Length, Length);
                float mu = TensorPrimitives.Sum(row) / Length;
                TensorPrimitives.Subtract(row, mu, y);
                float variance = TensorPrimitives.SumOfSquares(y) / Length;
                float invStd = 1f / MathF.Sqrt(variance + Epsilon);
                TensorPrimitives.Multiply(y, invStd, y);
                TensorPrimitives.Multiply(y, sc, y);
                if (Bias is not null) TensorPrimitives.Add(y, bi, y);
                if (Mean is not null) Mean[r] = mu;
                if (InvStd is not null) InvStd[r] = invStd;
            }
        }
    }

    /// <summary>A plan to broadcast input i to the normalized dims, or null when it already has exactly those dims.</summary>
    private static Elementwise.Broadcast? BroadcastTo(PlanContext ctx, int i, int[] normalized)
    {
        ctx.RequireType(i, DataType.Float);
        var target = new TensorShape(normalized);
        var s = ctx.InputShape(i);
        if (s.ElementCount == target.ElementCount && s.Rank <= target.Rank) return null;
        var plan = new Elementwise.Broadcast(target, s);
        if (!plan.Output.Equals(target)) throw ctx.Fail($"input {i} {s} does not broadcast to the normalized shape {target}");
        return plan;
    }

    private static void ExpandRow(Elementwise.Broadcast plan, float* src, float* dst) =>
        Elementwise.BroadcastRunner.Run<float, float, TakeSecond>(plan, dst, src, dst);

    private struct TakeSecond : Elementwise.IBinaryOp<float, float>
    {
        public static void Rows(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => b.CopyTo(y);
        public static void RowScalarB(ReadOnlySpan<float> a, float b, Span<float> y) => y.Fill(b);
        public static void RowScalarA(float a, ReadOnlySpan<float> b, Span<float> y) => b.CopyTo(y);
    }

    private static StepAction PlanInstanceNorm(PlanContext ctx)
    {
        ctx.RequireType(0, DataType.Float);
        var x = ctx.InputShape(0);
        if (x.Rank < 3) throw ctx.Fail($"input {x} needs spatial axes");
        int n = x[0], c = x[1];
        int plane = checked((int)x.Size(2, x.Rank));
        if (ctx.InputShape(1).ElementCount != c || ctx.InputShape(2).ElementCount != c) throw ctx.Fail($"scale and B must have {c} values");
        float eps = ctx.Node.GetFloat("epsilon", 1e-5f);
        ctx.SetOutput(0, DataType.Float, x);
        return (in StepArgs a) =>
        {
            float* src = a.InF(0), dst = a.OutF(0), scale = a.InF(1), bias = a.InF(2);
            for (int b = 0; b < n; b++)
                for (int k = 0; k < c; k++)
                {
                    long o = ((long)b * c + k) * plane;
                    var row = new ReadOnlySpan<float>(src + o, plane);
                    var y = new Span<float>(dst + o, plane);
                    float mu = TensorPrimitives.Sum(row) / plane;
                    TensorPrimitives.Subtract(row, mu, y);
                    float inv = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(y) / plane + eps);
                    TensorPrimitives.Multiply(y, inv * scale[k], y);
                    TensorPrimitives.Add(y, bias[k], y);
                }
        };
    }

    /// <summary>Local response normalization across channels: y = x / (bias + α/size · Σ x²)^β.</summary>
    private static StepAction PlanLrn(PlanContext ctx)
    {
        ctx.RequireType(0, DataType.Float);
        var x = ctx.InputShape(0);
        if (x.Rank < 3) throw ctx.Fail($"input {x} needs a channel axis and spatial axes");
        float alpha = ctx.Node.GetFloat("alpha", 1e-4f), beta = ctx.Node.GetFloat("beta", 0.75f), bias = ctx.Node.GetFloat("bias", 1f);
        int size = checked((int)ctx.Node.GetInt("size", 0));
        if (size < 1) throw ctx.Fail("size must be positive");
        int n = x[0], c = x[1];
        long plane = x.Size(2, x.Rank);
        int before = (size - 1) / 2, after = size - 1 - before;
        ctx.SetOutput(0, DataType.Float, x);
        return (in StepArgs a) =>
        {
            float* src = a.InF(0), dst = a.OutF(0);
            for (int b = 0; b < n; b++)
                for (int k = 0; k < c; k++)
                    for (long p = 0; p < plane; p++)
                    {
                        double sum = 0;
                        for (int j = Math.Max(0, k - before); j <= Math.Min(c - 1, k + after); j++)
                        {
                            double v = src[((long)b * c + j) * plane + p];
                            sum += v * v;
                        }
                        long o = ((long)b * c + k) * plane + p;
                        dst[o] = (float)(src[o] / Math.Pow(bias + alpha / size * sum, beta));
                    }
        };
    }
}
