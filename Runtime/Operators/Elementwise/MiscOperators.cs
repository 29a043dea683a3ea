using System.Numerics.Tensors;
using FastInfer.Ir;

namespace FastInfer.Runtime.Operators.Elementwise;

/// <summary>Clip, Identity, Dropout, Where, PRelu and the variadic Max/Min/Sum/Mean.</summary>
internal static unsafe class MiscOperators
{
    public static IEnumerable<OperatorEntry> Entries()
    {
        yield return new("Clip", (node, _) => new FunctionOperator(node, PlanClip), 1, OperatorRegistry.MaxSupportedOpset, Array.Empty<int>());
        yield return OperatorRegistry.Simple("Identity", ctx => ctx.AliasOrCopy(0, 0, ctx.InputShape(0)));
        yield return OperatorRegistry.Simple("Dropout", PlanDropout, 1, 1, 2);
        yield return OperatorRegistry.Simple("Where", PlanWhere);
        yield return OperatorRegistry.Simple("PRelu", PlanPRelu);
        foreach (var op in new[] { "Max", "Min", "Sum", "Mean" })
            yield return OperatorRegistry.Simple(op, ctx => PlanVariadic(ctx, op));
    }

    private static StepAction PlanClip(PlanContext ctx)
    {
        var type = ctx.RequireType(0, DataType.Float, DataType.Int64, DataType.Int32);
        var shape = ctx.InputShape(0);
        ctx.SetOutput(0, type, shape);
        int n = checked((int)shape.ElementCount);
        bool attributes = ctx.Opset < 11 || ctx.Node.Attribute("min") is not null || ctx.Node.Attribute("max") is not null;
        // Bounds fed at run time are read on each run; constant ones are read once here.
        bool lowInput = !attributes && ctx.HasInput(1), highInput = !attributes && ctx.HasInput(2);
        for (int i = 1; i <= 2; i++)
            if (!attributes && ctx.HasInput(i) && ctx.InputType(i) != type) throw ctx.Fail($"bound {i} is {ctx.InputType(i).ToName()}, not {type.ToName()}");
        if (type == DataType.Int64) return ClipInteger<long>(n, lowInput, highInput);
        if (type == DataType.Int32) return ClipInteger<int>(n, lowInput, highInput);
        float attrMin = ctx.Node.GetFloat("min", float.NegativeInfinity), attrMax = ctx.Node.GetFloat("max", float.PositiveInfinity);
        return (in StepArgs a) =>
        {
            float min = lowInput ? *a.InF(1) : attrMin, max = highInput ? *a.InF(2) : attrMax;
            var x = a.InSpan<float>(0, n);
            var y = a.OutSpan<float>(0, n);
            // Max then Min, each propagating NaN, as numpy.clip does.
            TensorPrimitives.Max(x, min, y);
            TensorPrimitives.Min(y, max, y);
        };
    }

    private static StepAction ClipInteger<T>(int n, bool lowInput, bool highInput) where T : unmanaged, System.Numerics.INumber<T>, System.Numerics.IMinMaxValue<T> =>
        (in StepArgs a) =>
        {
            T lo = lowInput ? *(T*)a.Input(1) : T.MinValue, hi = highInput ? *(T*)a.Input(2) : T.MaxValue;
            var x = a.InSpan<T>(0, n);
            var y = a.OutSpan<T>(0, n);
            for (int i = 0; i < n; i++) y[i] = T.Min(T.Max(x[i], lo), hi);
        };

    /// <summary>Clip's bounds: attributes before opset 11, optional constant inputs after.</summary>
    internal static (float Min, float Max) ClipBounds(PlanContext ctx)
    {
        if (ctx.Opset < 11 || ctx.Node.Attribute("min") is not null || ctx.Node.Attribute("max") is not null)
            return (ctx.Node.GetFloat("min", float.NegativeInfinity), ctx.Node.GetFloat("max", float.PositiveInfinity));
        float min = ctx.HasInput(1) ? (float)ctx.ConstantScalar(1) : float.NegativeInfinity;
        float max = ctx.HasInput(2) ? (float)ctx.ConstantScalar(2) : float.PositiveInfinity;
        return (min, max);
    }

