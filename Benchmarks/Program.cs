using BenchmarkDotNet.Running;

namespace FastInfer.Benchmarks;

/// <summary>Entry point: pick suites with --filter, e.g. <c>--filter *Gemm* --job short</c>.</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
