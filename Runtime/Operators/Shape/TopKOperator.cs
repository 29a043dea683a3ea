using FastInfer.Ir;

namespace FastInfer.Runtime.Operators.Shape;

/// <summary>TopK: the k largest (or smallest) values along an axis and their indices; ties keep the lower index first.</summary>
internal static unsafe class TopKOperator
{
    public static IEnumerable<OperatorEntry> Entries()
    {
        yield return OperatorRegistry.Simple("TopK", Plan, 1, 1) with { Notes = "float32, int64, int32; stable for equal values" };
    }

    private static StepAction Plan(PlanContext ctx)
    {
        var type = ctx.RequireType(0, DataType.Float, DataType.Int64, DataType.Int32);
        var x = ctx.InputShape(0);
        int axis = x.Axis(ctx.Node.GetInt("axis", -1));
        long k = ctx.Opset >= 10 ? ctx.ConstantInts(1)[0] : ctx.Node.GetInt("k", 0);
        bool largest = ctx.Node.GetInt("largest", 1) != 0;
        if (k < 0 || k > x[axis]) throw ctx.Fail($"k = {k} is out of range for axis {axis} of {x}");
        var dims = x.ToArray();
        dims[axis] = (int)k;
        var output = new TensorShape(dims);
        ctx.SetOutput(0, type, output);
        ctx.SetOutput(1, DataType.Int64, output);
        long outer = x.Size(0, axis), inner = x.Size(axis + 1, x.Rank);
        int n = x[axis], kk = (int)k;
        ctx.WorkspaceBytes = n * sizeof(int);
        return type switch
        {
            DataType.Float => (in StepArgs a) => Run((float*)a.Input(0), (float*)a.Output(0), (long*)a.Output(1), (int*)a.Workspace, outer, inner, n, kk, largest),
            DataType.Int64 => (in StepArgs a) => Run((long*)a.Input(0), (long*)a.Output(0), (long*)a.Output(1), (int*)a.Workspace, outer, inner, n, kk, largest),
            _ => (in StepArgs a) => Run((int*)a.Input(0), (int*)a.Output(0), (long*)a.Output(1), (int*)a.Workspace, outer, inner, n, kk, largest),
        };
    }

    private static void Run<T>(T* x, T* values, long* indices, int* order, long outer, long inner, int n, int k, bool largest)
        where T : unmanaged, System.Numerics.INumber<T>
    {
        for (long o = 0; o < outer; o++)
            for (long i = 0; i < inner; i++)
            {
                T* row = x + o * n * inner + i;
                // Insertion into a sorted prefix of length k: stable, no allocation.
                int filled = 0;
                for (int j = 0; j < n; j++)
                {
                    T v = row[j * inner];
                    int pos = filled;
                    while (pos > 0 && Before(v, row[order[pos - 1] * inner], largest)) pos--;
                    if (pos >= k) continue;
                    int last = Math.Min(filled, k - 1);
                    for (int m = last; m > pos; m--) order[m] = order[m - 1];
                    order[pos] = j;
                    if (filled < k) filled++;
                }
                for (int m = 0; m < k; m++)
                {
                    long at = o * k * inner + m * inner + i;
                    values[at] = row[order[m] * inner];
                    indices[at] = order[m];
                }
            }
    }

    /// <summary>Whether v goes strictly before w (equal values keep their order).</summary>
    private static bool Before<T>(T v, T w, bool largest) where T : System.Numerics.INumber<T> => largest ? v > w : v < w;
}
