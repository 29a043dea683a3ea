namespace FastInfer.Tests.Fuzz;

/// <summary>
/// One reader under fuzz: how to feed it bytes, the valid files mutations start from, and which exceptions count as a
/// clean rejection. Everything else a case throws — or a hang, or an allocation over the bound — is a bug.
/// </summary>
/// <param name="Name">Short name, also the folder under Tests/Fuzz/corpus holding regression inputs.</param>
/// <param name="Load">Parses the bytes (and disposes what it made); throws on bad input.</param>
/// <param name="Corpus">Small valid inputs, each of which must load.</param>
/// <param name="IsDocumented">True for the exception types the reader documents for bad input.</param>
/// <param name="Cases">Mutated inputs per test run (FASTINFER_FUZZ_SCALE multiplies it).</param>
/// <param name="MaxAllocatedBytes">Bound on managed bytes one case may allocate on the loading thread.</param>
/// <param name="Mutate">Structure-aware mutation; null means <see cref="Mutator.Mutate"/> on the raw bytes.</param>
internal sealed record FuzzTarget(
    string Name,
    Action<byte[]> Load,
    Func<IReadOnlyList<(string Name, byte[] Bytes)>> Corpus,
    Func<Exception, bool> IsDocumented,
    int Cases,
    long MaxAllocatedBytes,
    Func<byte[], Random, byte[]>? Mutate = null)
{
    public override string ToString() => Name;
}
