using System.Text.Json;
using FastInfer.Formats.Npy;
using FastInfer.Runtime;
using FastInfer.Tests.Formats.OnnxTests;
using FastInfer.Tests.Support;
using Xunit;

namespace FastInfer.Tests.Cli;

/// <summary>
/// The fastinfer commands, run in-process on the seed CNN and ResNet-18: exit codes (0 ok, 1 mismatch, 2 unreadable /
/// unsupported / usage), JSON field names, .npy outputs equal to the library's, and one-line errors on bad files.
/// </summary>
public class CliCommandTests
{
    private static string SeedModel(CliHarness.TempDir dir, int h = 28, int w = 28, int c = 1) =>
        dir.Write($"seed_{h}x{w}x{c}.onnx", SeedCnn.Build(h, w, c));

    private static string SeedInput(CliHarness.TempDir dir, int h = 28, int w = 28, int c = 1, int seed = 5)
    {
        var values = TensorAssert.RandomFloats(c * h * w, seed);
        var path = dir.File("x.npy");
        NpyWriter.Write(path, NpyArray.Create<float>(values, 1, c, h, w));
        return path;
    }

    [Fact]
    public void RunWritesNpyOutputsEqualToTheLibrarysOutputs()
    {
        using var dir = new CliHarness.TempDir();
        string model = SeedModel(dir), input = SeedInput(dir), outDir = dir.File("out");
        var r = CliHarness.Invoke("run", model, "--input", "input=" + input, "--output-dir", outDir, "--threads", "1", "--json");
        Assert.True(r.Code == 0, r.ToString());
        var json = r.Json();
        Assert.Equal("probabilities", json.GetProperty("outputs")[0].GetProperty("name").GetString());
        foreach (var field in new[] { "model", "threads", "inputs", "outputs", "first_run_ms", "latency_ms" })
            Assert.True(json.TryGetProperty(field, out _), field);

        var written = NpyReader.Read(Path.Combine(outDir, "probabilities.npy"));
        Assert.Equal(new long[] { 1, 10 }, written.Shape);
        using var session = InferenceSession.Load(model, new SessionOptions { IntraOpThreads = 1 });
        var x = NpyReader.Read(input);
        using var t = Tensor.Create<float>(x.AsSpan<float>(), 1, 1, 28, 28);
        var expected = session.Run(new NamedTensor("input", t));
        Assert.Equal(expected[0].Tensor.ToArray<float>(), written.AsSpan<float>().ToArray());
        expected[0].Tensor.Dispose();
    }

    [Theory]
    [InlineData(28, 28, 1)]
    [InlineData(32, 32, 3)]
    public void CheckPassesOnTheSeedCnnAgainstOnnxRuntime(int h, int w, int c)
    {
        using var dir = new CliHarness.TempDir();
        var r = CliHarness.Invoke("check", SeedModel(dir, h, w, c), "--json", "--threads", "1");
        Assert.True(r.Code == 0, r.ToString());
        var json = r.Json();
        Assert.True(json.GetProperty("passed").GetBoolean());
        Assert.Equal("onnxruntime", json.GetProperty("reference").GetString());
        var o = json.GetProperty("outputs")[0];
        Assert.Equal("probabilities", o.GetProperty("name").GetString());
        Assert.True(o.GetProperty("max_abs_diff").GetDouble() <= 1e-4);
        Assert.True(o.TryGetProperty("max_rel_diff", out _));
        Assert.True(o.GetProperty("within_tolerance").GetBoolean());
    }

    [Fact]
    public void CheckExitsOneWhenAReferenceOutputDiffers()
    {
        using var dir = new CliHarness.TempDir();
        string model = SeedModel(dir), input = SeedInput(dir);
        var wrong = dir.File("wrong.npy");
        NpyWriter.Write(wrong, NpyArray.Create<float>(Enumerable.Repeat(0.1f, 10).ToArray(), 1, 10));
        var r = CliHarness.Invoke("check", model, "--input", "input=" + input, "--reference-output", "probabilities=" + wrong, "--json");
        Assert.True(r.Code == 1, r.ToString());
        Assert.False(r.Json().GetProperty("passed").GetBoolean());

        // The same check against the library's own output written by run passes (exit 0) — it exercises the file path, not the math.
        var outDir = dir.File("out");
        Assert.Equal(0, CliHarness.Invoke("run", model, "--input", input, "-o", outDir).Code);
        var ok = CliHarness.Invoke("check", model, "--input", input, "--reference-output", Path.Combine(outDir, "probabilities.npy"));
        Assert.True(ok.Code == 0, ok.ToString());
    }

