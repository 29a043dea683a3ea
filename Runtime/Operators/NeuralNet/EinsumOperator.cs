using FastInfer.Ir;

namespace FastInfer.Runtime.Operators.NeuralNet;

/// <summary>
/// Einsum over float32 with explicit labels (no ellipsis): any number of operands, repeated labels (diagonals),
/// implicit output (labels seen once, sorted). Each output element sums the product of the operands over the
/// labels that do not appear in the output, addressed by per-label strides planned once.
/// </summary>
internal static unsafe class EinsumOperator
{
    public static IEnumerable<OperatorEntry> Entries()
    {
        yield return OperatorRegistry.Simple("Einsum", Plan, 12) with { Notes = "float32, explicit labels (no ellipsis); direct loops, not GEMM" };
    }

    private static StepAction Plan(PlanContext ctx)
    {
        string equation = ctx.Node.GetString("equation", "").Replace(" ", "");
        if (equation.Contains("...")) throw ctx.Fail("equations with an ellipsis are not supported");
        string[] sides = equation.Split("->");
        string[] terms = sides[0].Split(',');
        int count = ctx.InputCount;
        if (terms.Length != count) throw ctx.Fail($"equation '{equation}' names {terms.Length} operands but the node has {count}");
        var sizes = new Dictionary<char, int>();
        var seen = new Dictionary<char, int>();
        for (int i = 0; i < count; i++)
        {
            ctx.RequireType(i, DataType.Float);
            var shape = ctx.InputShape(i);
            if (terms[i].Length != shape.Rank) throw ctx.Fail($"operand {i} has rank {shape.Rank} but term '{terms[i]}' has {terms[i].Length} labels");
            for (int a = 0; a < shape.Rank; a++)
            {
                char l = terms[i][a];
                if (!char.IsLetter(l)) throw ctx.Fail($"label '{l}' is not a letter");
                if (sizes.TryGetValue(l, out int s) && s != shape[a]) throw ctx.Fail($"label '{l}' has sizes {s} and {shape[a]}");
                sizes[l] = shape[a];
                seen[l] = seen.GetValueOrDefault(l) + 1;
            }
        }
        string output = sides.Length > 1 ? sides[1] : new string(seen.Where(kv => kv.Value == 1).Select(kv => kv.Key).OrderBy(c => c).ToArray());
        foreach (char l in output) if (!sizes.ContainsKey(l)) throw ctx.Fail($"output label '{l}' is not in any operand");
        var summed = sizes.Keys.Where(l => !output.Contains(l)).ToArray();
        var outDims = output.Select(l => sizes[l]).ToArray();
        ctx.SetOutput(0, DataType.Float, new TensorShape(outDims));

        // Per operand, the stride of each output label and each summed label (0 when the operand lacks it).
        long[][] outStrides = new long[count][], sumStrides = new long[count][];
        for (int i = 0; i < count; i++)
        {
            var dense = Shape.StridedCopy.DenseStrides(ctx.InputShape(i).Dims);
            long Stride(char l) { long s = 0; for (int a = 0; a < terms[i].Length; a++) if (terms[i][a] == l) s += dense[a]; return s; }
            outStrides[i] = output.Select(Stride).ToArray();
            sumStrides[i] = summed.Select(Stride).ToArray();
        }
        var sumDims = summed.Select(l => sizes[l]).ToArray();
        long outCount = outDims.Aggregate(1L, (p, d) => p * d), sumCount = sumDims.Aggregate(1L, (p, d) => p * d);
        return (in StepArgs a) =>
        {
            Span<nint> ptr = stackalloc nint[count];
            for (int i = 0; i < count; i++) ptr[i] = a.Input(i);
            Span<int> outIndex = stackalloc int[outDims.Length];
            Span<int> sumIndex = stackalloc int[sumDims.Length];
            Span<long> baseOffset = stackalloc long[count];
            float* y = a.OutF(0);
            for (long o = 0; o < outCount; o++)
            {
                for (int i = 0; i < count; i++)
                {
                    long off = 0;
                    for (int d = 0; d < outDims.Length; d++) off += outIndex[d] * outStrides[i][d];
                    baseOffset[i] = off;
                }
                double total = 0;
                sumIndex.Clear();
                for (long s = 0; s < sumCount; s++)
                {
                    double product = 1;
                    for (int i = 0; i < count; i++)
                    {
                        long off = baseOffset[i];
                        for (int d = 0; d < sumDims.Length; d++) off += sumIndex[d] * sumStrides[i][d];
                        product *= ((float*)ptr[i])[off];
                    }
                    total += product;
                    for (int d = sumDims.Length - 1; d >= 0; d--) { if (++sumIndex[d] < sumDims[d]) break; sumIndex[d] = 0; }
                }
                y[o] = (float)total;
                for (int d = outDims.Length - 1; d >= 0; d--) { if (++outIndex[d] < outDims[d]) break; outIndex[d] = 0; }
            }
        };
    }
}
