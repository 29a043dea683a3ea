using System.Text.Json.Nodes;
using FastInfer.Formats.Npy;
using FastInfer.Tests.Formats.Keras;
using FastInfer.Tests.Formats.OnnxTests;
using FastInfer.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace FastInfer.Tests.Cli;

/// <summary>
/// The NativeAOT <c>fastinfer</c> binary (published by <c>.ci/run</c>, see <see cref="NativeAotBinary"/>) against the JIT
/// build of the same program run in-process: <c>run</c>, <c>convert</c>, <c>inspect</c> and <c>bench</c> on the seed CNN
/// and ResNet-18 (and Keras files), every native run in an environment without .NET. The native build is compiled for x86-64-v3 (AVX2) while
/// the JIT picks the best ISA of the machine, so outputs are compared within the fp32 tolerance (rtol 1e-3, atol 1e-4),
/// and files the writers produce (ISA-independent) byte for byte.
/// </summary>
public class NativeAotTests(NativeAotBinary aot, ITestOutputHelper log) : IClassFixture<NativeAotBinary>
{
    private const double Rtol = 1e-3, Atol = 1e-4;

    /// <summary>A model file and an input for it.</summary>
    private sealed record Case(string Model, string Input);

    private static Case Prepare(string which, CliHarness.TempDir dir)
    {
        switch (which)
        {
            case "seed":
            {
                string model = dir.Write("seed.onnx", SeedCnn.Build(32, 32, 3));
                string x = dir.File("seed_x.npy");
                NpyWriter.Write(x, NpyArray.Create<float>(TensorAssert.RandomFloats(3 * 32 * 32, 4), 1, 3, 32, 32));
                return new Case(model, x);
            }
            case "resnet18":
            {
                string? model = OnnxTestPaths.ResNet18;
                Assert.True(model is not null, "ResNet18.onnx not found: restore Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1");
                string x = dir.File("resnet_x.npy");
                NpyWriter.Write(x, NpyArray.Create<float>(TestModels.ImageLike(3, 224, 224, 1), 1, 3, 224, 224));
                return new Case(model, x);
            }
            default: throw new ArgumentOutOfRangeException(nameof(which), which, null);
        }
    }

    [AotFact]
    public void BinaryIsSelfContainedNativeCode()
    {
        string exe = aot.Exe;
        string folder = Path.GetDirectoryName(exe)!;
        byte[] head = new byte[4];
        using (var f = File.OpenRead(exe)) f.ReadExactly(head);
        Assert.Equal(new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'F' }, head);
        // No managed assemblies, host or runtime beside it: an apphost would need fastinfer.dll and the shared runtime.
        var managed = Directory.GetFiles(folder, "*", SearchOption.AllDirectories)
            .Select(Path.GetFileName)
            .Where(n => n!.EndsWith(".dll", StringComparison.Ordinal) || n.EndsWith(".runtimeconfig.json", StringComparison.Ordinal)
                        || n.Contains("coreclr", StringComparison.Ordinal) || n.Contains("hostfxr", StringComparison.Ordinal))
            .ToList();
        Assert.True(managed.Count == 0, $"{managed.Count} managed files beside the native binary, e.g. " + string.Join(", ", managed.Take(8)));