    [Theory]
    [InlineData("check")]
    [InlineData("run")]
    [InlineData("inspect")]
    [InlineData("bench")]
    [InlineData("convert")]
    public void CorruptModelExitsTwoWithOneLineAndNoStackTrace(string command)
    {
        using var dir = new CliHarness.TempDir();
        var good = SeedCnn.Build(28, 28, 1);
        string corrupt = dir.Write("corrupt.onnx", good.AsSpan(0, good.Length / 3).ToArray());
        string[] args = command == "convert" ? [command, corrupt, "-o", dir.File("out.onnx")] : [command, corrupt];
        var r = CliHarness.Invoke(args);
        Assert.True(r.Code == 2, r.ToString());
        var lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("fastinfer: error:", lines[0]);
        Assert.Contains("corrupt.onnx", lines[0]);
        Assert.DoesNotContain("   at ", r.Err);
    }

    [Fact]
    public void BadInputsAndUsageErrorsExitTwo()
    {
        using var dir = new CliHarness.TempDir();
        string model = SeedModel(dir);
        string badNpy = dir.Write("bad.npy", [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 0xFF, 0xFF, 1, 2]);
        Assert.Equal(2, CliHarness.Invoke("run", model, "--input", "input=" + badNpy).Code);
        Assert.Equal(2, CliHarness.Invoke("run", model, "--input", "nosuch=" + badNpy).Code);
        Assert.Equal(2, CliHarness.Invoke("run", model).Code); // input missing
        Assert.Equal(2, CliHarness.Invoke("run", model, "--input", "input=" + dir.File("missing.npy")).Code);
        Assert.Equal(2, CliHarness.Invoke("check", dir.File("missing.onnx")).Code);
        Assert.Equal(2, CliHarness.Invoke("check", model, "--no-such-option").Code);
        Assert.Equal(2, CliHarness.Invoke("bench", model, "--iterations", "0").Code);
        var wrongShape = dir.File("wrong.npy");
        NpyWriter.Write(wrongShape, NpyArray.Create<float>(new float[12], 1, 1, 3, 4));
        var r = CliHarness.Invoke("run", model, "--input", "input=" + wrongShape);
        Assert.Equal(2, r.Code);
        Assert.Contains("input", r.Err);
        var verbose = CliHarness.Invoke("run", model, "--input", "input=" + badNpy, "--verbose");
        Assert.Contains("ModelFormatException", verbose.Err); // the stack trace appears only with --verbose
    }

    [Fact]
    public void InspectReportsTheModelInJson()
    {
        using var dir = new CliHarness.TempDir();
        var r = CliHarness.Invoke("inspect", SeedModel(dir), "--json");
        Assert.True(r.Code == 0, r.ToString());
        var j = r.Json();
        Assert.Equal(1, j.GetProperty("op_histogram").GetProperty("Conv").GetInt32());
        // conv 32·1·9+32, dense1 32·13·13·128+128, dense2 128·10+10
        Assert.Equal(32 * 9 + 32 + 32 * 13 * 13 * 128 + 128 + 1280 + 10, j.GetProperty("parameter_count").GetInt64());
        Assert.Equal(4 * j.GetProperty("parameter_count").GetInt64(), j.GetProperty("weight_bytes").GetInt64());
        Assert.True(j.GetProperty("arena_bytes").GetInt64() > 0);
        Assert.Equal(0, j.GetProperty("unsupported_ops").GetArrayLength());
        Assert.Equal("input", j.GetProperty("inputs")[0].GetProperty("name").GetString());
        Assert.True(j.TryGetProperty("graph_passes", out _));
    }

