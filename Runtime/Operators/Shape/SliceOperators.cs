using FastInfer.Ir;

namespace FastInfer.Runtime.Operators.Shape;

/// <summary>Slice, Split, Expand, Tile, DepthToSpace and SpaceToDepth: strided views copied densely.</summary>
internal static unsafe class SliceOperators
{
    public static IEnumerable<OperatorEntry> Entries()
    {
        yield return OperatorRegistry.Simple("Slice", PlanSlice, 1, 1, 2, 3, 4);
        yield return OperatorRegistry.Simple("Split", PlanSplit, 1, 1);
        yield return OperatorRegistry.Simple("Expand", PlanExpand, 8, 1);
        yield return OperatorRegistry.Simple("Tile", PlanTile, 6, 1);
        yield return OperatorRegistry.Simple("DepthToSpace", PlanDepthToSpace);
        yield return OperatorRegistry.Simple("SpaceToDepth", PlanSpaceToDepth);
    }

    private static StepAction Copy(PlanContext ctx, int[] dims, long[] strides, long start, TensorShape? output = null)
    {
        var type = ctx.InputType(0);
        ctx.SetOutput(0, type, output ?? new TensorShape(dims));
        var copy = new StridedCopy(dims, strides, start, Math.Max(1, type.SizeInBytes()));
        return (in StepArgs a) => copy.Run((byte*)a.Input(0), (byte*)a.Output(0));
    }

    private static StepAction PlanSlice(PlanContext ctx)
    {
        var x = ctx.InputShape(0);
        long[] starts, ends;
        long[]? axes, steps = null;
        if (ctx.Opset < 10)
        {
            starts = ctx.Node.GetInts("starts") ?? throw ctx.Fail("'starts' is required");
            ends = ctx.Node.GetInts("ends") ?? throw ctx.Fail("'ends' is required");
            axes = ctx.Node.GetInts("axes");
        }
        else
        {
            starts = ctx.ConstantInts(1);
            ends = ctx.ConstantInts(2);
            axes = ctx.HasInput(3) ? ctx.ConstantInts(3) : null;
            steps = ctx.HasInput(4) ? ctx.ConstantInts(4) : null;
        }
        if (ends.Length != starts.Length || axes is not null && axes.Length != starts.Length || steps is not null && steps.Length != starts.Length)
            throw ctx.Fail("starts, ends, axes and steps must have the same length");
        var inStrides = StridedCopy.DenseStrides(x.Dims);
        var dims = x.ToArray();
        var strides = (long[])inStrides.Clone();
        long offset = 0;
        var seen = new HashSet<int>();
        for (int i = 0; i < starts.Length; i++)
        {
            int axis = x.Axis(axes?[i] ?? i, "Slice axis");
            if (!seen.Add(axis)) throw ctx.Fail($"axis {axis} is repeated");
            long step = steps?[i] ?? 1;
            if (step == 0) throw ctx.Fail("steps must not be 0");
            long d = x[axis];
            long s = starts[i], e = ends[i];
            if (s < 0) s += d;
            if (e < 0) e += d;
            if (step > 0) { s = Math.Clamp(s, 0, d); e = Math.Clamp(e, 0, d); }
            else { s = Math.Clamp(s, 0, d - 1); e = Math.Clamp(e, -1, d - 1); }
            long length = step > 0 ? Math.Max(0, (e - s + step - 1) / step) : Math.Max(0, (s - e + (-step) - 1) / -step);
            dims[axis] = checked((int)length);
            strides[axis] = inStrides[axis] * step;
            if (length > 0) offset += s * inStrides[axis];
        }
        return Copy(ctx, dims, strides, offset);
    }

    private static StepAction PlanSplit(PlanContext ctx)
    {
        var x = ctx.InputShape(0);
        var type = ctx.InputType(0);
        int axis = x.Axis(ctx.Node.GetInt("axis", 0));
        int outputs = ctx.OutputCount;
        long[]? split = ctx.Opset >= 13 ? (ctx.HasInput(1) ? ctx.ConstantInts(1) : null) : ctx.Node.GetInts("split");
        int d = x[axis];
        if (split is null)
        {
            long parts = ctx.Node.GetInt("num_outputs", outputs);
            if (parts != outputs) throw ctx.Fail($"num_outputs {parts} differs from the node's {outputs} outputs");
            split = new long[outputs];
            // Equal parts; with num_outputs an uneven dim gives ceil-sized parts and a smaller last one.
            long size = ctx.Node.Attribute("num_outputs") is not null ? (d + outputs - 1) / outputs : d / outputs;
            if (ctx.Node.Attribute("num_outputs") is null && d % outputs != 0) throw ctx.Fail($"axis size {d} does not split into {outputs} equal parts");
            long left = d;
            for (int i = 0; i < outputs; i++) { split[i] = Math.Min(size, left); left -= split[i]; }
        }
        if (split.Length != outputs || split.Sum() != d || split.Any(s => s < 0))
            throw ctx.Fail($"split [{string.Join(",", split)}] does not divide axis {axis} of {x} into {outputs} outputs");
        long outer = x.Size(0, axis), inner = x.Size(axis + 1, x.Rank) * type.SizeInBytes();
        var widths = new long[outputs];
        var columns = new long[outputs];
        long column = 0;
        for (int i = 0; i < outputs; i++)
        {
            var dims = x.ToArray();
            dims[axis] = (int)split[i];
            ctx.SetOutput(i, type, new TensorShape(dims));
            widths[i] = split[i] * inner;
            columns[i] = column;
            column += widths[i];
        }
        long rowBytes = column;
        bool[] present = Enumerable.Range(0, outputs).Select(ctx.HasOutput).ToArray();
        return (in StepArgs a) =>
        {
            byte* src = (byte*)a.Input(0);
            for (int i = 0; i < widths.Length; i++)
            {
                if (!present[i]) continue;
                byte* dst = (byte*)a.Output(i);
                long w = widths[i];
                for (long o = 0; o < outer; o++) Buffer.MemoryCopy(src + o * rowBytes + columns[i], dst + o * w, w, w);
            }
        };
    }

