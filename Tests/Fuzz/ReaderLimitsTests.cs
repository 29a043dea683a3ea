using FastInfer.Formats;
using FastInfer.Formats.Keras;
using FastInfer.Formats.Onnx;
using FastInfer.Tests.Formats.Keras;
using FastInfer.Tests.Formats.OnnxTests;
using Google.Protobuf;
using Xunit;
using Pb = global::Onnx;
using DT = global::Onnx.TensorProto.Types.DataType;

namespace FastInfer.Tests.Fuzz;

/// <summary>
/// Each <see cref="ReaderLimits"/> bound, exceeded, gives a <see cref="ModelFormatException"/> naming the limit — for the
/// Keras reader here (the ONNX reader's are in OnnxMalformedTests) — and external-data paths cannot leave the model's
/// folder by any spelling: backslashes, drive letters, '..' after a real folder, chains of links, a model file on disk.
/// </summary>
public class ReaderLimitsTests
{
    private static string DenseModel => KerasShared.Path("dl4j_dense_softmax", "simple_sparse_xent_mlp_keras_2_model.h5");

    private static ModelFormatException KerasFails(ReaderLimits limits) =>
        Assert.Throws<ModelFormatException>(() => KerasReader.Load(DenseModel, limits).Dispose());

    [KerasSharedFact]
    public void Keras_reader_names_every_limit_it_enforces()
    {
        long total = 0, largest = 0;
        using (var g = KerasReader.Load(DenseModel))
            foreach (var t in g.Initializers.Values) { total += t.ByteLength; largest = Math.Max(largest, t.ByteLength); }

        Assert.Contains("ReaderLimits.MaxFileBytes", KerasFails(new ReaderLimits { MaxFileBytes = 100 }).Message);
        Assert.Contains("ReaderLimits.MaxTensorBytes", KerasFails(new ReaderLimits { MaxTensorBytes = largest - 1 }).Message);
        Assert.Contains("ReaderLimits.MaxTotalWeightBytes", KerasFails(new ReaderLimits { MaxTotalWeightBytes = total - 1 }).Message);
        Assert.Contains("ReaderLimits.MaxNodes", KerasFails(new ReaderLimits { MaxNodes = 1 }).Message);
        Assert.Contains("ReaderLimits.MaxRank", KerasFails(new ReaderLimits { MaxRank = 1 }).Message);
        Assert.Contains("ReaderLimits.MaxDim", KerasFails(new ReaderLimits { MaxDim = 1 }).Message);
    }

    [Fact]
    public void Defaults_admit_real_models_and_stop_absurd_sizes()
    {
        var d = ReaderLimits.Default;
        Assert.True(d.MaxTensorBytes >= 4L << 30, "a 4 GB tensor (large embedding tables) must load");
        Assert.True(d.MaxFileBytes >= 2L << 30);
        Assert.InRange(d.MaxGraphDepth, 8, 1000);
        Assert.InRange(d.MaxRank, 8, 64);
    }

    // ---- external data: more spellings of "outside" ----

    private static byte[] ExternalModel(string location)
    {
        var t = new Pb.TensorProto { Name = "ext", DataType = (int)DT.Float, Dims = { 4 }, DataLocation = Pb.TensorProto.Types.DataLocation.External };
        t.ExternalData.Add(new Pb.StringStringEntryProto { Key = "location", Value = location });
        var g = new Pb.GraphProto { Name = "e" };
        g.Initializer.Add(t);
        return PbBuild.Model(g).ToByteArray();
    }

    private static void WithFolders(Action<string, string> test)
    {
        string root = Directory.CreateTempSubdirectory("fi-limits-").FullName;
        try
        {
            string model = Path.Combine(root, "model"), outside = Path.Combine(root, "outside");
            Directory.CreateDirectory(Path.Combine(model, "sub"));
            Directory.CreateDirectory(outside);
            File.WriteAllBytes(Path.Combine(outside, "secret.bin"), new byte[16]);
            File.WriteAllBytes(Path.Combine(model, "w.bin"), new byte[16]);
            test(model, outside);
        }
        finally { Directory.Delete(root, true); }
    }

    private static string Rejects(byte[] model, string folder) =>
        Assert.Throws<ModelFormatException>(() => OnnxReader.Load(model, folder).Dispose()).Message;

    [Theory]
    [InlineData("..\\outside\\secret.bin", "'..'")]
    [InlineData("sub/../../outside/secret.bin", "'..'")]
    [InlineData("sub\\..\\..\\outside\\secret.bin", "'..'")]
    [InlineData("C:secret.bin", "absolute")]
    [InlineData("\\\\server\\share\\secret.bin", "absolute")]
    [InlineData("/etc/passwd", "absolute")]
    public void External_paths_that_spell_a_way_out_are_rejected(string location, string reason) => WithFolders((model, _) =>
    {
        Assert.Contains(reason, Rejects(ExternalModel(location), model));
    });

    [Fact]
    public void A_chain_of_links_ending_outside_is_rejected() => WithFolders((model, outside) =>
    {
        File.CreateSymbolicLink(Path.Combine(outside, "hop.bin"), Path.Combine(outside, "secret.bin"));
        File.CreateSymbolicLink(Path.Combine(model, "sub", "first.bin"), Path.Combine("..", "second.bin"));
        File.CreateSymbolicLink(Path.Combine(model, "second.bin"), Path.Combine(outside, "hop.bin"));
        Assert.Contains("outside the model's folder", Rejects(ExternalModel("sub/first.bin"), model));
    });

    [Fact]
    public void A_link_cycle_is_rejected_not_followed_forever() => WithFolders((model, _) =>
    {
        File.CreateSymbolicLink(Path.Combine(model, "a.bin"), "b.bin");
        File.CreateSymbolicLink(Path.Combine(model, "b.bin"), "a.bin");
        Assert.Contains("symbolic links", Rejects(ExternalModel("a.bin"), model));
    });

    [Fact]
    public void A_model_file_on_disk_is_held_to_its_own_folder() => WithFolders((model, outside) =>
    {
        string path = Path.Combine(model, "m.onnx");
        File.WriteAllBytes(path, ExternalModel("../outside/secret.bin"));
        Assert.Contains("'..'", Assert.Throws<ModelFormatException>(() => OnnxReader.Load(path).Dispose()).Message);
        // The folder containing the model may itself be reached through a link: only the target's escape counts.
        string linked = Path.Combine(outside, "linked-model");
        Directory.CreateSymbolicLink(linked, model);
        File.WriteAllBytes(path, ExternalModel("w.bin"));
        OnnxReader.Load(Path.Combine(linked, "m.onnx")).Dispose();
    });
}