        // The dynamic libraries it links are the C library's only (ICU is off: InvariantGlobalization).
        var ldd = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("ldd", exe) { RedirectStandardOutput = true })!;
        string deps = ldd.StandardOutput.ReadToEnd();
        ldd.WaitForExit();
        Assert.True(ldd.ExitCode == 0, "ldd failed: " + deps);
        log.WriteLine("ldd " + exe + ":\n" + deps);
        string[] allowed = ["linux-vdso.so", "libc.so", "libm.so", "ld-linux", "libdl.so", "libpthread.so", "librt.so", "libgcc_s.so", "libstdc++.so", "libz.so"];
        foreach (var line in deps.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string lib = line.Split(' ')[0];
            Assert.True(allowed.Any(a => Path.GetFileName(lib).StartsWith(a, StringComparison.Ordinal)), $"unexpected dynamic dependency '{line}'");
        }

        var (code, stdout, stderr) = aot.Run("--help");
        Assert.True(code == 0, stdout + stderr);
        log.WriteLine(aot.DotnetFolderHidden
            ? $"native runs: clean environment and {NativeAotBinary.DotnetRoot()} hidden by an empty tmpfs"
            : "native runs: clean environment (PATH without dotnet, no DOTNET_*); hiding the .NET folder needs root and unshare");
    }

    [AotTheory]
    [InlineData("seed")]
    [InlineData("resnet18")]
    public void RunMatchesTheJitBuild(string which)
    {
        using var dir = new CliHarness.TempDir();
        var c = Prepare(which, dir);
        string jitOut = dir.File("jit"), aotOut = dir.File("aot");
        var jit = CliHarness.Invoke("run", c.Model, "--input", c.Input, "-o", jitOut, "--threads", "1");
        Assert.True(jit.Code == 0, jit.ToString());
        AssertNativeOk(aot.Run("run", c.Model, "--input", c.Input, "-o", aotOut, "--threads", "1"));
        AssertSameOutputs(jitOut, aotOut, which);
    }

    [AotTheory]
    [InlineData("seed")]
    [InlineData("resnet18")]
    public void ConvertWritesTheJitBuildsFileAndItsOutputsMatch(string which)
    {
        using var dir = new CliHarness.TempDir();
        var c = Prepare(which, dir);
        string jitFim = dir.File("jit.fim"), aotFim = dir.File("aot.fim");
        var jit = CliHarness.Invoke("convert", c.Model, "-o", jitFim);
        Assert.True(jit.Code == 0, jit.ToString());
        AssertNativeOk(aot.Run("convert", c.Model, "-o", aotFim));
        Assert.True(File.ReadAllBytes(jitFim).AsSpan().SequenceEqual(File.ReadAllBytes(aotFim)), $"{which}: the native build's .fim differs from the JIT build's");

        // .fim back to ONNX, both builds (the small model only: ResNet-18's 60 MB twice more adds time, not coverage).
        if (which == "seed")
        {
            string jitOnnx = dir.File("jit_back.onnx"), aotOnnx = dir.File("aot_back.onnx");
            jit = CliHarness.Invoke("convert", jitFim, "-o", jitOnnx);
            Assert.True(jit.Code == 0, jit.ToString());
            AssertNativeOk(aot.Run("convert", aotFim, "-o", aotOnnx));
            Assert.True(File.ReadAllBytes(jitOnnx).AsSpan().SequenceEqual(File.ReadAllBytes(aotOnnx)), $"{which}: the native build's .fim → ONNX differs from the JIT build's");
        }

        // The native build running its converted file gives the JIT build's outputs for the source model.
        string jitOut = dir.File("jit_out"), aotOut = dir.File("aot_out");
        jit = CliHarness.Invoke("run", c.Model, "--input", c.Input, "-o", jitOut, "--threads", "1");
        Assert.True(jit.Code == 0, jit.ToString());
        AssertNativeOk(aot.Run("run", aotFim, "--input", c.Input, "-o", aotOut, "--threads", "1"));
        AssertSameOutputs(jitOut, aotOut, which + ".fim");
    }

    [AotTheory]
    [InlineData("seed")]
    [InlineData("resnet18")]
    public void InspectMatchesTheJitBuild(string which)
    {
        using var dir = new CliHarness.TempDir();
        var c = Prepare(which, dir);
        var jit = CliHarness.Invoke("inspect", c.Model, "--json");
        Assert.True(jit.Code == 0, jit.ToString());
        var (code, stdout, stderr) = aot.Run("inspect", c.Model, "--json");
        Assert.True(code == 0, stdout + stderr);
        var expected = JsonNode.Parse(jit.Out)!.AsObject();
        var actual = JsonNode.Parse(stdout)!.AsObject();
        // The arena holds the kernels' scratch, and the operands packed at load are the tier's (Winograd's 36 per layer
        // only on AVX-512): both depend on the ISA tier (AVX-512 under the JIT here, AVX2 native).
        foreach (string tierDependent in new[] { "arena_bytes", "packed_at_load" })
            Assert.True(expected.Remove(tierDependent) && actual.Remove(tierDependent), tierDependent + " missing");
        Assert.True(JsonNode.DeepEquals(expected, actual), $"inspect differs:\nJIT:\n{expected}\nnative:\n{actual}");
    }

    [AotTheory]
    [InlineData("seed")]
    [InlineData("resnet18")]
    public void BenchRunsAndDoesNotAllocate(string which)
    {
        using var dir = new CliHarness.TempDir();
        var c = Prepare(which, dir);
        var (code, stdout, stderr) = aot.Run("bench", c.Model, "--input", c.Input, "--threads", "1", "--warmup", "1", "--iterations", "3", "--json");
        Assert.True(code == 0, stdout + stderr);
        var json = JsonNode.Parse(stdout)!;
        log.WriteLine($"{which}: native bench isa {json["isa"]}, p50 {json["fastinfer"]?["p50_ms"]} ms");
        Assert.False(string.IsNullOrEmpty((string?)json["isa"]), stdout);
        Assert.True((double)json["fastinfer"]!["p50_ms"]! > 0, stdout);
        Assert.Equal(0.0, (double)json["alloc_bytes_per_run"]!);

        // --cold starts the binary itself again per run (still without .NET).
        (code, stdout, stderr) = aot.Run("bench", c.Model, "--threads", "1", "--cold", "--runs", "1", "--json");
        Assert.True(code == 0, stdout + stderr);
        json = JsonNode.Parse(stdout)!;
        Assert.Equal(1, (int)json["cold_fastinfer"]!["runs"]!);
        Assert.True((double)json["cold_fastinfer"]!["first_result_ms"]! > 0, stdout);
    }

    [AotFact]
    public void JitBenchColdAlsoTimesTheNativeBinary()
    {
        // bench --cold from the JIT build with FASTINFER_AOT_BIN: FastInfer (JIT), FastInfer (NativeAOT) and ONNX Runtime.
        using var dir = new CliHarness.TempDir();
        var c = Prepare("seed", dir);
        string? before = Environment.GetEnvironmentVariable("FASTINFER_AOT_BIN");
        Environment.SetEnvironmentVariable("FASTINFER_AOT_BIN", aot.Exe);
        try
        {
            var r = CliHarness.Invoke("bench", c.Model, "--cold", "--runs", "1", "--threads", "1", "--json");
            Assert.True(r.Code == 0, r.ToString());
            var j = r.Json();
            Assert.True(j.GetProperty("cold_fastinfer_aot").GetProperty("first_result_ms").GetDouble() > 0, r.ToString());
            Assert.True(j.GetProperty("cold_ratio_aot").GetDouble() > 0, r.ToString());
            Assert.True(j.GetProperty("cold_ratio").GetDouble() > 0, r.ToString());
        }
        finally { Environment.SetEnvironmentVariable("FASTINFER_AOT_BIN", before); }
    }

    [AotFact]
    public void OnnxRuntimeComparisonSaysItIsLeftOut()
    {
        using var dir = new CliHarness.TempDir();
        var c = Prepare("seed", dir);
        var (code, _, stderr) = aot.Run("bench", c.Model, "--iterations", "1", "--compare", "ort");
        Assert.Equal(2, code);
        Assert.Contains("ONNX Runtime is not part of this build", stderr);
    }

    [AotFact]
    public void DefaultRunMatchesTheJitBuild()
    {
        // No MODEL: ResNet-18 from models/ beside the program on the photos built into it.
        var jit = CliHarness.Invoke("run", "--json", "--threads", "1");
        Assert.True(jit.Code == 0, jit.ToString());
        var (code, stdout, stderr) = aot.Run("run", "--json", "--threads", "1");
        Assert.True(code == 0, stdout + stderr);
        var expected = JsonNode.Parse(jit.Out)!;
        var actual = JsonNode.Parse(stdout)!;
        var e = Flatten(expected["cosine_similarity"]!.AsArray());
        var a = Flatten(actual["cosine_similarity"]!.AsArray());
        Assert.True(e.Length >= 4, jit.Out);
        TensorAssert.Close(e, a, Rtol, Atol, "cosine similarity of the sample photos");
        var en = expected["images"]!.AsArray().Select(i => (float)(double)i!["norm"]!).ToArray();
        var an = actual["images"]!.AsArray().Select(i => (float)(double)i!["norm"]!).ToArray();
        TensorAssert.Close(en, an, Rtol, Atol, "embedding norms");
    }

    [AotFact(NeedsKerasModels = true)]
    public void KerasFilesLoadInTheNativeBuild()
    {
        // PureHDF reaches its typed readers through MakeGenericMethod; tools/FastInfer.Cli/Aot/PureHDF.rd.xml has them compiled.
        // Keras's own expected outputs are the oracle here.
        string dir0 = KerasShared.Path("dl4j_cnn_batch_norm");
        var (code, stdout, stderr) = aot.Run("check", Path.Combine(dir0, "cnn_batch_norm.h5"), "--input", Path.Combine(dir0, "input.npy"),
            "--reference-output", Path.Combine(dir0, "predictions.npy"), "--json");
        Assert.True(code == 0, stdout + stderr);
        Assert.True((bool)JsonNode.Parse(stdout)!["passed"]!, stdout);

        // Keras 3 (.keras, a zip around HDF5): run on a photo and convert to ONNX, against the JIT build.
        using var dir = new CliHarness.TempDir();
        string model = KerasShared.Path("keras3_mnist_cnn", "mnist_model.keras"), image = KerasShared.Path("keras3_mnist_cnn", "8.png");
        string jitOut = dir.File("jit"), aotOut = dir.File("aot");
        var jit = CliHarness.Invoke("run", model, "--input", image, "--scale", "1/255", "--grayscale", "-o", jitOut, "--threads", "1");
        Assert.True(jit.Code == 0, jit.ToString());
        AssertNativeOk(aot.Run("run", model, "--input", image, "--scale", "1/255", "--grayscale", "-o", aotOut, "--threads", "1"));
        AssertSameOutputs(jitOut, aotOut, "mnist_model.keras");
        string jitOnnx = dir.File("jit.onnx"), aotOnnx = dir.File("aot.onnx");
        jit = CliHarness.Invoke("convert", model, "-o", jitOnnx);
        Assert.True(jit.Code == 0, jit.ToString());
        AssertNativeOk(aot.Run("convert", model, "-o", aotOnnx));
        Assert.True(File.ReadAllBytes(jitOnnx).AsSpan().SequenceEqual(File.ReadAllBytes(aotOnnx)), "mnist_model.keras: the native build's ONNX differs from the JIT build's");
    }

    [AotTheory]
    [InlineData("float64")]
    [InlineData("float16")]
    public void KerasWeightsOfOtherFloatWidthsLoadInTheNativeBuild(string dtype)
    {
        // The float64 and float16 reads go through other generic instantiations of PureHDF's readers (see PureHDF.rd.xml).
        using var dir = new CliHarness.TempDir();
        var rng = new Random(7);
        var k = KerasAssert.Random(rng, 6, 4);
        var b = KerasAssert.Random(rng, 4);
        SynthLayer[] layers =
        [
            new("d", "Dense", SyntheticKerasFiles.Cfg(("batch_input_shape", new object?[] { null, 6 }), ("units", 4), ("activation", "tanh")),
                [("kernel", k), ("bias", b)]),
        ];
        string model = dir.File($"dense_{dtype}.h5");
        SyntheticKerasFiles.WriteLegacy(model, SyntheticKerasFiles.SequentialConfig(layers), layers, "2.3.1", dtype: dtype);
        string x = dir.File("x.npy");
        NpyWriter.Write(x, NpyArray.Create<float>(TensorAssert.RandomFloats(2 * 6, 9), 2, 6));
        string jitOut = dir.File("jit"), aotOut = dir.File("aot");
        var jit = CliHarness.Invoke("run", model, "--input", x, "-o", jitOut, "--threads", "1");
        Assert.True(jit.Code == 0, jit.ToString());
        AssertNativeOk(aot.Run("run", model, "--input", x, "-o", aotOut, "--threads", "1"));
        AssertSameOutputs(jitOut, aotOut, $"{dtype} Dense");
    }

    private static float[] Flatten(JsonArray rows) =>
        rows.SelectMany(r => r!.AsArray().Select(v => (float)(double)v!)).ToArray();

    private static void AssertNativeOk((int Code, string Out, string Err) r) =>
        Assert.True(r.Code == 0, $"native exit {r.Code}\nstdout:\n{r.Out}\nstderr:\n{r.Err}");

    private static void AssertSameOutputs(string jitDir, string aotDir, string what)
    {
        var names = Directory.GetFiles(jitDir).Select(Path.GetFileName).Order().ToArray();
        Assert.NotEmpty(names);
        Assert.Equal(names, Directory.GetFiles(aotDir).Select(Path.GetFileName).Order().ToArray());
        foreach (var name in names)
        {
            var e = NpyReader.Read(Path.Combine(jitDir, name!));
            var a = NpyReader.Read(Path.Combine(aotDir, name!));
            Assert.Equal(e.ElementType, a.ElementType);
            Assert.Equal(e.Shape, a.Shape);
            TensorAssert.Close(e.AsSpan<float>(), a.AsSpan<float>(), Rtol, Atol, $"{what}: {name}");
        }
    }
}
