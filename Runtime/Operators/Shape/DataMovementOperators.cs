using FastInfer.Ir;

namespace FastInfer.Runtime.Operators.Shape;

/// <summary>Concat, Gather, Shape, Size, Constant and Cast.</summary>
internal static unsafe class DataMovementOperators
{
    public static IEnumerable<OperatorEntry> Entries()
    {
        yield return OperatorRegistry.Simple("Concat", PlanConcat);
        yield return OperatorRegistry.Simple("Gather", PlanGather);
        yield return OperatorRegistry.Simple("Shape", PlanShape);
        yield return OperatorRegistry.Simple("Size", PlanSize);
        yield return new("Constant", (node, _) => new ConstantOperator(node), 1, OperatorRegistry.MaxSupportedOpset, Array.Empty<int>());
        yield return OperatorRegistry.Simple("Cast", ctx => PlanCast(ctx, (DataType)ctx.Node.GetInt("to", 0)));
        yield return OperatorRegistry.Simple("CastLike", ctx => PlanCast(ctx, ctx.InputType(1)));
    }

    private static StepAction PlanConcat(PlanContext ctx)
    {
        var first = ctx.InputShape(0);
        var type = ctx.InputType(0);
        int axis = first.Axis(ctx.Node.GetInt("axis", ctx.Opset < 4 ? 1 : 0));
        int count = ctx.InputCount;
        var dims = first.ToArray();
        dims[axis] = 0;
        var widths = new long[count];
        for (int i = 0; i < count; i++)
        {
            var s = ctx.InputShape(i);
            if (ctx.InputType(i) != type) throw ctx.Fail($"input {i} is {ctx.InputType(i).ToName()}, not {type.ToName()}");
            if (s.Rank != first.Rank) throw ctx.Fail($"input {i} has shape {s}, rank differs from {first}");
            for (int d = 0; d < s.Rank; d++)
                if (d != axis && s[d] != first[d]) throw ctx.Fail($"input {i} has shape {s}, incompatible with {first} outside axis {axis}");
            dims[axis] += s[axis];
            widths[i] = s.Size(axis, s.Rank) * type.SizeInBytes();
        }
        var output = new TensorShape(dims);
        ctx.SetOutput(0, type, output);
        long outer = first.Size(0, axis);
        long outWidth = output.Size(axis, output.Rank) * type.SizeInBytes();
        return (in StepArgs a) =>
        {
            byte* y = (byte*)a.Output(0);
            long column = 0;
            for (int i = 0; i < widths.Length; i++)
            {
                byte* x = (byte*)a.Input(i);
                long w = widths[i];
                for (long o = 0; o < outer; o++) Buffer.MemoryCopy(x + o * w, y + o * outWidth + column, w, w);
                column += w;
            }
        };
    }

    private static StepAction PlanGather(PlanContext ctx)
    {
        var data = ctx.InputShape(0);
        var indices = ctx.InputShape(1);
        var indexType = ctx.RequireType(1, DataType.Int64, DataType.Int32);
        var type = ctx.InputType(0);
        int axis = data.Axis(ctx.Node.GetInt("axis", 0));
        var dims = new List<int>();
        for (int i = 0; i < axis; i++) dims.Add(data[i]);
        dims.AddRange(indices.ToArray());
        for (int i = axis + 1; i < data.Rank; i++) dims.Add(data[i]);
        ctx.SetOutput(0, type, new TensorShape(dims.ToArray()));
        long outer = data.Size(0, axis), axisSize = data[axis];
        long blockBytes = data.Size(axis + 1, data.Rank) * type.SizeInBytes();
        long count = indices.ElementCount;
        string name = ctx.Node.DisplayName;
        return (in StepArgs a) =>
        {
            byte* x = (byte*)a.Input(0), y = (byte*)a.Output(0);
            nint idx = a.Input(1);
            for (long o = 0; o < outer; o++)
            {
                byte* src = x + o * axisSize * blockBytes;
                for (long j = 0; j < count; j++)
                {
                    long k = indexType == DataType.Int64 ? ((long*)idx)[j] : ((int*)idx)[j];
                    if (k < 0) k += axisSize;
                    if ((ulong)k >= (ulong)axisSize)
                        throw new ArgumentOutOfRangeException("indices", $"Node '{name}' (Gather): index {k} is out of range for axis size {axisSize}.");
                    Buffer.MemoryCopy(src + k * blockBytes, y, blockBytes, blockBytes);
                    y += blockBytes;
                }
            }
        };
    }

