namespace FastInfer.Cli.Inputs;

/// <summary>Parses the repeated <c>NAME=VALUE</c> options (<c>--input</c>, <c>--dim</c>, <c>--reference-output</c>).</summary>
public static class NameValue
{
    /// <summary>Splits at the first '='; a value without one gets a null name (allowed where the model has one input).</summary>
    public static (string? Name, string Value) Parse(string text, string option)
    {
        int eq = text.IndexOf('=');
        if (eq < 0) return (null, text);
        if (eq == 0) throw new CliException($"{option} '{text}': the name before '=' is empty (expected NAME=VALUE)");
        if (eq == text.Length - 1) throw new CliException($"{option} '{text}': the value after '=' is empty (expected NAME=VALUE)");
        return (text[..eq], text[(eq + 1)..]);
    }

    public static Dictionary<string, int> ParseDims(IEnumerable<string> specs)
    {
        var dims = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            var (name, value) = Parse(spec, "--dim");
            if (name is null) throw new CliException($"--dim '{spec}': expected NAME=N");
            if (!int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) || n < 1)
                throw new CliException($"--dim '{spec}': N must be a positive integer");
            dims[name] = n;
        }
        return dims;
    }

    /// <summary>Parses a scale such as <c>1/255</c>, <c>0.5</c> or <c>2</c>.</summary>
    public static float ParseScale(string text)
    {
        var ci = System.Globalization.CultureInfo.InvariantCulture;
        int slash = text.IndexOf('/');
        if (slash > 0 && double.TryParse(text[..slash], ci, out double num) && double.TryParse(text[(slash + 1)..], ci, out double den) && den != 0)
            return (float)(num / den);
        if (slash < 0 && double.TryParse(text, ci, out double v)) return (float)v;
        throw new CliException($"--scale '{text}': expected a number or a fraction such as 1/255");
    }
}
