using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FastInfer.Kernels.Gemm.MicroKernels;

/// <summary>
/// The store of a full-width AVX-512 tile row (32 columns, or 16 on the narrow tile) with alpha 1: + C when an earlier
/// K block wrote it, and on the last K block the epilogue — (row + column bias) + C + row bias + residual, then the
/// activation. Read from the context once per tile. <see cref="SgemmKernel12x32Avx512"/> stores straight from its
/// accumulators with it, <see cref="TileStore512"/> from a tile on the stack: the same order of additions either way.
/// </summary>
internal readonly unsafe struct RowEpilogue512
{
    private readonly bool _accumulate, _last, _two;
    private readonly Vector512<float> _columnBias0, _columnBias1;
    private readonly float* _rowBias, _residual;
    private readonly nint _residualStride;
    private readonly Activation _activation;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public RowEpilogue512(TileContext* t, int row0, int col0, bool two)
    {
        _accumulate = !t->First;
        _last = t->Last;
        _two = two;
        _columnBias0 = _columnBias1 = Vector512<float>.Zero;
        _rowBias = _residual = null;
        _residualStride = 0;
        _activation = default;
        if (!_last) return;
        if (t->BiasKind == BiasKind.PerColumn)
        {
            _columnBias0 = Vector512.Load(t->Bias + col0);
            if (two) _columnBias1 = Vector512.Load(t->Bias + col0 + 16);
        }
        else if (t->BiasKind == BiasKind.PerRow) _rowBias = t->Bias + row0;
        if (t->Residual != null)
        {
            _residual = t->Residual + row0 * t->ResidualStride + col0;
            _residualStride = (nint)t->ResidualStride;
        }
        _activation = t->Activation;
    }

    /// <summary>Whether an activation needs no call (<see cref="Store"/> with anyActivation false computes only these).</summary>
    public static bool IsInline(ActivationKind kind) =>
        kind is ActivationKind.None or ActivationKind.Relu or ActivationKind.Clip or ActivationKind.LeakyRelu;

    /// <summary>
    /// Row r of the tile. With <paramref name="anyActivation"/> false (a constant at the call) only the inline kinds are
    /// computed and the code holds no call: the micro-kernel's accumulators are still live here, and a call on any path
    /// would make the JIT keep all of them in memory.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(float* c, Vector512<float> v0, Vector512<float> v1, int r, bool anyActivation)
    {
        if (_last) { v0 += _columnBias0; v1 += _columnBias1; }
        if (_accumulate) { v0 += Vector512.Load(c); if (_two) v1 += Vector512.Load(c + 16); }
        if (_rowBias != null) { var b = Vector512.Create(_rowBias[r]); v0 += b; v1 += b; }
        if (_residual != null)
        {
            float* res = _residual + r * _residualStride;
            v0 += Vector512.Load(res);
            if (_two) v1 += Vector512.Load(res + 16);
        }
        if (_activation.Kind != ActivationKind.None)
        {
            if (anyActivation) { v0 = TileStore512.Activate(v0, _activation); v1 = TileStore512.Activate(v1, _activation); }
            else { v0 = Inline(v0); v1 = Inline(v1); }
        }
        Vector512.Store(v0, c);
        if (_two) Vector512.Store(v1, c + 16);
    }

    /// <summary>As <see cref="TileStore512.Activate"/> for the kinds it computes inline.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector512<float> Inline(Vector512<float> v) => _activation.Kind switch
    {
        ActivationKind.Relu => Vector512.Max(v, Vector512<float>.Zero),
        ActivationKind.Clip => Vector512.Min(Vector512.Max(v, Vector512.Create(_activation.Alpha)), Vector512.Create(_activation.Beta)),
        ActivationKind.LeakyRelu => Vector512.ConditionalSelect(Vector512.LessThan(v, Vector512<float>.Zero), v * Vector512.Create(_activation.Alpha), v),
        _ => v,
    };
}