    private static StepAction PlanShape(PlanContext ctx)
    {
        var shape = ctx.InputShape(0);
        int rank = shape.Rank;
        long start = ctx.Node.GetInt("start", 0), end = ctx.Node.GetInt("end", rank);
        if (start < 0) start += rank;
        if (end < 0) end += rank;
        start = Math.Clamp(start, 0, rank);
        end = Math.Clamp(end, 0, rank);
        var dims = new long[Math.Max(0, end - start)];
        for (int i = 0; i < dims.Length; i++) dims[i] = shape[(int)start + i];
        ctx.SetOutput(0, DataType.Int64, new TensorShape(dims.Length));
        ctx.DependsOnlyOnShapes = true;
        return (in StepArgs a) => dims.CopyTo(new Span<long>((void*)a.Output(0), dims.Length));
    }

    private static StepAction PlanSize(PlanContext ctx)
    {
        long size = ctx.InputShape(0).ElementCount;
        ctx.SetOutput(0, DataType.Int64, TensorShape.Scalar);
        ctx.DependsOnlyOnShapes = true;
        return (in StepArgs a) => *(long*)a.Output(0) = size;
    }

    /// <summary>A Constant node: its value, from whichever attribute holds it.</summary>
    private sealed class ConstantOperator : Operator
    {
        public ConstantOperator(Node node) : base(node) { }

        public override StepAction Plan(PlanContext ctx)
        {
            var n = ctx.Node;
            if (n.Attribute("value") is { Tensor: { } t })
            {
                ctx.SetOutput(0, t.ElementType, TensorShape.FromLongs(t.Dims));
                long bytes = t.ByteLength;
                nint p = t.Pointer;
                return (in StepArgs a) => Buffer.MemoryCopy((void*)p, (void*)a.Output(0), bytes, bytes);
            }
            if (n.Attribute("value_float") is { } vf) return Scalar(ctx, DataType.Float, BitConverter.SingleToInt32Bits(vf.Float), 4);
            if (n.Attribute("value_int") is { } vi) return Scalar(ctx, DataType.Int64, vi.Int, 8);
            if (n.Attribute("value_floats") is { Floats: { } fs }) return List(ctx, DataType.Float, fs);
            if (n.Attribute("value_ints") is { Ints: { } ls }) return List(ctx, DataType.Int64, ls);
            throw ctx.Fail("has no supported value attribute (value, value_float(s), value_int(s))");
        }

        private static StepAction Scalar(PlanContext ctx, DataType type, long bits, int size)
        {
            ctx.SetOutput(0, type, TensorShape.Scalar);
            return (in StepArgs a) => { if (size == 4) *(int*)a.Output(0) = (int)bits; else *(long*)a.Output(0) = bits; };
        }

        private static StepAction List<T>(PlanContext ctx, DataType type, T[] values) where T : unmanaged
        {
            ctx.SetOutput(0, type, new TensorShape(values.Length));
            return (in StepArgs a) => values.CopyTo(new Span<T>((void*)a.Output(0), values.Length));
        }
    }

    private static StepAction PlanCast(PlanContext ctx, DataType to)
    {
        var from = ctx.InputType(0);
        var shape = ctx.InputShape(0);
        ctx.SetOutput(0, to, shape);
        if (from == to) return ctx.AliasOrCopy(0, 0, shape);
        long n = shape.ElementCount;
        var convert = CastKernels.Find(from, to) ?? throw ctx.Fail($"cast from {from.ToName()} to {to.ToName()} is not supported");
        return (in StepArgs a) => convert(a.Input(0), a.Output(0), n);
    }
}
