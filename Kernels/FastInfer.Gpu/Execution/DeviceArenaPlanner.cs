namespace FastInfer.Gpu.Execution;

/// <summary>
/// Places device buffers with known lifetimes (step intervals) in one arena: largest first, each at the lowest
/// aligned offset not overlapping a placed buffer alive at the same time. Sizes and offsets are in floats.
/// </summary>
internal static class DeviceArenaPlanner
{
    /// <summary>64 floats = 256 bytes, the alignment CUDA gives allocations.</summary>
    public const long Alignment = 64;

    public sealed class Slot(long floats, int first, int last)
    {
        public long Floats { get; } = floats;
        public int First { get; } = first;
        public int Last { get; } = last;
        public long Offset { get; set; }
    }

    public static long Place(IReadOnlyList<Slot> slots)
    {
        long size = 0;
        var placed = new List<Slot>();
        foreach (var slot in slots.Where(s => s.Floats > 0).OrderByDescending(s => s.Floats).ThenBy(s => s.First))
        {
            long length = Align(slot.Floats), offset = 0;
            foreach (var other in placed.Where(o => o.First <= slot.Last && slot.First <= o.Last).OrderBy(o => o.Offset))
            {
                if (offset + length <= other.Offset) break;
                offset = Math.Max(offset, other.Offset + Align(other.Floats));
            }
            slot.Offset = offset;
            placed.Add(slot);
            size = Math.Max(size, offset + length);
        }
        return size;
    }

    private static long Align(long floats) => (floats + Alignment - 1) / Alignment * Alignment;
}
