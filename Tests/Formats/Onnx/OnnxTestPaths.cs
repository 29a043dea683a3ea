using Xunit;

namespace FastInfer.Tests.Formats.OnnxTests;

/// <summary>Finds the data the ONNX tests use outside the repository; tests that need it are skipped when it is absent.</summary>
internal static class OnnxTestPaths
{
    /// <summary>The ONNX node conformance cases: <c>$FASTINFER_SHARED/onnx-node-tests</c>, or a <c>shared/onnx-node-tests</c>
    /// folder found walking up from the test binaries (the repository's parent holds <c>shared/</c>).</summary>
    public static string? NodeTests { get; } = FindNodeTests();

    /// <summary>ResNet18.onnx from the Microsoft.ML.DnnImageFeaturizer.ResNet18 NuGet package.</summary>
    public static string? ResNet18 { get; } = FindResNet18();

    private static string? FindNodeTests()
    {
        string? env = Environment.GetEnvironmentVariable("FASTINFER_SHARED");
        if (!string.IsNullOrEmpty(env))
        {
            foreach (var candidate in new[] { Path.Combine(env, "onnx-node-tests"), env })
                if (File.Exists(Path.Combine(candidate, "selected.tsv"))) return candidate;
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "onnx-node-tests");
            if (File.Exists(Path.Combine(candidate, "selected.tsv"))) return candidate;
        }
        return null;
    }

    private static string? FindResNet18()
    {
        string? root = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (string.IsNullOrEmpty(root))
            root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = Path.Combine(root, "microsoft.ml.dnnimagefeaturizer.resnet18", "0.23.1", "tools", "DnnImageModels",
            "ResNet18Onnx", "ResNet18.onnx");
        return File.Exists(path) ? path : null;
    }
}

/// <summary>A fact that is skipped, with the reason, when the ONNX node conformance cases are not available.</summary>
public sealed class NodeTestsFactAttribute : FactAttribute
{
    public NodeTestsFactAttribute()
    {
        if (OnnxTestPaths.NodeTests is null)
            Skip = "ONNX node conformance cases not found: set FASTINFER_SHARED or put shared/onnx-node-tests beside the repository";
    }
}

/// <summary>A fact that is skipped, with the reason, when ResNet18.onnx (NuGet package) is not available.</summary>
public sealed class ResNet18FactAttribute : FactAttribute
{
    public ResNet18FactAttribute()
    {
        if (OnnxTestPaths.ResNet18 is null)
            Skip = "ResNet18.onnx not found: restore Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 (NUGET_PACKAGES or ~/.nuget/packages)";
    }
}
