using FastInfer.Ir;

namespace FastInfer.Runtime.Operators.Elementwise;

/// <summary>Add, Sub, Mul, Div, Pow, Mod, comparisons and logic, with broadcasting, over float/double/int64/int32/bool.</summary>
internal static unsafe class BinaryOperators
{
    private static readonly DataType[] Numeric = { DataType.Float, DataType.Double, DataType.Int64, DataType.Int32 };

    public static IEnumerable<OperatorEntry> Entries()
    {
        foreach (var op in new[] { "Add", "Sub", "Mul", "Div", "Pow", "Mod" })
            yield return OperatorRegistry.Simple(op, ctx => PlanArithmetic(ctx, op));
        foreach (var op in new[] { "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual" })
            yield return OperatorRegistry.Simple(op, ctx => PlanComparison(ctx, op));
        foreach (var op in new[] { "And", "Or", "Xor" })
            yield return OperatorRegistry.Simple(op, ctx => PlanLogic(ctx, op));
    }

    internal static StepAction Make<T, TOut, TOp>(Broadcast plan, int first = 0, int second = 1)
        where T : unmanaged where TOut : unmanaged where TOp : IBinaryOp<T, TOut> =>
        (in StepArgs a) => BroadcastRunner.Run<T, TOut, TOp>(plan, (T*)a.Input(first), (T*)a.Input(second), (TOut*)a.Output(0));

    private static StepAction PlanArithmetic(PlanContext ctx, string op)
    {
        var type = ctx.RequireType(0, Numeric);
        var bType = ctx.InputType(1);
        if (op == "Pow" && bType != type) return PlanMixedPow(ctx, type, bType);
        if (bType != type) throw ctx.Fail($"inputs have different types: {type.ToName()} and {bType.ToName()}");
        var plan = new Broadcast(ctx.InputShape(0), ctx.InputShape(1));
        ctx.SetOutput(0, type, plan.Output);
        bool fmod = op == "Mod" && ctx.Node.GetInt("fmod", 0) != 0;
        if (op == "Mod" && !fmod && type is DataType.Float or DataType.Double)
            throw ctx.Fail("Mod on floating-point tensors needs fmod=1");
        return (op, type) switch
        {
            ("Mod", DataType.Float) => Make<float, float, ScalarRows<float, float, FModOp<float>>>(plan),
            ("Mod", DataType.Double) => Make<double, double, ScalarRows<double, double, FModOp<double>>>(plan),
            ("Mod", DataType.Int64) when fmod => Make<long, long, ScalarRows<long, long, FModOp<long>>>(plan),
            ("Mod", DataType.Int32) when fmod => Make<int, int, ScalarRows<int, int, FModOp<int>>>(plan),
            ("Add", DataType.Float) => Make<float, float, AddOp<float>>(plan),
            ("Add", DataType.Double) => Make<double, double, AddOp<double>>(plan),
            ("Add", DataType.Int64) => Make<long, long, AddOp<long>>(plan),
            ("Add", DataType.Int32) => Make<int, int, AddOp<int>>(plan),
            ("Sub", DataType.Float) => Make<float, float, SubOp<float>>(plan),
            ("Sub", DataType.Double) => Make<double, double, SubOp<double>>(plan),
            ("Sub", DataType.Int64) => Make<long, long, SubOp<long>>(plan),
            ("Sub", DataType.Int32) => Make<int, int, SubOp<int>>(plan),
            ("Mul", DataType.Float) => Make<float, float, MulOp<float>>(plan),
            ("Mul", DataType.Double) => Make<double, double, MulOp<double>>(plan),
            ("Mul", DataType.Int64) => Make<long, long, MulOp<long>>(plan),
            ("Mul", DataType.Int32) => Make<int, int, MulOp<int>>(plan),
            ("Div", DataType.Float) => Make<float, float, DivOp<float>>(plan),
            ("Div", DataType.Double) => Make<double, double, DivOp<double>>(plan),
            ("Div", DataType.Int64) => Make<long, long, DivOp<long>>(plan),
            ("Div", DataType.Int32) => Make<int, int, DivOp<int>>(plan),
            ("Pow", DataType.Float) => Make<float, float, PowOp>(plan),
            ("Pow", DataType.Int64) => Make<long, long, ScalarRows<long, long, IntPowOp<long>>>(plan),
            ("Pow", DataType.Int32) => Make<int, int, ScalarRows<int, int, IntPowOp<int>>>(plan),
            ("Mod", DataType.Int64) => Make<long, long, ScalarRows<long, long, IntModOp<long>>>(plan),
            ("Mod", DataType.Int32) => Make<int, int, ScalarRows<int, int, IntModOp<int>>>(plan),
            _ => throw ctx.Fail($"{op} is not supported for {type.ToName()}"),
        };
    }

