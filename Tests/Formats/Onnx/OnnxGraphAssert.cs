using FastInfer.Ir;
using Xunit;

namespace FastInfer.Tests.Formats.OnnxTests;

/// <summary>Deep equality of two graphs, tensor bytes included.</summary>
internal static class OnnxGraphAssert
{
    public static void Equal(ModelGraph a, ModelGraph b)
    {
        Assert.Equal(a.Name, b.Name);
        Assert.Equal(a.IrVersion, b.IrVersion);
        Assert.Equal(a.OpsetImports, b.OpsetImports);
        Assert.Equal(a.ProducerName, b.ProducerName);
        Assert.Equal(a.Metadata, b.Metadata);
        Assert.Equal(a.Inputs, b.Inputs, ValueInfoEqual);
        Assert.Equal(a.Outputs, b.Outputs, ValueInfoEqual);
        Assert.Equal(a.ValueInfos, b.ValueInfos, ValueInfoEqual);
        Assert.Equal(a.Initializers.Keys.Order(), b.Initializers.Keys.Order());
        foreach (var (name, t) in a.Initializers) Tensor(t, b.Initializers[name]);
        Assert.Equal(a.Nodes.Count, b.Nodes.Count);
        for (int i = 0; i < a.Nodes.Count; i++)
        {
            var (x, y) = (a.Nodes[i], b.Nodes[i]);
            Assert.Equal(x.ToString(), y.ToString());
            Assert.Equal(x.Domain, y.Domain);
            Assert.Equal(x.Attributes.Keys, y.Attributes.Keys);
            foreach (var (name, p) in x.Attributes)
            {
                var q = y.Attributes[name];
                Assert.Equal(p.Kind, q.Kind);
                Assert.Equal(p.Float, q.Float);
                Assert.Equal(p.Int, q.Int);
                Assert.Equal(p.String, q.String);
                Assert.Equal(p.Floats, q.Floats);
                Assert.Equal(p.Ints, q.Ints);
                Assert.Equal(p.Strings, q.Strings);
                Assert.Equal(p.Tensor is null, q.Tensor is null);
                if (p.Tensor is not null) Tensor(p.Tensor, q.Tensor!);
                Assert.Equal(p.Tensors?.Length, q.Tensors?.Length);
                for (int k = 0; k < (p.Tensors?.Length ?? 0); k++) Tensor(p.Tensors![k], q.Tensors![k]);
                Assert.Equal(p.Graph is null, q.Graph is null);
                if (p.Graph is not null) Equal(p.Graph, q.Graph!);
                Assert.Equal(p.Graphs?.Length, q.Graphs?.Length);
                for (int k = 0; k < (p.Graphs?.Length ?? 0); k++) Equal(p.Graphs![k], q.Graphs![k]);
            }
        }
    }

    private static bool ValueInfoEqual(ValueInfo x, ValueInfo y) =>
        x.Name == y.Name && x.ElementType == y.ElementType && (x.Shape is null ? y.Shape is null : y.Shape is not null && x.Shape.SequenceEqual(y.Shape));

    public static void Tensor(TensorData a, TensorData b)
    {
        Assert.Equal(a.Name, b.Name);
        Assert.Equal(a.ElementType, b.ElementType);
        Assert.Equal(a.Dims, b.Dims);
        Assert.Equal(a.ByteLength, b.ByteLength);
        Assert.Equal(a.Strings, b.Strings);
        Assert.True(a.AsSpan<byte>().SequenceEqual(b.AsSpan<byte>()), $"bytes of tensor '{a.Name}' differ");
    }
}
