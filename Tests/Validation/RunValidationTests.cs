using FastInfer.Formats.Onnx;
using FastInfer.Ir;
using FastInfer.Runtime;
using FastInfer.Tests.Concurrency;
using FastInfer.Tests.Support;
using Xunit;

namespace FastInfer.Tests.Validation;

/// <summary>
/// Run's checks beyond Tests/Runtime/SessionValidationTests: each mistake gets a specific exception whose message
/// names the input or output and says what was expected. NaN/Inf policy: propagated by default, rejected on request.
/// </summary>
public class RunValidationTests
{
    private static InferenceSession MatMul(SessionOptions? options = null) =>
        InferenceSession.Create(OnnxReader.Load(ConcurrencyModels.MatMulSoftmax(8, 3, seed: 1)), options ?? new SessionOptions { IntraOpThreads = 1 });

    private static Tensor X(float fill = 0.5f)
    {
        var t = Tensor.Allocate(DataType.Float, 4, 8);
        t.AsSpan<float>().Fill(fill);
        return t;
    }

    [Fact]
    public void An_input_given_twice_is_named()
    {
        using var s = MatMul();
        using var x = X();
        var e = Assert.Throws<ArgumentException>(() => s.Run(new NamedTensor("x", x), new NamedTensor("x", x)));
        Assert.Contains("'x' is given twice", e.Message);
    }

    [Fact]
    public void An_input_without_a_tensor_is_named()
    {
        using var s = MatMul();
        var e = Assert.Throws<ArgumentNullException>(() => s.Run(new NamedTensor("x", null!)));
        Assert.Contains("'x' has no tensor", e.Message);
    }

    [Fact]
    public void A_wrong_rank_names_expected_and_given_shapes()
    {
        using var s = MatMul();
        using var x = Tensor.Allocate(DataType.Float, 32);
        var e = Assert.Throws<ArgumentException>(() => s.Run(new NamedTensor("x", x)));
        Assert.Contains("[4,8]", e.Message);
        Assert.Contains("[32]", e.Message);
    }

    [Fact]
    public void An_unknown_output_lists_the_real_ones()
    {
        using var s = MatMul();
        using var x = X();
        using var y = Tensor.Allocate(DataType.Float, 4, 3);
        var e = Assert.Throws<ArgumentException>(() => s.Run([new NamedTensor("x", x)], [new NamedTensor("probs", y)]));
        Assert.Contains("'probs'", e.Message);
        Assert.Contains("'y'", e.Message);
    }

    [Fact]
    public void An_output_buffer_too_small_names_the_shape_needed()
    {
        using var s = MatMul();
        using var x = X();
        using var y = Tensor.Allocate(DataType.Float, 4, 2);
        var e = Assert.Throws<ArgumentException>(() => s.Run([new NamedTensor("x", x)], [new NamedTensor("y", y)]));
        Assert.Contains("'y'", e.Message);
        Assert.Contains("[4,3]", e.Message);
        Assert.Contains("[4,2]", e.Message);
    }

    [Fact]
    public void An_output_of_the_wrong_element_type_is_named()
    {
        using var s = MatMul();
        using var x = X();
        using var y = Tensor.Allocate(DataType.Double, 4, 3);
        var e = Assert.Throws<ArgumentException>(() => s.Run([new NamedTensor("x", x)], [new NamedTensor("y", y)]));
        Assert.Contains("float32", e.Message);
        Assert.Contains("float64", e.Message);
    }

    [Fact]
    public void An_output_given_twice_is_named()
    {
        using var s = MatMul();
        using var x = X();
        using var y = Tensor.Allocate(DataType.Float, 4, 3);
        using var z = Tensor.Allocate(DataType.Float, 4, 3);
        var e = Assert.Throws<ArgumentException>(() => s.Run([new NamedTensor("x", x)], [new NamedTensor("y", y), new NamedTensor("y", z)]));
        Assert.Contains("'y' is given twice", e.Message);
    }

    [Fact]
    public void An_output_overlapping_only_the_tail_of_an_input_is_rejected()
    {
        using var s = MatMul();
        using var x = X();
        // The output starts inside the input's last row: a partial overlap, not the same pointer.
        using var y = Tensor.FromPointer(DataType.Float, x.Pointer + 30 * sizeof(float), 4, 3);
        var e = Assert.Throws<ArgumentException>(() => s.Run([new NamedTensor("x", x)], [new NamedTensor("y", y)]));
        Assert.Contains("shares memory with input 'x'", e.Message);
    }

    [Fact]
    public void A_disposed_input_tensor_is_refused()
    {
        using var s = MatMul();
        var x = X();
        x.Dispose();
        Assert.Throws<ObjectDisposedException>(() => s.Run(new NamedTensor("x", x)));
    }

    [Fact]
    public void NaN_and_Inf_are_propagated_by_default()
    {
        using var s = MatMul();
        using var x = X();
        x.AsSpan<float>()[0] = float.NaN;   // row 0
        x.AsSpan<float>()[8] = float.PositiveInfinity; // row 1
        var y = s.Run(new NamedTensor("x", x))[0].Tensor.ToArray<float>();
        Assert.All(y[0..3], v => Assert.True(float.IsNaN(v)));
        Assert.All(y[6..12], v => Assert.True(float.IsFinite(v))); // rows 2 and 3 are untouched
    }

    [Fact]
    public void NaN_and_Inf_are_rejected_when_asked_naming_input_and_element()
    {
        using var s = MatMul(new SessionOptions { IntraOpThreads = 1, RejectNonFiniteInputs = true });
        using var x = X();
        s.Run(new NamedTensor("x", x)); // finite: fine
        x.AsSpan<float>()[13] = float.NegativeInfinity;
        var e = Assert.Throws<ArgumentException>(() => s.Run(new NamedTensor("x", x)));
        Assert.Contains("'x'", e.Message);
        Assert.Contains("element 13", e.Message);
        Assert.Contains("RejectNonFiniteInputs", e.Message);
        x.AsSpan<float>()[13] = float.NaN;
        Assert.Contains("element 13", Assert.Throws<ArgumentException>(() => s.Run(new NamedTensor("x", x))).Message);
    }

    [Fact]
    public void The_finite_check_allocates_nothing()
    {
        using var s = MatMul(new SessionOptions { IntraOpThreads = 1, RejectNonFiniteInputs = true });
        using var x = Tensor.FromArray(TensorAssert.RandomFloats(32, 4), 4, 8);
        using var y = Tensor.Allocate(DataType.Float, 4, 3);
        NamedTensor[] inputs = [new("x", x)], outputs = [new("y", y)];
        s.Run(inputs, outputs);
        s.Run(inputs, outputs);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) s.Run(inputs, outputs);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
