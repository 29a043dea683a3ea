using FastInfer.Runtime.Operators.Elementwise;
using FastInfer.Runtime.Operators.NeuralNet;
using FastInfer.Runtime.Operators.Reduction;
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
            .Concat(SliceOperators.Entries())
            .Concat(PadOperators.Entries())
            .Concat(TopKOperator.Entries())
            .Concat(ReduceOperators.Entries())
            .Concat(ConvOperator.Entries())
            .Concat(ConvTransposeOperator.Entries())
            // The fast 1-D/2-D pooling kernels, with an N-D loop behind them for other ranks and MaxPool's Indices.
            .Concat(PoolOperators.Entries().Select(e => e.OpType is "MaxPool" or "AveragePool" ? PoolNdOperators.Wrap(e) : e))
            .Concat(NormalizationOperators.Entries())
            .Concat(NormalizationExtraOperators.Entries())
            .Concat(ResizeOperator.Entries())
            .Concat(EinsumOperator.Entries())
            .Append(GemmOperator.Entry)
            .Append(AttentionOperator.Entry)
            .Concat(MatMulOperator.Entries());
}
