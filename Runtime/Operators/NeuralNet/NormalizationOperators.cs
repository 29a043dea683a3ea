using System.Numerics.Tensors;
using FastInfer.Ir;
using FastInfer.Kernels.Elementwise;
using FastInfer.Kernels.Platform;

namespace FastInfer.Runtime.Operators.NeuralNet;

/// <summary>BatchNormalization (inference), Softmax and LogSoftmax.</summary>
internal static unsafe class NormalizationOperators
{
    public static IEnumerable<OperatorEntry> Entries()
    {
        yield return OperatorRegistry.Simple("BatchNormalization", PlanBatchNorm);
        yield return OperatorRegistry.Simple("Softmax", ctx => PlanSoftmax(ctx, log: false));
        yield return OperatorRegistry.Simple("LogSoftmax", ctx => PlanSoftmax(ctx, log: true));
    }

    private static StepAction PlanBatchNorm(PlanContext ctx)
    {
        ctx.RequireType(0, DataType.Float);
        var x = ctx.InputShape(0);
        if (x.Rank < 2) throw ctx.Fail($"input {x} needs a channel axis");
        int c = x[1];
        if (ctx.Node.GetInt("training_mode", 0) != 0 || ctx.HasOutput(1) || ctx.HasOutput(2))
            return PlanBatchNormTraining(ctx, x, c);
        for (int i = 1; i <= 4; i++)
            if (ctx.InputShape(i).ElementCount != c) throw ctx.Fail($"input {i} {ctx.InputShape(i)} does not have {c} values");
        ctx.SetOutput(0, DataType.Float, x);
        float eps = ctx.Node.GetFloat("epsilon", 1e-5f);
        long n = x[0], plane = x.Size(2, x.Rank);
        ctx.WorkspaceBytes = 2L * c * sizeof(float);
        return (in StepArgs a) =>
        {
            float* scale = (float*)a.Workspace, shift = scale + c;
            float* gamma = a.InF(1), beta = a.InF(2), mean = a.InF(3), variance = a.InF(4);
            for (int k = 0; k < c; k++)
            {
                scale[k] = gamma[k] / MathF.Sqrt(variance[k] + eps);
                shift[k] = beta[k] - mean[k] * scale[k];
            }
            float* src = a.InF(0), dst = a.OutF(0);
            for (long b = 0; b < n; b++)
                for (int k = 0; k < c; k++)
                {
                    long o = (b * c + k) * plane;
                    var y = new Span<float>(dst + o, (int)plane);
                    TensorPrimitives.Multiply(new ReadOnlySpan<float>(src + o, (int)plane), scale[k], y);
                    TensorPrimitives.Add(y, shift[k], y);
                }
        };
    }

    /// <summary>
    /// Training mode: normalize with the batch's own mean and (population) variance per channel, and output the
    /// updated running statistics: running = input·momentum + batch·(1 − momentum).
    /// </summary>
    private static StepAction PlanBatchNormTraining(PlanContext ctx, TensorShape x, int c)
    {
        for (int i = 1; i <= 4; i++)
            if (ctx.InputShape(i).ElementCount != c) throw ctx.Fail($"input {i} {ctx.InputShape(i)} does not have {c} values");
        ctx.SetOutput(0, DataType.Float, x);
        bool wantMean = ctx.HasOutput(1), wantVar = ctx.HasOutput(2);
        if (wantMean) ctx.SetOutput(1, DataType.Float, new TensorShape(c));
        if (wantVar) ctx.SetOutput(2, DataType.Float, new TensorShape(c));
        float eps = ctx.Node.GetFloat("epsilon", 1e-5f), momentum = ctx.Node.GetFloat("momentum", 0.9f);
        long n = x[0], plane = x.Size(2, x.Rank);
        return (in StepArgs a) =>
        {
            float* src = a.InF(0), dst = a.OutF(0), gamma = a.InF(1), beta = a.InF(2), runMean = a.InF(3), runVar = a.InF(4);
            for (int k = 0; k < c; k++)
            {
                double sum = 0, squares = 0;
                for (long b = 0; b < n; b++)
                {
                    var row = new ReadOnlySpan<float>(src + (b * c + k) * plane, (int)plane);
                    foreach (float v in row) { sum += v; squares += (double)v * v; }
                }
                double count = n * plane;
                double mean = sum / count, variance = Math.Max(0, squares / count - mean * mean);
                float scale = (float)(gamma[k] / Math.Sqrt(variance + eps)), shift = (float)(beta[k] - mean * scale);
                for (long b = 0; b < n; b++)
                {
                    long o = (b * c + k) * plane;
                    var y = new Span<float>(dst + o, (int)plane);
                    TensorPrimitives.Multiply(new ReadOnlySpan<float>(src + o, (int)plane), scale, y);
                    TensorPrimitives.Add(y, shift, y);
                }
                if (wantMean) a.OutF(1)[k] = (float)(runMean[k] * momentum + mean * (1 - momentum));
                if (wantVar) a.OutF(2)[k] = (float)(runVar[k] * momentum + variance * (1 - momentum));
            }
        };
    }

