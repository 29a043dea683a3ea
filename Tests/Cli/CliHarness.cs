using System.Text.Json;
using FastInfer.Tests.Support;
using Google.Protobuf;
using Pb = global::Onnx;

namespace FastInfer.Tests.Cli;

/// <summary>Runs the fastinfer command line in-process and captures its exit code, stdout and stderr.</summary>
internal static class CliHarness
{
    public sealed record Result(int Code, string Out, string Err)
    {
        public JsonElement Json() => JsonDocument.Parse(Out).RootElement;
        public override string ToString() => $"exit {Code}\nstdout:\n{Out}\nstderr:\n{Err}";
    }

    public static Result Invoke(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = global::FastInfer.Cli.CliApp.Run(args, stdout, stderr);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>A fresh temporary folder, deleted when disposed.</summary>
    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fastinfer-cli-" + Guid.NewGuid().ToString("N"));
        public TempDir() => Directory.CreateDirectory(Path);
        public string File(string name) => System.IO.Path.Combine(Path, name);
        public string Write(string name, byte[] bytes) { var f = File(name); System.IO.File.WriteAllBytes(f, bytes); return f; }
        public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
    }

    /// <summary>The seed CNN with one extra node of each of two op types FastInfer does not implement.</summary>
    public static byte[] SeedCnnWithUnsupportedOps()
    {
        var model = Pb.ModelProto.Parser.ParseFrom(SeedCnn.Build(8, 8, 1));
        var g = model.Graph;
        var output = g.Output[0].Name;
        g.Node[^1].Output[0] = "pre_output";
        g.Node.Add(SeedCnn.Node("HammingWindowish", ["pre_output"], "mid"));
        g.Node.Add(SeedCnn.Node("FrobnicateX", ["mid"], output));
        return model.ToByteArray();
    }
}

/// <summary>Serialized TensorProto files (the .pb inputs of ONNX test cases), built with Google's protobuf classes.</summary>
internal static class PbTensorFile
{
    public static byte[] Float(string name, float[] values, params long[] dims) => SeedCnn.Tensor(name, dims, values).ToByteArray();
}
