using FastInfer.Ir;

namespace FastInfer.Runtime.Operators.Shape;

/// <summary>Pad (constant, reflect, edge, wrap; negative pads crop), ConstantOfShape and Range.</summary>
internal static unsafe class PadOperators
{
    public static IEnumerable<OperatorEntry> Entries()
    {
        yield return OperatorRegistry.Simple("Pad", PlanPad, 1, 1, 2, 3) with { Notes = "constant, reflect, edge, wrap; negative pads crop; axes input" };
        yield return OperatorRegistry.Simple("ConstantOfShape", PlanConstantOfShape, 9, 0);
        yield return OperatorRegistry.Simple("Range", PlanRange, 11, 0, 1, 2);
    }

    private static StepAction PlanPad(PlanContext ctx)
    {
        var x = ctx.InputShape(0);
        var type = ctx.InputType(0);
        int size = type.SizeInBytes();
        if (size == 0) throw ctx.Fail($"type {type.ToName()} is not supported");
        string mode = ctx.Node.GetString("mode", "constant");
        long[] pads;
        var value = new byte[size];
        if (ctx.Opset < 11)
        {
            pads = ctx.Node.GetInts("pads") ?? ctx.Node.GetInts("paddings") ?? throw ctx.Fail("'pads' is required");
            WriteValue(value, type, ctx.Node.GetFloat("value", 0f));
        }
        else
        {
            pads = ctx.ConstantInts(1);
            if (ctx.HasInput(2) && ctx.InputShape(2).ElementCount > 0)
            {
                if (ctx.InputType(2) != type) throw ctx.Fail("constant_value has a different type than data");
                ctx.Constant<byte>(2)[..size].CopyTo(value);
            }
            if (ctx.HasInput(3))
            {
                // Pads for the listed axes only: spread them over all axes.
                var axes = ctx.ConstantInts(3);
                if (pads.Length != 2 * axes.Length) throw ctx.Fail($"pads has {pads.Length} values for {axes.Length} axes");
                var full = new long[2 * x.Rank];
                for (int i = 0; i < axes.Length; i++)
                {
                    int axis = x.Axis(axes[i], "Pad axis");
                    full[axis] = pads[i];
                    full[x.Rank + axis] = pads[axes.Length + i];
                }
                pads = full;
            }
        }
        if (pads.Length != 2 * x.Rank) throw ctx.Fail($"pads has {pads.Length} values, expected {2 * x.Rank} for {x}");
        if (mode is not ("constant" or "reflect" or "edge" or "wrap")) throw ctx.Fail($"mode '{mode}' is not supported");

        // For every output index along each axis: the source index, or -1 for the constant.
        var dims = new int[x.Rank];
        var maps = new int[x.Rank][];
        for (int a = 0; a < x.Rank; a++)
        {
            long begin = pads[a], end = pads[x.Rank + a];
            int d = x[a];
            dims[a] = checked((int)(d + begin + end));
            if (dims[a] < 0) throw ctx.Fail($"pads crop axis {a} of {x} below zero");
            if (dims[a] > 0 && d == 0 && mode != "constant") throw ctx.Fail($"mode '{mode}' cannot pad the empty axis {a}");
            maps[a] = new int[dims[a]];
            for (int i = 0; i < dims[a]; i++) maps[a][i] = Source(i - begin, d, mode);
        }
        var output = new TensorShape(dims);
        ctx.SetOutput(0, type, output);
        var strides = StridedCopy.DenseStrides(x.Dims);
        int rank = x.Rank;
        long count = output.ElementCount;
        return (in StepArgs a) =>
        {
            byte* src = (byte*)a.Input(0), dst = (byte*)a.Output(0);
            if (count == 0) return;
            if (rank == 0) { Buffer.MemoryCopy(src, dst, size, size); return; }
            Span<int> index = stackalloc int[rank];
            int inner = dims[rank - 1];
            int[] innerMap = maps[rank - 1];
            long rows = count / inner;
            fixed (byte* fill = value)
            {
                for (long row = 0; row < rows; row++)
                {
                    // Source row offset, or -1 when any outer index falls in the constant padding.
                    long offset = 0;
                    for (int ax = 0; ax < rank - 1; ax++)
                    {
                        int s = maps[ax][index[ax]];
                        if (s < 0) { offset = -1; break; }
                        offset += s * strides[ax];
                    }
                    for (int i = 0; i < inner; i++)
                    {
                        int s = innerMap[i];
                        byte* from = offset < 0 || s < 0 ? fill : src + (offset + s) * size;
                        Buffer.MemoryCopy(from, dst, size, size);
                        dst += size;
                    }
                    for (int ax = rank - 2; ax >= 0; ax--)
                    {
                        if (++index[ax] < dims[ax]) break;
                        index[ax] = 0;
                    }
                }
            }
        };
    }

