using Xunit;
using Xunit.Abstractions;

namespace FastInfer.Tests.Fuzz;

/// <summary>
/// Deterministic mutation fuzz of every reader (the table in <see cref="FuzzTargets"/>): each mutated input either
/// loads or is rejected with the reader's documented exception — never another type, a hang or an allocation over
/// the bound. Saved regression inputs (Tests/Fuzz/corpus/&lt;target&gt;/) are replayed on every run.
/// </summary>
/// Runs alone (not beside other test classes): allocation is measured per thread and the hang timeout is wall-clock,
/// so CPU and memory pressure from parallel tests would blur both. (Before Formats/Keras/Hdf5Check.cs, some mutated
/// HDF5 inputs made PureHDF allocate gigabytes before rejecting them.)
[Collection(FuzzCollection.Name)]
public class ReaderFuzzTests(ITestOutputHelper output)
{
    public static TheoryData<string> Targets()
    {
        var data = new TheoryData<string>();
        foreach (var t in FuzzTargets.All) data.Add(t.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Mutated_inputs_load_or_fail_with_a_documented_exception(string target)
    {
        var t = FuzzTargets.Get(target);
        var outcome = FuzzRunner.Run(t, seed: 20261129);
        output.WriteLine(outcome.ToString());
        Console.WriteLine($"[fuzz] {outcome}");
        if (outcome.Cases == 0) return; // corpus absent (shared/keras-models missing): nothing to fuzz
        // Mutations that never reach the checks would make this test pass vacuously.
        Assert.True(outcome.Rejected > outcome.Cases / 10, $"only {outcome.Rejected} of {outcome.Cases} cases were rejected");
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Saved_regression_inputs_load_or_fail_with_a_documented_exception(string target)
    {
        var files = FuzzCorpus.RegressionFiles(target).ToArray();
        var outcome = FuzzRunner.Replay(FuzzTargets.Get(target), files);
        output.WriteLine(outcome.ToString());
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FuzzCollection
{
    public const string Name = "Fuzz (runs alone)";
}
