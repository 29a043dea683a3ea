using FastInfer.Cli;
using FastInfer.Formats.Npy;
using FastInfer.Gpu;
using FastInfer.Runtime;
using FastInfer.Runtime.Backends;
using FastInfer.Tests.Gpu;
using FastInfer.Tests.Support;
using Xunit;

namespace FastInfer.Tests.Cli;

/// <summary>
/// <c>--device</c> on run/check/bench/inspect, and sysinfo's accelerator list. The GPU path is exercised on ILGPU's CPU
/// accelerator (hidden <c>--gpu-accelerator cpu</c>), against the CPU backend's output; CUDA only decides the
/// no-device error.
/// </summary>
[Collection(GpuCollection.Name)]
public class CliDeviceTests
{
    private const int H = 12, W = 10;

    private static (string Model, string Input) Seed(CliHarness.TempDir dir)
    {
        string model = dir.Write("seed.onnx", SeedCnn.Build(H, W, 1, seed: 3));
        string input = dir.File("x.npy");
        NpyWriter.Write(input, NpyArray.Create<float>(TensorAssert.RandomFloats(H * W, 11), 1, 1, H, W));
        return (model, input);
    }

    private static bool HasCuda() => GpuAccelerator.TryOpen(GpuAcceleratorKind.Cuda, 0, out _) is not null;

    [Fact]
    public void DeviceGpuWithoutCudaExitsTwoWithTheProvidersOneLineMessage()
    {
        using var dir = new CliHarness.TempDir();
        var (model, input) = Seed(dir);
        if (HasCuda()) return; // a GPU machine: the product path runs instead (tools/gpu-check.sh)

        string expected;
        try
        {
            using var s = InferenceSession.Load(model, new SessionOptions().UseGpu());
            throw new Xunit.Sdk.XunitException("a GPU session was created on a machine without CUDA");
        }
        catch (DeviceUnavailableException e) { expected = "fastinfer: error: " + CommandGuard.OneLine(e.Message); }

        foreach (var command in new[] { "run", "check", "bench", "inspect" })
        {
            var args = command switch
            {
                "run" => new[] { "run", model, "--input", input, "--device", "gpu" },
                "check" => ["check", model, "--device", "gpu"],
                "bench" => ["bench", model, "--device", "gpu", "--warmup", "0", "--iterations", "1"],
                _ => ["inspect", model, "--device", "gpu"],
            };
            var r = CliHarness.Invoke(args);
            Assert.True(r.Code == 2, command + ": " + r);
            Assert.Equal(expected, r.Err.TrimEnd('\r', '\n'));
        }

        // auto falls back to the CPU.
        var auto = CliHarness.Invoke("run", model, "--input", input, "--device", "auto", "--json");
        Assert.True(auto.Code == 0, auto.ToString());
        Assert.Equal("CPU", auto.Json().GetProperty("device").GetString());
    }

    [Fact]
    public void UnknownDeviceIsAUsageError()
    {
        var r = CliHarness.Invoke("run", "model.onnx", "--device", "tpu");
        Assert.Equal(2, r.Code);
        Assert.Contains("tpu", r.Err);
        Assert.DoesNotContain("\n", r.Err.TrimEnd());
    }

    [Fact]
    public void RunOnTheIlgpuCpuAcceleratorMatchesTheCpuOutput()
    {
        using var dir = new CliHarness.TempDir();
        var (model, input) = Seed(dir);
        var cpu = CliHarness.Invoke("run", model, "--input", input, "--threads", "1", "--output-dir", dir.File("cpu"));
        Assert.True(cpu.Code == 0, cpu.ToString());
        var gpu = CliHarness.Invoke("run", model, "--input", input, "--threads", "1", "--output-dir", dir.File("gpu"),
            "--device", "gpu", "--gpu-accelerator", "cpu", "--json");
        Assert.True(gpu.Code == 0, gpu.ToString());
        Assert.Contains("ILGPU CPU accelerator", gpu.Json().GetProperty("device").GetString());

        var expected = NpyReader.Read(Path.Combine(dir.File("cpu"), "probabilities.npy"));
        var actual = NpyReader.Read(Path.Combine(dir.File("gpu"), "probabilities.npy"));
        Assert.Equal(expected.Shape, actual.Shape);
        TensorAssert.Close(expected.AsSpan<float>(), actual.AsSpan<float>(), 1e-3, 1e-4, "seed CNN, CLI on the ILGPU CPU accelerator vs the CPU");
    }

    [Fact]
    public void InspectWithTheIlgpuCpuAcceleratorShowsThePartitions()
    {
        using var dir = new CliHarness.TempDir();
        var (model, _) = Seed(dir);
        var text = CliHarness.Invoke("inspect", model, "--device", "gpu", "--gpu-accelerator", "cpu");
        Assert.True(text.Code == 0, text.ToString());
        Assert.Contains("partition 0 [device]", text.Out);
        Assert.Contains("steps on the device", text.Out);

        var json = CliHarness.Invoke("inspect", model, "--device", "gpu", "--gpu-accelerator", "cpu", "--json");
        Assert.True(json.Code == 0, json.ToString());
        var plan = json.Json().GetProperty("device_plan");
        Assert.True(plan.GetProperty("device_steps").GetInt32() > 0, json.Out);
        Assert.True(plan.GetProperty("partitions").GetArrayLength() > 0, json.Out);
        Assert.True(plan.GetProperty("partitions")[0].GetProperty("on_device").GetBoolean(), json.Out);

        // Without --device there is no device plan.
        var cpu = CliHarness.Invoke("inspect", model, "--json");
        Assert.False(cpu.Json().TryGetProperty("device_plan", out var none) && none.ValueKind != System.Text.Json.JsonValueKind.Null, cpu.Out);
    }

    [Fact]
    public void CheckAndBenchRunOnTheIlgpuCpuAccelerator()
    {
        using var dir = new CliHarness.TempDir();
        var (model, _) = Seed(dir);
        var check = CliHarness.Invoke("check", model, "--device", "gpu", "--gpu-accelerator", "cpu", "--threads", "1");
        Assert.True(check.Code == 0, check.ToString());
        var bench = CliHarness.Invoke("bench", model, "--device", "gpu", "--gpu-accelerator", "cpu", "--threads", "1",
            "--warmup", "1", "--iterations", "2", "--json");
        Assert.True(bench.Code == 0, bench.ToString());
        Assert.Contains("ILGPU CPU accelerator", bench.Json().GetProperty("device").GetString());
    }

    [Fact]
    public void SysinfoListsTheAcceleratorsIlgpuFinds()
    {
        var json = CliHarness.Invoke("sysinfo", "--quick", "--json");
        Assert.True(json.Code == 0, json.ToString());
        var list = json.Json().GetProperty("accelerators");
        Assert.True(list.GetArrayLength() > 0, json.Out); // ILGPU's CPU accelerator is always there
        var text = CliHarness.Invoke("sysinfo", "--quick");
        Assert.Contains("accelerators (ILGPU)", text.Out);
        Assert.Contains(list[0].GetString()!, text.Out);
    }
}