    /// <summary>The source index for padded position <paramref name="i"/> (relative to the data's start), or -1.</summary>
    private static int Source(long i, int d, string mode)
    {
        if (i >= 0 && i < d) return (int)i;
        switch (mode)
        {
            case "edge": return (int)Math.Clamp(i, 0, d - 1);
            case "wrap": return (int)(((i % d) + d) % d);
            case "reflect":
                if (d == 1) return 0;
                long period = 2L * (d - 1);
                long m = ((i % period) + period) % period;
                return (int)(m < d ? m : period - m);
            default: return -1;
        }
    }

    private static void WriteValue(byte[] value, DataType type, double v)
    {
        fixed (byte* p = value)
        {
            switch (type)
            {
                case DataType.Float: *(float*)p = (float)v; break;
                case DataType.Double: *(double*)p = v; break;
                case DataType.Int64: *(long*)p = (long)v; break;
                case DataType.Int32: *(int*)p = (int)v; break;
                default: p[0] = (byte)v; break;
            }
        }
    }

    private static StepAction PlanConstantOfShape(PlanContext ctx)
    {
        var dims = ctx.ConstantInts(0);
        var shape = TensorShape.FromLongs(dims);
        var type = DataType.Float;
        byte[] value = new byte[4];
        if (ctx.Node.Attribute("value") is { Tensor: { } t })
        {
            type = t.ElementType;
            value = new ReadOnlySpan<byte>((void*)t.Pointer, type.SizeInBytes()).ToArray();
        }
        ctx.SetOutput(0, type, shape);
        long count = shape.ElementCount;
        int size = value.Length;
        return (in StepArgs a) =>
        {
            byte* y = (byte*)a.Output(0);
            if (size == 4) new Span<int>(y, checked((int)count)).Fill(BitConverter.ToInt32(value));
            else if (size == 8) new Span<long>(y, checked((int)count)).Fill(BitConverter.ToInt64(value));
            else fixed (byte* v = value) for (long i = 0; i < count; i++) Buffer.MemoryCopy(v, y + i * size, size, size);
        };
    }

    private static StepAction PlanRange(PlanContext ctx)
    {
        var type = ctx.RequireType(0, DataType.Float, DataType.Double, DataType.Int64, DataType.Int32);
        for (int i = 1; i < 3; i++) if (ctx.InputType(i) != type) throw ctx.Fail("start, limit and delta must have the same type");
        double start = ctx.ConstantScalar(0), limit = ctx.ConstantScalar(1), delta = ctx.ConstantScalar(2);
        if (delta == 0) throw ctx.Fail("delta must not be 0");
        long n = Math.Max(0, (long)Math.Ceiling((limit - start) / delta));
        ctx.SetOutput(0, type, new TensorShape(checked((int)n)));
        return type switch
        {
            // Repeated addition in the element type, as the ONNX function body defines Range.
            DataType.Float => (in StepArgs a) => { float* y = a.OutF(0); float v = (float)start, d = (float)delta; for (long i = 0; i < n; i++) { y[i] = v; v += d; } },
            DataType.Double => (in StepArgs a) => { double* y = (double*)a.Output(0); for (long i = 0; i < n; i++) y[i] = start + i * delta; },
            DataType.Int64 => (in StepArgs a) => { long* y = (long*)a.Output(0); for (long i = 0; i < n; i++) y[i] = (long)start + i * (long)delta; },
            _ => (in StepArgs a) => { int* y = (int*)a.Output(0); for (long i = 0; i < n; i++) y[i] = (int)start + (int)(i * (long)delta); },
        };
    }
}
