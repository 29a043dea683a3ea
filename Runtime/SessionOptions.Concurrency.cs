namespace FastInfer.Runtime;

public sealed partial class SessionOptions
{
    /// <summary>
    /// Runs expected at once on one session. Each plan creates this many per-run frames (arena and value table) when it
    /// is built, so concurrent Run calls allocate nothing even on their first use of the plan; more concurrent runs
    /// than this still work, and create a frame the first time they are needed. Default 1.
    /// </summary>
    public int ExpectedConcurrentRuns { get; set; } = 1;
}
