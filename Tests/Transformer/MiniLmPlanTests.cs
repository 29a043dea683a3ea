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
}
