namespace FastInfer.Runtime;

/// <summary>
/// A model that was read correctly cannot be planned: an operator FastInfer does not implement, attributes
/// or input shapes that break an operator's rules, or a value whose shape cannot be known before Run.
/// The message names the node.
/// </summary>
public class InvalidModelException : Exception
{
    public InvalidModelException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The model uses operators FastInfer does not implement; <see cref="Unsupported"/> lists each one.</summary>
public sealed class UnsupportedOperatorException : InvalidModelException
{
    /// <summary>Each unsupported node as "OpType (node name)".</summary>
    public IReadOnlyList<string> Unsupported { get; }

    public UnsupportedOperatorException(IReadOnlyList<string> unsupported)
        : base($"Unsupported operator{(unsupported.Count == 1 ? "" : "s")}: {string.Join(", ", unsupported)}.")
    {
        Unsupported = unsupported;
    }
}
