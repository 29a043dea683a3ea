using FastInfer.Ir;

namespace FastInfer.Runtime.Operators.NeuralNet;

/// <summary>
/// Resize (nearest, linear, cubic; every coordinate transformation mode, antialias, axes, keep_aspect_ratio_policy)
/// and the older Upsample, following the ONNX reference implementation: separable per axis, each output
/// coordinate mapped back to the input and interpolated from its neighbours with edge clamping.
/// </summary>
internal static unsafe class ResizeOperator
{
    public static IEnumerable<OperatorEntry> Entries()
    {
        yield return OperatorRegistry.Simple("Resize", PlanResize, 10, 1, 2, 3) with { Notes = "float32; nearest, linear, cubic; every coordinate_transformation_mode; antialias, axes, keep_aspect_ratio_policy" };
        yield return OperatorRegistry.Simple("Upsample", PlanUpsample, 7, 1) with { Notes = "float32; nearest, linear" };
    }

    /// <summary>The input positions and weights one output index along one axis reads.</summary>
    private readonly record struct Taps(int[] Index, double[] Weight, bool Outside);

    private static StepAction PlanUpsample(PlanContext ctx)
    {
        var x = ctx.InputShape(0);
        float[] scales = ctx.Opset >= 9 ? ctx.Constant<float>(1).ToArray() : ctx.Node.GetFloats("scales") ?? throw ctx.Fail("'scales' is required");
        string mode = ctx.Node.GetString("mode", "nearest");
        var sizes = new int[x.Rank];
        for (int a = 0; a < x.Rank; a++) sizes[a] = (int)Math.Floor(x[a] * scales[a]);
        return Build(ctx, x, sizes, scales.Select(s => (double)s).ToArray(), mode == "linear" ? "linear" : "nearest", "asymmetric", "floor", -0.75, false, false, null, 0);
    }

    private static StepAction PlanResize(PlanContext ctx)
    {
        var x = ctx.InputShape(0);
        int rank = x.Rank;
        var node = ctx.Node;
        string mode = node.GetString("mode", "nearest");
        string transform = ctx.Opset >= 11 ? node.GetString("coordinate_transformation_mode", "half_pixel") : "asymmetric";
        string nearestMode = ctx.Opset >= 11 ? node.GetString("nearest_mode", "round_prefer_floor") : "floor";
        double cubicA = node.GetFloat("cubic_coeff_a", -0.75f);
        bool excludeOutside = node.GetInt("exclude_outside", 0) != 0;
        bool antialias = node.GetInt("antialias", 0) != 0;
        float extrapolation = node.GetFloat("extrapolation_value", 0f);
        string policy = node.GetString("keep_aspect_ratio_policy", "stretch");
        if (mode is not ("nearest" or "linear" or "cubic")) throw ctx.Fail($"mode '{mode}' is not supported");

        int[] axes = (node.GetInts("axes") ?? Enumerable.Range(0, rank).Select(i => (long)i).ToArray()).Select(a => x.Axis(a, "Resize axis")).ToArray();
        int scalesInput = ctx.Opset >= 11 ? 2 : 1;
        double[]? given = ctx.HasInput(scalesInput) && ctx.InputShape(scalesInput).ElementCount > 0
            ? ctx.Constant<float>(scalesInput).ToArray().Select(v => (double)v).ToArray() : null;
        long[]? sizesGiven = ctx.Opset >= 11 && ctx.HasInput(3) && ctx.InputShape(3).ElementCount > 0 ? ctx.ConstantInts(3) : null;
        if ((given is null) == (sizesGiven is null)) throw ctx.Fail("exactly one of scales and sizes must be given");
        var scales = Enumerable.Repeat(1.0, rank).ToArray();
        var sizes = x.ToArray();
        if (given is not null)
        {
            if (given.Length != axes.Length) throw ctx.Fail($"scales has {given.Length} values for {axes.Length} axes");
            for (int i = 0; i < axes.Length; i++)
            {
                if (given[i] <= 0) throw ctx.Fail("scales must be positive");
                scales[axes[i]] = given[i];
                sizes[axes[i]] = (int)Math.Floor(x[axes[i]] * given[i]);
            }
        }
        else
        {
            if (sizesGiven!.Length != axes.Length) throw ctx.Fail($"sizes has {sizesGiven.Length} values for {axes.Length} axes");
            if (policy == "stretch")
            {
                for (int i = 0; i < axes.Length; i++) { sizes[axes[i]] = checked((int)sizesGiven[i]); scales[axes[i]] = (double)sizesGiven[i] / x[axes[i]]; }
            }
            else
            {
                // One scale for all listed axes: the largest that fits (not_larger) or the smallest that covers (not_smaller).
                double s = policy == "not_larger" ? double.MaxValue : double.MinValue;
                for (int i = 0; i < axes.Length; i++)
                {
                    double r = (double)sizesGiven[i] / x[axes[i]];
                    s = policy == "not_larger" ? Math.Min(s, r) : Math.Max(s, r);
                }
                foreach (int a in axes) { scales[a] = s; sizes[a] = (int)Math.Round(s * x[a], MidpointRounding.AwayFromZero); }
            }
        }
        double[]? roi = null;
        if (transform == "tf_crop_and_resize")
        {
            var r = ctx.InputType(1) == DataType.Float ? ctx.Constant<float>(1).ToArray().Select(v => (double)v).ToArray() : throw ctx.Fail("roi must be float32");
            if (r.Length != 2 * axes.Length) throw ctx.Fail($"roi has {r.Length} values for {axes.Length} axes");
            roi = new double[2 * rank];
            for (int a = 0; a < rank; a++) { roi[a] = 0; roi[rank + a] = 1; }
            for (int i = 0; i < axes.Length; i++) { roi[axes[i]] = r[i]; roi[rank + axes[i]] = r[axes.Length + i]; }
        }
        // Scales derived from sizes are what the reference uses for the coordinate mapping.
        return Build(ctx, x, sizes, scales, mode, transform, nearestMode, cubicA, excludeOutside, antialias, roi, extrapolation);
    }

