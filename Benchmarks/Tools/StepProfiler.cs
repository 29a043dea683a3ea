using System.Diagnostics;
using System.Reflection;
using FastInfer.Runtime;
using FastInfer.Runtime.Operators;
using FastInfer.Runtime.Planning;

namespace FastInfer.Benchmarks.Tools;

/// <summary>
/// Times every step of a session's plan: after the first Run, each step's action is wrapped (through
/// reflection, a profiling-only hack) with a stopwatch that accumulates per step. Reports the p50 of each step
/// over the repetitions, sorted by the plan's order.
/// </summary>
public static class StepProfiler
{
    /// <param name="toggle">When given, runs alternate between toggle(true) and toggle(false) and each step's two p50s are
    /// reported side by side: a per-step in-process A/B.</param>
    public static void Run(InferenceSession session, NamedTensor[] inputs, NamedTensor[] outputs, int reps, Action<bool>? toggle = null)
    {
        bool on = true;
        var plan = Hook(session, inputs, outputs, () => on, out var samples, out var samplesOff);
        var totals = new List<double>();
        for (int r = 0; r < reps * (toggle != null ? 2 : 1); r++)
        {
            if (toggle != null) toggle(on = r % 2 == 0);
            long t0 = Stopwatch.GetTimestamp();
            session.Run(inputs, outputs);
            totals.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        double sum = 0, sumMin = 0;
        for (int i = 0; i < plan.Steps.Length; i++)
        {
            var s = samples[i];
            s.Sort();
            double p50 = s[s.Count / 2], min = s[0];
            sum += p50; sumMin += min;
            var node = plan.Steps[i].Node;
            string off = "";
            if (toggle != null) { samplesOff[i].Sort(); off = $"  off: p50 {samplesOff[i][samplesOff[i].Count / 2],8:F4} ms  min {samplesOff[i][0],8:F4} ms"; }
            Console.WriteLine($"{i,3} {node.OpType,-14} {node.Outputs[0],-28} p50 {p50,8:F4} ms  min {min,8:F4} ms{off}");
        }
        // Per operator type: where the time goes in graphs with hundreds of small steps (transformers).
        var byType = new SortedDictionary<string, (double P50, int Count)>();
        for (int i = 0; i < plan.Steps.Length; i++)
        {
            var s = samples[i];
            string op = plan.Steps[i].Node.OpType;
            byType.TryGetValue(op, out var acc);
            byType[op] = (acc.P50 + s[s.Count / 2], acc.Count + 1);
        }
        foreach (var (op, acc) in byType.OrderByDescending(kv => kv.Value.P50))
            Console.WriteLine($"  {op,-20} x{acc.Count,-4} sum of p50 {acc.P50,8:F3} ms");
        totals.Sort();
        Console.WriteLine($"steps: sum of p50 {sum:F2} ms, sum of min {sumMin:F2} ms; whole Run p50 {totals[totals.Count / 2]:F2} ms, min {totals[0]:F2} ms");
    }

    /// <summary>
    /// Wraps every step of the session's plan with a stopwatch (after one Run has built the plan); each time goes to
    /// <paramref name="samples"/> while <paramref name="first"/> says so, else to <paramref name="samplesOther"/>.
    /// </summary>
    private static ExecutionPlan Hook(InferenceSession session, NamedTensor[] inputs, NamedTensor[] outputs, Func<bool> first,
        out List<double>[] samples, out List<double>[] samplesOther)
    {
        session.Run(inputs, outputs);
        var cache = typeof(InferenceSession).GetField("_plans", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(session)!;
        var plans = (List<ExecutionPlan>)cache.GetType().GetField("_plans", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(cache)!;
        var plan = plans[0];
        samples = new List<double>[plan.Steps.Length];
        samplesOther = new List<double>[plan.Steps.Length];
        var actionField = typeof(PlannedStep).GetField("<Action>k__BackingField", BindingFlags.NonPublic | BindingFlags.Instance)!;
        for (int i = 0; i < plan.Steps.Length; i++)
        {
            var list = samples[i] = new List<double>();
            var listOther = samplesOther[i] = new List<double>();
            var inner = plan.Steps[i].Action;
            StepAction timed = (in StepArgs a) =>
            {
                long t0 = Stopwatch.GetTimestamp();
                inner(a);
                (first() ? list : listOther).Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            };
            actionField.SetValue(plan.Steps[i], timed);
        }
        return plan;
    }

    /// <summary>
    /// Per-step scaling: the same model in a 1-thread and an n-thread session, runs alternating between them so the
    /// machine's drifts hit both alike; each step's p50 under both and the speed-up. Where a step scales badly, its
    /// split (or the data it hands between cores) is the place to look.
    /// </summary>
    public static void Scaling(InferenceSession one, InferenceSession many, NamedTensor[] inputs, NamedTensor[] outputs, int reps)
    {
        var planOne = Hook(one, inputs, outputs, () => true, out var s1, out _);
        var planMany = Hook(many, inputs, outputs, () => true, out var sn, out _);
        double sum1 = 0, sumN = 0;
        for (int r = 0; r < reps; r++) { one.Run(inputs, outputs); many.Run(inputs, outputs); }
        for (int i = 0; i < planOne.Steps.Length && i < planMany.Steps.Length; i++)
        {
            s1[i].Sort(); sn[i].Sort();
            double a = s1[i][s1[i].Count / 2], b = sn[i][sn[i].Count / 2];
            sum1 += a; sumN += b;
            var node = planMany.Steps[i].Node;
            Console.WriteLine($"{i,3} {node.OpType,-14} {node.Outputs[0],-28} 1 thread {a,8:F3} ms  {many.Options.IntraOpThreads} threads {b,8:F3} ms  x{a / b,5:F2}");
        }
        Console.WriteLine($"steps: sum of p50 1 thread {sum1:F2} ms, {many.Options.IntraOpThreads} threads {sumN:F2} ms, x{sum1 / sumN:F2}");
    }
}
