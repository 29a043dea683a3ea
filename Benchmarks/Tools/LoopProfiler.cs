using System.Diagnostics;
using FastInfer.Kernels.Threading;
using FastInfer.Runtime;

namespace FastInfer.Benchmarks.Tools;

/// <summary>
/// Where a 2-thread Run loses its second core: every parallel loop of a Run (<see cref="LoopTrace"/>), in plan order,
/// with the medians over the repetitions of its length, how long the worker took to join, each thread's busy time, and
/// how long the caller waited for the worker after its own share. A loop whose two busy times differ is unbalanced; a
/// long join is a wake-up or a descheduled worker; time between loops is serial work.
/// </summary>
public static class LoopProfiler
{
    public static void Run(InferenceSession session, NamedTensor[] inputs, NamedTensor[] outputs, int reps)
    {
        var runs = new List<LoopTrace.Loop[]>();
        var runTimes = new List<double>();
        for (int r = 0; r < reps; r++)
        {
            LoopTrace.Start();
            long t0 = Stopwatch.GetTimestamp();
            session.Run(inputs, outputs);
            runTimes.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
            runs.Add(LoopTrace.Stop().ToArray());
        }
        int loops = runs.Min(l => l.Length);
        if (runs.Any(l => l.Length != loops)) Console.WriteLine("(runs had different loop counts; the shortest is shown)");
        double Us(long ticks) => ticks * 1e6 / Stopwatch.Frequency;
        double Median(IEnumerable<double> v) { var a = v.Order().ToArray(); return a[a.Length / 2]; }
        Console.WriteLine("loop  items   total µs  join µs  caller µs  worker µs  wait µs  (medians)");
        double sumTotal = 0, sumIdle = 0;
        for (int j = 0; j < loops; j++)
        {
            var l = runs.Select(r => r[j]).ToArray();
            double total = Median(l.Select(x => Us(x.Closed - x.Opened)));
            double join = Median(l.Select(x => x.Joined > 0 ? Us(x.WorkerJoined - x.Opened) : Us(x.Closed - x.Opened)));
            double caller = Median(l.Select(x => Us(x.CallerDone - x.Opened)));
            double worker = Median(l.Select(x => x.Joined > 0 ? Us(x.WorkerDone - x.WorkerJoined) : 0));
            double wait = Median(l.Select(x => Us(x.Closed - x.CallerDone)));
            sumTotal += total;
            // Core time not spent on the loop's items: the worker's join delay and whichever thread finished first.
            sumIdle += 2 * total - caller - worker;
            Console.WriteLine($"{j,4} {l[0].Count,6} {total,10:F1} {join,8:F1} {caller,10:F1} {worker,10:F1} {wait,8:F1}");
        }
        double run = Median(runTimes);
        Console.WriteLine($"Run p50 {run:F0} µs; in loops {sumTotal:F0} µs ({loops} loops), outside loops {run - sumTotal:F0} µs; " +
            $"core time idle inside loops {sumIdle:F0} µs of {2 * sumTotal:F0}");
    }
}