    private static StepAction Build(PlanContext ctx, TensorShape x, int[] sizes, double[] scales, string mode, string transform,
        string nearestMode, double cubicA, bool excludeOutside, bool antialias, double[]? roi, float extrapolation)
    {
        ctx.RequireType(0, DataType.Float);
        int rank = x.Rank;
        var output = new TensorShape(sizes);
        ctx.SetOutput(0, DataType.Float, output);
        var taps = new Taps[rank][];
        for (int a = 0; a < rank; a++)
        {
            taps[a] = new Taps[sizes[a]];
            for (int o = 0; o < sizes[a]; o++)
                taps[a][o] = AxisTaps(o, x[a], sizes[a], scales[a], mode, transform, nearestMode, cubicA, excludeOutside, antialias,
                    roi is null ? 0 : roi[a], roi is null ? 1 : roi[rank + a]);
        }
        var strides = Shape.StridedCopy.DenseStrides(x.Dims);
        long count = output.ElementCount;
        return (in StepArgs a) =>
        {
            float* src = a.InF(0), dst = a.OutF(0);
            if (count == 0) return;
            Span<int> index = stackalloc int[rank];
            for (long i = 0; i < count; i++)
            {
                bool outside = false;
                for (int ax = 0; ax < rank; ax++) outside |= taps[ax][index[ax]].Outside;
                dst[i] = outside ? extrapolation : (float)Interpolate(src, taps, strides, index, 0, 0);
                for (int ax = rank - 1; ax >= 0; ax--)
                {
                    if (++index[ax] < sizes[ax]) break;
                    index[ax] = 0;
                }
            }
        };
    }

    private static double Interpolate(float* src, Taps[][] taps, long[] strides, Span<int> index, int axis, long offset)
    {
        if (axis == taps.Length) return src[offset];
        var t = taps[axis][index[axis]];
        double sum = 0;
        for (int j = 0; j < t.Index.Length; j++)
            sum += t.Weight[j] * Interpolate(src, taps, strides, index, axis + 1, offset + t.Index[j] * strides[axis]);
        return sum;
    }

