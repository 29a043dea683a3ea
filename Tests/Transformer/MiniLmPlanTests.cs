using FastInfer.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace FastInfer.Tests.Transformer;

/// <summary>What the graph passes and planner make of MiniLM: shape subgraphs folded, LayerNorm and GELU fused.</summary>
public class MiniLmPlanTests(ITestOutputHelper output)
{
    [MiniLmFact]
    public void Shape_subgraphs_fold_and_layernorm_and_gelu_fuse()
    {
        using var session = InferenceSession.Load(MiniLmModel.Path!, new SessionOptions { IntraOpThreads = 1 });
        var plan = session.DescribePlan(new Dictionary<string, int[]>
        {
            ["input_ids"] = new[] { 2, 16 }, ["attention_mask"] = new[] { 2, 16 }, ["token_type_ids"] = new[] { 2, 16 },
        });
        output.WriteLine(session.Statistics.ToString());
        output.WriteLine($"{plan.StepCount} steps, {plan.FoldedNodes} folded: " + string.Join(" ", plan.StepOps.GroupBy(o => o).Select(g => $"{g.Key}x{g.Count()}")));
        Assert.DoesNotContain("Shape", plan.StepOps);
        Assert.DoesNotContain("Gather", plan.StepOps.Where(o => o == "Gather").Skip(3)); // only the embedding lookups stay
        Assert.DoesNotContain("ReduceMean", plan.StepOps);
        Assert.DoesNotContain("Erf", plan.StepOps);
    }

    [MiniLmFact]
    public void Time_per_op_type_is_reported()
    {
        using var session = InferenceSession.Load(MiniLmModel.Path!, new SessionOptions { IntraOpThreads = 1 });
        var (ids, mask, types) = MiniLmModel.Inputs(1, 128, seed: 3);
        using var a = Tensor.FromArray(ids, 1, 128);
        using var b = Tensor.FromArray(mask, 1, 128);
        using var c = Tensor.FromArray(types, 1, 128);
        var profile = StepProfiler.Profile(session, new[] { new NamedTensor("input_ids", a), new NamedTensor("attention_mask", b), new NamedTensor("token_type_ids", c) }, rounds: 5);
        foreach (var (op, ms, count) in profile) output.WriteLine($"{op,-12} x{count,-3} {ms,8:F2} ms");
        Assert.NotEmpty(profile);
    }
}
