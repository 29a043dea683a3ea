namespace FastInfer.Runtime.Operators.Elementwise;

/// <summary>Drives a binary op over a planned <see cref="Broadcast"/>, one inner row at a time.</summary>
internal static unsafe class BroadcastRunner
{
    public static void Run<T, TOut, TOp>(Broadcast plan, T* a, T* b, TOut* y)
        where T : unmanaged where TOut : unmanaged where TOp : IBinaryOp<T, TOut>
    {
        int inner = (int)plan.InnerLength;
        long sa = plan.Strides[0][^1], sb = plan.Strides[1][^1];
        long rows = plan.OuterCount;
        for (long row = 0; row < rows; row++)
        {
            T* pa = a + plan.Offset(0, row);
            T* pb = b + plan.Offset(1, row);
            var dst = new Span<TOut>(y + row * inner, inner);
            if (sa != 0 && sb != 0) TOp.Rows(new ReadOnlySpan<T>(pa, inner), new ReadOnlySpan<T>(pb, inner), dst);
            else if (sa != 0) TOp.RowScalarB(new ReadOnlySpan<T>(pa, inner), *pb, dst);
            else if (sb != 0) TOp.RowScalarA(*pa, new ReadOnlySpan<T>(pb, inner), dst);
            else { TOp.RowScalarB(new ReadOnlySpan<T>(pa, 1), *pb, dst[..1]); dst.Fill(dst[0]); }
        }
    }
}
