using BenchmarkDotNet.Running;

namespace FastInfer.Benchmarks;

/// <summary>
/// Entry point: pick suites with --filter, e.g. <c>--filter *Gemm* --job short</c>; or
/// <c>profile peak|kernel|gemm|gemmab|layers|twin|steps|minilm|model|ortmodel|ab|scaling|pool|resnet|seedcnn|all [threads] [reps]</c> for the quick
/// in-process profiler (<see cref="Tools.Profiler"/>).
/// </summary>
public static class Program
{
    public static void Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "profile") { Tools.Profiler.Run(args[1..]); return; }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
