using FastInfer.Formats.Onnx;
using FastInfer.Runtime;
using FastInfer.Runtime.Backends;
using FastInfer.Tests.Support;
using Google.Protobuf;
using Xunit;
using Pb = global::Onnx;

namespace FastInfer.Tests.Gpu;

/// <summary>Small ONNX graphs built with Google's protobuf classes, run on the GPU provider and on the CPU backend.</summary>
internal static class GpuModelRunner
{
    public sealed record Input(string Name, int[] Dims, float[] Values);

    public static byte[] Model(int opset, Input[] inputs, (string Name, int[] Dims, float[] Values)[] initializers, string[] outputs, params Pb.NodeProto[] nodes)
    {
        var g = new Pb.GraphProto { Name = "gpu_test" };
        foreach (var i in inputs) g.Input.Add(SeedCnn.Value(i.Name, i.Dims.Select(d => (long)d).ToArray()));
        foreach (var o in outputs)
            g.Output.Add(new Pb.ValueInfoProto
            {
                Name = o,
                Type = new Pb.TypeProto { TensorType = new Pb.TypeProto.Types.Tensor { ElemType = (int)Pb.TensorProto.Types.DataType.Float } },
            });
        foreach (var (name, dims, values) in initializers) g.Initializer.Add(SeedCnn.Tensor(name, dims.Select(d => (long)d).ToArray(), values));
        g.Node.AddRange(nodes);
        var m = new Pb.ModelProto { IrVersion = 8, Graph = g, ProducerName = "fastinfer-tests" };
        m.OpsetImport.Add(new Pb.OperatorSetIdProto { Domain = "", Version = opset });
        return m.ToByteArray();
    }

    public static Pb.NodeProto Node(string op, string[] inputs, string output, params (string Name, object Value)[] attributes) =>
        SeedCnn.Node(op, inputs, output, attributes);

    /// <summary>Runs the model and returns output 0's values; with <paramref name="gpu"/> also the device split.</summary>
    public static float[] Run(byte[] model, Input[] inputs, bool gpu, out DevicePlanSummary? summary)
    {
        using var session = InferenceSession.Create(OnnxReader.Load(model), gpu ? GpuTest.Options() : new SessionOptions { IntraOpThreads = 1 });
        var tensors = inputs.Select(i => new NamedTensor(i.Name, Tensor.FromArray(i.Values, i.Dims))).ToArray();
        try
        {
            var results = session.Run(tensors);
            try { return results[0].Tensor.ToArray<float>(); }
            finally { foreach (var r in results) r.Tensor.Dispose(); }
        }
        finally
        {
            summary = gpu ? session.DescribeDevicePlan(inputs.ToDictionary(i => i.Name, i => i.Dims)) : null;
            foreach (var t in tensors) t.Tensor.Dispose();
        }
    }

    /// <summary>GPU provider vs CPU backend; by default every step must have run on the device.</summary>
    public static DevicePlanSummary CompareWithCpu(byte[] model, Input[] inputs, string what, bool allOnDevice = true)
    {
        var expected = Run(model, inputs, gpu: false, out _);
        var actual = Run(model, inputs, gpu: true, out var summary);
        TensorAssert.Close(expected, actual, 1e-3, 1e-4, what);
        Assert.NotNull(summary);
        if (allOnDevice) Assert.True(summary!.CpuSteps == 0, $"{what}: expected every step on the device:\n{summary}");
        return summary!;
    }

    public static Input Random(string name, int seed, params int[] dims) =>
        new(name, dims, TensorAssert.RandomFloats(dims.Aggregate(1, (a, b) => a * b), seed));
}
