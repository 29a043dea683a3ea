using FastInfer.Ir;
using FastInfer.Runtime;
using FastInfer.Tests.Support;
using Xunit;

namespace FastInfer.Tests.Runtime;

/// <summary>Run rejects bad inputs and outputs with messages naming what is wrong; a disposed session refuses work.</summary>
public class SessionValidationTests
{
    private static InferenceSession Seed() => InferenceSession.Create(FastInfer.Formats.Onnx.OnnxReader.Load(SeedCnn.Build(28, 28, 1)), new SessionOptions { IntraOpThreads = 1 });

    [Fact]
    public void WrongInputNameIsNamed()
    {
        using var s = Seed();
        using var x = Tensor.Allocate(DataType.Float, 1, 1, 28, 28);
        var e = Assert.Throws<ArgumentException>(() => s.Run(new NamedTensor("image", x)));
        Assert.Contains("'image'", e.Message);
        Assert.Contains("'input'", e.Message);
    }

    [Fact]
    public void WrongShapeNamesExpectedAndGiven()
    {
        using var s = Seed();
        using var x = Tensor.Allocate(DataType.Float, 1, 1, 32, 32);
        var e = Assert.Throws<ArgumentException>(() => s.Run(new NamedTensor("input", x)));
        Assert.Contains("'input'", e.Message);
        Assert.Contains("[1,1,28,28]", e.Message);
        Assert.Contains("[1,1,32,32]", e.Message);
    }

    [Fact]
    public void WrongElementTypeIsNamed()
    {
        using var s = Seed();
        using var x = Tensor.Allocate(DataType.Int64, 1, 1, 28, 28);
        var e = Assert.Throws<ArgumentException>(() => s.Run(new NamedTensor("input", x)));
        Assert.Contains("float32", e.Message);
        Assert.Contains("int64", e.Message);
    }

    [Fact]
    public void MissingInputIsNamed()
    {
        using var s = Seed();
        var e = Assert.Throws<ArgumentException>(() => s.Run(Array.Empty<NamedTensor>()));
        Assert.Contains("'input'", e.Message);
    }

    [Fact]
    public void OutputOfWrongShapeIsRejected()
    {
        using var s = Seed();
        using var x = Tensor.Allocate(DataType.Float, 1, 1, 28, 28);
        using var y = Tensor.Allocate(DataType.Float, 1, 9);
        var e = Assert.Throws<ArgumentException>(() => s.Run(new[] { new NamedTensor("input", x) }, new[] { new NamedTensor("probabilities", y) }));
        Assert.Contains("[1,10]", e.Message);
    }

    [Fact]
    public void OutputAliasingInputIsRejected()
    {
        using var s = Seed();
        using var x = Tensor.Allocate(DataType.Float, 1, 1, 28, 28);
        using var alias = Tensor.FromPointer(DataType.Float, x.Pointer, 1, 10);
        var e = Assert.Throws<ArgumentException>(() => s.Run(new[] { new NamedTensor("input", x) }, new[] { new NamedTensor("probabilities", alias) }));
        Assert.Contains("shares memory", e.Message);
    }

    [Fact]
    public void UseAfterDisposeThrows()
    {
        var s = Seed();
        s.Dispose();
        using var x = Tensor.Allocate(DataType.Float, 1, 1, 28, 28);
        Assert.Throws<ObjectDisposedException>(() => s.Run(new NamedTensor("input", x)));
    }

    [Fact]
    public void OutputsNotAskedForAreStillComputed()
    {
        using var s = Seed();
        using var x = Tensor.FromArray(TensorAssert.RandomFloats(784, 3), 1, 1, 28, 28);
        s.Run(new[] { new NamedTensor("input", x) }, ReadOnlySpan<NamedTensor>.Empty);
        var r = s.Run(new NamedTensor("input", x));
        Assert.Equal(1f, r[0].Tensor.AsSpan<float>().ToArray().Sum(), 4);
    }
}
