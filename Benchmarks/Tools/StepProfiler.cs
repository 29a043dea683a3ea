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
        session.Run(inputs, outputs);
        var cache = typeof(InferenceSession).GetField("_plans", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(session)!;
        var plans = (List<ExecutionPlan>)cache.GetType().GetField("_plans", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(cache)!;
        var plan = plans[0];
        var samples = new List<double>[plan.Steps.Length];
        var samplesOff = new List<double>[plan.Steps.Length];
        bool on = true;
        var actionField = typeof(PlannedStep).GetField("<Action>k__BackingField", BindingFlags.NonPublic | BindingFlags.Instance)!;
        for (int i = 0; i < plan.Steps.Length; i++)
        {
            var list = samples[i] = new List<double>();
            var listOff = samplesOff[i] = new List<double>();
            var inner = plan.Steps[i].Action;
            StepAction timed = (in StepArgs a) =>
            {
                long t0 = Stopwatch.GetTimestamp();
                inner(a);
                (on ? list : listOff).Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            };
            actionField.SetValue(plan.Steps[i], timed);
        }
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
            if (toggle != null) { samplesOff[i].Sort(); off = $"  off: p50 {samplesOff[i][samplesOff[i].Count / 2],8:F3} ms  min {samplesOff[i][0],8:F3} ms"; }
            Console.WriteLine($"{i,3} {node.OpType,-14} {node.Outputs[0],-28} p50 {p50,8:F3} ms  min {min,8:F3} ms{off}");
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
}
