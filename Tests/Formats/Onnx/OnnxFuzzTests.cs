using FastInfer.Formats;
using FastInfer.Formats.Onnx;
using Google.Protobuf;
using Xunit;

namespace FastInfer.Tests.Formats.OnnxTests;

/// <summary>
/// A deterministic mutation fuzz over small valid models: whatever the bytes, the reader either succeeds or throws
/// <see cref="ModelFormatException"/>; any other exception (or a crash, hang or huge allocation) is a bug.
/// </summary>
public class OnnxFuzzTests
{
    public static TheoryData<string> Models => new() { "conv", "if", "mixed", "full" };

    private static byte[] Seed(string name) => (name switch
    {
        "conv" => PbBuild.SmallConv(),
        "if" => PbBuild.SmallIf(),
        "full" => OnnxReaderTests.FullModel(),
        _ => PbBuild.SmallMixed(),
    }).ToByteArray();

    [Theory]
    [MemberData(nameof(Models))]
    public void Mutated_models_fail_only_with_ModelFormatException(string model)
    {
        byte[] seed = Seed(model);
        using (OnnxReader.Load(seed)) { } // the seed itself is valid
        var random = new Random(20240611 + model.Length * 31 + model[0]);
        var limits = new ReaderLimits { MaxTensorBytes = 1 << 20, MaxTotalWeightBytes = 1 << 22 };
        int accepted = 0, rejected = 0;
        // FASTINFER_FUZZ_ITERATIONS raises the count for a longer local run; the default keeps the suite fast.
        int iterations = int.TryParse(Environment.GetEnvironmentVariable("FASTINFER_FUZZ_ITERATIONS"), out int n) ? n : 1500;
        for (int i = 0; i < iterations; i++)
        {
            byte[] bytes = Mutate(seed, random);
            try
            {
                using var g = OnnxReader.Load(bytes, limits: limits, sourceName: "fuzz.onnx");
                accepted++;
            }
            catch (ModelFormatException)
            {
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"mutation {i} of '{model}' threw {e.GetType().Name}: {e.Message}\nbytes: {Convert.ToHexString(bytes)}");
            }
            try
            {
                using var t = OnnxTensorFile.Read(bytes, limits: limits);
            }
            catch (ModelFormatException) { }
            catch (Exception e)
            {
                Assert.Fail($"mutation {i} of '{model}' as a tensor threw {e.GetType().Name}: {e.Message}\nbytes: {Convert.ToHexString(bytes)}");
            }
        }
        Assert.True(rejected > 100, $"only {rejected} of {iterations} mutations were rejected; the fuzz is not reaching the checks");
        Assert.True(accepted > 0);
    }

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = new List<byte>(seed);
        int steps = 1 + random.Next(3);
        for (int s = 0; s < steps && bytes.Count > 0; s++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0: // bit flips
                    for (int k = random.Next(1, 4); k > 0; k--) { int j = random.Next(bytes.Count); bytes[j] ^= (byte)(1 << random.Next(8)); }
                    break;
                case 1: // truncation
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 2: // insert
                    bytes.Insert(at, (byte)random.Next(256));
                    break;
                case 3: // delete
                    bytes.RemoveAt(at);
                    break;
                default: // overwrite with a varint, small or huge (lengths, counts, dims)
                {
                    ulong v = random.Next(4) switch
                    {
                        0 => (ulong)random.Next(128),
                        1 => (ulong)random.NextInt64(),
                        2 => ulong.MaxValue - (ulong)random.Next(16),
                        _ => 1UL << random.Next(64),
                    };
                    byte[] varint = PbBuild.Varint(v);
                    for (int k = 0; k < varint.Length && at + k < bytes.Count; k++) bytes[at + k] = varint[k];
                    break;
                }
            }
        }
        return bytes.ToArray();
    }
}