    private static StepAction PlanSoftmax(PlanContext ctx, bool log)
    {
        ctx.RequireType(0, DataType.Float);
        var x = ctx.InputShape(0);
        ctx.SetOutput(0, DataType.Float, x);
        int axis = x.Axis(ctx.Node.GetInt("axis", ctx.Opset >= 13 ? -1 : 1));
        // Before opset 13 the input is coerced to 2-D at axis: softmax runs over all trailing axes together.
        long outer, length, inner;
        if (ctx.Opset < 13) { outer = x.Size(0, axis); length = x.Size(axis, x.Rank); inner = 1; }
        else { outer = x.Size(0, axis); length = x.Rank == 0 ? 1 : x[axis]; inner = x.Size(axis + 1, x.Rank); }
        if (inner != 1)
        {
            return (in StepArgs a) => SoftmaxStrided(a.InF(0), a.OutF(0), outer, length, inner, log);
        }
        int len = checked((int)length);
        bool wide = KernelIsa.Current == IsaLevel.Avx512;
        return (in StepArgs a) =>
        {
            var rows = new SoftmaxRows { X = a.InF(0), Y = a.OutF(0), Length = len, Log = log, Wide = wide };
            ParallelRows.Run(a.Pool, outer, 1 + 8192 / Math.Max(1, len), ref rows);
        };
    }

    private struct SoftmaxRows : IRowRange
    {
        public float* X, Y;
        public int Length;
        public bool Log, Wide;

        public void Rows(long start, long end)
        {
            for (long o = start; o < end; o++)
            {
                if (Log) LogSoftmaxRow(new ReadOnlySpan<float>(X + o * Length, Length), new Span<float>(Y + o * Length, Length));
                else SoftmaxKernel.Row(X + o * Length, Y + o * Length, Length, Wide);
            }
        }
    }

    /// <summary>Log softmax of one contiguous row: (x − max) − log Σ exp(x − max), without dividing.</summary>
    internal static void LogSoftmaxRow(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length == 0) return;
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        float sum = 0;
        foreach (float v in y) sum += MathF.Exp(v);
        TensorPrimitives.Subtract(y, MathF.Log(sum), y);
    }

    private static void SoftmaxStrided(float* x, float* y, long outer, long length, long inner, bool log)
    {
        for (long o = 0; o < outer; o++)
        for (long i = 0; i < inner; i++)
        {
            float* px = x + o * length * inner + i, py = y + o * length * inner + i;
            float max = float.NegativeInfinity;
            for (long k = 0; k < length; k++) max = Math.Max(max, px[k * inner]);
            double sum = 0;
            for (long k = 0; k < length; k++) sum += Math.Exp(px[k * inner] - max);
            for (long k = 0; k < length; k++)
            {
                float v = px[k * inner] - max;
                py[k * inner] = log ? v - (float)Math.Log(sum) : (float)(Math.Exp(v) / sum);
            }
        }
    }
}
