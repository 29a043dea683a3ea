using FastInfer.Ir;

namespace FastInfer.Runtime.Operators.Shape;

/// <summary>Reshape, Flatten, Squeeze, Unsqueeze (views: no data moves) and Transpose.</summary>
internal static class LayoutOperators
{
    public static IEnumerable<OperatorEntry> Entries()
    {
        yield return OperatorRegistry.Simple("Reshape", PlanReshape, 1, 1);
        yield return OperatorRegistry.Simple("Flatten", PlanFlatten);
        yield return OperatorRegistry.Simple("Squeeze", PlanSqueeze, 1, 1);
        yield return OperatorRegistry.Simple("Unsqueeze", PlanUnsqueeze, 1, 1);
        yield return OperatorRegistry.Simple("Transpose", PlanTranspose);
    }

    private static StepAction PlanReshape(PlanContext ctx)
    {
        var input = ctx.InputShape(0);
        long[] target = ctx.Opset < 5 ? ctx.Node.GetInts("shape") ?? throw ctx.Fail("missing 'shape'") : ctx.ConstantInts(1);
        bool allowZero = ctx.Node.GetInt("allowzero", 0) != 0;
        var dims = new int[target.Length];
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < target.Length; i++)
        {
            long d = target[i];
            if (d == 0 && !allowZero)
            {
                if (i >= input.Rank) throw ctx.Fail($"shape {Format(target)} copies dim {i} but the input {input} has rank {input.Rank}");
                d = input[i];
            }
            if (d == -1)
            {
                if (inferred >= 0) throw ctx.Fail($"shape {Format(target)} has more than one -1");
                inferred = i;
                continue;
            }
            if (d < 0) throw ctx.Fail($"shape {Format(target)} has a negative dim");
            dims[i] = checked((int)d);
            known *= d;
        }
        if (inferred >= 0)
        {
            if (known == 0 || input.ElementCount % known != 0)
                throw ctx.Fail($"cannot reshape {input} ({input.ElementCount} elements) to {Format(target)}");
            dims[inferred] = checked((int)(input.ElementCount / known));
        }
        var shape = new TensorShape(dims);
        if (shape.ElementCount != input.ElementCount)
            throw ctx.Fail($"cannot reshape {input} ({input.ElementCount} elements) to {shape} ({shape.ElementCount} elements)");
        return ctx.AliasOrCopy(0, 0, shape);
    }

    private static StepAction PlanFlatten(PlanContext ctx)
    {
        var input = ctx.InputShape(0);
        long axis = ctx.Node.GetInt("axis", 1);
        int a = (int)(axis < 0 ? axis + input.Rank : axis);
        if (a < 0 || a > input.Rank) throw ctx.Fail($"axis {axis} is out of range for {input}");
        var shape = new TensorShape(checked((int)input.Size(0, a)), checked((int)input.Size(a, input.Rank)));
        return ctx.AliasOrCopy(0, 0, shape);
    }

    private static long[]? Axes(PlanContext ctx) =>
        ctx.Opset >= 13 ? (ctx.HasInput(1) ? ctx.ConstantInts(1) : null) : ctx.Node.GetInts("axes");

    private static StepAction PlanSqueeze(PlanContext ctx)
    {
        var input = ctx.InputShape(0);
        var axes = Axes(ctx)?.Select(a => input.Axis(a)).ToHashSet();
        var dims = new List<int>();
        for (int i = 0; i < input.Rank; i++)
        {
            bool squeeze = axes is null ? input[i] == 1 : axes.Contains(i);
            if (squeeze && input[i] != 1) throw ctx.Fail($"cannot squeeze axis {i} of size {input[i]} in {input}");
            if (!squeeze) dims.Add(input[i]);
        }
        return ctx.AliasOrCopy(0, 0, new TensorShape(dims.ToArray()));
    }

    private static StepAction PlanUnsqueeze(PlanContext ctx)
    {
        var input = ctx.InputShape(0);
        var axes = Axes(ctx) ?? throw ctx.Fail("axes are required");
        int rank = input.Rank + axes.Length;
        var set = new HashSet<int>();
        foreach (long a in axes)
        {
            long n = a < 0 ? a + rank : a;
            if (n < 0 || n >= rank || !set.Add((int)n)) throw ctx.Fail($"axes [{string.Join(",", axes)}] are out of range or repeated for output rank {rank}");
        }
        var dims = new int[rank];
        int k = 0;
        for (int i = 0; i < rank; i++) dims[i] = set.Contains(i) ? 1 : input[k++];
        return ctx.AliasOrCopy(0, 0, new TensorShape(dims));
    }

    private static unsafe StepAction PlanTranspose(PlanContext ctx)
    {
        var input = ctx.InputShape(0);
        long[] perm = ctx.Node.GetInts("perm") ?? Enumerable.Range(0, input.Rank).Reverse().Select(i => (long)i).ToArray();
        if (perm.Length != input.Rank || perm.Distinct().Count() != perm.Length || perm.Any(p => p < 0 || p >= input.Rank))
            throw ctx.Fail($"perm [{string.Join(",", perm)}] is not a permutation of the {input.Rank} axes of {input}");
        var inStrides = StridedCopy.DenseStrides(input.Dims);
        var dims = perm.Select(p => input[(int)p]).ToArray();
        var strides = perm.Select(p => inStrides[p]).ToArray();
        var type = ctx.InputType(0);
        ctx.SetOutput(0, type, new TensorShape(dims));
        var copy = new StridedCopy(dims, strides, 0, type.SizeInBytes());
        long rowBytes = copy.Rows == 0 ? 0 : new TensorShape(dims).ElementCount * type.SizeInBytes() / copy.Rows;
        return (in StepArgs a) =>
        {
            // Rows shared across the pool (16 KB or more each): on two threads the input was just written half by each
            // core, and one core gathering it all ran slower than on one thread (MiniLM's head transposes: 0.35 → 0.62 ms).
            var rows = new CopyRows { Copy = copy, Src = (byte*)a.Input(0), Dst = (byte*)a.Output(0) };
            ParallelRows.Run(a.Pool, copy.Rows, 1 + 16384 / Math.Max(1, rowBytes), ref rows);
        };
    }

    private unsafe struct CopyRows : IRowRange
    {
        public StridedCopy Copy;
        public byte* Src, Dst;

        public readonly void Rows(long start, long end) => Copy.RunRows(Src, Dst, start, end);
    }

    internal static string Format(long[] dims) => "[" + string.Join(",", dims) + "]";
}
