using System.Text;

namespace FastInfer.Runtime.Operators;

/// <summary>The supported-operator table of the README, generated from the registry so the two cannot drift apart.</summary>
internal static class OperatorTableMarkdown
{
    public const string BeginMarker = "<!-- operators:begin -->";
    public const string EndMarker = "<!-- operators:end -->";

    /// <summary>Markdown lines between the README's markers: one row per op type, default domain first, sorted.</summary>
    public static string Generate()
    {
        var sb = new StringBuilder();
        sb.Append("| operator | opsets | notes |\n|---|---|---|\n");
        var entries = OperatorRegistry.All
            .OrderBy(e => e.OpType.Contains(':') ? 1 : 0)
            .ThenBy(e => e.OpType, StringComparer.Ordinal);
        foreach (var e in entries)
        {
            string name = e.OpType.Contains(':') ? "`" + e.OpType + "` (internal, made by graph passes)" : e.OpType;
            string opsets = e.OpType.Contains(':') ? "—" : $"{e.MinOpset}–{e.MaxOpset}";
            string notes = e.Notes;
            if (e.ShapeInputs.Length > 0)
                notes = (notes.Length > 0 ? notes + "; " : "") + "input" + (e.ShapeInputs.Length > 1 ? "s " : " ") + string.Join(", ", e.ShapeInputs) + " must be known when planning";
            sb.Append($"| {name} | {opsets} | {notes} |\n");
        }
        return sb.ToString();
    }
}
