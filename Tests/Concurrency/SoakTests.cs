using System.Diagnostics;
using FastInfer.Formats.Onnx;
using FastInfer.Ir;
using FastInfer.Runtime;
using FastInfer.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace FastInfer.Tests.Concurrency;

/// <summary>Runs alone: the soak test reads process-wide GC counts and the working set.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SoakCollection
{
    public const string Name = "soak (not parallel)";
}

/// <summary>
/// A reduced-length soak: a session runs back to back on a dedicated thread (several seconds; FASTINFER_SOAK_SECONDS
/// for longer), after warm-up. Steady state must cause no garbage collection at all and no growth of the working
/// set beyond a small margin — what `fastinfer bench MODEL --soak SECONDS` reports for a long run.
/// </summary>
[Collection(SoakCollection.Name)]
public class SoakTests(ITestOutputHelper output)
{
    private const long WorkingSetMarginBytes = 16 << 20;

    [Theory]
    [InlineData("seed-cnn-28x28x1", 1)]
    [InlineData("seed-cnn-32x32x3", 2)]
    [InlineData("matmul-softmax", 2)]
    public void Steady_state_runs_collect_no_garbage_and_hold_the_working_set(string model, int threads)
    {
        double seconds = double.TryParse(Environment.GetEnvironmentVariable("FASTINFER_SOAK_SECONDS"),
            System.Globalization.CultureInfo.InvariantCulture, out double s) && s > 0 ? s : 3;
        using var session = InferenceSession.Create(OnnxReader.Load(ConcurrentRunTests.ModelBytes(model)), new SessionOptions { IntraOpThreads = threads });
        var input = session.Inputs[0];
        int[] shape = session.DefaultShape(input);
        using var x = Tensor.FromArray(TensorAssert.RandomFloats(shape.Aggregate(1, (a, b) => a * b), 11), shape);
        int[] outShape = session.GetOutputShapes([new NamedTensor(input.Name, x)], out _)[0].ToArray();
        using var y = Tensor.Allocate(DataType.Float, outShape);
        NamedTensor[] inputs = [new(input.Name, x)], outputs = [new(session.Outputs[0].Name, y)];

        long runs = 0, allocated = -1, workingStart = 0, workingEnd = 0;
        int[] gcBefore = new int[3], gcAfter = new int[3];
        Exception? error = null;
        var soak = new Thread(() =>
        {
            try
            {
                for (int i = 0; i < 20; i++) session.Run(inputs, outputs); // warm-up: plan, frames, JIT tiers
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
                using var self = Process.GetCurrentProcess();
                workingStart = self.WorkingSet64;
                for (int g = 0; g < 3; g++) gcBefore[g] = GC.CollectionCount(g);
                long start = Stopwatch.GetTimestamp();
                long before = GC.GetAllocatedBytesForCurrentThread();
                while (Stopwatch.GetElapsedTime(start).TotalSeconds < seconds)
                {
                    for (int k = 0; k < 16; k++) session.Run(inputs, outputs);
                    runs += 16;
                }
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                for (int g = 0; g < 3; g++) gcAfter[g] = GC.CollectionCount(g);
                self.Refresh();
                workingEnd = self.WorkingSet64;
            }
            catch (Exception e) { error = e; }
        }) { Name = "soak", IsBackground = true };
        soak.Start();
        Assert.True(soak.Join(TimeSpan.FromSeconds(seconds + 120)), "the soak thread did not finish");
        if (error is not null) throw new Xunit.Sdk.XunitException($"soak failed: {error}");

        string figures = $"{model} ({threads} thread{(threads == 1 ? "" : "s")}): {runs} runs in {seconds:F0} s, " +
            $"working set {workingStart >> 20} → {workingEnd >> 20} MiB, GC collections gen0/1/2 +{gcAfter[0] - gcBefore[0]}/+{gcAfter[1] - gcBefore[1]}/+{gcAfter[2] - gcBefore[2]}, " +
            $"{allocated} bytes allocated by the soak thread";
        output.WriteLine(figures);
        Console.WriteLine($"[soak] {figures}");
        Assert.Equal(0, allocated);
        for (int g = 0; g < 3; g++) Assert.Equal(gcBefore[g], gcAfter[g]);
        Assert.True(workingEnd - workingStart <= WorkingSetMarginBytes,
            $"working set grew by {(workingEnd - workingStart) >> 20} MiB, over the {WorkingSetMarginBytes >> 20} MiB margin");
    }
}
