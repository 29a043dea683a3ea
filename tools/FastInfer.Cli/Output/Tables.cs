using Spectre.Console;
using Spectre.Console.Rendering;

namespace FastInfer.Cli.Output;

/// <summary>Small helpers for Spectre tables whose cells are plain text (names from model files are never markup).</summary>
public static class Tables
{
    public static Table Create(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var c in columns) table.AddColumn(new TableColumn(new Text(c)));
        return table;
    }

    public static void Row(this Table table, params object?[] cells) =>
        table.AddRow(cells.Select(c => (IRenderable)new Text(Format(c))).ToArray());

    public static string Format(object? value) => value switch
    {
        null => "",
        double d => FormatNumber(d),
        float f => FormatNumber(f),
        long[] shape => "[" + string.Join(",", shape) + "]",
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    public static string FormatNumber(double d) =>
        d == 0 ? "0" : Math.Abs(d) >= 1e5 || Math.Abs(d) < 1e-3 ? d.ToString("0.###e+0", System.Globalization.CultureInfo.InvariantCulture)
        : d.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture);

    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.##} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.##} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.##} KiB",
        _ => $"{bytes} B",
    };

    public static void Line(this CliContext ctx, string text) => ctx.Console.Write(new Text(text + "\n"));
}
