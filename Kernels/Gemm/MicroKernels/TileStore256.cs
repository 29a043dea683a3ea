using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastInfer.Kernels.Gemm.MicroKernels;

/// <summary>Stores one 8-float row piece of an AVX2 tile with the epilogue applied in registers; masked for N tails.</summary>
internal static unsafe class TileStore256
{
    /// <summary>
    /// Stores <paramref name="rows"/> rows of a tile kept on the stack at a row stride of 16 floats. The last K block
    /// with alpha 1 (C accumulated from earlier blocks or not read) reads the context once into locals, as
    /// <see cref="TileStore512.Tile"/> does; other blocks go row by row through <see cref="Row"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Tile(float* c, nint ldc, float* tile, int rows, int cols, int row0, int col0, TileContext* t)
    {
        if (!(t->Last && t->MergesPlainly && TileStore512.FastLastStore))
        {
            for (int r = 0; r < rows; r++, c += ldc, tile += 16)
                Row(c, Vector256.Load(tile), Vector256.Load(tile + 8), row0 + r, col0, cols, t);
            return;
        }
        bool accumulate = !t->First, two = cols > 8, full = cols >= 16;
        var activation = t->Activation;
        float* bias = t->BiasKind == BiasKind.PerRow ? t->Bias + row0 : null;
        float* residual = t->Residual != null ? t->Residual + row0 * t->ResidualStride + col0 : null;
        nint residualStride = (nint)t->ResidualStride;
        var mask0 = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(cols)).AsSingle();
        var mask1 = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(cols - 8)).AsSingle();
        bool columnBias = t->BiasKind == BiasKind.PerColumn;
        var cb0 = columnBias ? Avx.MaskLoad(t->Bias + col0, mask0) : Vector256<float>.Zero;
        var cb1 = columnBias && two ? Avx.MaskLoad(t->Bias + col0 + 8, mask1) : Vector256<float>.Zero;
        for (int r = 0; r < rows; r++, c += ldc, tile += 16)
        {
            var v0 = Vector256.Load(tile) + cb0;
            var v1 = Vector256.Load(tile + 8) + cb1;
            if (accumulate)
            {
                v0 += full ? Vector256.Load(c) : Avx.MaskLoad(c, mask0);
                if (two) v1 += full ? Vector256.Load(c + 8) : Avx.MaskLoad(c + 8, mask1);
            }
            if (bias != null) { var b = Vector256.Create(bias[r]); v0 += b; v1 += b; }
            if (residual != null)
            {
                v0 += full ? Vector256.Load(residual) : Avx.MaskLoad(residual, mask0);
                if (two) v1 += full ? Vector256.Load(residual + 8) : Avx.MaskLoad(residual + 8, mask1);
                residual += residualStride;
            }
            v0 = Activate(v0, activation);
            v1 = Activate(v1, activation);
            if (full) { Vector256.Store(v0, c); Vector256.Store(v1, c + 8); }
            else
            {
                Avx.MaskStore(c, mask0, v0);
                if (two) Avx.MaskStore(c + 8, mask1, v1);
            }
        }
    }

    /// <summary>Stores up to 16 columns held in two vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Row(float* c, Vector256<float> v0, Vector256<float> v1, int row, int col, int cols, TileContext* t)
    {
        Piece(c, v0, row, col, cols, t);
        if (cols > 8) Piece(c + 8, v1, row, col + 8, cols - 8, t);
    }

    public static void Piece(float* c, Vector256<float> v, int row, int col, int valid, TileContext* t)
    {
        if (valid >= 8)
        {
            if (!t->AlphaIsOne) v *= Vector256.Create(t->Alpha);
            if (!t->First) v += Vector256.Load(c);
            else if (t->Beta != 0) v += Vector256.Create(t->Beta) * Vector256.Load(c);
            if (t->Last) v = Finish(v, Vector256<float>.AllBitsSet, row, col, t);
            Vector256.Store(v, c);
            return;
        }
        var mask = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(valid)).AsSingle();
        if (!t->AlphaIsOne) v *= Vector256.Create(t->Alpha);
        if (!t->First) v += Avx.MaskLoad(c, mask);
        else if (t->Beta != 0) v += Vector256.Create(t->Beta) * Avx.MaskLoad(c, mask);
        if (t->Last) v = Finish(v, mask, row, col, t);
        Avx.MaskStore(c, mask, v);
    }

    private static Vector256<float> Finish(Vector256<float> v, Vector256<float> mask, int row, int col, TileContext* t)
    {
        if (t->BiasKind == BiasKind.PerRow) v += Vector256.Create(t->Bias[row]);
        else if (t->BiasKind == BiasKind.PerColumn) v += Avx.MaskLoad(t->Bias + col, mask);
        if (t->Residual != null) v += Avx.MaskLoad(t->Residual + row * t->ResidualStride + col, mask);
        return Activate(v, t->Activation);
    }

    public static Vector256<float> Activate(Vector256<float> v, in Activation a)
    {
        switch (a.Kind)
        {
            case ActivationKind.None: return v;
            case ActivationKind.Relu: return Vector256.Max(v, Vector256<float>.Zero);
            case ActivationKind.Clip: return Vector256.Min(Vector256.Max(v, Vector256.Create(a.Alpha)), Vector256.Create(a.Beta));
            case ActivationKind.LeakyRelu:
                return Vector256.ConditionalSelect(Vector256.LessThan(v, Vector256<float>.Zero), v * Vector256.Create(a.Alpha), v);
            case ActivationKind.Sigmoid: return Vector256<float>.One / (Vector256<float>.One + Vector256.Exp(-v));
            case ActivationKind.Tanh:
                // 1 - 2/(e^{2x}+1): saturates cleanly to ±1 where e^{2x} overflows or underflows.
                return Vector256<float>.One - Vector256.Create(2f) / (Vector256.Exp(v + v) + Vector256<float>.One);
            case ActivationKind.Gelu: return Gelu(v);
            default: return v;
        }
    }

    /// <summary>Out of line: inlined, the GELU's dozen vector constants and temporaries would make <see cref="Activate"/>
    /// too large to inline into every tile store, and the common epilogues (bias, ReLU) would pay a call.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector256<float> Gelu(Vector256<float> v) => Elementwise.GeluKernel.Gelu256(v);
}
