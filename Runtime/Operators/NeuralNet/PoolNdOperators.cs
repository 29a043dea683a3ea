using FastInfer.Ir;

namespace FastInfer.Runtime.Operators.NeuralNet;

/// <summary>
/// MaxPool and AveragePool beyond what the fast 1-D/2-D kernels cover: 3-D and higher pooling and MaxPool's
/// Indices output, by a direct N-D loop. The registry wraps the fast entries so they still serve every node
/// they can plan.
/// </summary>
internal static unsafe class PoolNdOperators
{
    /// <summary>Wraps a fast pooling entry: nodes it cannot serve (rank, Indices) fall back to the N-D loop.</summary>
    public static OperatorEntry Wrap(OperatorEntry fast)
    {
        bool max = fast.OpType == "MaxPool";
        return fast with
        {
            Create = (node, context) =>
            {
                var inner = fast.Create(node, context);
                return new FunctionOperator(node, ctx =>
                {
                    var x = ctx.InputShape(0);
                    bool wantsIndices = max && ctx.HasOutput(1);
                    return x.Rank is 3 or 4 && !wantsIndices ? inner.Plan(ctx) : PlanNd(ctx, max);
                });
            },
            Notes = max ? "any rank; the Indices output" : "any rank",
        };
    }

    private static StepAction PlanNd(PlanContext ctx, bool max)
    {
        ctx.RequireType(0, DataType.Float);
        var x = ctx.InputShape(0);
        int rank = x.Rank - 2;
        if (rank < 1) throw ctx.Fail($"input {x} needs spatial axes");
        var kernel = (ctx.Node.GetInts("kernel_shape") ?? throw ctx.Fail("kernel_shape is required")).Select(v => checked((int)v)).ToArray();
        var spatial = x.ToArray()[2..];
        var sa = SpatialAttributes.Resolve(ctx, kernel, spatial, ctx.Node.GetInt("ceil_mode", 0) != 0);
        bool includePad = ctx.Node.GetInt("count_include_pad", 0) != 0;
        bool columnMajor = ctx.Node.GetInt("storage_order", 0) != 0;
        var outDims = x.ToArray();
        for (int i = 0; i < rank; i++) outDims[2 + i] = sa.Output[i];
        var output = new TensorShape(outDims);
        ctx.SetOutput(0, DataType.Float, output);
        bool indices = max && ctx.HasOutput(1);
        if (indices) ctx.SetOutput(1, DataType.Int64, output);
        long planes = (long)x[0] * x[1];
        int inPlane = checked((int)x.Size(2, x.Rank)), outPlane = checked((int)output.Size(2, output.Rank));
        int kSize = kernel.Aggregate(1, (p, v) => p * v);
        // Window geometry per output position: input offsets of its in-bounds taps and the average's divisor.
        var taps = new int[outPlane][];
        var divisors = new float[outPlane];
        var o = new int[rank];
        var k = new int[rank];
        for (int p = 0; p < outPlane; p++)
        {
            Unflatten(p, sa.Output, o);
            var list = new List<int>();
            int padded = 0;
            for (int t = 0; t < kSize; t++)
            {
                Unflatten(t, kernel, k);
                bool inside = true, inPadded = true;
                int flat = 0;
                for (int d = 0; d < rank; d++)
                {
                    int pos = o[d] * sa.Strides[d] + k[d] * sa.Dilations[d] - sa.PadBegin(d);
                    inside &= pos >= 0 && pos < spatial[d];
                    inPadded &= pos >= -sa.PadBegin(d) && pos < spatial[d] + sa.PadEnd(d);
                    flat = flat * spatial[d] + pos;
                }
                if (inside) list.Add(flat);
                if (inPadded) padded++;
            }
            taps[p] = list.ToArray();
            divisors[p] = includePad ? padded : list.Count;
        }
        int height = rank >= 2 ? spatial[rank - 2] : 1, width = spatial[rank - 1];
        return (in StepArgs a) =>
        {
            float* src = a.InF(0), dst = a.OutF(0);
            long* idx = indices ? (long*)a.Output(1) : null;
            for (long c = 0; c < planes; c++)
            {
                float* xp = src + c * inPlane;
                for (int p = 0; p < outPlane; p++)
                {
                    int[] t = taps[p];
                    float v;
                    if (max)
                    {
                        v = float.NegativeInfinity;
                        int best = t.Length > 0 ? t[0] : 0;
                        foreach (int f in t) if (xp[f] > v) { v = xp[f]; best = f; }
                        if (idx is not null)
                        {
                            // Column-major (storage_order 1) swaps the roles of the last two spatial axes.
                            long flat = best;
                            if (columnMajor && rank >= 2) { int h = best / width % height, w = best % width; flat = best - h * width - w + (long)w * height + h; }
                            idx[c * outPlane + p] = c * inPlane + flat;
                        }
                    }
                    else
                    {
                        double sum = 0;
                        foreach (int f in t) sum += xp[f];
                        v = divisors[p] > 0 ? (float)(sum / divisors[p]) : 0f;
                    }
                    dst[c * outPlane + p] = v;
                }
            }
        };
    }

    private static void Unflatten(int flat, int[] dims, int[] index)
    {
        for (int d = dims.Length - 1; d >= 0; d--) { index[d] = flat % dims[d]; flat /= dims[d]; }
    }
}
