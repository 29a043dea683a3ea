namespace FastInfer.Ir;

/// <summary>One dimension of a declared shape: a fixed size, or a symbol (e.g. <c>batch</c>) bound at run time.</summary>
public readonly record struct Dimension
{
    /// <summary>The size, or -1 when the dimension is symbolic or unknown.</summary>
    public long Value { get; }

    /// <summary>The symbol's name, or null for a fixed or anonymous dimension.</summary>
    public string? Symbol { get; }

    public bool IsFixed => Value >= 0;

    private Dimension(long value, string? symbol) { Value = value; Symbol = symbol; }

    public static Dimension Fixed(long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        return new Dimension(value, null);
    }

    /// <summary>A symbolic dimension; a null or empty name means "unknown".</summary>
    public static Dimension Symbolic(string? symbol) => new(-1, string.IsNullOrEmpty(symbol) ? null : symbol);

    public override string ToString() => IsFixed ? Value.ToString() : (Symbol ?? "?");

    /// <summary>Formats a shape as <c>[1,3,224,224]</c> or <c>[batch,128]</c>.</summary>
    public static string Format(IReadOnlyList<Dimension>? dims) =>
        dims is null ? "[unknown rank]" : "[" + string.Join(",", dims) + "]";
}
