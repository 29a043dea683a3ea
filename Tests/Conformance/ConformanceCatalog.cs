using FastInfer.Runtime.Operators;
using FastInfer.Tests.Formats.OnnxTests;

namespace FastInfer.Tests.Conformance;

/// <summary>One row of the suite's <c>cases.tsv</c>.</summary>
internal sealed record ConformanceCase(string Name, string[] OpTypes, int Opset, string[] InputTypes, string[] OutputTypes,
    string CoveredOp, bool Selected, string[] SubgraphOpTypes);

/// <summary>
/// The ONNX node conformance cases and which of them FastInfer claims: every op of the case's graph must be in
/// the <see cref="OperatorRegistry"/> for the case's opset, and every graph input and output must be a tensor
/// of an element type the runtime supports. The reason is kept for every case that is not claimed.
/// </summary>
internal static class ConformanceCatalog
{
    /// <summary>Element types the runtime's operators take (as named in cases.tsv).</summary>
    public static readonly HashSet<string> SupportedTypes = new(StringComparer.Ordinal) { "FLOAT", "INT64", "INT32", "BOOL" };

    public static string? Root => OnnxTestPaths.NodeTests;

    public static IReadOnlyList<ConformanceCase> Cases { get; } = Read();

    private static List<ConformanceCase> Read()
    {
        if (Root is null) return new();
        static string[] Split(string s, char c) => s.Split(c, StringSplitOptions.RemoveEmptyEntries);
        return File.ReadAllLines(Path.Combine(Root, "cases.tsv")).Skip(1).Where(l => l.Length > 0).Select(line =>
        {
            var f = line.Split('\t');
            return new ConformanceCase(f[0], Split(f[1], ' '), int.Parse(f[2]), Split(f[3], ','), Split(f[4], ','), f[5],
                f[6] == "kept", f.Length > 7 ? Split(f[7], ' ') : Array.Empty<string>());
        }).ToList();
    }

    public static ConformanceCase Find(string name) => Cases.First(c => c.Name == name);

    /// <summary>Why FastInfer does not claim this case, or null when it does.</summary>
    /// <summary>Cases whose graph inputs and outputs are claimed types but whose inner values are not.</summary>
    private static readonly Dictionary<string, string> InnerTypeGaps = new(StringComparer.Ordinal)
    {
        ["test_reduce_log_sum_exp_empty_set_expanded"] = "unsupported type DOUBLE inside the graph (Cast to float64, then Exp and ReduceSum on float64)",
    };

    public static string? SkipReason(ConformanceCase c)
    {
        if (InnerTypeGaps.TryGetValue(c.Name, out var gap)) return gap;
        if (c.Opset > OperatorRegistry.MaxSupportedOpset)
            return $"opset {c.Opset} is newer than the reader's MaxOpset {OperatorRegistry.MaxSupportedOpset}";
        var reasons = new List<string>();
        var missing = c.OpTypes.Concat(c.SubgraphOpTypes).Distinct().Where(op => !Claims(op, c.Opset)).ToList();
        if (missing.Count > 0) reasons.Add("unsupported op " + string.Join(", ", missing));
        var types = c.InputTypes.Concat(c.OutputTypes).Distinct().Where(t => !SupportedTypes.Contains(t)).ToList();
        if (types.Count > 0) reasons.Add("unsupported type " + string.Join(", ", types));
        return reasons.Count == 0 ? null : string.Join("; ", reasons);
    }

    private static bool Claims(string opType, int opset)
    {
        var entry = OperatorRegistry.All.FirstOrDefault(e => e.OpType == opType);
        if (entry is null) return false;
        return opset >= entry.MinOpset && opset <= entry.MaxOpset;
    }
}