    private static StepAction PlanDropout(PlanContext ctx)
    {
        var shape = ctx.InputShape(0);
        bool training = ctx.HasInput(2) && ctx.ConstantBool(2);
        float ratio = ctx.HasInput(1) ? (float)ctx.ConstantScalar(1) : ctx.Node.GetFloat("ratio", 0.5f);
        if (ctx.HasOutput(1)) ctx.SetOutput(1, DataType.Bool, shape);
        int n = checked((int)shape.ElementCount);
        if (!training || ratio == 0)
        {
            // Inference (or a zero ratio): identity, and an all-true mask.
            if (!ctx.HasOutput(1)) return ctx.AliasOrCopy(0, 0, shape);
            ctx.SetOutput(0, ctx.InputType(0), shape);
            long bytes = shape.ElementCount * ctx.InputType(0).SizeInBytes();
            return (in StepArgs a) =>
            {
                Buffer.MemoryCopy((void*)a.Input(0), (void*)a.Output(0), bytes, bytes);
                new Span<byte>((void*)a.Output(1), n).Fill(1);
            };
        }
        // Training mode: drop with probability ratio, scale the rest by 1/(1-ratio). Seeded when the node says so.
        ctx.RequireType(0, DataType.Float);
        ctx.SetOutput(0, DataType.Float, shape);
        ctx.NeverFold = true;
        int seed = (int)ctx.Node.GetInt("seed", 0);
        bool hasMask = ctx.HasOutput(1);
        float scale = 1f / (1f - ratio);
        return (in StepArgs a) =>
        {
            var rng = new XorShiftRandom((uint)seed);
            var x = a.InSpan<float>(0, n);
            var y = a.OutSpan<float>(0, n);
            var mask = hasMask ? a.OutSpan<byte>(1, n) : default;
            for (int i = 0; i < n; i++)
            {
                bool keep = rng.NextFloat() >= ratio;
                y[i] = keep ? x[i] * scale : 0f;
                if (hasMask) mask[i] = keep ? (byte)1 : (byte)0;
            }
        };
    }

    private static StepAction PlanWhere(PlanContext ctx)
    {
        ctx.RequireType(0, DataType.Bool);
        var type = ctx.InputType(1);
        if (ctx.InputType(2) != type) throw ctx.Fail("X and Y have different types");
        var plan = new Broadcast(ctx.InputShape(0), ctx.InputShape(1), ctx.InputShape(2));
        ctx.SetOutput(0, type, plan.Output);
        int size = type.SizeInBytes();
        return (in StepArgs a) =>
        {
            byte* c = (byte*)a.Input(0), x = (byte*)a.Input(1), y = (byte*)a.Input(2), o = (byte*)a.Output(0);
            long inner = plan.InnerLength, sc = plan.Strides[0][^1], sx = plan.Strides[1][^1], sy = plan.Strides[2][^1];
            for (long row = 0; row < plan.OuterCount; row++)
            {
                byte* pc = c + plan.Offset(0, row);
                byte* px = x + plan.Offset(1, row) * size;
                byte* py = y + plan.Offset(2, row) * size;
                byte* po = o + row * inner * size;
                for (long j = 0; j < inner; j++)
                {
                    byte* src = pc[j * sc] != 0 ? px + j * sx * size : py + j * sy * size;
                    Buffer.MemoryCopy(src, po + j * size, size, size);
                }
            }
        };
    }

    private static StepAction PlanPRelu(PlanContext ctx)
    {
        ctx.RequireType(0, DataType.Float);
        ctx.RequireType(1, DataType.Float);
        var plan = new Broadcast(ctx.InputShape(0), ctx.InputShape(1));
        if (!plan.Output.Equals(ctx.InputShape(0))) throw ctx.Fail($"slope {ctx.InputShape(1)} does not broadcast to X {ctx.InputShape(0)}");
        ctx.SetOutput(0, DataType.Float, plan.Output);
        return BinaryOperators.Make<float, float, ScalarRows<float, float, PReluOp>>(plan);
    }