    private static StepAction PlanExpand(PlanContext ctx)
    {
        var x = ctx.InputShape(0);
        var target = TensorShape.FromLongs(ctx.ConstantInts(1));
        var output = Elementwise.Broadcast.Shape(x, target);
        var inStrides = StridedCopy.DenseStrides(x.Dims);
        var strides = new long[output.Rank];
        for (int a = 0; a < output.Rank; a++)
        {
            int k = a - (output.Rank - x.Rank);
            strides[a] = k < 0 || x[k] == 1 ? 0 : inStrides[k];
        }
        return Copy(ctx, output.ToArray(), strides, 0);
    }

    private static StepAction PlanTile(PlanContext ctx)
    {
        var x = ctx.InputShape(0);
        var repeats = ctx.ConstantInts(1);
        if (repeats.Length != x.Rank || repeats.Any(r => r < 0)) throw ctx.Fail($"repeats [{string.Join(",", repeats)}] must be {x.Rank} non-negative values");
        // Output [r0, d0, r1, d1, ...] reading the input with stride 0 along each repeat axis.
        var inStrides = StridedCopy.DenseStrides(x.Dims);
        var dims = new int[2 * x.Rank];
        var strides = new long[2 * x.Rank];
        var outDims = new int[x.Rank];
        for (int a = 0; a < x.Rank; a++)
        {
            dims[2 * a] = checked((int)repeats[a]);
            dims[2 * a + 1] = x[a];
            strides[2 * a + 1] = inStrides[a];
            outDims[a] = checked((int)(repeats[a] * x[a]));
        }
        return Copy(ctx, dims, strides, 0, output: new TensorShape(outDims));
    }

    private static StepAction PlanDepthToSpace(PlanContext ctx)
    {
        var x = ctx.InputShape(0);
        if (x.Rank != 4) throw ctx.Fail($"input {x} must be 4-D");
        int b = checked((int)ctx.Node.GetInt("blocksize", 0));
        int n = x[0], c = x[1], h = x[2], w = x[3];
        if (b < 1 || c % (b * b) != 0) throw ctx.Fail($"channels {c} are not divisible by blocksize² ({b}²)");
        int oc = c / (b * b);
        bool crd = ctx.Node.GetString("mode", "DCR") == "CRD";
        long sw = 1, sh = w, sc = (long)h * w, sn = (long)c * h * w;
        // Output viewed as [N, C', H, b, W, b]; the source channel of (c', i, j) is DCR: (i·b + j)·C' + c', CRD: c'·b² + i·b + j.
        long strideC = crd ? b * b * sc : sc;
        long strideI = crd ? b * sc : (long)b * oc * sc;
        long strideJ = crd ? sc : (long)oc * sc;
        var dims = new[] { n, oc, h, b, w, b };
        var strides = new[] { sn, strideC, sh, strideI, sw, strideJ };
        return Copy(ctx, dims, strides, 0, output: new TensorShape(n, oc, h * b, w * b));
    }

    private static StepAction PlanSpaceToDepth(PlanContext ctx)
    {
        var x = ctx.InputShape(0);
        if (x.Rank != 4) throw ctx.Fail($"input {x} must be 4-D");
        int b = checked((int)ctx.Node.GetInt("blocksize", 0));
        int n = x[0], c = x[1], h = x[2], w = x[3];
        if (b < 1 || h % b != 0 || w % b != 0) throw ctx.Fail($"spatial size {h}x{w} is not divisible by blocksize {b}");
        long sn = (long)c * h * w, sc = (long)h * w;
        // Output [N, b(i), b(j), C, H/b, W/b] reading x[n, c, y·b + i, x·b + j].
        var dims = new[] { n, b, b, c, h / b, w / b };
        var strides = new[] { sn, (long)w, 1L, sc, (long)b * w, (long)b };
        return Copy(ctx, dims, strides, 0, output: new TensorShape(n, c * b * b, h / b, w / b));
    }
}
