using System.Text.Json.Serialization;

namespace FastInfer.Cli.Output;

// The --json documents. Field names are stable, snake_case (set once in CliJsonContext); add fields, never rename.

public sealed class TensorSummary
{
    public string Name { get; set; } = "";
    public string Dtype { get; set; } = "";
    public long[] Shape { get; set; } = [];
    public double? Min { get; set; }
    public double? Max { get; set; }
    public double? Mean { get; set; }
    /// <summary>Index of the largest element, for small vectors (class scores).</summary>
    public long? Argmax { get; set; }
    public string? File { get; set; }
}

public sealed class ValueDescription
{
    public string Name { get; set; } = "";
    public string Dtype { get; set; } = "";
    /// <summary>Dims as text: numbers, or symbol names for symbolic dims; null when the rank is unknown.</summary>
    public string[]? Shape { get; set; }
}

public sealed class RunResult
{
    public string Model { get; set; } = "";
    public int Threads { get; set; }
    public List<TensorSummary> Inputs { get; set; } = [];
    public List<TensorSummary> Outputs { get; set; } = [];
    public double FirstRunMs { get; set; }
    public double LatencyMs { get; set; }
    public string Device { get; set; } = "CPU";
}

public sealed class ImageEmbedding
{
    public string Image { get; set; } = "";
    public double LatencyMs { get; set; }
    public double Norm { get; set; }
}

public sealed class DefaultRunResult
{
    public string Model { get; set; } = "";
    public int Threads { get; set; }
    public int EmbeddingSize { get; set; }
    public List<ImageEmbedding> Images { get; set; } = [];
    /// <summary>Pairwise cosine similarity, rows and columns in the order of <see cref="Images"/>.</summary>
    public double[][] CosineSimilarity { get; set; } = [];
}

public sealed class OutputComparison
{
    public string Name { get; set; } = "";
    public long[] Shape { get; set; } = [];
    public long[]? ReferenceShape { get; set; }
    public double MaxAbsDiff { get; set; }
    public double MaxRelDiff { get; set; }
    public long MismatchedElements { get; set; }
    public bool WithinTolerance { get; set; }
}

public sealed class CheckResult
{
    public string Model { get; set; } = "";
    /// <summary>"onnxruntime" or "reference_files".</summary>
    public string Reference { get; set; } = "";
    public double Rtol { get; set; }
    public double Atol { get; set; }
    public bool Passed { get; set; }
    public List<ValueDescription> Inputs { get; set; } = [];
    public Dictionary<string, string> InputSources { get; set; } = [];
    public List<OutputComparison> Outputs { get; set; } = [];
}

public sealed class InspectResult
{
    public string Model { get; set; } = "";
    public string Format { get; set; } = "";
    public string Producer { get; set; } = "";
    public long IrVersion { get; set; }
    public long Opset { get; set; }
    public List<ValueDescription> Inputs { get; set; } = [];
    public List<ValueDescription> Outputs { get; set; } = [];
    public int NodeCount { get; set; }
    public Dictionary<string, int> OpHistogram { get; set; } = [];
    public long ParameterCount { get; set; }
    public long WeightBytes { get; set; }
    public List<string> UnsupportedOps { get; set; } = [];
    public long? ArenaBytes { get; set; }
    public int? PlanSteps { get; set; }
    public int? FoldedNodes { get; set; }
    public int? OptimizedNodeCount { get; set; }
    public Dictionary<string, int> GraphPasses { get; set; } = [];
    public string? PlanError { get; set; }
    /// <summary>A pre-packed .fim: the operands it stores, their bytes and layout; and how the plan came by its packed operands.</summary>
    public int? PrepackedOperands { get; set; }
    public long? PrepackedBytes { get; set; }
    public string? PrepackedLayout { get; set; }
    public int? PackedFromFile { get; set; }
    public int? PackedAtLoad { get; set; }
    /// <summary>With <c>--device gpu|auto</c> and a device found: how the plan is split between the device and the CPU.</summary>
    public DevicePlanJson? DevicePlan { get; set; }
}

public sealed class DevicePartitionJson
{
    public bool OnDevice { get; set; }
    public int[] Steps { get; set; } = [];
    public string[] Nodes { get; set; } = [];
    public string[] CopiesIn { get; set; } = [];
}

public sealed class DevicePlanJson
{
    public string Provider { get; set; } = "";
    public string DeviceName { get; set; } = "";
    public int DeviceSteps { get; set; }
    public int CpuSteps { get; set; }
    public long DeviceArenaBytes { get; set; }
    public long DeviceWeightBytes { get; set; }
    public int HostToDeviceCopies { get; set; }
    public int DeviceToHostCopies { get; set; }
    public List<DevicePartitionJson> Partitions { get; set; } = [];
    /// <summary>The runtime's own listing (what the text output prints).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Text { get; set; } = "";

    public static DevicePlanJson From(FastInfer.Runtime.Backends.DevicePlanSummary s) => new()
    {
        Provider = s.Provider, DeviceName = s.DeviceName, DeviceSteps = s.DeviceSteps, CpuSteps = s.CpuSteps,
        DeviceArenaBytes = s.DeviceArenaBytes, DeviceWeightBytes = s.DeviceWeightBytes,
        HostToDeviceCopies = s.HostToDeviceCopies, DeviceToHostCopies = s.DeviceToHostCopies,
        Partitions = s.Partitions.Select(p => new DevicePartitionJson { OnDevice = p.OnDevice, Steps = p.Steps, Nodes = p.Nodes, CopiesIn = p.CopiesIn }).ToList(),
        Text = s.ToString(),
    };
}

