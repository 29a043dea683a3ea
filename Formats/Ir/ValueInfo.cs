namespace FastInfer.Ir;

/// <summary>A named value's declared type: element type and, when known, its shape.</summary>
/// <param name="Shape">Declared dims; null when the rank itself is unknown.</param>
public sealed record ValueInfo(string Name, DataType ElementType, IReadOnlyList<Dimension>? Shape)
{
    public override string ToString() => $"{Name}: {ElementType.ToName()}{Dimension.Format(Shape)}";
}
