namespace FastInfer.ModelGen;

/// <summary>Resident memory of this process from /proc/self/status (Linux): peak (VmHWM), current, anonymous and file-backed.</summary>
internal static class ProcessMemory
{
    public static long PeakBytes => Read("VmHWM:");
    public static long ResidentBytes => Read("VmRSS:");
    public static long AnonymousBytes => Read("RssAnon:");
    public static long FileBytes => Read("RssFile:");
    /// <summary>Anonymous memory in transparent huge pages (whether the weights' huge-page advice was honoured).</summary>
    public static long AnonHugeBytes => Read("AnonHugePages:", "/proc/self/smaps_rollup");

    /// <summary>Resets the peak to the current resident size (writing 5 to clear_refs), so a phase can be measured alone.</summary>
    public static void ResetPeak()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static long Read(string key, string file = "/proc/self/status")
    {
        if (!File.Exists(file)) return -1;
        foreach (var line in File.ReadLines(file))
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line[key.Length..].Trim().Split(' ')[0]) * 1024;
        return -1;
    }

    public static string Mb(long bytes) => bytes < 0 ? "n/a" : $"{bytes / 1e6:F0} MB";
}
