using FastInfer.Ir;

namespace FastInfer.Runtime.Optimization;

/// <summary>
/// The graph passes run once per session, before operators are created. Each pass rewrites the
/// <see cref="ModelGraph"/> in place and keeps its meaning; the runtime needs no knowledge of which ran.
/// Shape-dependent folding happens later, per plan (see <c>PlanBuilder</c>).
/// </summary>
internal static class GraphOptimizer
{
    /// <param name="cpuOnly">The session runs on the CPU alone: fusions only the CPU kernels implement (a max pool
    /// inside a convolution, attention) are allowed; a device partition lowers the standard operators instead.</param>
    public static OptimizationStatistics Optimize(ModelGraph graph, bool cpuOnly = true)
    {
        var stats = new OptimizationStatistics();
        SortTopologically(graph);
        stats.Add("identity removed", IdentityElimination.Run(graph));
        stats.Add("batchnorm folded into conv", BatchNormFolding.Run(graph));
        stats.Add("residual add fused into conv", ConvFusion.FuseResidualAdd(graph));
        stats.Add("activation fused into conv or gemm", ConvFusion.FuseActivation(graph));
        if (cpuOnly) stats.Add("max pool fused into conv", ConvPoolFusion.Run(graph));
        stats.Add("layernorm fused", LayerNormFusion.Run(graph));
        stats.Add("gelu fused", GeluFusion.Run(graph));
        if (cpuOnly) stats.Add("attention fused", AttentionFusion.Run(graph));
        stats.Add("matmul+add fused", MatMulAddFusion.Run(graph));
        stats.Add("residual add / gelu fused into matmul", MatMulEpilogueFusion.Run(graph));
        stats.Add("dead nodes removed", DeadNodeElimination.Run(graph));
        SortTopologically(graph);
        return stats;
    }

    /// <summary>Orders nodes so each comes after the producers of its inputs (stable); a cycle is an error.</summary>
    public static void SortTopologically(ModelGraph graph) => TopologicalSort.Run(graph);
}

/// <summary>How many rewrites each pass made.</summary>
public sealed class OptimizationStatistics
{
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
    public IReadOnlyDictionary<string, int> Counts => _counts;
    internal void Add(string pass, int count) { if (count > 0) _counts[pass] = count; }
    public override string ToString() => string.Join(", ", _counts.Select(kv => $"{kv.Key}: {kv.Value}"));
}
