using FastInfer.Runtime;
using FastInfer.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace FastInfer.Tests.Transformer;

/// <summary>all-MiniLM-L6-v2 (a trained BERT encoder) on FastInfer against ONNX Runtime.</summary>
public class MiniLmTests(ITestOutputHelper output)
{
    [MiniLmTheory]
    [InlineData(1, 8)]
    [InlineData(4, 8)]
    [InlineData(1, 128)]
    [InlineData(4, 128)]
    [InlineData(1, 256)]
    [InlineData(4, 256)]
    public void Matches_onnx_runtime(int batch, int sequence)
    {
        string path = MiniLmModel.Path!;
        var (ids, mask, types) = MiniLmModel.Inputs(batch, sequence, seed: batch * 1000 + sequence);
        var expected = OrtOracle.Run(path, new (string, Array, int[])[]
        {
            ("input_ids", ids, new[] { batch, sequence }),
            ("attention_mask", mask, new[] { batch, sequence }),
            ("token_type_ids", types, new[] { batch, sequence }),
        }, threads: 2);

        using var session = InferenceSession.Load(path, new SessionOptions { IntraOpThreads = 2 });
        output.WriteLine(session.Statistics.ToString());
        using var tIds = Tensor.FromArray(ids, batch, sequence);
        using var tMask = Tensor.FromArray(mask, batch, sequence);
        using var tTypes = Tensor.FromArray(types, batch, sequence);
        var results = session.Run(new NamedTensor("input_ids", tIds), new NamedTensor("attention_mask", tMask), new NamedTensor("token_type_ids", tTypes));
        try
        {
            Assert.Equal(expected.Count, results.Length);
            foreach (var r in results)
            {
                var (data, shape) = expected[r.Name];
                Assert.Equal(shape, r.Tensor.Shape.ToArray());
                TensorAssert.Close(data, r.Tensor.AsSpan<float>(), 1e-3, 1e-4, $"{r.Name} batch {batch} seq {sequence}");
            }
        }
        finally { foreach (var r in results) r.Tensor.Dispose(); }
    }
}
