using System.Runtime.InteropServices;

namespace FastInfer.Memory;

/// <summary>
/// Aligned native allocations, with large blocks (weights, arenas) asked for transparent huge pages on Linux. A 4 GB
/// weight in 4 KiB pages costs a million page faults at load — about 15 µs each in a virtual machine, 15 s in all —
/// and a TLB miss every 4 KiB while a GEMV streams it; in 2 MiB pages it is two thousand faults. The advice is only a
/// hint: where the kernel, libc or the policy says no, the block is simply made of small pages.
/// Compiled into Formats and Kernels (linked source): neither references the other.
/// </summary>
internal static unsafe partial class NativeAllocation
{
    private const nuint HugePage = 2 << 20;
    /// <summary>Blocks from this size on are placed on huge-page boundaries and advised.</summary>
    private const nuint HugeThreshold = 8 << 20;
    private const int MadvHugePage = 14;
    /// <summary>Linux 5.14+: fault the whole range in now, in one kernel call (EINVAL, ignored, on older kernels).</summary>
    private const int MadvPopulateWrite = 23;
    private static bool s_adviceFailed;

    public static void* Alloc(nuint size, nuint alignment)
    {
        if (size < HugeThreshold || !OperatingSystem.IsLinux()) return NativeMemory.AlignedAlloc(size, alignment);
        nuint rounded = (size + HugePage - 1) / HugePage * HugePage;
        void* p = NativeMemory.AlignedAlloc(rounded, HugePage);
        if (!s_adviceFailed)
        {
            // Populating right after the advice builds the huge pages in one pass. Faulting them in one by one as the
            // copy or the zeroing touches them measured 3-4 s for 4 GB here, populating first 0.7-1.2 s (in 4 KiB
            // pages: 17-21 s). Every large block is written whole soon after (weights, packed panels, arenas).
            try { Madvise(p, rounded, MadvHugePage); Madvise(p, rounded, MadvPopulateWrite); }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { s_adviceFailed = true; }
        }
        return p;
    }

    public static void Free(void* p) => NativeMemory.AlignedFree(p);

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* address, nuint length, int advice);
}
