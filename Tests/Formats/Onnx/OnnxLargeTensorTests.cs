using FastInfer.Formats.Onnx;
using FastInfer.Ir;
using Microsoft.Win32.SafeHandles;
using Xunit;
using Pb = global::Onnx;

namespace FastInfer.Tests.Formats.OnnxTests;

/// <summary>A fact that runs only when FASTINFER_BIG_TESTS=1: it writes gigabytes to the temp folder.</summary>
public sealed class BigTestFactAttribute : FactAttribute
{
    public BigTestFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("FASTINFER_BIG_TESTS") != "1")
            Skip = "writes a 4 GB file; set FASTINFER_BIG_TESTS=1 to run";
    }
}

public class OnnxLargeTensorTests
{
    /// <summary>A tensor over 4 GB goes to external data by streaming from native memory (no byte[] of it anywhere).</summary>
    [BigTestFact]
    public unsafe void Writes_a_4GB_tensor_as_external_data()
    {
        const long bytes = (4L << 30) + 64;
        string dir = Directory.CreateTempSubdirectory("fi-onnx-4g-").FullName;
        try
        {
            using var g = new ModelGraph { Name = "big" };
            g.OpsetImports[""] = 17;
            // Not cleared: untouched pages stay unbacked, so the test does not need 4 GB of RAM.
            var block = g.Allocate(bytes, zero: false);
            byte* p = (byte*)block.Pointer;
            long[] marks = [0, (2L << 30) + 3, bytes - 1];
            foreach (long m in marks) p[m] = (byte)(m % 251 + 1);
            g.Initializers["huge"] = new TensorData("huge", DataType.UInt8, [bytes], block.Pointer, bytes);
            g.Initializers["small"] = TensorData.Create<float>(g, "small", DataType.Float, [1], [1f]);

            string path = Path.Combine(dir, "big.onnx");
            long before = GC.GetAllocatedBytesForCurrentThread();
            OnnxWriter.Save(g, path, new OnnxWriteOptions { ExternalDataThreshold = 1 << 20 });
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "the writer buffered the tensor");

            Assert.True(new FileInfo(path).Length < 4096);
            var model = Pb.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
            var t = model.Graph.Initializer.Single(i => i.Name == "huge");
            Assert.Equal(bytes.ToString(), t.ExternalData.Single(e => e.Key == "length").Value);
            using SafeFileHandle h = File.OpenHandle(path + ".data");
            Assert.Equal(bytes, RandomAccess.GetLength(h));
            byte[] one = new byte[1];
            foreach (long m in marks)
            {
                RandomAccess.Read(h, one, m);
                Assert.Equal((byte)(m % 251 + 1), one[0]);
            }
        }
        finally { Directory.Delete(dir, true); }
    }
}
