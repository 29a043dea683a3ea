using System.Numerics;
using System.Numerics.Tensors;

namespace FastInfer.Runtime.Operators.Elementwise;

/// <summary>
/// A binary element-wise operation as a struct type, so the broadcasting driver is specialized per op and
/// element type (TensorPrimitives' pattern). Rows: both operands vary, or one of them is a broadcast scalar.
/// </summary>
internal interface IBinaryOp<T, TOut> where T : unmanaged where TOut : unmanaged
{
    static abstract void Rows(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<TOut> y);
    static abstract void RowScalarB(ReadOnlySpan<T> a, T b, Span<TOut> y);
    static abstract void RowScalarA(T a, ReadOnlySpan<T> b, Span<TOut> y);
}

internal struct AddOp<T> : IBinaryOp<T, T> where T : unmanaged, INumber<T>
{
    public static void Rows(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Add(a, b, y);
    public static void RowScalarB(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Add(a, b, y);
    public static void RowScalarA(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Add(b, a, y);
}

internal struct SubOp<T> : IBinaryOp<T, T> where T : unmanaged, INumber<T>
{
    public static void Rows(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Subtract(a, b, y);
    public static void RowScalarB(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Subtract(a, b, y);
    public static void RowScalarA(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Subtract(a, b, y);
}

internal struct MulOp<T> : IBinaryOp<T, T> where T : unmanaged, INumber<T>
{
    public static void Rows(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Multiply(a, b, y);
    public static void RowScalarB(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Multiply(a, b, y);
    public static void RowScalarA(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Multiply(b, a, y);
}

internal struct DivOp<T> : IBinaryOp<T, T> where T : unmanaged, INumber<T>
{
    public static void Rows(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Divide(a, b, y);
    public static void RowScalarB(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Divide(a, b, y);
    public static void RowScalarA(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Divide(a, b, y);
}

internal struct MaxOp<T> : IBinaryOp<T, T> where T : unmanaged, INumber<T>
{
    public static void Rows(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Max(a, b, y);
    public static void RowScalarB(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Max(a, b, y);
    public static void RowScalarA(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Max(b, a, y);
}

internal struct MinOp<T> : IBinaryOp<T, T> where T : unmanaged, INumber<T>
{
    public static void Rows(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Min(a, b, y);
    public static void RowScalarB(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Min(a, b, y);
    public static void RowScalarA(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Min(b, a, y);
}

/// <summary>Power with a scalar loop for exact integer semantics and numpy's float rules.</summary>
internal struct PowOp : IBinaryOp<float, float>
{
    public static void Rows(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Pow(a, b, y);
    public static void RowScalarB(ReadOnlySpan<float> a, float b, Span<float> y)
    {
        if (b == 2f) TensorPrimitives.Multiply(a, a, y);
        else if (b == 0.5f) TensorPrimitives.Sqrt(a, y);
        else TensorPrimitives.Pow(a, b, y);
    }
    public static void RowScalarA(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Pow(a, b, y);
}

/// <summary>Element-wise kernels written as one scalar function over a row (comparisons, logic, mixed types).</summary>
internal interface IScalarBinary<T, TOut> where T : unmanaged where TOut : unmanaged
{
    static abstract TOut Apply(T a, T b);
}

internal struct ScalarRows<T, TOut, TOp> : IBinaryOp<T, TOut>
    where T : unmanaged where TOut : unmanaged where TOp : IScalarBinary<T, TOut>
{
    public static void Rows(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<TOut> y) { for (int i = 0; i < y.Length; i++) y[i] = TOp.Apply(a[i], b[i]); }
    public static void RowScalarB(ReadOnlySpan<T> a, T b, Span<TOut> y) { for (int i = 0; i < y.Length; i++) y[i] = TOp.Apply(a[i], b); }
    public static void RowScalarA(T a, ReadOnlySpan<T> b, Span<TOut> y) { for (int i = 0; i < y.Length; i++) y[i] = TOp.Apply(a, b[i]); }
}

internal struct EqualOp<T> : IScalarBinary<T, byte> where T : unmanaged, IEquatable<T>
{ public static byte Apply(T a, T b) => a.Equals(b) ? (byte)1 : (byte)0; }
internal struct LessOp<T> : IScalarBinary<T, byte> where T : unmanaged, INumber<T>
{ public static byte Apply(T a, T b) => a < b ? (byte)1 : (byte)0; }
internal struct LessOrEqualOp<T> : IScalarBinary<T, byte> where T : unmanaged, INumber<T>
{ public static byte Apply(T a, T b) => a <= b ? (byte)1 : (byte)0; }
internal struct GreaterOp<T> : IScalarBinary<T, byte> where T : unmanaged, INumber<T>
{ public static byte Apply(T a, T b) => a > b ? (byte)1 : (byte)0; }
internal struct GreaterOrEqualOp<T> : IScalarBinary<T, byte> where T : unmanaged, INumber<T>
{ public static byte Apply(T a, T b) => a >= b ? (byte)1 : (byte)0; }
internal struct AndOp : IScalarBinary<byte, byte> { public static byte Apply(byte a, byte b) => (byte)(a != 0 && b != 0 ? 1 : 0); }
internal struct OrOp : IScalarBinary<byte, byte> { public static byte Apply(byte a, byte b) => (byte)(a != 0 || b != 0 ? 1 : 0); }
internal struct XorOp : IScalarBinary<byte, byte> { public static byte Apply(byte a, byte b) => (byte)((a != 0) ^ (b != 0) ? 1 : 0); }
/// <summary>Integer power by squaring (ONNX Pow on int64/int32).</summary>
internal struct IntPowOp<T> : IScalarBinary<T, T> where T : unmanaged, IBinaryInteger<T>
{
    public static T Apply(T a, T b)
    {
        if (b < T.Zero) return a == T.One ? T.One : T.Zero;
        T result = T.One, x = a;
        while (b > T.Zero) { if (T.IsOddInteger(b)) result *= x; x *= x; b >>= 1; }
        return result;
    }
}
/// <summary>ONNX Mod with fmod=0: the result takes the divisor's sign (Python's %).</summary>
internal struct IntModOp<T> : IScalarBinary<T, T> where T : unmanaged, IBinaryInteger<T>
{
    public static T Apply(T a, T b) { T r = a % b; return r != T.Zero && (r < T.Zero) != (b < T.Zero) ? r + b : r; }
}

/// <summary>ONNX Mod with fmod=1: the result takes the dividend's sign (C's fmod, C#'s %).</summary>
internal struct FModOp<T> : IScalarBinary<T, T> where T : unmanaged, INumber<T>
{
    public static T Apply(T a, T b) => a % b;
}

/// <summary>Power in double precision, for Pow whose base and exponent types differ.</summary>
internal struct DoublePowOp : IBinaryOp<double, double>
{
    public static void Rows(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> y) => TensorPrimitives.Pow(a, b, y);
    public static void RowScalarB(ReadOnlySpan<double> a, double b, Span<double> y) => TensorPrimitives.Pow(a, b, y);
    public static void RowScalarA(double a, ReadOnlySpan<double> b, Span<double> y) => TensorPrimitives.Pow(a, b, y);
}
