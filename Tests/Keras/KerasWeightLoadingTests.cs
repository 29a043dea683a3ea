using FastInfer.Formats.Keras;
using FastInfer.Tests.Formats.Keras;
using Xunit;
using Xunit.Abstractions;
using static FastInfer.Tests.Formats.Keras.SyntheticKerasFiles;
using T = FastInfer.Tests.Formats.Keras.Tensor;

namespace FastInfer.Tests.Keras;

/// <summary>
/// Weights land once: read from the file straight into the graph's native buffers (kernel transposes and the
/// Flatten row permutation done in place), so loading allocates far less managed memory than the weights hold.
/// </summary>
public sealed class KerasWeightLoadingTests(ITestOutputHelper output) : IDisposable
{
    private readonly List<string> _files = [];

    public void Dispose()
    {
        foreach (var f in _files) File.Delete(f);
    }

    private static T Filled(params long[] shape)
    {
        var t = new T(shape);
        for (int i = 0; i < t.Data.Length; i++) t.Data[i] = (i % 97) * 0.001f;
        return t;
    }

    [Theory]
    [InlineData(".h5")]
    [InlineData(".keras")]
    public void LoadingAllocatesFarLessManagedMemoryThanTheWeights(string kind)
    {
        var conv = Filled(3, 3, 16, 32); var convB = Filled(32);
        var dense = Filled(8 * 8 * 32, 1024); var denseB = Filled(1024);
        SynthLayer[] layers =
        [
            new("conv", "Conv2D", Cfg(("batch_input_shape", new object?[] { null, 8, 8, 16 }), ("filters", 32), ("kernel_size", new[] { 3, 3 }), ("padding", "same")),
                [("kernel", conv), ("bias", convB)]),
            new("flatten", "Flatten", Cfg()),
            new("dense", "Dense", Cfg(("units", 1024)), [("kernel", dense), ("bias", denseB)]),
        ];
        string path = TempPath(kind);
        _files.Add(path);
        if (kind == ".h5") WriteLegacy(path, SequentialConfig(layers), layers, "2.3.1");
        else
        {
            string config = SequentialConfig(layers).Replace("\"batch_input_shape\"", "\"batch_shape\"");
            WriteKeras3Zip(path, config, [("conv2d", [conv, convB]), ("flatten", []), ("dense", [dense, denseB])]);
        }
        KerasReader.Load(path).Dispose(); // JIT and PureHDF warm-up
        long before = GC.GetAllocatedBytesForCurrentThread();
        using var g = KerasReader.Load(path);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long weights = g.Initializers.Values.Sum(t => t.ByteLength);
        output.WriteLine($"{kind}: weights {weights} bytes, managed allocations while loading {allocated} bytes ({(double)allocated / weights:P1})");
        Assert.True(weights > 8_000_000);
        Assert.True(allocated < weights / 4, $"loading allocated {allocated} managed bytes for {weights} bytes of weights");
        // The permuted Dense rows and the OIHW kernel are where they should be (spot checks against the Keras layout).
        var kernel = g.Initializers.Single(kv => kv.Key.StartsWith("dense/kernel", StringComparison.Ordinal)).Value.AsSpan<float>();
        // Row c·64 + s of the permuted kernel is Keras row s·32 + c.
        for (int c = 0; c < 32; c += 7)
            for (int s = 0; s < 64; s += 13)
                Assert.Equal(dense.Data[(s * 32 + c) * 1024 + 5], kernel[(c * 64 + s) * 1024 + 5]);
        var oihw = g.Initializers.Single(kv => kv.Key.StartsWith("conv/kernel", StringComparison.Ordinal)).Value.AsSpan<float>();
        // OIHW [o, i, h, w] is HWIO [h, w, i, o].
        Assert.Equal(conv.Data[((2 * 3 + 1) * 16 + 5) * 32 + 9], oihw[((9 * 16 + 5) * 3 + 2) * 3 + 1]);
    }

    /// <summary>
    /// Datasets past <c>Hdf5WeightValues.SliceValues</c> (the 4 GB seed CNN's Dense kernel) are read in slices of whole rows;
    /// lowered here so a small file takes that path, with a remainder slice. The whole-dataset read is the reference.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LargeWeightsReadDirectlyOrInSlicesMatchTheWholeRead(bool direct)
    {
        // 140,000 bytes: over HDF5's 64 KiB compact limit, so the writer stores the kernel contiguously.
        var dense = Filled(5000, 7); var denseB = Filled(7);
        SynthLayer[] layers = [new("dense", "Dense", Cfg(("batch_input_shape", new object?[] { null, 5000 }), ("units", 7)), [("kernel", dense), ("bias", denseB)])];
        string path = TempPath(".h5");
        _files.Add(path);
        WriteLegacy(path, SequentialConfig(layers), layers, "2.3.1");
        using var whole = KerasReader.Load(path);
        long saved = Hdf5WeightValues.SliceValues;
        bool savedDirect = Hdf5WeightValues.ReadContiguousDirectly;
        Hdf5WeightValues.SliceValues = 64; // 9 rows of 7 per slice: 555 slices and a remainder of 5 rows
        Hdf5WeightValues.ReadContiguousDirectly = direct; // the kernel is the file's one contiguous dataset of its size
        int directBefore = Hdf5WeightValues.DirectReads;
        try
        {
            using var large = KerasReader.Load(path);
            foreach (var (name, tensor) in whole.Initializers)
                Assert.True(tensor.AsSpan<float>().SequenceEqual(large.Initializers[name].AsSpan<float>()), $"initializer {name} differs when read {(direct ? "directly" : "in slices")}");
            if (direct) Assert.True(Hdf5WeightValues.DirectReads > directBefore, "the kernel was not read straight from the file");
        }
        finally { Hdf5WeightValues.SliceValues = saved; Hdf5WeightValues.ReadContiguousDirectly = savedDirect; }
    }
}
