using System.Text;
using Xunit;
using Xunit.Abstractions;

namespace FastInfer.Tests.Conformance;

/// <summary>
/// The ONNX project's backend node test cases (../shared/onnx-node-tests): one test per case, run when FastInfer
/// claims every op and element type of its graph, reported as skipped with the reason otherwise.
/// </summary>
public class NodeConformanceTests(ITestOutputHelper output)
{
    private const string NotFound = "ONNX node conformance cases not found: set FASTINFER_SHARED or put shared/onnx-node-tests beside the repository";

    /// <summary>Rows (case name, skip reason): an empty reason means the case runs.</summary>
    public static IEnumerable<object[]> Cases()
    {
        if (ConformanceCatalog.Root is null)
        {
            yield return new object[] { "(none)", NotFound };
            yield break;
        }
        foreach (var c in ConformanceCatalog.Cases) yield return new object[] { c.Name, ConformanceCatalog.SkipReason(c) ?? "" };
    }

    [SkippableRowTheory]
    [MemberData(nameof(Cases))]
    public void Case(string name, string skipReason)
    {
        Assert.Equal("", skipReason); // rows with a reason never reach here (see SkippableRowTheoryDiscoverer)
        ConformanceRunner.Run(Path.Combine(ConformanceCatalog.Root!, name));
    }

    /// <summary>Every case of selected.tsv must be claimed (and so run above); prints pass counts per covered operator.</summary>
    [Formats.OnnxTests.NodeTestsFact]
    public void Every_selected_case_is_claimed_and_summary_per_operator()
    {
        var byOp = new SortedDictionary<string, (int Passed, int Failed, int Skipped)>(StringComparer.Ordinal);
        var unclaimed = new List<string>();
        var failures = new List<string>();
        foreach (var c in ConformanceCatalog.Cases)
        {
            var counts = byOp.GetValueOrDefault(c.CoveredOp);
            string? reason = ConformanceCatalog.SkipReason(c);
            if (reason is not null)
            {
                if (c.Selected) unclaimed.Add($"{c.Name}: {reason}");
                counts.Skipped++;
            }
            else
            {
                try { ConformanceRunner.Run(Path.Combine(ConformanceCatalog.Root!, c.Name)); counts.Passed++; }
                catch (Exception e) { counts.Failed++; failures.Add($"{c.Name}: {e.GetType().Name}: {e.Message}"); }
            }
            byOp[c.CoveredOp] = counts;
        }
        var report = new StringBuilder("| op | passed | failed | skipped |\n|---|---:|---:|---:|\n");
        foreach (var (op, (p, f, s)) in byOp) if (p + f > 0) report.Append($"| {op} | {p} | {f} | {s} |\n");
        report.Append($"| **total** | {byOp.Values.Sum(v => v.Passed)} | {byOp.Values.Sum(v => v.Failed)} | {byOp.Values.Sum(v => v.Skipped)} |\n");
        output.WriteLine(report.ToString());
        foreach (var f in failures) output.WriteLine("FAILED " + f);
        Assert.True(unclaimed.Count == 0, "selected cases not claimed:\n" + string.Join("\n", unclaimed));
    }
}
