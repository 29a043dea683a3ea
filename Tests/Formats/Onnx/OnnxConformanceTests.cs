using FastInfer.Formats;
using FastInfer.Formats.Onnx;
using Xunit;
using Xunit.Abstractions;
using Pb = global::Onnx;

namespace FastInfer.Tests.Formats.OnnxTests;

/// <summary>The ONNX project's node conformance cases, parsed by our reader and checked against Google's parse.</summary>
public class OnnxConformanceTests(ITestOutputHelper output)
{
    [NodeTestsFact]
    public void Every_conformance_model_parses_or_fails_with_ModelFormatException()
    {
        var models = Directory.GetDirectories(OnnxTestPaths.NodeTests!, "test_*").Select(d => Path.Combine(d, "model.onnx")).Where(File.Exists).ToList();
        Assert.True(models.Count >= 1800, $"expected the 1,802 cases, found {models.Count}");
        var failures = new List<string>();
        var rejected = new Dictionary<string, int>();
        int loaded = 0;
        foreach (string path in models)
        {
            try
            {
                using var graph = OnnxReader.Load(path);
                loaded++;
                // Structure agrees with Google's parse.
                var m = Pb.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
                if (graph.Nodes.Count != m.Graph.Node.Count
                    || !graph.Nodes.Select(n => n.OpType).SequenceEqual(m.Graph.Node.Select(n => n.OpType))
                    || !graph.Inputs.Select(i => i.Name).SequenceEqual(m.Graph.Input.Select(i => i.Name).Where(n => !graph.Initializers.ContainsKey(n)))
                    || !graph.Outputs.Select(o => o.Name).SequenceEqual(m.Graph.Output.Select(o => o.Name))
                    || graph.IrVersion != m.IrVersion)
                    failures.Add($"{path}: structure differs from Google's parse");
            }
            catch (ModelFormatException e)
            {
                // Group the reasons so a new kind of rejection is visible in the output.
                string reason = e.Message.Contains("opset") ? "unsupported opset" : e.Message;
                rejected[reason] = rejected.GetValueOrDefault(reason) + 1;
            }
            catch (Exception e)
            {
                failures.Add($"{path}: {e.GetType().Name}: {e.Message}");
            }
        }
        output.WriteLine($"{loaded} of {models.Count} loaded");
        foreach (var (reason, count) in rejected.OrderByDescending(r => r.Value)) output.WriteLine($"rejected {count}: {reason}");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        // Only newer opsets than supported may be refused; everything else in the suite is valid ONNX.
        Assert.True(rejected.Keys.All(k => k == "unsupported opset"), string.Join("\n", rejected.Keys));
    }

    [NodeTestsFact]
    public void Selected_case_tensors_equal_Googles_parse()
    {
        string root = OnnxTestPaths.NodeTests!;
        var cases = File.ReadAllLines(Path.Combine(root, "selected.tsv")).Skip(1).Select(l => l.Split('\t')[0]).Where(c => c.Length > 0).ToList();
        Assert.True(cases.Count >= 490);
        int files = 0;
        foreach (string c in cases)
        {
            foreach (string pb in Directory.GetFiles(Path.Combine(root, c, "test_data_set_0"), "*.pb"))
            {
                var expected = Pb.TensorProto.Parser.ParseFrom(File.ReadAllBytes(pb));
                using var loaded = OnnxTensorFile.Read(pb);
                var t = loaded.Tensor;
                Assert.Equal(expected.Name, t.Name);
                Assert.Equal(expected.DataType, (int)t.ElementType);
                Assert.Equal(expected.Dims, t.Dims);
                Assert.True(expected.RawData.Span.SequenceEqual(t.AsSpan<byte>()), $"{pb}: values differ");
                files++;
            }
        }
        output.WriteLine($"{files} tensor files compared");
        Assert.True(files >= 1500, $"only {files} tensor files"); // 1,571 in the selection (2,067 files with the models)
    }
}
