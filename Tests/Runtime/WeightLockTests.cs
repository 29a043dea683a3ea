using FastInfer.Runtime;
using FastInfer.Tests.Support;
using Xunit;

namespace FastInfer.Tests.Runtime;

/// <summary>
/// <see cref="SessionOptions.LockWeights"/>: the kernel's own count of locked memory (VmLck in /proc/self/status) grows
/// by at least the weight bytes while the session lives and falls back when it is disposed; results are unchanged.
/// Runs alone: VmLck is process-wide.
/// </summary>
[Collection(WeightLockCollection.Name)]
public class WeightLockTests
{
    [Fact]
    public void Locks_the_weights_for_the_session_lifetime()
    {
        if (!OperatingSystem.IsLinux()) return; // VmLck is Linux's
        byte[] model = SeedCnn.Build(28, 28, 1, seed: 3);
        var input = TensorAssert.RandomFloats(28 * 28, seed: 5);
        float[] expected;
        using (var plain = InferenceSession.Create(FastInfer.Formats.Onnx.OnnxReader.Load(model)))
        using (var x = Tensor.FromArray(input, 1, 1, 28, 28))
        {
            var o = plain.Run(new NamedTensor("input", x));
            using var y = o[0].Tensor;
            expected = y.AsSpan<float>().ToArray();
            Assert.Equal(0, plain.LockedWeightBytes);
        }

        long before = LockedKiB();
        long weightBytes;
        using (var session = InferenceSession.Create(FastInfer.Formats.Onnx.OnnxReader.Load(model), new SessionOptions { LockWeights = true }))
        {
            weightBytes = session.LockedWeightBytes;
            Assert.True(weightBytes > 100_000, $"locked only {weightBytes} bytes");
            Assert.True(LockedKiB() - before >= weightBytes / 1024, $"VmLck grew by {LockedKiB() - before} KiB for {weightBytes} bytes of weights");
            using var x = Tensor.FromArray(input, 1, 1, 28, 28);
            var o = session.Run(new NamedTensor("input", x));
            using var y = o[0].Tensor;
            Assert.Equal(expected, y.AsSpan<float>().ToArray());
        }
        Assert.True(LockedKiB() - before < weightBytes / 1024, $"VmLck still {LockedKiB() - before} KiB above its start after Dispose");
    }

    private static long LockedKiB()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmLck:", StringComparison.Ordinal))
                return long.Parse(line["VmLck:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        throw new InvalidOperationException("no VmLck line in /proc/self/status");
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class WeightLockCollection
{
    public const string Name = "Weight locking (runs alone: VmLck is process-wide)";
}
