using System.Numerics.Tensors;
using FastInfer.Ir;
using FastInfer.Kernels.Elementwise;

namespace FastInfer.Runtime.Operators.Elementwise;

/// <summary>Element-wise activations and math functions on float32 (TensorPrimitives where it has them).</summary>
internal static unsafe class UnaryOperators
{
    /// <summary>A float row function: y = f(x) for x, y of equal length (they may be the same memory).</summary>
    internal delegate void RowFunction(ReadOnlySpan<float> x, Span<float> y);

    public static IEnumerable<OperatorEntry> Entries()
    {
        yield return Float("Relu", (x, y) => TensorPrimitives.Max(x, 0f, y));
        yield return Float("Sigmoid", TensorPrimitives.Sigmoid);
        yield return Float("Tanh", TensorPrimitives.Tanh);
        yield return Float("Exp", TensorPrimitives.Exp);
        yield return Float("Log", TensorPrimitives.Log);
        yield return Float("Sqrt", TensorPrimitives.Sqrt);
        yield return Float("Reciprocal", TensorPrimitives.Reciprocal);
        yield return Float("Erf", (x, y) => { for (int i = 0; i < x.Length; i++) y[i] = MathFunctions.Erf(x[i]); });
        yield return Float("Softsign", (x, y) => { for (int i = 0; i < x.Length; i++) y[i] = x[i] / (1 + MathF.Abs(x[i])); });
        yield return Float("Softplus", (x, y) => { for (int i = 0; i < x.Length; i++) y[i] = MathFunctions.Softplus(x[i]); });
        yield return Float("Floor", TensorPrimitives.Floor);
        yield return Float("Ceil", TensorPrimitives.Ceiling);
        yield return Float("Round", (x, y) => { for (int i = 0; i < x.Length; i++) y[i] = MathF.Round(x[i], MidpointRounding.ToEven); });
        yield return Float("Sin", TensorPrimitives.Sin);
        yield return Float("Cos", TensorPrimitives.Cos);
        yield return WithAttributes("LeakyRelu", node =>
        {
            float alpha = node.GetFloat("alpha", 0.01f);
            return (x, y) => { for (int i = 0; i < x.Length; i++) y[i] = x[i] < 0 ? alpha * x[i] : x[i]; };
        });
        yield return WithAttributes("Elu", node =>
        {
            float alpha = node.GetFloat("alpha", 1f);
            return (x, y) => { for (int i = 0; i < x.Length; i++) y[i] = x[i] < 0 ? alpha * (MathF.Exp(x[i]) - 1) : x[i]; };
        });
        yield return WithAttributes("Selu", node =>
        {
            float alpha = node.GetFloat("alpha", 1.67326319217681884765625f), gamma = node.GetFloat("gamma", 1.05070102214813232421875f);
            return (x, y) => { for (int i = 0; i < x.Length; i++) y[i] = gamma * (x[i] <= 0 ? alpha * (MathF.Exp(x[i]) - 1) : x[i]); };
        });
        yield return WithAttributes("HardSigmoid", node =>
        {
            float alpha = node.GetFloat("alpha", 0.2f), beta = node.GetFloat("beta", 0.5f);
            return (x, y) => { for (int i = 0; i < x.Length; i++) y[i] = Math.Clamp(alpha * x[i] + beta, 0f, 1f); };
        });
        yield return Float("HardSwish", (x, y) => { for (int i = 0; i < x.Length; i++) y[i] = x[i] * Math.Clamp(x[i] / 6f + 0.5f, 0f, 1f); });
        yield return WithAttributes("Gelu", node =>
        {
            bool tanh = node.GetString("approximate", "none") == "tanh";
            if (!tanh) return GeluKernel.Row;
            return (x, y) => { for (int i = 0; i < x.Length; i++) y[i] = MathFunctions.GeluTanh(x[i]); };
        }, minOpset: 20);
        yield return new("fastinfer:Gelu", (node, _) => new FunctionOperator(node, ctx => PlanFloat(ctx, GeluKernel.Row)), 1,
            OperatorRegistry.MaxSupportedOpset, Array.Empty<int>(), "exact GELU fused from its Erf/Mul/Add export");
        yield return WithAttributes("ThresholdedRelu", node =>
        {
            float alpha = node.GetFloat("alpha", 1f);
            return (x, y) => { for (int i = 0; i < x.Length; i++) y[i] = x[i] > alpha ? x[i] : 0; };
        });
        yield return OperatorRegistry.Simple("Neg", ctx => Signed(ctx, negate: true));
        yield return OperatorRegistry.Simple("Abs", ctx => Signed(ctx, negate: false));
        yield return OperatorRegistry.Simple("Not", PlanNot);
    }

