namespace FastInfer.Kernels.Gemm;

/// <summary>Where a bias vector applies in C[M×N].</summary>
public enum BiasKind
{
    None,
    /// <summary>bias[i] added to row i (one per output channel in an NCHW convolution).</summary>
    PerRow,
    /// <summary>bias[j] added to column j (one per output feature in a fully connected layer).</summary>
    PerColumn,
}

/// <summary>
/// Work fused into the end of a GEMM, applied in this order to each element of C after
/// <c>alpha·A·B + beta·C</c>: + bias, + residual, activation. Fusing saves a pass over memory per step.
/// </summary>
public readonly unsafe struct GemmEpilogue
{
    public float* Bias { get; init; }
    public BiasKind BiasKind { get; init; }
    /// <summary>A tensor added element-wise (a residual connection), laid out like C with row stride <see cref="ResidualStride"/>.</summary>
    public float* Residual { get; init; }
    public int ResidualStride { get; init; }
    public Activation Activation { get; init; }

    public bool IsEmpty => BiasKind == BiasKind.None && Residual == null && Activation.Kind == ActivationKind.None;

    /// <summary>Applies the epilogue to one element at (row, col); the scalar definition.</summary>
    public float Apply(float value, int row, int col)
    {
        if (BiasKind == BiasKind.PerRow) value += Bias[row];
        else if (BiasKind == BiasKind.PerColumn) value += Bias[col];
        if (Residual != null) value += Residual[(long)row * ResidualStride + col];
        return Activation.Apply(value);
    }
}
