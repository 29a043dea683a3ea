using System.Numerics.Tensors;
using FastInfer.Ir;

namespace FastInfer.Runtime.Operators.Reduction;

internal enum ReduceKind { Sum, Mean, Max, Min, Prod, L1, L2, LogSum, LogSumExp, SumSquare }

/// <summary>
/// ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare (axes as attribute, or as input from opset 13
/// for ReduceSum and 18 for the others) and ArgMax/ArgMin.
/// </summary>
internal static unsafe class ReduceOperators
{
    public static IEnumerable<OperatorEntry> Entries()
    {
        foreach (var kind in Enum.GetValues<ReduceKind>())
        {
            var k = kind;
            yield return OperatorRegistry.Simple("Reduce" + k, ctx => PlanReduce(ctx, k), 1, 1) with { Notes = k is ReduceKind.Max or ReduceKind.Min ? "float32, int64, int32, bool" : "float32, int64, int32" };
        }
        yield return OperatorRegistry.Simple("ArgMax", ctx => PlanArg(ctx, max: true));
        yield return OperatorRegistry.Simple("ArgMin", ctx => PlanArg(ctx, max: false));
    }

    /// <summary>The opset from which the op takes its axes as input 1 instead of an attribute.</summary>
    private static int AxesInputSince(ReduceKind kind) => kind == ReduceKind.Sum ? 13 : 18;

    private static StepAction PlanReduce(PlanContext ctx, ReduceKind kind)
    {
        var type = kind is ReduceKind.Max or ReduceKind.Min
            ? ctx.RequireType(0, DataType.Float, DataType.Int64, DataType.Int32, DataType.Bool)
            : ctx.RequireType(0, DataType.Float, DataType.Int64, DataType.Int32);
        var x = ctx.InputShape(0);
        bool keepDims = ctx.Node.GetInt("keepdims", 1) != 0;
        long[]? axes;
        if (ctx.Opset >= AxesInputSince(kind)) axes = ctx.HasInput(1) ? ctx.ConstantInts(1) : null;
        else axes = ctx.Node.GetInts("axes");
        if (axes is { Length: 0 }) axes = null;
        if (axes is null && ctx.Node.GetInt("noop_with_empty_axes", 0) != 0)
            return ctx.AliasOrCopy(0, 0, x);

        var reduced = new bool[x.Rank];
        if (axes is null) Array.Fill(reduced, true);
        else foreach (long a in axes) reduced[x.Axis(a, "axes value")] = true;
        var layout = new ReduceLayout(x, reduced, keepDims);
        ctx.SetOutput(0, type, layout.Output);

        return type switch
        {
            DataType.Float => (in StepArgs a) => ReduceFloat(layout, kind, a.InF(0), a.OutF(0)),
            DataType.Int64 => (in StepArgs a) => ReduceInteger(layout, kind, (long*)a.Input(0), (long*)a.Output(0)),
            DataType.Int32 => (in StepArgs a) => ReduceInteger(layout, kind, (int*)a.Input(0), (int*)a.Output(0)),
            _ => (in StepArgs a) => ReduceInteger(layout, kind, (byte*)a.Input(0), (byte*)a.Output(0)),
        };
    }

    private static void ReduceFloat(ReduceLayout l, ReduceKind kind, float* x, float* y)
    {
        int count = l.ReduceCount;
        for (int o = 0; o < l.OutputCount; o++)
        {
            float* p = x + l.BaseOffsets[o];
            if (l.Contiguous)
            {
                var row = new ReadOnlySpan<float>(p, count);
                switch (kind)
                {
                    case ReduceKind.Sum: y[o] = TensorPrimitives.Sum(row); continue;
                    case ReduceKind.Mean: y[o] = count == 0 ? float.NaN : TensorPrimitives.Sum(row) / count; continue;
                    case ReduceKind.Max: y[o] = count == 0 ? float.NegativeInfinity : TensorPrimitives.Max(row); continue;
                    case ReduceKind.Min: y[o] = count == 0 ? float.PositiveInfinity : TensorPrimitives.Min(row); continue;
                    case ReduceKind.SumSquare: y[o] = TensorPrimitives.SumOfSquares(row); continue;
                }
            }
            y[o] = ReduceScalar(l, kind, p);
        }
    }

