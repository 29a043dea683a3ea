using FastInfer.Formats.Keras;
using FastInfer.Formats.Onnx;
using FastInfer.Ir;
using FastInfer.Runtime;
using FastInfer.Runtime.Operators;
using FastInfer.Tests.Formats.Keras;
using FastInfer.Tests.Support;
using Xunit;
using KTensor = FastInfer.Tests.Formats.Keras.Tensor;
using RTensor = FastInfer.Runtime.Tensor;

namespace FastInfer.Tests.Keras;

/// <summary>
/// Runs a Keras file through the real runtime (<see cref="InferenceSession.Load(string, FastInfer.Runtime.SessionOptions?)"/>)
/// and through ONNX Runtime on the reader's graph exported by <see cref="OnnxWriter"/> (the conversion check), so a
/// test can compare both against an independent NHWC reference.
/// </summary>
public static class KerasEngines
{
    /// <summary>
    /// ONNX operators the Keras reader emits that the runtime does not implement yet (issue 4 adds them). A model
    /// that needs one of these is checked through ONNX Runtime only; any other missing operator fails the test.
    /// </summary>
    public static readonly IReadOnlySet<string> PendingRuntimeOps = new HashSet<string>(StringComparer.Ordinal)
    {
        // Empty: every operator the Keras reader emits is implemented; kept so a new layer can be staged.
    };

    /// <summary>The operators of <paramref name="graph"/> that the runtime's registry does not find.</summary>
    public static List<string> MissingRuntimeOps(ModelGraph graph) =>
        graph.Nodes.Where(n => OperatorRegistry.Find(n) is null).Select(n => n.OpType).Distinct().ToList();

    /// <summary>Runs the file through <see cref="InferenceSession"/>; returns null when the graph needs a pending operator.</summary>
    public static Dictionary<string, KTensor>? RunFastInfer(string path, Dictionary<string, KTensor> inputs, int threads = 1)
    {
        using (var probe = KerasReader.Load(path))
        {
            var missing = MissingRuntimeOps(probe);
            Assert.All(missing, op => Assert.Contains(op, PendingRuntimeOps));
            if (missing.Count > 0) return null;
        }
        using var session = InferenceSession.Load(path, new FastInfer.Runtime.SessionOptions { IntraOpThreads = threads });
        return Run(session, inputs);
    }

    /// <summary>Runs a session on test tensors and returns every output.</summary>
    public static Dictionary<string, KTensor> Run(InferenceSession session, Dictionary<string, KTensor> inputs)
    {
        var named = inputs.Select(kv => new NamedTensor(kv.Key, RTensor.FromArray(kv.Value.Data, kv.Value.Shape.Select(d => checked((int)d)).ToArray()))).ToArray();
        try
        {
            var outs = session.Run(named);
            var result = new Dictionary<string, KTensor>(StringComparer.Ordinal);
            foreach (var o in outs)
            {
                result[o.Name] = new KTensor(o.Tensor.Shape.ToLongArray(), o.Tensor.ToArray<float>());
                o.Tensor.Dispose();
            }
            return result;
        }
        finally { foreach (var n in named) n.Tensor.Dispose(); }
    }

    /// <summary>The reader's graph written as ONNX by <see cref="OnnxWriter"/> and run by ONNX Runtime.</summary>
    public static Dictionary<string, KTensor> RunOrtOnExport(ModelGraph graph, Dictionary<string, KTensor> inputs)
    {
        byte[] onnx = OnnxWriter.ToBytes(graph);
        var outs = OrtOracle.Run(onnx, inputs.Select(kv => (kv.Key, (Array)kv.Value.Data, kv.Value.Shape.Select(d => checked((int)d)).ToArray())));
        return outs.ToDictionary(kv => kv.Key, kv => new KTensor(kv.Value.Shape.Select(d => (long)d).ToArray(), kv.Value.Data), StringComparer.Ordinal);
    }

    /// <summary>
    /// Checks the file against <paramref name="expected"/> (an independent reference) through FastInfer (unless a
    /// pending operator blocks it) and through ONNX Runtime on the export. Returns true when FastInfer ran.
    /// </summary>
    public static bool CheckFile(string path, Dictionary<string, KTensor> inputs, Dictionary<string, KTensor> expected,
        double rtol = 1e-3, double atol = 1e-4)
    {
        using (var g = KerasReader.Load(path))
        {
            var ort = RunOrtOnExport(g, inputs);
            foreach (var (name, e) in expected) KerasAssert.Close(e, ort[name], rtol, atol, $"ONNX Runtime on the export, output '{name}'");
        }
        var fast = RunFastInfer(path, inputs);
        if (fast is null) return false;
        foreach (var (name, e) in expected) KerasAssert.Close(e, fast[name], rtol, atol, $"FastInfer, output '{name}'");
        return true;
    }
}
