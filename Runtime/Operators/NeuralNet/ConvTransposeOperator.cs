using FastInfer.Ir;

namespace FastInfer.Runtime.Operators.NeuralNet;

/// <summary>
/// ConvTranspose (1-D, 2-D, 3-D; groups, strides, dilations, pads, output_padding, output_shape, auto_pad) as the
/// scatter form of convolution's gradient: each input element adds kernel-weighted values into the output.
/// </summary>
internal static unsafe class ConvTransposeOperator
{
    public static IEnumerable<OperatorEntry> Entries()
    {
        yield return OperatorRegistry.Simple("ConvTranspose", Plan) with { Notes = "float32, any spatial rank; direct scatter loop, not GEMM" };
    }

    private static StepAction Plan(PlanContext ctx)
    {
        ctx.RequireType(0, DataType.Float);
        ctx.RequireType(1, DataType.Float);
        var x = ctx.InputShape(0);
        var w = ctx.InputShape(1);
        var node = ctx.Node;
        int rank = x.Rank - 2;
        if (rank < 1 || w.Rank != x.Rank) throw ctx.Fail($"input {x} and weights {w} must have the same rank, at least 3");
        int group = checked((int)node.GetInt("group", 1));
        int n = x[0], c = x[1];
        if (w[0] != c || c % group != 0) throw ctx.Fail($"weights {w} do not match {c} input channels in {group} groups");
        int mPerGroup = w[1], m = mPerGroup * group, cPerGroup = c / group;
        int[] kernel = w.ToArray()[2..];
        int[] Ints(string name, int count, int fallback)
        {
            var v = node.GetInts(name);
            if (v is null) return Enumerable.Repeat(fallback, count).ToArray();
            if (v.Length != count) throw ctx.Fail($"'{name}' has {v.Length} values, expected {count}");
            return v.Select(e => checked((int)e)).ToArray();
        }
        var strides = Ints("strides", rank, 1);
        var dilations = Ints("dilations", rank, 1);
        var outputPadding = Ints("output_padding", rank, 0);
        var pads = Ints("pads", 2 * rank, 0);
        string autoPad = node.GetString("auto_pad", "NOTSET");
        var outShape = node.GetInts("output_shape");
        var spatialIn = x.ToArray()[2..];
        var spatialOut = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int full = strides[i] * (spatialIn[i] - 1) + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1;
            int target = -1;
            if (outShape is not null) target = checked((int)outShape[outShape.Length - rank + i]);
            else if (autoPad is "SAME_UPPER" or "SAME_LOWER") target = spatialIn[i] * strides[i];
            if (target >= 0)
            {
                int total = full - target, half = (int)Math.Floor(total / 2.0); // floor, as the reference's // (total may be negative)
                // SAME_UPPER puts the smaller half first; otherwise the larger half goes first.
                if (autoPad == "SAME_UPPER") { pads[i] = half; pads[rank + i] = total - half; }
                else { pads[i] = total - half; pads[rank + i] = half; }
                spatialOut[i] = target;
            }
            else spatialOut[i] = full - pads[i] - pads[rank + i];
            if (spatialOut[i] < 0) throw ctx.Fail("the output would have a negative size");
        }
        var outDims = new int[x.Rank];
        outDims[0] = n; outDims[1] = m;
        spatialOut.CopyTo(outDims, 2);
        ctx.SetOutput(0, DataType.Float, new TensorShape(outDims));
        if (ctx.HasInput(2) && ctx.InputShape(2).ElementCount != m) throw ctx.Fail($"bias must have {m} values");

        // For each (input position, kernel position): the output position it adds into, or -1 when cropped by the pads.
        int inSize = spatialIn.Aggregate(1, (p, v) => checked(p * v));
        int kSize = kernel.Aggregate(1, (p, v) => checked(p * v));
        int outSize = spatialOut.Aggregate(1, (p, v) => checked(p * v));
        var target2 = new int[checked(inSize * kSize)];
        var inIdx = new int[rank];
        for (int i = 0; i < inSize; i++)
        {
            Unflatten(i, spatialIn, inIdx);
            var kIdx = new int[rank];
            for (int k = 0; k < kSize; k++)
            {
                Unflatten(k, kernel, kIdx);
                int flat = 0;
                bool inside = true;
                for (int d = 0; d < rank && inside; d++)
                {
                    int o = inIdx[d] * strides[d] + kIdx[d] * dilations[d] - pads[d];
                    inside = o >= 0 && o < spatialOut[d];
                    flat = flat * spatialOut[d] + o;
                }
                target2[i * kSize + k] = inside ? flat : -1;
            }
        }
        return (in StepArgs a) =>
        {
            float* src = a.InF(0), wt = a.InF(1), bias = a.InF(2), dst = a.OutF(0);
            for (int b = 0; b < n; b++)
                for (int co = 0; co < m; co++)
                {
                    float* y = dst + ((long)b * m + co) * outSize;
                    new Span<float>(y, outSize).Fill(bias is null ? 0f : bias[co]);
                    int g = co / mPerGroup, cog = co % mPerGroup;
                    for (int cig = 0; cig < cPerGroup; cig++)
                    {
                        int ci = g * cPerGroup + cig;
                        float* xin = src + ((long)b * c + ci) * inSize;
                        float* kw = wt + ((long)ci * mPerGroup + cog) * kSize;
                        for (int i = 0; i < inSize; i++)
                        {
                            float v = xin[i];
                            int row = i * kSize;
                            for (int k = 0; k < kSize; k++)
                            {
                                int t = target2[row + k];
                                if (t >= 0) y[t] += v * kw[k];
                            }
                        }
                    }
                }
        };
    }

    private static void Unflatten(int flat, int[] dims, int[] index)
    {
        for (int d = dims.Length - 1; d >= 0; d--) { index[d] = flat % dims[d]; flat /= dims[d]; }
    }
}