    [Fact]
    public void UnsupportedOpsAreListedByInspectAndMakeCheckExitTwo()
    {
        using var dir = new CliHarness.TempDir();
        string model = dir.Write("unsupported.onnx", CliHarness.SeedCnnWithUnsupportedOps());
        var inspect = CliHarness.Invoke("inspect", model, "--json");
        Assert.True(inspect.Code == 0, inspect.ToString());
        var ops = inspect.Json().GetProperty("unsupported_ops").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(2, ops.Count);
        Assert.Contains(ops, o => o.Contains("HammingWindowish") && o.Contains("mid_node"));
        Assert.Contains(ops, o => o.Contains("FrobnicateX"));

        var check = CliHarness.Invoke("check", model);
        Assert.Equal(2, check.Code);
        Assert.Contains("HammingWindowish", check.Err);
        Assert.Contains("FrobnicateX", check.Err);
        Assert.Single(check.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void BenchJsonHasTheDocumentedFieldsAndZeroAllocations()
    {
        using var dir = new CliHarness.TempDir();
        var r = CliHarness.Invoke("bench", SeedModel(dir, 32, 32, 3), "--threads", "1", "--warmup", "2", "--iterations", "5", "--compare", "ort", "--soak", "0.2", "--json");
        Assert.True(r.Code == 0, r.ToString());
        var j = r.Json();
        foreach (var f in new[] { "min_ms", "p50_ms", "p90_ms", "p99_ms", "throughput_per_s" })
        {
            Assert.True(j.GetProperty("fastinfer").GetProperty(f).GetDouble() > 0, f);
            Assert.True(j.GetProperty("onnxruntime").GetProperty(f).GetDouble() > 0, f);
        }
        Assert.True(j.GetProperty("ratio_p50").GetDouble() > 0);
        Assert.Equal(0, j.GetProperty("alloc_bytes_per_run").GetDouble());
        Assert.True(j.GetProperty("peak_working_set_bytes").GetInt64() > 0);
        var soak = j.GetProperty("soak");
        Assert.True(soak.GetProperty("runs_completed").GetInt64() > 0);
        foreach (var f in new[] { "working_set_start_bytes", "working_set_end_bytes", "gen0_collections", "gen1_collections", "gen2_collections" })
            Assert.True(soak.TryGetProperty(f, out _), f);
        Assert.Equal(0, soak.GetProperty("allocated_bytes").GetInt64());
    }

    /// <summary>A transformer's int64 inputs (ids, mask, token types) get random values every embedding table accepts.</summary>
    [Fact]
    public void BenchRunsMiniLmWithRandomTokensAtASequenceLength()
    {
        if (FastInfer.Tests.Transformer.MiniLmModel.Path is not { } model) return; // the model package is not restored here
        var r = CliHarness.Invoke("bench", model, "--dim", "sequence=16", "--threads", "1", "--warmup", "1", "--iterations", "2", "--compare", "ort", "--json");
        Assert.True(r.Code == 0, r.ToString());
        Assert.True(r.Json().GetProperty("ratio_p50").GetDouble() > 0);
    }

    [Fact]
    public void BenchColdStartsFreshProcessesForBothEngines()
    {
        using var dir = new CliHarness.TempDir();
        var r = CliHarness.Invoke("bench", SeedModel(dir, 8, 8, 1), "--cold", "--runs", "1", "--threads", "1", "--json");
        Assert.True(r.Code == 0, r.ToString());
        var j = r.Json();
        Assert.True(j.GetProperty("cold_fastinfer").GetProperty("first_result_ms").GetDouble() > 0);
        Assert.True(j.GetProperty("cold_fastinfer").GetProperty("process_ms").GetDouble() > 0);
        Assert.True(j.GetProperty("cold_onnxruntime").GetProperty("first_result_ms").GetDouble() > 0);
        Assert.True(j.GetProperty("cold_ratio").GetDouble() > 0);
    }

    [Fact]
    public void ConvertWritesOnnxThatChecksAgainstOnnxRuntime()
    {
        using var dir = new CliHarness.TempDir();
        string out1 = dir.File("copy.onnx");
        var r = CliHarness.Invoke("convert", SeedModel(dir), "-o", out1, "--json");
        Assert.True(r.Code == 0, r.ToString());
        Assert.Equal("onnx", r.Json().GetProperty("format").GetString());
        Assert.Equal(0, CliHarness.Invoke("check", out1).Code);
    }

    [Fact]
    public void ConvertPrepackStoresOperandsThatInspectSeesUsed()
    {
        using var dir = new CliHarness.TempDir();
        // 16 input channels: the 3×3 convolution is packed (not run by the direct few-channel kernel).
        string onnx = dir.Write("seed16.onnx", SeedCnn.Build(20, 20, 16, seed: 2)), fim = dir.File("seed16.fim");
        var r = CliHarness.Invoke("convert", onnx, "-o", fim, "--prepack", "--json");
        Assert.True(r.Code == 0, r.ToString());
        int stored = r.Json().GetProperty("prepacked_operands").GetInt32();
        Assert.True(stored >= 1, r.ToString());
        Assert.StartsWith("fastinfer-packed-v", r.Json().GetProperty("packed_layout").GetString());
        var inspect = CliHarness.Invoke("inspect", fim, "--json").Json();
        Assert.Equal(stored, inspect.GetProperty("packed_from_file").GetInt32());
        Assert.Equal(0, inspect.GetProperty("packed_at_load").GetInt32());

        var onnxOut = CliHarness.Invoke("convert", onnx, "-o", dir.File("seed16.onnx.out.onnx"), "--prepack");
        Assert.NotEqual(0, onnxOut.Code);
        Assert.Contains("--prepack needs a .fim output", onnxOut.Err);
    }

    [Fact]
    public void ConvertToFimRunsWithOutputsIdenticalToTheOnnxModel()
    {
        using var dir = new CliHarness.TempDir();
        string onnx = SeedModel(dir), input = SeedInput(dir), fim = dir.File("seed.fim");
        var r = CliHarness.Invoke("convert", onnx, "-o", fim, "--json");
        Assert.True(r.Code == 0, r.ToString());
        Assert.Equal("fim", r.Json().GetProperty("format").GetString());
        Assert.Equal("fim", CliHarness.Invoke("inspect", fim, "--json").Json().GetProperty("format").GetString());

        foreach (var (model, outDir) in new[] { (onnx, "out-onnx"), (fim, "out-fim") })
        {
            var run = CliHarness.Invoke("run", model, "--input", "input=" + input, "--output-dir", dir.File(outDir), "--threads", "1");
            Assert.True(run.Code == 0, run.ToString());
        }
        var fromOnnx = NpyReader.Read(Path.Combine(dir.File("out-onnx"), "probabilities.npy"));
        var fromFim = NpyReader.Read(Path.Combine(dir.File("out-fim"), "probabilities.npy"));
        Assert.Equal(fromOnnx.Shape, fromFim.Shape);
        // Same graph, same weights, same kernels: the outputs are bit for bit the same.
        Assert.Equal(fromOnnx.AsSpan<float>().ToArray(), fromFim.AsSpan<float>().ToArray());
        // And the .fim model still checks against ONNX Runtime (reached through the in-memory ONNX writer).
        var check = CliHarness.Invoke("check", fim, "--input", "input=" + input);
        Assert.True(check.Code == 0, check.ToString());
    }

    [Fact]
    public void SysinfoQuickReportsThePeak()
    {
        var r = CliHarness.Invoke("sysinfo", "--quick", "--json");
        Assert.True(r.Code == 0, r.ToString());
        var j = r.Json();
        Assert.True(j.GetProperty("peak_gflops_one_core").GetDouble() > 0);
        Assert.True(j.GetProperty("peak_gflops_all_cores").GetDouble() > 0);
        Assert.False(string.IsNullOrEmpty(j.GetProperty("isa_selected").GetString()));
        // The probe gives up (no field) when the OS does not run its second thread within 2 s, as on a loaded CI machine.
        if (j.TryGetProperty("core_round_trip_ns", out var rt)) Assert.InRange(rt.GetDouble(), 1, 1e6);
    }

    [Fact]
    public void BenchOnTwoThreadsReportsTheCoreRoundTripAroundItsRuns()
    {
        if (Environment.ProcessorCount < 2) return;
        using var dir = new CliHarness.TempDir();
        var r = CliHarness.Invoke("bench", SeedModel(dir, 8, 8, 1), "--threads", "2", "--warmup", "0", "--iterations", "3", "--json");
        Assert.True(r.Code == 0, r.ToString());
        var j = r.Json();
        // Each probe gives up (no field) when the OS does not run its second thread within 2 s, as on a loaded CI machine.
        foreach (var name in new[] { "core_round_trip_ns_before", "core_round_trip_ns_after" })
            if (j.TryGetProperty(name, out var rt)) Assert.InRange(rt.GetDouble(), 1, 1e6);
        Assert.True(j.GetProperty("fastinfer").GetProperty("p50_ms").GetDouble() > 0);
    }

    [ResNet18Fact]
    public void RunAndCheckOnResNet18()
    {
        using var dir = new CliHarness.TempDir();
        string model = OnnxTestPaths.ResNet18!;
        var input = dir.File("image.npy");
        NpyWriter.Write(input, NpyArray.Create<float>(TestModels.ImageLike(3, 224, 224, 3), 1, 3, 224, 224));
        var outDir = dir.File("out");
        var run = CliHarness.Invoke("run", model, "--input", "Input247=" + input, "-o", outDir, "--threads", "2");
        Assert.True(run.Code == 0, run.ToString());
        var written = NpyReader.Read(Path.Combine(outDir, "Pooling395_Output_0.npy"));
        Assert.Equal(new long[] { 1, 512, 1, 1 }, written.Shape);
        // ONNX Runtime as the independent oracle for what run wrote.
        var ort = OrtOracle.Run(model, [("Input247", TestModels.ImageLike(3, 224, 224, 3), new[] { 1, 3, 224, 224 })]);
        TensorAssert.Close(ort["Pooling395_Output_0"].Data, written.AsSpan<float>().ToArray(), 1e-3, 1e-4);

        var check = CliHarness.Invoke("check", model, "--input", "Input247=" + input, "--json");
        Assert.True(check.Code == 0, check.ToString());
    }

    [ResNet18Fact]
    public void DefaultRunEmbedsTheSamplePhotos()
    {
        var r = CliHarness.Invoke("run", "--json", "--threads", "2");
        Assert.True(r.Code == 0, r.ToString());
        var j = r.Json();
        Assert.Equal(512, j.GetProperty("embedding_size").GetInt32());
        var images = j.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("image").GetString()).ToList();
        Assert.Equal(["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg"], images);
        var sim = j.GetProperty("cosine_similarity");
        for (int a = 0; a < 4; a++)
        {
            Assert.Equal(1.0, sim[a][a].GetDouble(), 4);
            for (int b = 0; b < 4; b++) Assert.Equal(sim[a][b].GetDouble(), sim[b][a].GetDouble(), 9);
        }
    }
}

/// <summary>Inputs from TensorProto .pb files, and hostile model bytes that must end in exit 0 or 2, never a crash.</summary>
public class CliInputFormatTests
{
    [Fact]
    public void RunAcceptsTensorProtoInputsLikeNpy()
    {
        using var dir = new CliHarness.TempDir();
        string model = dir.Write("seed.onnx", SeedCnn.Build(28, 28, 1));
        var values = TensorAssert.RandomFloats(28 * 28, 9);
        string pb = dir.Write("input_0.pb", PbTensorFile.Float("input", values, 1, 1, 28, 28));
        string npy = dir.File("input_0.npy");
        NpyWriter.Write(npy, NpyArray.Create<float>(values, 1, 1, 28, 28));
        Assert.Equal(0, CliHarness.Invoke("run", model, "--input", "input=" + pb, "-o", dir.File("a")).Code);
        Assert.Equal(0, CliHarness.Invoke("run", model, "--input", "input=" + npy, "-o", dir.File("b")).Code);
        Assert.Equal(NpyReader.Read(Path.Combine(dir.File("b"), "probabilities.npy")).Data,
            NpyReader.Read(Path.Combine(dir.File("a"), "probabilities.npy")).Data);
        string badPb = dir.Write("bad.pb", [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]);
        Assert.Equal(2, CliHarness.Invoke("run", model, "--input", "input=" + badPb).Code);
    }

    [Fact]
    public void MutatedModelsExitZeroOrTwo()
    {
        using var dir = new CliHarness.TempDir();
        var good = SeedCnn.Build(8, 8, 1);
        var rng = new Random(77);
        for (int i = 0; i < 60; i++)
        {
            var bytes = (byte[])good.Clone();
            for (int e = 0; e < 1 + rng.Next(8); e++) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
            if (i % 3 == 0) bytes = bytes.AsSpan(0, rng.Next(bytes.Length)).ToArray();
            string path = dir.Write($"m{i}.onnx", bytes);
            var r = CliHarness.Invoke("inspect", path, "--json");
            Assert.True(r.Code is 0 or 2, r.ToString());
            if (r.Code == 2) Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
    }
}