    /// <summary>
    /// Pow whose exponent type differs from the base's (float^int, int^float): both are widened to double in the
    /// workspace, raised, and the result converted to the base's type.
    /// </summary>
    private static StepAction PlanMixedPow(PlanContext ctx, DataType type, DataType exponentType)
    {
        ctx.RequireType(1, Numeric);
        var plan = new Broadcast(ctx.InputShape(0), ctx.InputShape(1));
        ctx.SetOutput(0, type, plan.Output);
        long na = ctx.InputShape(0).ElementCount, nb = ctx.InputShape(1).ElementCount, ny = plan.Output.ElementCount;
        var toDoubleA = Shape.CastKernels.Find(type, DataType.Double)!;
        var toDoubleB = Shape.CastKernels.Find(exponentType, DataType.Double)!;
        var fromDouble = Shape.CastKernels.Find(DataType.Double, type)!;
        ctx.WorkspaceBytes = (na + nb + ny) * sizeof(double);
        return (in StepArgs a) =>
        {
            double* da = (double*)a.Workspace, db = da + na, dy = db + nb;
            toDoubleA(a.Input(0), (nint)da, na);
            toDoubleB(a.Input(1), (nint)db, nb);
            BroadcastRunner.Run<double, double, DoublePowOp>(plan, da, db, dy);
            fromDouble((nint)dy, a.Output(0), ny);
        };
    }

    private static StepAction PlanComparison(PlanContext ctx, string op)
    {
        var type = ctx.RequireType(0, DataType.Float, DataType.Double, DataType.Int64, DataType.Int32, DataType.Bool);
        if (ctx.InputType(1) != type) throw ctx.Fail($"inputs have different types: {type.ToName()} and {ctx.InputType(1).ToName()}");
        var plan = new Broadcast(ctx.InputShape(0), ctx.InputShape(1));
        ctx.SetOutput(0, DataType.Bool, plan.Output);
        return (op, type) switch
        {
            ("Equal", DataType.Float) => Make<float, byte, ScalarRows<float, byte, EqualOp<float>>>(plan),
            ("Equal", DataType.Double) => Make<double, byte, ScalarRows<double, byte, EqualOp<double>>>(plan),
            ("Equal", DataType.Int64) => Make<long, byte, ScalarRows<long, byte, EqualOp<long>>>(plan),
            ("Equal", DataType.Int32) => Make<int, byte, ScalarRows<int, byte, EqualOp<int>>>(plan),
            ("Equal", DataType.Bool) => Make<byte, byte, ScalarRows<byte, byte, EqualOp<byte>>>(plan),
            ("Less", DataType.Float) => Make<float, byte, ScalarRows<float, byte, LessOp<float>>>(plan),
            ("Less", DataType.Double) => Make<double, byte, ScalarRows<double, byte, LessOp<double>>>(plan),
            ("Less", DataType.Int64) => Make<long, byte, ScalarRows<long, byte, LessOp<long>>>(plan),
            ("Less", DataType.Int32) => Make<int, byte, ScalarRows<int, byte, LessOp<int>>>(plan),
            ("LessOrEqual", DataType.Float) => Make<float, byte, ScalarRows<float, byte, LessOrEqualOp<float>>>(plan),
            ("LessOrEqual", DataType.Int64) => Make<long, byte, ScalarRows<long, byte, LessOrEqualOp<long>>>(plan),
            ("LessOrEqual", DataType.Int32) => Make<int, byte, ScalarRows<int, byte, LessOrEqualOp<int>>>(plan),
            ("Greater", DataType.Float) => Make<float, byte, ScalarRows<float, byte, GreaterOp<float>>>(plan),
            ("Greater", DataType.Double) => Make<double, byte, ScalarRows<double, byte, GreaterOp<double>>>(plan),
            ("Greater", DataType.Int64) => Make<long, byte, ScalarRows<long, byte, GreaterOp<long>>>(plan),
            ("Greater", DataType.Int32) => Make<int, byte, ScalarRows<int, byte, GreaterOp<int>>>(plan),
            ("GreaterOrEqual", DataType.Float) => Make<float, byte, ScalarRows<float, byte, GreaterOrEqualOp<float>>>(plan),
            ("GreaterOrEqual", DataType.Int64) => Make<long, byte, ScalarRows<long, byte, GreaterOrEqualOp<long>>>(plan),
            ("GreaterOrEqual", DataType.Int32) => Make<int, byte, ScalarRows<int, byte, GreaterOrEqualOp<int>>>(plan),
            _ => throw ctx.Fail($"{op} is not supported for {type.ToName()}"),
        };
    }

    private static StepAction PlanLogic(PlanContext ctx, string op)
    {
        ctx.RequireType(0, DataType.Bool);
        ctx.RequireType(1, DataType.Bool);
        var plan = new Broadcast(ctx.InputShape(0), ctx.InputShape(1));
        ctx.SetOutput(0, DataType.Bool, plan.Output);
        return op switch
        {
            "And" => Make<byte, byte, ScalarRows<byte, byte, AndOp>>(plan),
            "Or" => Make<byte, byte, ScalarRows<byte, byte, OrOp>>(plan),
            _ => Make<byte, byte, ScalarRows<byte, byte, XorOp>>(plan),
        };
    }
}
