using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FastInfer.Kernels.Gemm.MicroKernels;

/// <summary>
/// Stores one 4-float row piece of a portable 128-bit tile with the epilogue applied in registers.
/// Vector128 has no portable masked store, so a partial piece (N tail) goes through the scalar store.
/// </summary>
internal static unsafe class TileStore128
{
    public static void Piece(float* c, Vector128<float> v, int row, int col, int valid, TileContext* t)
    {
        if (valid < 4)
        {
            for (int j = 0; j < valid; j++) t->Store(c + j, v.GetElement(j), row, col + j);
            return;
        }
        if (!t->AlphaIsOne) v *= Vector128.Create(t->Alpha);
        if (!t->First) v += Vector128.Load(c);
        else if (t->Beta != 0) v += Vector128.Create(t->Beta) * Vector128.Load(c);
        if (t->Last)
        {
            if (t->BiasKind == BiasKind.PerRow) v += Vector128.Create(t->Bias[row]);
            else if (t->BiasKind == BiasKind.PerColumn) v += Vector128.Load(t->Bias + col);
            if (t->Residual != null) v += Vector128.Load(t->Residual + row * t->ResidualStride + col);
            v = Activate(v, t->Activation);
        }
        Vector128.Store(v, c);
    }

    /// <summary>Stores up to 16 columns held in four vectors.</summary>
    public static void Row(float* c, Vector128<float> v0, Vector128<float> v1, Vector128<float> v2, Vector128<float> v3,
        int row, int col, int cols, TileContext* t)
    {
        Piece(c, v0, row, col, cols, t);
        if (cols > 4) Piece(c + 4, v1, row, col + 4, cols - 4, t);
        if (cols > 8) Piece(c + 8, v2, row, col + 8, cols - 8, t);
        if (cols > 12) Piece(c + 12, v3, row, col + 12, cols - 12, t);
    }

    public static Vector128<float> Activate(Vector128<float> v, in Activation a)
    {
        switch (a.Kind)
        {
            case ActivationKind.None: return v;
            case ActivationKind.Relu: return Vector128.Max(v, Vector128<float>.Zero);
            case ActivationKind.Clip: return Vector128.Min(Vector128.Max(v, Vector128.Create(a.Alpha)), Vector128.Create(a.Beta));
            case ActivationKind.LeakyRelu:
                return Vector128.ConditionalSelect(Vector128.LessThan(v, Vector128<float>.Zero), v * Vector128.Create(a.Alpha), v);
            case ActivationKind.Sigmoid: return Vector128<float>.One / (Vector128<float>.One + Vector128.Exp(-v));
            case ActivationKind.Tanh:
                return Vector128<float>.One - Vector128.Create(2f) / (Vector128.Exp(v + v) + Vector128<float>.One);
            case ActivationKind.Gelu: return Gelu(v);
            default: return v;
        }
    }

    /// <summary>Out of line: inlined, the GELU's dozen vector constants and temporaries would make <see cref="Activate"/>
    /// too large to inline into every tile store, and the common epilogues (bias, ReLU) would pay a call.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector128<float> Gelu(Vector128<float> v) => Elementwise.GeluKernel.Gelu128(v);
}