    /// <summary>One output element of any reduction over floats, accumulated in double.</summary>
    private static float ReduceScalar(ReduceLayout l, ReduceKind kind, float* p)
    {
        int[] offsets = l.ReduceOffsets;
        int count = offsets.Length;
        double acc;
        switch (kind)
        {
            case ReduceKind.Max:
            case ReduceKind.Min:
            {
                float m = kind == ReduceKind.Max ? float.NegativeInfinity : float.PositiveInfinity;
                for (int i = 0; i < count; i++)
                {
                    float v = p[offsets[i]];
                    if (float.IsNaN(v)) return v;
                    m = kind == ReduceKind.Max ? Math.Max(m, v) : Math.Min(m, v);
                }
                return m;
            }
            case ReduceKind.Prod:
                acc = 1;
                for (int i = 0; i < count; i++) acc *= p[offsets[i]];
                return (float)acc;
            case ReduceKind.LogSumExp:
            {
                double max = double.NegativeInfinity;
                for (int i = 0; i < count; i++) max = Math.Max(max, p[offsets[i]]);
                if (double.IsNegativeInfinity(max)) return float.NegativeInfinity;
                acc = 0;
                for (int i = 0; i < count; i++) acc += Math.Exp(p[offsets[i]] - max);
                return (float)(max + Math.Log(acc));
            }
        }
        acc = 0;
        for (int i = 0; i < count; i++)
        {
            double v = p[offsets[i]];
            acc += kind switch { ReduceKind.L1 => Math.Abs(v), ReduceKind.L2 or ReduceKind.SumSquare => v * v, _ => v };
        }
        return kind switch
        {
            ReduceKind.Mean => (float)(acc / count),
            ReduceKind.L2 => (float)Math.Sqrt(acc),
            ReduceKind.LogSum => (float)Math.Log(acc),
            _ => (float)acc,
        };
    }

    private static void ReduceInteger<T>(ReduceLayout l, ReduceKind kind, T* x, T* y) where T : unmanaged, System.Numerics.IBinaryInteger<T>, System.Numerics.IMinMaxValue<T>
    {
        int[] offsets = l.ReduceOffsets;
        int count = offsets.Length;
        for (int o = 0; o < l.OutputCount; o++)
        {
            T* p = x + l.BaseOffsets[o];
            T acc = kind switch
            {
                ReduceKind.Max => T.MinValue,
                ReduceKind.Min => T.MaxValue,
                ReduceKind.Prod => T.One,
                _ => T.Zero,
            };
            for (int i = 0; i < count; i++)
            {
                T v = p[offsets[i]];
                acc = kind switch
                {
                    ReduceKind.Max => T.Max(acc, v),
                    ReduceKind.Min => T.Min(acc, v),
                    ReduceKind.Prod => acc * v,
                    ReduceKind.L1 => acc + T.Abs(v),
                    ReduceKind.SumSquare => acc + v * v,
                    ReduceKind.Sum or ReduceKind.Mean => acc + v,
                    _ => throw new InvalidModelException($"Reduce{kind} is not supported for integer tensors."),
                };
            }
            if (kind == ReduceKind.Mean && count > 0) acc /= T.CreateTruncating(count);
            y[o] = acc;
        }
    }

