using System.Numerics.Tensors;
using FastInfer.Kernels.Threading;

namespace FastInfer.Kernels.Pooling;

/// <summary>Max and average pooling over NCHW planes, one plane per parallel index.</summary>
public static unsafe class Pool2D
{
    /// <param name="countIncludePad">Average only: divide by the full window including padding (ONNX count_include_pad=1).</param>
    public static void Run(PoolKind kind, in PoolShape s, bool countIncludePad, float* x, float* y, WorkerPool pool)
    {
        var body = new Body { S = s, Kind = kind, CountIncludePad = countIncludePad, X = x, Y = y };
        pool.For(s.Planes, ref body);
    }

    /// <summary>Global average or max over each H·W plane: y[plane] = reduce(x[plane, :]).</summary>
    public static void Global(PoolKind kind, int planes, int planeSize, float* x, float* y, WorkerPool pool)
    {
        var body = new GlobalBody { Kind = kind, PlaneSize = planeSize, X = x, Y = y };
        pool.For(planes, ref body);
    }

    private struct GlobalBody : IParallelBody
    {
        public PoolKind Kind;
        public int PlaneSize;
        public float* X, Y;

        public void Invoke(int p)
        {
            var plane = new ReadOnlySpan<float>(X + (long)p * PlaneSize, PlaneSize);
            Y[p] = Kind == PoolKind.Max ? TensorPrimitives.Max(plane) : TensorPrimitives.Sum(plane) / PlaneSize;
        }
    }

    private struct Body : IParallelBody
    {
        public PoolShape S;
        public PoolKind Kind;
        public bool CountIncludePad;
        public float* X, Y;

        public void Invoke(int p) => PoolReference.Plane(Kind, S, CountIncludePad,
            X + (long)p * S.InHeight * S.InWidth, Y + (long)p * S.OutHeight * S.OutWidth);
    }
}
