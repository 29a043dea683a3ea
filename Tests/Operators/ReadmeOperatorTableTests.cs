using FastInfer.Runtime.Operators;
using Xunit;

namespace FastInfer.Tests.Operators;

/// <summary>The README's operator table must be what the registry generates.</summary>
public class ReadmeOperatorTableTests
{
    [Fact]
    public void Readme_operator_table_matches_the_registry()
    {
        string? readme = null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "README.md");
            if (File.Exists(candidate) && File.ReadAllText(candidate).Contains(OperatorTableMarkdown.BeginMarker)) { readme = candidate; break; }
        }
        Assert.True(readme is not null, "README.md with the operator markers not found above the test binaries");
        string text = File.ReadAllText(readme!).Replace("\r\n", "\n");
        int begin = text.IndexOf(OperatorTableMarkdown.BeginMarker, StringComparison.Ordinal) + OperatorTableMarkdown.BeginMarker.Length;
        int end = text.IndexOf(OperatorTableMarkdown.EndMarker, StringComparison.Ordinal);
        Assert.True(end > begin, "the end marker must follow the begin marker");
        string actual = text[begin..end].Trim('\n');
        string expected = OperatorTableMarkdown.Generate().Trim('\n');
        Assert.True(actual == expected,
            $"README.md's operator table differs from the registry. Replace the lines between the markers with:\n\n{expected}\n");
    }
}
