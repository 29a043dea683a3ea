using System.Diagnostics;
using FastInfer.Formats.Npy;
using FastInfer.Tests.Formats.OnnxTests;
using FastInfer.Tests.Support;
using Xunit;

namespace FastInfer.Tests.Cli;

/// <summary>
/// Opt-in (FASTINFER_AOT_TEST=1; publishing takes minutes): publishes fastinfer with NativeAOT, runs the native binary on
/// the seed CNN and ResNet-18, and compares its .npy outputs with the in-process (JIT) command's, byte for byte.
/// </summary>
public class NativeAotTests
{
    [Fact]
    public void NativeBinaryMatchesTheJitBuild()
    {
        if (Environment.GetEnvironmentVariable("FASTINFER_AOT_TEST") != "1") return;
        using var dir = new CliHarness.TempDir();
        string publish = dir.File("aot");
        string project = FindProject();
        var (code, output) = Exec("dotnet", ["publish", project, "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true", "-o", publish], 1800);
        Assert.True(code == 0, output);
        string exe = Path.Combine(publish, "fastinfer");

        var cases = new List<(string Model, string Input)>();
        string seed = dir.Write("seed.onnx", SeedCnn.Build(32, 32, 3));
        string seedX = dir.File("seed_x.npy");
        NpyWriter.Write(seedX, NpyArray.Create<float>(TensorAssert.RandomFloats(3 * 32 * 32, 4), 1, 3, 32, 32));
        cases.Add((seed, seedX));
        if (OnnxTestPaths.ResNet18 is { } resnet)
        {
            string x = dir.File("resnet_x.npy");
            NpyWriter.Write(x, NpyArray.Create<float>(TestModels.ImageLike(3, 224, 224, 1), 1, 3, 224, 224));
            cases.Add((resnet, x));
        }
        int i = 0;
        foreach (var (model, input) in cases)
        {
            string jitOut = dir.File($"jit{i}"), aotOut = dir.File($"aot{i}");
            Assert.Equal(0, CliHarness.Invoke("run", model, "--input", input, "-o", jitOut, "--threads", "1").Code);
            var (c, o) = Exec(exe, ["run", model, "--input", input, "-o", aotOut, "--threads", "1"], 600);
            Assert.True(c == 0, o);
            foreach (var file in Directory.GetFiles(jitOut))
                Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(aotOut, Path.GetFileName(file))));
            i++;
        }
        var (inspectCode, _) = Exec(exe, ["inspect", seed], 600);
        Assert.Equal(0, inspectCode);
    }

    private static string FindProject()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            string p = Path.Combine(d.FullName, "tools", "FastInfer.Cli", "FastInfer.Cli.csproj");
            if (File.Exists(p)) return p;
        }
        throw new InvalidOperationException("tools/FastInfer.Cli not found above " + AppContext.BaseDirectory);
    }

    private static (int Code, string Output) Exec(string file, string[] args, int timeoutSeconds)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds))) { p.Kill(true); return (-1, "timed out"); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}
