using FastInfer.Runtime.Operators.Elementwise;
using FastInfer.Runtime.Operators.NeuralNet;
using FastInfer.Runtime.Operators.Shape;

namespace FastInfer.Runtime.Operators;

/// <summary>The list of operator families; each family file yields its entries.</summary>
internal static partial class OperatorRegistry
{
    private static IEnumerable<OperatorEntry> Entries_All() =>
        UnaryOperators.Entries()
            .Concat(BinaryOperators.Entries())
            .Concat(MiscOperators.Entries())
            .Concat(LayoutOperators.Entries())
            .Concat(DataMovementOperators.Entries())
            .Concat(ConvOperator.Entries())
            .Concat(PoolOperators.Entries())
            .Concat(NormalizationOperators.Entries())
            .Append(GemmOperator.Entry)
            .Concat(MatMulOperator.Entries());
}
