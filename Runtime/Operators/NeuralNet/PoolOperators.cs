using FastInfer.Ir;
using FastInfer.Kernels.Pooling;

namespace FastInfer.Runtime.Operators.NeuralNet;

/// <summary>MaxPool, AveragePool (1-D and 2-D) and GlobalAveragePool / GlobalMaxPool (any rank).</summary>
internal static unsafe class PoolOperators
{
    public static IEnumerable<OperatorEntry> Entries()
    {
        yield return OperatorRegistry.Simple("MaxPool", ctx => PlanPool(ctx, PoolKind.Max));
        yield return OperatorRegistry.Simple("AveragePool", ctx => PlanPool(ctx, PoolKind.Average));
        yield return OperatorRegistry.Simple("GlobalAveragePool", ctx => PlanGlobal(ctx, PoolKind.Average));
        yield return OperatorRegistry.Simple("GlobalMaxPool", ctx => PlanGlobal(ctx, PoolKind.Max));
    }

    private static StepAction PlanPool(PlanContext ctx, PoolKind kind)
    {
        ctx.RequireType(0, DataType.Float);
        var x = ctx.InputShape(0);
        if (x.Rank is not (3 or 4)) throw ctx.Fail($"only 1-D and 2-D pooling are supported; input is {x}");
        if (ctx.HasOutput(1)) throw ctx.Fail("the Indices output of MaxPool is not supported");
        bool oneD = x.Rank == 3;
        var kernel = (ctx.Node.GetInts("kernel_shape") ?? throw ctx.Fail("kernel_shape is required")).Select(v => checked((int)v)).ToArray();
        var spatial = x.Dims[2..].ToArray();
        var sa = SpatialAttributes.Resolve(ctx, kernel, spatial, ctx.Node.GetInt("ceil_mode", 0) != 0);
        var shape = new PoolShape
        {
            Planes = x[0] * x[1],
            InHeight = oneD ? 1 : x[2], InWidth = x[^1],
            OutHeight = oneD ? 1 : sa.Output[0], OutWidth = sa.Output[^1],
            KernelHeight = oneD ? 1 : kernel[0], KernelWidth = kernel[^1],
            StrideHeight = oneD ? 1 : sa.Strides[0], StrideWidth = sa.Strides[^1],
            DilationHeight = oneD ? 1 : sa.Dilations[0], DilationWidth = sa.Dilations[^1],
            PadTop = oneD ? 0 : sa.PadBegin(0), PadBottom = oneD ? 0 : sa.PadEnd(0),
            PadLeft = sa.PadBegin(sa.Rank - 1), PadRight = sa.PadEnd(sa.Rank - 1),
        };
        var dims = x.ToArray();
        for (int i = 0; i < sa.Rank; i++) dims[2 + i] = sa.Output[i];
        ctx.SetOutput(0, DataType.Float, new TensorShape(dims));
        bool includePad = ctx.Node.GetInt("count_include_pad", 0) != 0;
        return (in StepArgs a) => Pool2D.Run(kind, shape, includePad, a.InF(0), a.OutF(0), a.Pool);
    }

    private static StepAction PlanGlobal(PlanContext ctx, PoolKind kind)
    {
        ctx.RequireType(0, DataType.Float);
        var x = ctx.InputShape(0);
        if (x.Rank < 3) throw ctx.Fail($"input {x} needs at least one spatial axis");
        var dims = x.ToArray();
        for (int i = 2; i < dims.Length; i++) dims[i] = 1;
        ctx.SetOutput(0, DataType.Float, new TensorShape(dims));
        int planes = x[0] * x[1];
        int planeSize = checked((int)x.Size(2, x.Rank));
        return (in StepArgs a) => Pool2D.Global(kind, planes, planeSize, a.InF(0), a.OutF(0), a.Pool);
    }
}