    private static StepAction PlanArg(PlanContext ctx, bool max)
    {
        var type = ctx.RequireType(0, DataType.Float, DataType.Int64, DataType.Int32);
        var x = ctx.InputShape(0);
        int axis = x.Axis(ctx.Node.GetInt("axis", 0));
        bool keepDims = ctx.Node.GetInt("keepdims", 1) != 0;
        bool last = ctx.Node.GetInt("select_last_index", 0) != 0;
        var reduced = new bool[x.Rank];
        reduced[axis] = true;
        var layout = new ReduceLayout(x, reduced, keepDims);
        if (x[axis] == 0) throw ctx.Fail($"cannot take {(max ? "ArgMax" : "ArgMin")} over an empty axis of {x}");
        ctx.SetOutput(0, DataType.Int64, layout.Output);
        return type switch
        {
            DataType.Float => (in StepArgs a) => Arg(layout, (float*)a.Input(0), (long*)a.Output(0), max, last),
            DataType.Int64 => (in StepArgs a) => Arg(layout, (long*)a.Input(0), (long*)a.Output(0), max, last),
            _ => (in StepArgs a) => Arg(layout, (int*)a.Input(0), (long*)a.Output(0), max, last),
        };
    }

    private static void Arg<T>(ReduceLayout l, T* x, long* y, bool max, bool last) where T : unmanaged, System.Numerics.INumber<T>
    {
        int[] offsets = l.ReduceOffsets;
        for (int o = 0; o < l.OutputCount; o++)
        {
            T* p = x + l.BaseOffsets[o];
            int best = 0;
            T bestValue = p[offsets[0]];
            for (int i = 1; i < offsets.Length; i++)
            {
                T v = p[offsets[i]];
                bool better = max ? (last ? v >= bestValue : v > bestValue) : (last ? v <= bestValue : v < bestValue);
                if (better) { best = i; bestValue = v; }
            }
            y[o] = best;
        }
    }
}

/// <summary>
/// Which input elements feed each output element of a reduction: the offset of each output's first element
/// (over the kept axes) and the offsets of the reduced elements relative to it, computed once per plan.
/// </summary>
internal sealed class ReduceLayout
{
    public TensorShape Output { get; }
    public int OutputCount { get; }
    public int ReduceCount => ReduceOffsets.Length;
    public long[] BaseOffsets { get; }
    public int[] ReduceOffsets { get; }
    /// <summary>The reduced elements of each output are one dense run (reduced axes are the trailing ones).</summary>
    public bool Contiguous { get; }

    public ReduceLayout(TensorShape x, bool[] reduced, bool keepDims)
    {
        var strides = new long[x.Rank];
        long s = 1;
        for (int a = x.Rank - 1; a >= 0; a--) { strides[a] = s; s *= x[a]; }
        var outDims = new List<int>();
        var keptDims = new List<int>(); var keptStrides = new List<long>();
        var redDims = new List<int>(); var redStrides = new List<long>();
        for (int a = 0; a < x.Rank; a++)
        {
            if (reduced[a])
            {
                if (keepDims) outDims.Add(1);
                redDims.Add(x[a]); redStrides.Add(strides[a]);
            }
            else
            {
                outDims.Add(x[a]);
                keptDims.Add(x[a]); keptStrides.Add(strides[a]);
            }
        }
        Output = new TensorShape(outDims.ToArray());
        OutputCount = checked((int)Output.ElementCount);
        BaseOffsets = Enumerate(keptDims, keptStrides).ToArray();
        ReduceOffsets = Enumerate(redDims, redStrides).Select(v => checked((int)v)).ToArray();
        bool dense = true;
        for (int i = 0; i < ReduceOffsets.Length; i++) dense &= ReduceOffsets[i] == i;
        Contiguous = dense;
    }

    /// <summary>Offsets of every index of the given dims (row-major order).</summary>
    private static List<long> Enumerate(List<int> dims, List<long> strides)
    {
        var result = new List<long> { 0 };
        for (int a = 0; a < dims.Count; a++)
        {
            var next = new List<long>(result.Count * Math.Max(dims[a], 0));
            foreach (long b in result)
                for (int i = 0; i < dims[a]; i++) next.Add(b + i * strides[a]);
            result = next;
        }
        return result;
    }
}
