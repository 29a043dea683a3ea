using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using FastInfer.Formats.Onnx;
using FastInfer.Ir;
using FastInfer.Runtime;
using FastInfer.Tests.Formats.OnnxTests;
using FastInfer.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace FastInfer.Tests.Concurrency;

/// <summary>
/// One session, many threads: concurrent Run calls return exactly (bit for bit) what sequential runs of the same
/// session return, allocate nothing in steady state, and Dispose while runs are in flight waits for them.
/// The session has two intra-op threads, so concurrent runs also exercise the worker pool's rule that a loop
/// started while another holds the pool runs serially on its caller.
/// </summary>
public class ConcurrentRunTests(ITestOutputHelper output)
{
    private const int Threads = 8;
    private const int DistinctInputs = 16;

    public static TheoryData<string, int> Models => new()
    {
        { "seed-cnn-28x28x1", 300 },
        { "seed-cnn-32x32x3", 200 },
        { "matmul-softmax", 500 },
    };

    internal static byte[] ModelBytes(string name) => name switch
    {
        "seed-cnn-28x28x1" => SeedCnn.Build(28, 28, 1),
        "seed-cnn-32x32x3" => SeedCnn.Build(32, 32, 3),
        "matmul-softmax" => ConcurrencyModels.MatMulSoftmax(64, 10, seed: 7),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Concurrent_runs_equal_sequential_runs_bit_for_bit_and_allocate_nothing(string model, int runsPerThread)
    {
        using var session = InferenceSession.Create(OnnxReader.Load(ModelBytes(model)),
            new SessionOptions { IntraOpThreads = 2, ExpectedConcurrentRuns = Threads });
        Stress(session, runsPerThread, model);
    }

    [ResNet18Fact]
    public void Concurrent_ResNet18_runs_equal_sequential_runs_bit_for_bit()
    {
        using var session = InferenceSession.Load(TestModels.ResNet18!, new SessionOptions { IntraOpThreads = 2, ExpectedConcurrentRuns = Threads });
        Stress(session, runsPerThread: 2, "resnet18", distinct: 2);
    }

    private void Stress(InferenceSession session, int runsPerThread, string model, int distinct = DistinctInputs)
    {
        var inputInfo = session.Inputs[0];
        var outputInfo = session.Outputs[0];
        int[] inShape = session.DefaultShape(inputInfo);
        int inCount = inShape.Aggregate(1, (a, b) => a * b);
        var inputs = Enumerable.Range(0, distinct).Select(i => Tensor.FromArray(TensorAssert.RandomFloats(inCount, 100 + i), inShape)).ToArray();
        try
        {
            // The reference: the same session, one run at a time.
            var expected = inputs.Select(x =>
            {
                var r = session.Run(new NamedTensor(inputInfo.Name, x));
                var bits = r[0].Tensor.ToArray<float>();
                foreach (var t in r) t.Tensor.Dispose();
                return bits;
            }).ToArray();
            int[] outShape = session.GetOutputShapes([new NamedTensor(inputInfo.Name, inputs[0])], out _)[0].ToArray();

            var failures = new ConcurrentQueue<string>();
            var allocated = new long[Threads];
            var cleanRuns = new int[Threads];
            var allocatingRuns = new int[Threads];
            using var start = new Barrier(Threads);
            var clock = new Stopwatch();
            var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
            {
                using var y = Tensor.Allocate(DataType.Float, outShape);
                var given = new NamedTensor[1];
                var outs = new[] { new NamedTensor(outputInfo.Name, y) };
                try
                {
                    given[0] = new NamedTensor(inputInfo.Name, inputs[t % distinct]);
                    session.Run(given, outs); // this thread's first call (plans and frames already exist)
                    start.SignalAndWait();
                    if (t == 0) clock.Start();
                    // Past runsPerThread, a thread runs on (up to 20 more) until one run was free of garbage collections and
                    // of the one-off ~8 KB window described below: collections caused by test classes running in parallel
                    // would otherwise leave nothing to count, and a lone clean run could be that window.
                    for (int k = 0; k < runsPerThread || (cleanRuns[t] - allocatingRuns[t] == 0 && k < runsPerThread + 20); k++)
                    {
                        int which = (t * 5 + k * 3) % distinct;
                        given[0] = new NamedTensor(inputInfo.Name, inputs[which]);
                        // Counted per run, over the runs no garbage collection interrupted (see AllocationMeter).
                        if (AllocationMeter.Measure(() => session.Run(given, outs)) is long bytes)
                        {
                            allocated[t] += bytes;
                            cleanRuns[t]++;
                            if (bytes != 0) allocatingRuns[t]++;
                        }
                        if (!MemoryMarshal.AsBytes(y.AsSpan<float>()).SequenceEqual(MemoryMarshal.AsBytes(expected[which].AsSpan())))
                            failures.Enqueue($"thread {t}, run {k}: output for input {which} differs from the sequential run");
                    }
                }
                catch (Exception e) { failures.Enqueue($"thread {t}: {e}"); }
            }) { Name = $"stress {t}" }).ToArray();
            foreach (var th in threads) th.Start();
            foreach (var th in threads) Assert.True(th.Join(TimeSpan.FromMinutes(5)), "a stress thread did not finish");
            clock.Stop();

            string figures = $"{model}: {Threads} threads × {runsPerThread} runs in {clock.Elapsed.TotalSeconds:F2} s " +
                $"({Threads * runsPerThread / clock.Elapsed.TotalSeconds:F0} runs/s)";
            output.WriteLine(figures);
            Console.WriteLine($"[stress] {figures}");
            Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(5)));
            // A run that allocates does so every time. One window per thread may still show ~8 KB that the run did not
            // allocate: the runtime retiring the thread's allocation context (CI saw 7,968 and 8,136 B, all 8 threads
            // alike, once in ~200 runs, with no collection counted). So: at most one such window, and zero bytes in all
            // the other clean runs, of which there must be at least one.
            for (int t = 0; t < Threads; t++)
            {
                Assert.True(cleanRuns[t] > 0, $"thread {t}: every run was interrupted by a garbage collection");
                Assert.True(allocatingRuns[t] <= 1 && cleanRuns[t] - allocatingRuns[t] >= 1,
                    $"thread {t}: {allocatingRuns[t]} of {cleanRuns[t]} clean runs allocated ({allocated[t]} bytes in all)");
            }
        }
        finally { foreach (var x in inputs) x.Dispose(); }
    }

    [Fact]
    public void More_concurrent_runs_than_expected_still_give_the_sequential_results()
    {
        // ExpectedConcurrentRuns = 1: extra frames are created on demand (allocation allowed), results still exact.
        using var session = InferenceSession.Create(OnnxReader.Load(ModelBytes("matmul-softmax")), new SessionOptions { IntraOpThreads = 2 });
        using var x = Tensor.FromArray(TensorAssert.RandomFloats(4 * 64, 9), 4, 64);
        float[] expected = session.Run(new NamedTensor("x", x))[0].Tensor.ToArray<float>();
        var failures = new ConcurrentQueue<string>();
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
        {
            using var y = Tensor.Allocate(DataType.Float, 4, 10);
            for (int k = 0; k < 100; k++)
            {
                session.Run([new NamedTensor("x", x)], [new NamedTensor("y", y)]);
                if (!y.AsSpan<float>().SequenceEqual(expected)) failures.Enqueue($"thread {t} run {k}");
            }
        });
        Assert.Empty(failures);
    }

    [Fact]
    public void Dispose_while_runs_are_in_flight_waits_for_them_then_refuses_new_runs()
    {
        var session = InferenceSession.Create(OnnxReader.Load(ModelBytes("seed-cnn-28x28x1")), new SessionOptions { IntraOpThreads = 2, ExpectedConcurrentRuns = 4 });
        using var x = Tensor.FromArray(TensorAssert.RandomFloats(784, 5), 1, 1, 28, 28);
        float[] expected = session.Run(new NamedTensor("input", x))[0].Tensor.ToArray<float>();
        var failures = new ConcurrentQueue<string>();
        var completed = new int[4];
        var refused = new bool[4];
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            using var y = Tensor.Allocate(DataType.Float, 1, 10);
            try
            {
                while (true)
                {
                    session.Run([new NamedTensor("input", x)], [new NamedTensor("probabilities", y)]);
                    // A run that returned normally ran entirely before Dispose freed anything: its output is exact.
                    if (!y.AsSpan<float>().SequenceEqual(expected)) failures.Enqueue($"thread {t}: wrong output");
                    Interlocked.Increment(ref completed[t]);
                }
            }
            catch (ObjectDisposedException) { refused[t] = true; }
            catch (Exception e) { failures.Enqueue($"thread {t}: {e}"); }
        })).ToArray();
        foreach (var th in threads) th.Start();
        var wait = Stopwatch.StartNew();
        while (completed.Any(c => Volatile.Read(ref c) < 5) && wait.Elapsed < TimeSpan.FromSeconds(30)) Thread.Sleep(1);
        session.Dispose();
        foreach (var th in threads) Assert.True(th.Join(TimeSpan.FromSeconds(30)));
        Assert.Empty(failures);
        Assert.All(refused, Assert.True);
        // Every entry point refuses a disposed session; Dispose twice is harmless.
        Assert.Throws<ObjectDisposedException>(() => session.Run(new NamedTensor("input", x)));
        Assert.Throws<ObjectDisposedException>(() => session.GetOutputShapes([new NamedTensor("input", x)], out _));
        Assert.Throws<ObjectDisposedException>(() => session.DescribePlan());
        session.Dispose();
    }
}
