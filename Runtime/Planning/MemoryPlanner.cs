namespace FastInfer.Runtime.Planning;

/// <summary>
/// Packs buffers with known lifetimes into one arena, as XNNPACK's planner does: largest first, each at the
/// lowest 64-byte aligned offset that overlaps no already-placed buffer whose lifetime intersects its own.
/// </summary>
internal static class MemoryPlanner
{
    public const int Alignment = 64;

    /// <summary>A buffer to place: bytes needed during steps [First, Last].</summary>
    public sealed class Request
    {
        public long Bytes;
        public int First, Last;
        public long Offset = -1;
    }

    /// <summary>Assigns <see cref="Request.Offset"/> to every request and returns the arena size.</summary>
    public static long Place(IReadOnlyList<Request> requests)
    {
        var order = requests.Where(r => r.Bytes > 0).OrderByDescending(r => r.Bytes).ThenBy(r => r.First).ToList();
        var placed = new List<Request>(order.Count);
        long arena = 0;
        foreach (var r in order)
        {
            long size = Align(r.Bytes);
            // Occupied intervals of buffers alive at the same time, sorted by offset.
            var busy = placed.Where(p => p.First <= r.Last && r.First <= p.Last).OrderBy(p => p.Offset).ToList();
            long offset = 0;
            foreach (var p in busy)
            {
                if (offset + size <= p.Offset) break;
                offset = Math.Max(offset, p.Offset + Align(p.Bytes));
            }
            r.Offset = offset;
            placed.Add(r);
            arena = Math.Max(arena, offset + size);
        }
        foreach (var r in requests) if (r.Bytes <= 0) r.Offset = 0;
        return arena;
    }

    public static long Align(long bytes) => (bytes + Alignment - 1) / Alignment * Alignment;
}
