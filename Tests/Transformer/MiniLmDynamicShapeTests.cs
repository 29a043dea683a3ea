using FastInfer.Runtime;
using Xunit;

namespace FastInfer.Tests.Transformer;

/// <summary>One session serving several sequence lengths: a plan per shape, cached, and Run allocation-free for any shape seen.</summary>
public class MiniLmDynamicShapeTests
{
    [MiniLmFact]
    public void Alternating_sequence_lengths_reuse_cached_plans_without_allocating()
    {
        using var session = InferenceSession.Load(MiniLmModel.Path!, new SessionOptions { IntraOpThreads = 1 });
        var runs = new[] { 8, 24, 8, 24 }.Select(seq =>
        {
            var (ids, mask, types) = MiniLmModel.Inputs(2, seq, seed: seq);
            var inputs = new[]
            {
                new NamedTensor("input_ids", Tensor.FromArray(ids, 2, seq)),
                new NamedTensor("attention_mask", Tensor.FromArray(mask, 2, seq)),
                new NamedTensor("token_type_ids", Tensor.FromArray(types, 2, seq)),
            };
            var shapes = session.GetOutputShapes(inputs, out var outTypes);
            var outputs = shapes.Select((s, i) => new NamedTensor(session.Outputs[i].Name, Tensor.Allocate(outTypes[i], s.ToArray()))).ToArray();
            return (Inputs: inputs, Outputs: outputs);
        }).ToArray();
        try
        {
            foreach (var r in runs) session.Run(r.Inputs, r.Outputs);
            var first = runs[0].Outputs[0].Tensor.ToArray<float>();
            long before = GC.GetAllocatedBytesForCurrentThread();
            foreach (var r in runs) session.Run(r.Inputs, r.Outputs);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            // The same inputs give the same outputs after the other shape ran in between.
            Assert.Equal(first, runs[2].Outputs[0].Tensor.ToArray<float>());
        }
        finally
        {
            foreach (var r in runs) { foreach (var t in r.Inputs) t.Tensor.Dispose(); foreach (var t in r.Outputs) t.Tensor.Dispose(); }
        }
    }
}
