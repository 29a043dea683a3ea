using System.Diagnostics;
using System.Reflection;
using FastInfer.Kernels.Threading;
using FastInfer.Runtime;
using FastInfer.Runtime.Operators;
using FastInfer.Runtime.Planning;

namespace FastInfer.Tests.Transformer;

/// <summary>
/// Times each step of a session's plan by op type (a diagnostic for tests and reports, not a product API): it
/// reaches the cached plan by reflection and runs its steps one by one as <c>ExecutionPlan.Execute</c> does.
/// </summary>
internal static unsafe class StepProfiler
{
    public static List<(string Op, double Ms, int Count)> Profile(InferenceSession session, NamedTensor[] inputs, int rounds)
    {
        // Warm up so tiered JIT has promoted the kernels, as in a long-running service.
        for (int i = 0; i < 20; i++) session.Run(inputs).ToList().ForEach(t => t.Tensor.Dispose());
        var cache = typeof(InferenceSession).GetField("_plans", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(session)!;
        var plans = (List<ExecutionPlan>)cache.GetType().GetField("_plans", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(cache)!;
        var pool = (WorkerPool)typeof(InferenceSession).GetField("_pool", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(session)!;
        var plan = plans[0];
        var frame = plan.RentFrame();
        var ptr = frame.Pointers;
        for (int i = 0; i < plan.InputIds.Length; i++)
        {
            var v = plan.Values[plan.InputIds[i]];
            if (v.Kind == ValueKind.Input) ptr[v.Id] = inputs.Single(t => t.Name == session.Inputs[i].Name).Tensor.Pointer;
        }
        for (int o = 0; o < plan.OutputIds.Length; o++) ptr[plan.OutputIds[o]] = frame.Scratch(o);
        foreach (var (alias, root) in plan.Aliases) ptr[alias] = ptr[root];
        var totals = new Dictionary<string, (double Ms, int Count)>();
        nint arena = (nint)frame.Arena.Pointer;
        for (int r = 0; r < rounds; r++)
        {
            foreach (var step in plan.Steps)
            {
                var args = new StepArgs(ptr, step.Inputs, step.Outputs, arena + (nint)step.WorkspaceOffset, pool);
                long start = Stopwatch.GetTimestamp();
                step.Action(in args);
                double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds / rounds;
                var t = totals.GetValueOrDefault(step.Node.OpType);
                totals[step.Node.OpType] = (t.Ms + ms, r == 0 ? t.Count + 1 : t.Count);
            }
        }
        plan.ReturnFrame(frame);
        return totals.Select(kv => (kv.Key, kv.Value.Ms, kv.Value.Count)).OrderByDescending(t => t.Ms).ToList();
    }
}