    private struct PReluOp : IScalarBinary<float, float> { public static float Apply(float x, float slope) => x < 0 ? x * slope : x; }

    /// <summary>Max/Min/Sum/Mean over any number of broadcast inputs, accumulated into the output.</summary>
    private static StepAction PlanVariadic(PlanContext ctx, string op)
    {
        var type = ctx.RequireType(0, DataType.Float, DataType.Int64, DataType.Int32);
        int count = ctx.InputCount;
        var shapes = Enumerable.Range(0, count).Select(ctx.InputShape).ToArray();
        for (int i = 1; i < count; i++) if (ctx.InputType(i) != type) throw ctx.Fail("inputs have different types");
        var output = Broadcast.Shape(shapes);
        ctx.SetOutput(0, type, output);
        // Step 0 expands input 0 to the output shape; step i folds input i into the output in place.
        var first = new Broadcast(output, shapes[0]);
        var rest = shapes.Skip(1).Select(s => new Broadcast(output, s)).ToArray();
        int n = checked((int)output.ElementCount);
        if (type != DataType.Float)
            return type == DataType.Int64 ? VariadicInt<long>(op, first, rest) : VariadicInt<int>(op, first, rest);
        float meanScale = 1f / count;
        return (in StepArgs a) =>
        {
            float* y = a.OutF(0);
            BroadcastRunner.Run<float, float, SecondOp<float>>(first, y, a.InF(0), y);
            for (int i = 0; i < rest.Length; i++)
            {
                float* x = a.InF(i + 1);
                switch (op)
                {
                    case "Max": BroadcastRunner.Run<float, float, MaxOp<float>>(rest[i], y, x, y); break;
                    case "Min": BroadcastRunner.Run<float, float, MinOp<float>>(rest[i], y, x, y); break;
                    default: BroadcastRunner.Run<float, float, AddOp<float>>(rest[i], y, x, y); break;
                }
            }
            if (op == "Mean") TensorPrimitives.Multiply(new ReadOnlySpan<float>(y, n), meanScale, new Span<float>(y, n));
        };
    }

    private static StepAction VariadicInt<T>(string op, Broadcast first, Broadcast[] rest) where T : unmanaged, System.Numerics.INumber<T>
    {
        if (op == "Mean") throw new InvalidModelException("Mean is defined for floating-point tensors only.");
        return (in StepArgs a) =>
        {
            T* y = (T*)a.Output(0);
            BroadcastRunner.Run<T, T, SecondOp<T>>(first, y, (T*)a.Input(0), y);
            for (int i = 0; i < rest.Length; i++)
            {
                T* x = (T*)a.Input(i + 1);
                switch (op)
                {
                    case "Max": BroadcastRunner.Run<T, T, MaxOp<T>>(rest[i], y, x, y); break;
                    case "Min": BroadcastRunner.Run<T, T, MinOp<T>>(rest[i], y, x, y); break;
                    default: BroadcastRunner.Run<T, T, AddOp<T>>(rest[i], y, x, y); break;
                }
            }
        };
    }

    /// <summary>Takes the second operand: used to broadcast-copy an input into a larger output.</summary>
    private struct SecondOp<T> : IBinaryOp<T, T> where T : unmanaged
    {
        public static void Rows(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => b.CopyTo(y);
        public static void RowScalarB(ReadOnlySpan<T> a, T b, Span<T> y) => y.Fill(b);
        public static void RowScalarA(T a, ReadOnlySpan<T> b, Span<T> y) => b.CopyTo(y);
    }
}

/// <summary>A small deterministic generator for training-mode Dropout (no allocation per run).</summary>
internal struct XorShiftRandom
{
    private uint _state;
    public XorShiftRandom(uint seed) { _state = seed == 0 ? 0x9E3779B9u : seed; }
    public float NextFloat()
    {
        _state ^= _state << 13; _state ^= _state >> 17; _state ^= _state << 5;
        return (_state >> 8) * (1f / (1 << 24));
    }
}
