using Microsoft.Win32.SafeHandles;

namespace FastInfer.Formats.IO;

/// <summary>
/// Reads a large range of a file into native memory with positional reads on several threads at once, each its own
/// contiguous part. From the page cache a read is a kernel memory copy, bound by one core's copy speed: the seed CNN's
/// 4 GB of weights took 0.9-1.1 s on one thread here. Ranges under <see cref="ParallelBytes"/> are read on the caller.
/// </summary>
internal static unsafe class ParallelFileRead
{
    /// <summary>Ranges from this size on are split between threads (a field so tests can exercise the split).</summary>
    internal static long ParallelBytes = 64L << 20;

    private const int MaxThreads = 4;
    private const int Chunk = 1 << 30;

    /// <summary>Reads exactly <paramref name="length"/> bytes at <paramref name="offset"/> into <paramref name="destination"/>.</summary>
    /// <exception cref="ModelFormatException">The file ends before the range does.</exception>
    public static void ReadExactly(SafeFileHandle handle, long offset, byte* destination, long length, string? file)
    {
        int threads = length >= ParallelBytes ? Math.Min(MaxThreads, Environment.ProcessorCount) : 1;
        if (threads <= 1) { ReadPart(handle, offset, destination, length, file); return; }
        nint dst = (nint)destination;
        // Parts of whole 4 KiB pages, so no two threads fault in the same page.
        long part = (length / threads + 4095) & ~4095L;
        try
        {
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
            {
                long start = i * part, n = Math.Min(part, length - start);
                if (n > 0) ReadPart(handle, offset + start, (byte*)dst + start, n, file);
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
    }

    private static void ReadPart(SafeFileHandle handle, long offset, byte* destination, long length, string? file)
    {
        long done = 0;
        while (done < length)
        {
            int n = (int)Math.Min(Chunk, length - done);
            int read = RandomAccess.Read(handle, new Span<byte>(destination + done, n), offset + done);
            if (read <= 0) throw new ModelFormatException($"unexpected end of file reading {length} bytes at offset {offset}", file);
            done += read;
        }
    }
}
