using System.CommandLine;
using System.Runtime.InteropServices;
using FastInfer.Cli.Measurement;
using FastInfer.Cli.Output;
using FastInfer.Kernels.Blas;
using FastInfer.Kernels.Platform;
using FastInfer.Kernels.Threading;
using Spectre.Console;

namespace FastInfer.Cli.Commands;

/// <summary>
/// <c>fastinfer sysinfo [--json]</c>: the CPU, the kernel ISA tier, and what this machine measures now: the FP32 FMA peak
/// (one core, all cores), SGEMM GFLOP/s at 256³, 1024³ and ResNet-18's convolution shapes (managed one thread, and
/// the CBLAS library if one loads, also one thread) as fractions of the one-core peak, and memory read bandwidth.
/// </summary>
internal static class SysinfoCommand
{
    public static Command Create(CliContext ctx)
    {
        var json = CommonOptions.Json();
        var quick = new Option<bool>("--quick") { Description = "Skip the SGEMM and bandwidth measurements" };
        var cmd = new Command("sysinfo", "Describe the CPU and measure its FMA peak, SGEMM throughput and memory bandwidth") { json, quick };
        cmd.SetAction(p => Execute(ctx, p.GetValue(json), p.GetValue(quick)));
        return cmd;
    }

    public static string CpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                    if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is int i and > 0)
                        return line[(i + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    public static int Execute(CliContext ctx, bool json, bool quick)
    {
        int cores = Environment.ProcessorCount;
        var r = new SysinfoResult
        {
            CpuModel = CpuModel(), LogicalCores = cores, IsaDetected = KernelIsa.Best.ToString(), IsaSelected = KernelIsa.Current.ToString(),
            Os = RuntimeInformation.OSDescription, Runtime = RuntimeInformation.FrameworkDescription, FmaVectorBits = FmaPeak.VectorBits,
            Accelerators = [.. DeviceOptions.ListAccelerators()],
        };
        void Measure(Action<string> status)
        {
            status("FMA peak, one core");
            r.PeakGflopsOneCore = FmaPeak.MeasureOneCore();
            status("FMA peak, all cores");
            r.PeakGflopsAllCores = FmaPeak.MeasureAllCores(cores);
            status("core-to-core round trip");
            r.CoreRoundTripNs = CoreRoundTrip.MeasureNanoseconds();
            if (quick) return;
            CblasProvider? blas = null;
            if (CblasProvider.TryLoad(out blas, out string message) && blas is not null)
            {
                r.CblasLibrary = blas.LibraryName;
                blas.LimitThreads(1);
            }
            r.CblasMessage = message;
            using (blas)
            using (var pool = new WorkerPool(1))
            {
                foreach (var (name, m, n, k) in GemmThroughput.Shapes)
                {
                    status($"SGEMM {name}");
                    var (managed, prepacked, cblas) = GemmThroughput.ManagedAndCblas(m, n, k, pool, blas);
                    var g = new GemmMeasurement { Shape = name, M = m, N = n, K = k, Threads = 1, ManagedGflops = managed, ManagedPrepackedGflops = prepacked };
                    g.ManagedFractionOfPeak = g.ManagedGflops / r.PeakGflopsOneCore;
                    g.ManagedPrepackedFractionOfPeak = g.ManagedPrepackedGflops / r.PeakGflopsOneCore;
                    if (blas is not null)
                    {
                        g.CblasGflops = cblas;
                        g.CblasFractionOfPeak = g.CblasGflops / r.PeakGflopsOneCore;
                    }
                    r.Sgemm.Add(g);
                }
            }
            status("memory read bandwidth");
            (r.MemoryReadGbpsOneCore, r.MemoryReadGbpsAllCores) = MemoryBandwidth.Measure(cores);
        }

        if (!json && ctx.Interactive) ctx.Console.Status().Start("measuring", s => Measure(text => s.Status(text)));
        else Measure(_ => { });

        if (json) { Json.Write(ctx, r, CliJsonContext.Default.SysinfoResult); return ExitCodes.Success; }
        var t = Tables.Create("property", "value");
        t.Row("CPU", r.CpuModel);
        t.Row("logical cores", r.LogicalCores);
        t.Row("ISA detected / selected", $"{r.IsaDetected} / {r.IsaSelected}");
        t.Row("OS / runtime", $"{r.Os} / {r.Runtime}");
        t.Row($"FP32 FMA peak, one core ({r.FmaVectorBits}-bit)", $"{r.PeakGflopsOneCore:0.0} GFLOP/s");
        t.Row($"FP32 FMA peak, all {cores} cores", $"{r.PeakGflopsAllCores:0.0} GFLOP/s");
        if (r.CoreRoundTripNs is double rt) t.Row("core-to-core round trip (a cache line)", $"{rt:0} ns");
        if (!quick)
        {
            t.Row("CBLAS", r.CblasLibrary ?? "none (" + r.CblasMessage + ")");
            t.Row("memory read bandwidth, one core", $"{r.MemoryReadGbpsOneCore:0.0} GB/s");
            t.Row($"memory read bandwidth, all {cores} cores", $"{r.MemoryReadGbpsAllCores:0.0} GB/s");
        }
        ctx.Console.Write(t);
        var a = Tables.Create("accelerators (ILGPU)");
        foreach (var x in r.Accelerators) a.Row(x);
        if (r.Accelerators.Count == 0) a.Row("none found");
        ctx.Console.Write(a);
        if (r.Sgemm.Count > 0)
        {
            var g = Tables.Create("SGEMM (1 thread)", "M", "N", "K", "managed GFLOP/s", "of peak", "A prepacked GFLOP/s", "of peak", "CBLAS GFLOP/s", "of peak");
            foreach (var x in r.Sgemm)
                g.Row(x.Shape, x.M, x.N, x.K, x.ManagedGflops.ToString("0.0"), x.ManagedFractionOfPeak.ToString("P0"),
                    x.ManagedPrepackedGflops.ToString("0.0"), x.ManagedPrepackedFractionOfPeak.ToString("P0"),
                    x.CblasGflops?.ToString("0.0"), x.CblasFractionOfPeak?.ToString("P0"));
            ctx.Console.Write(g);
        }
        return ExitCodes.Success;
    }
}
