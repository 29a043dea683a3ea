using FastInfer.Ir;

namespace FastInfer.Runtime.Operators;

/// <summary>Creates the operator for a node once per session.</summary>
internal delegate Operator OperatorFactory(Node node, OperatorContext context);

/// <summary>A supported operator: how to create it, which opsets it covers, and which inputs decide output shapes.</summary>
/// <param name="ShapeInputs">Inputs whose values (not just shapes) decide output shapes, e.g. Reshape's target;
/// they must be known when planning, so a graph input feeding one becomes part of the plan's cache key.</param>
internal sealed record OperatorEntry(string OpType, OperatorFactory Create, int MinOpset, int MaxOpset, int[] ShapeInputs, string Notes = "");

/// <summary>Every operator FastInfer implements, by ONNX op type (default domain) or "domain:OpType".</summary>
internal static partial class OperatorRegistry
{
    public const int MaxSupportedOpset = 25;
    private static readonly Dictionary<string, OperatorEntry> Entries = Build();

    public static IReadOnlyCollection<OperatorEntry> All => Entries.Values;

    public static OperatorEntry? Find(Node node) => Entries.GetValueOrDefault(Key(node.Domain, node.OpType));

    private static string Key(string domain, string opType) =>
        domain is "" or "ai.onnx" ? opType : domain + ":" + opType;

    private static Dictionary<string, OperatorEntry> Build()
    {
        var table = new Dictionary<string, OperatorEntry>(StringComparer.Ordinal);
        void Add(OperatorEntry e) => table.Add(Key(e.OpType.Contains(':') ? e.OpType[..e.OpType.IndexOf(':')] : "", e.OpType[(e.OpType.IndexOf(':') + 1)..]), e);
        foreach (var e in Entries_All()) Add(e);
        return table;
    }

    /// <summary>Shorthand for stateless operators planned by one function.</summary>
    internal static OperatorEntry Simple(string opType, Func<PlanContext, StepAction> plan, int minOpset = 1, params int[] shapeInputs) =>
        new(opType, (node, _) => new FunctionOperator(node, plan), minOpset, MaxSupportedOpset, shapeInputs);
}