public sealed class LatencyStats
{
    public double MinMs { get; set; }
    public double P50Ms { get; set; }
    public double P90Ms { get; set; }
    public double P99Ms { get; set; }
    public double MeanMs { get; set; }
    public double MaxMs { get; set; }
    /// <summary>Samples (batch items) per second at the mean latency.</summary>
    public double ThroughputPerS { get; set; }
}

public sealed class SoakStats
{
    public double Seconds { get; set; }
    public long RunsCompleted { get; set; }
    public long WorkingSetStartBytes { get; set; }
    public long WorkingSetEndBytes { get; set; }
    public long ManagedBytesStart { get; set; }
    public long ManagedBytesEnd { get; set; }
    public int Gen0Collections { get; set; }
    public int Gen1Collections { get; set; }
    public int Gen2Collections { get; set; }
    public long AllocatedBytes { get; set; }
}

public sealed class ColdStats
{
    public int Runs { get; set; }
    /// <summary>Load + plan + first Run, measured inside the fresh process (median over runs).</summary>
    public double FirstResultMs { get; set; }
    /// <summary>Process start to exit, measured by the parent (median), including runtime start-up.</summary>
    public double ProcessMs { get; set; }
    public double[] FirstResultMsEach { get; set; } = [];
    public double[] ProcessMsEach { get; set; } = [];
}

public sealed class BenchResult
{
    public string Model { get; set; } = "";
    public int Threads { get; set; }
    public int Batch { get; set; }
    public int Warmup { get; set; }
    public int Iterations { get; set; }
    public string Isa { get; set; } = "";
    public string Device { get; set; } = "CPU";
    public LatencyStats? Fastinfer { get; set; }
    public LatencyStats? Onnxruntime { get; set; }
    public double? RatioP50 { get; set; }
    public double? AllocBytesPerRun { get; set; }
    public long PeakWorkingSetBytes { get; set; }
    /// <summary>With 2+ threads: a cache line's core-to-core round trip just before and just after the runs
    /// (Measurement/CoreRoundTrip); on a shared host it can change within seconds.</summary>
    public double? CoreRoundTripNsBefore { get; set; }
    public double? CoreRoundTripNsAfter { get; set; }
    public SoakStats? Soak { get; set; }
    public ColdStats? ColdFastinfer { get; set; }
    public ColdStats? ColdOnnxruntime { get; set; }
    public double? ColdRatio { get; set; }
    /// <summary>The NativeAOT fastinfer (FASTINFER_AOT_BIN), when given: the same cold runs without a JIT.</summary>
    public ColdStats? ColdFastinferAot { get; set; }
    public double? ColdRatioAot { get; set; }
}

public sealed class GemmMeasurement
{
    public string Shape { get; set; } = "";
    public int M { get; set; }
    public int N { get; set; }
    public int K { get; set; }
    public int Threads { get; set; }
    public double ManagedGflops { get; set; }
    public double ManagedFractionOfPeak { get; set; }
    /// <summary>The managed SGEMM with A (a convolution's weights) packed once beforehand, as a session runs it.</summary>
    public double ManagedPrepackedGflops { get; set; }
    public double ManagedPrepackedFractionOfPeak { get; set; }
    public double? CblasGflops { get; set; }
    public double? CblasFractionOfPeak { get; set; }
}

public sealed class SysinfoResult
{
    public string CpuModel { get; set; } = "";
    public int LogicalCores { get; set; }
    public string IsaDetected { get; set; } = "";
    public string IsaSelected { get; set; } = "";
    public string Os { get; set; } = "";
    public string Runtime { get; set; } = "";
    public int FmaVectorBits { get; set; }
    public double PeakGflopsOneCore { get; set; }
    public double PeakGflopsAllCores { get; set; }
    public string? CblasLibrary { get; set; }
    public string? CblasMessage { get; set; }
    public List<GemmMeasurement> Sgemm { get; set; } = [];
    public double MemoryReadGbpsOneCore { get; set; }
    public double MemoryReadGbpsAllCores { get; set; }
    /// <summary>A cache line from one core to another and back (Measurement/CoreRoundTrip); null on one core.</summary>
    public double? CoreRoundTripNs { get; set; }
    /// <summary>Accelerators ILGPU finds (CUDA devices, its CPU accelerator), in words.</summary>
    public List<string> Accelerators { get; set; } = [];
}

public sealed class ConvertResult
{
    public string Model { get; set; } = "";
    public string Output { get; set; } = "";
    public string Format { get; set; } = "";
    public long Bytes { get; set; }
    public int NodeCount { get; set; }
    /// <summary>With --prepack: operands stored packed, their bytes, and the kernel layout they are packed for.</summary>
    public int? PrepackedOperands { get; set; }
    public long? PrepackedBytes { get; set; }
    public string? PackedLayout { get; set; }
}

public sealed class ColdRunReport
{
    public string Engine { get; set; } = "";
    public double FirstResultMs { get; set; }
    /// <summary>Of which: opening the model (read, graph passes, weight packing) — session creation for ORT.</summary>
    public double LoadMs { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    DictionaryKeyPolicy = JsonKnownNamingPolicy.Unspecified)]
[JsonSerializable(typeof(RunResult))]
[JsonSerializable(typeof(DefaultRunResult))]
[JsonSerializable(typeof(CheckResult))]
[JsonSerializable(typeof(InspectResult))]
[JsonSerializable(typeof(BenchResult))]
[JsonSerializable(typeof(SysinfoResult))]
[JsonSerializable(typeof(ConvertResult))]
[JsonSerializable(typeof(ColdRunReport))]
public sealed partial class CliJsonContext : JsonSerializerContext;