    /// <summary>The taps for output index <paramref name="o"/> of an axis of input length <paramref name="n"/>.</summary>
    private static Taps AxisTaps(int o, int n, int outSize, double scale, string mode, string transform, string nearestMode,
        double cubicA, bool excludeOutside, bool antialias, double roiStart, double roiEnd)
    {
        double outLength = scale * n; // the reference's output_width: not rounded
        double xo;
        switch (transform)
        {
            case "align_corners": xo = outLength == 1 ? 0 : o * (n - 1) / (outLength - 1); break;
            case "asymmetric": xo = o / scale; break;
            case "pytorch_half_pixel": xo = outLength == 1 ? -0.5 : (o + 0.5) / scale - 0.5; break;
            case "half_pixel": xo = (o + 0.5) / scale - 0.5; break;
            case "half_pixel_symmetric":
            {
                double adjustment = outSize / outLength;
                double offset = n / 2.0 * (1 - adjustment);
                xo = offset + (o + 0.5) / scale - 0.5;
                break;
            }
            case "tf_crop_and_resize":
                xo = outLength == 1 ? (roiEnd - roiStart) * (n - 1) / 2 : o * (roiEnd - roiStart) * (n - 1) / (outLength - 1);
                xo += roiStart * (n - 1);
                if (xo < 0 || xo > n - 1) return new Taps(new[] { 0 }, new[] { 0.0 }, true);
                break;
            default: throw new InvalidModelException($"Resize: coordinate_transformation_mode '{transform}' is not supported.");
        }
        if (n == outSize && scale == 1 && xo == o) return new Taps(new[] { o }, new[] { 1.0 }, false);
        int floor = (int)Math.Floor(xo);
        bool integral = xo == floor;
        double ratio = integral ? 1 : xo - floor;
        int based = integral ? floor - 1 : floor;
        if (mode == "nearest")
        {
            bool up = integral || nearestMode switch
            {
                "round_prefer_floor" => ratio > 0.5,
                "round_prefer_ceil" => ratio >= 0.5,
                "floor" => false,
                "ceil" => true,
                _ => throw new InvalidModelException($"Resize: nearest_mode '{nearestMode}' is not supported."),
            };
            return new Taps(new[] { Math.Clamp(up ? based + 1 : based, 0, n - 1) }, new[] { 1.0 }, false);
        }
        double[] coeffs;
        int start;
        if (mode == "linear")
        {
            if (antialias && scale < 1)
            {
                start = (int)Math.Floor(-1 / scale) + 1;
                int footprint = 2 - 2 * start;
                coeffs = new double[footprint];
                for (int j = 0; j < footprint; j++) coeffs[j] = Math.Clamp(1 - Math.Abs((start + j - ratio) * scale), 0, 1);
            }
            else { start = 0; coeffs = new[] { 1 - ratio, ratio }; }
        }
        else
        {
            double s = antialias ? Math.Min(scale, 1) : 1;
            start = antialias ? (int)Math.Floor(-2 / s) + 1 : -1;
            int end = antialias ? 2 - start : 3;
            coeffs = new double[end - start];
            for (int j = 0; j < coeffs.Length; j++) coeffs[j] = Cubic(Math.Abs(s * (start + j - ratio)), cubicA);
        }
        var idx = new int[coeffs.Length];
        for (int j = 0; j < idx.Length; j++) idx[j] = based + start + j;
        if (excludeOutside)
            for (int j = 0; j < idx.Length; j++) if (idx[j] < 0 || idx[j] >= n) coeffs[j] = 0;
        double total = coeffs.Sum();
        if (antialias || excludeOutside) for (int j = 0; j < coeffs.Length; j++) coeffs[j] /= total;
        // Edge padding: neighbours outside the axis read its first or last element.
        var keptIndex = new List<int>();
        var keptWeight = new List<double>();
        for (int j = 0; j < idx.Length; j++)
        {
            if (coeffs[j] == 0) continue;
            keptIndex.Add(Math.Clamp(idx[j], 0, n - 1));
            keptWeight.Add(coeffs[j]);
        }
        if (keptIndex.Count == 0) { keptIndex.Add(Math.Clamp(based, 0, n - 1)); keptWeight.Add(0.0); }
        return new Taps(keptIndex.ToArray(), keptWeight.ToArray(), false);
    }

    private static double Cubic(double x, double a)
    {
        if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
        if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
        return 0;
    }
}
