using System.Diagnostics;

namespace FastInfer.Tests.Fuzz;

/// <summary>What a fuzz run saw.</summary>
internal sealed record FuzzOutcome(string Target, int Cases, int Loaded, int Rejected, long MaxAllocatedBytes, int LargeAllocations, TimeSpan Elapsed)
{
    /// <summary>What counts as a large allocation in the report (the bound itself is per target).</summary>
    public const long LargeBytes = 64 << 20;

    public override string ToString() =>
        $"{Target}: {Cases} cases, {Loaded} loaded, {Rejected} rejected cleanly, max {MaxAllocatedBytes / 1024} KiB allocated by one case " +
        $"({LargeAllocations} over {LargeBytes >> 20} MiB), {Elapsed.TotalSeconds:F1} s";
}

/// <summary>A case that broke the contract: its input is saved so it can become a regression file.</summary>
internal sealed class FuzzFinding(string message) : Exception(message);

/// <summary>
/// Runs a target's cases on a dedicated thread (big stack, so deep recursion shows as a finding, not a dead test host)
/// while the calling thread watches the clock: a case that runs past the timeout is reported as a hang. Each case's
/// managed allocation is measured on the loading thread with <see cref="GC.GetAllocatedBytesForCurrentThread"/>.
/// </summary>
internal static class FuzzRunner
{
    public static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Multiplies every target's case count (FASTINFER_FUZZ_SCALE=10 for a longer local run).</summary>
    public static double Scale =>
        double.TryParse(Environment.GetEnvironmentVariable("FASTINFER_FUZZ_SCALE"), System.Globalization.CultureInfo.InvariantCulture, out double s) && s > 0 ? s : 1;

    /// <summary>Runs mutated cases of <paramref name="target"/>; throws <see cref="FuzzFinding"/> on the first bad one.</summary>
    public static FuzzOutcome Run(FuzzTarget target, int seed)
    {
        var corpus = target.Corpus();
        if (corpus.Count == 0) return new FuzzOutcome(target.Name, 0, 0, 0, 0, 0, TimeSpan.Zero);
        int cases = (int)Math.Ceiling(target.Cases * Scale);
        var inputs = new Func<int, (string Origin, byte[] Bytes)>(i =>
        {
            // One Random per case, seeded by (seed, case): any case can be regenerated alone. (Not HashCode.Combine:
            // it is randomized per process, which would make every run fuzz different inputs.)
            var random = new Random(unchecked(seed * 1_000_003 + i * 7919) & int.MaxValue);
            var (name, bytes) = corpus[i % corpus.Count];
            return ($"mutation {i} of '{name}'", (target.Mutate ?? Mutator.Mutate)(bytes, random));
        });
        // Seeds first: each must load, or the fuzz is not starting from valid files.
        var seeds = corpus.Select(c => ($"seed '{c.Name}'", c.Bytes)).ToArray();
        RunCases(target, seeds.Length, i => seeds[i], expectLoad: true);
        return RunCases(target, cases, inputs, expectLoad: false);
    }

    /// <summary>Replays saved inputs: each must load or be rejected with a documented exception.</summary>
    public static FuzzOutcome Replay(FuzzTarget target, IReadOnlyList<string> files) =>
        RunCases(target, files.Count, i => ($"regression file '{Path.GetFileName(files[i])}'", File.ReadAllBytes(files[i])), expectLoad: false);

    private static FuzzOutcome RunCases(FuzzTarget target, int count, Func<int, (string Origin, byte[] Bytes)> input, bool expectLoad)
    {
        int loaded = 0, rejected = 0, large = 0;
        long maxAllocated = 0;
        string? failure = null;
        byte[]? failing = null;
        int current = -1;
        long caseStarted = Stopwatch.GetTimestamp();
        var clock = Stopwatch.StartNew();

        var worker = new Thread(() =>
        {
            try
            {
                for (int i = 0; i < count && failure is null; i++)
                {
                    var (origin, bytes) = input(i);
                    failing = bytes;
                    Volatile.Write(ref caseStarted, Stopwatch.GetTimestamp());
                    Volatile.Write(ref current, i);
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    Exception? error = null;
                    try { target.Load(bytes); }
                    catch (Exception e) { error = e; }
                    long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                    maxAllocated = Math.Max(maxAllocated, allocated);
                    if (allocated > FuzzOutcome.LargeBytes) large++;
                    if (error is null) loaded++;
                    else if (!expectLoad && target.IsDocumented(error)) rejected++;
                    else failure = $"{origin} threw {error.GetType().FullName}: {error.Message}\n{error.StackTrace}";
                    if (failure is null && allocated > target.MaxAllocatedBytes)
                        failure = $"{origin} allocated {allocated} bytes, over the bound of {target.MaxAllocatedBytes}";
                }
            }
            finally { FuzzReaders.CleanUpTempFiles(); }
        }, maxStackSize: 64 << 20) { IsBackground = true, Name = $"fuzz {target.Name}" };
        worker.Start();

        while (!worker.Join(200))
        {
            var running = Stopwatch.GetElapsedTime(Volatile.Read(ref caseStarted));
            if (running > CaseTimeout && Volatile.Read(ref current) >= 0)
            {
                // The worker cannot be stopped; it is a background thread and dies with the test host.
                failure = $"case {current} of '{target.Name}' ran for more than {CaseTimeout.TotalSeconds} s (a hang)";
                break;
            }
        }
        if (failure is not null)
        {
            string saved = Save(target.Name, failing!);
            throw new FuzzFinding($"{target.Name}: {failure}\ninput saved to {saved} (copy it to Tests/Fuzz/corpus/{target.Name}/ once fixed)");
        }
        return new FuzzOutcome(target.Name, count, loaded, rejected, maxAllocated, large, clock.Elapsed);
    }

    private static string Save(string target, byte[] bytes)
    {
        string folder = Path.Combine(Path.GetTempPath(), "fastinfer-fuzz-findings", target);
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, $"{Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(bytes))[..16].ToLowerInvariant()}.bin");
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