    private static OperatorEntry Float(string op, RowFunction f, int minOpset = 1) =>
        OperatorRegistry.Simple(op, ctx => PlanFloat(ctx, f), minOpset);

    private static OperatorEntry WithAttributes(string op, Func<Node, RowFunction> make, int minOpset = 1) =>
        new(op, (node, _) =>
        {
            var f = make(node);
            return new FunctionOperator(node, ctx => PlanFloat(ctx, f));
        }, minOpset, OperatorRegistry.MaxSupportedOpset, Array.Empty<int>());

    /// <summary>Plans y = f(x) over the whole tensor, split into chunks across the worker pool for large tensors.</summary>
    internal static StepAction PlanFloat(PlanContext ctx, RowFunction f)
    {
        ctx.RequireType(0, DataType.Float);
        var shape = ctx.InputShape(0);
        ctx.SetOutput(0, DataType.Float, shape);
        long n = shape.ElementCount;
        return (in StepArgs a) =>
        {
            var range = new FloatRange { F = f, X = a.InF(0), Y = a.OutF(0) };
            ParallelRows.Run(a.Pool, n, 16384, ref range);
        };
    }

    /// <summary>A row function over one slice of the elements (they are independent).</summary>
    private unsafe struct FloatRange : IRowRange
    {
        public RowFunction F;
        public float* X, Y;

        public void Rows(long start, long end) =>
            F(new ReadOnlySpan<float>(X + start, checked((int)(end - start))), new Span<float>(Y + start, checked((int)(end - start))));
    }

    private static StepAction Signed(PlanContext ctx, bool negate)
    {
        var type = ctx.RequireType(0, DataType.Float, DataType.Double, DataType.Int64, DataType.Int32);
        var shape = ctx.InputShape(0);
        ctx.SetOutput(0, type, shape);
        int n = checked((int)shape.ElementCount);
        return type switch
        {
            DataType.Float => negate ? (in StepArgs a) => TensorPrimitives.Negate(a.InSpan<float>(0, n), a.OutSpan<float>(0, n))
                                     : (in StepArgs a) => TensorPrimitives.Abs(a.InSpan<float>(0, n), a.OutSpan<float>(0, n)),
            DataType.Double => negate ? (in StepArgs a) => TensorPrimitives.Negate(a.InSpan<double>(0, n), a.OutSpan<double>(0, n))
                                      : (in StepArgs a) => TensorPrimitives.Abs(a.InSpan<double>(0, n), a.OutSpan<double>(0, n)),
            DataType.Int64 => negate ? (in StepArgs a) => TensorPrimitives.Negate(a.InSpan<long>(0, n), a.OutSpan<long>(0, n))
                                     : (in StepArgs a) => TensorPrimitives.Abs(a.InSpan<long>(0, n), a.OutSpan<long>(0, n)),
            _ => negate ? (in StepArgs a) => TensorPrimitives.Negate(a.InSpan<int>(0, n), a.OutSpan<int>(0, n))
                        : (in StepArgs a) => TensorPrimitives.Abs(a.InSpan<int>(0, n), a.OutSpan<int>(0, n)),
        };
    }

    private static StepAction PlanNot(PlanContext ctx)
    {
        ctx.RequireType(0, DataType.Bool);
        var shape = ctx.InputShape(0);
        ctx.SetOutput(0, DataType.Bool, shape);
        int n = checked((int)shape.ElementCount);
        return (in StepArgs a) =>
        {
            var x = a.InSpan<byte>(0, n);
            var y = a.OutSpan<byte>(0, n);
            for (int i = 0; i < n; i++) y[i] = x[i] == 0 ? (byte)1 : (byte)0;
        };
    }
}
