using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace FastInfer.Tests.Support;

/// <summary>ONNX Runtime as the independent oracle: runs a model on float/int64 inputs and returns float outputs.</summary>
internal static class OrtOracle
{
    public static Dictionary<string, (float[] Data, int[] Shape)> Run(byte[] model, IEnumerable<(string Name, Array Data, int[] Shape)> inputs, int threads = 1)
    {
        using var options = new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = threads };
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(model, options);
        return Run(session, inputs);
    }

    public static Dictionary<string, (float[] Data, int[] Shape)> Run(string modelPath, IEnumerable<(string Name, Array Data, int[] Shape)> inputs, int threads = 1)
    {
        using var options = new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = threads };
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(modelPath, options);
        return Run(session, inputs);
    }

    private static Dictionary<string, (float[] Data, int[] Shape)> Run(Microsoft.ML.OnnxRuntime.InferenceSession session, IEnumerable<(string Name, Array Data, int[] Shape)> inputs)
    {
        var values = new List<NamedOnnxValue>();
        foreach (var (name, data, shape) in inputs)
        {
            values.Add(data switch
            {
                float[] f => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(f, shape)),
                long[] l => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(l, shape)),
                int[] i => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<int>(i, shape)),
                bool[] b => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<bool>(b, shape)),
                _ => throw new NotSupportedException(data.GetType().Name),
            });
        }
        using var results = session.Run(values);
        var outputs = new Dictionary<string, (float[], int[])>();
        foreach (var r in results)
        {
            var t = r.AsTensor<float>();
            outputs[r.Name] = (t.ToArray(), t.Dimensions.ToArray());
        }
        return outputs;
    }
}
