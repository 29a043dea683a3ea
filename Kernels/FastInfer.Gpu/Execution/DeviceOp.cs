using FastInfer.Gpu.Kernels;
using FastInfer.Runtime.Backends;
using ILGPU;
using ILGPU.Runtime;

namespace FastInfer.Gpu.Execution;

/// <summary>One thing a device plan does per Run: a kernel launch, a copy, or a CPU step. Built at plan time.</summary>
internal abstract class DeviceOp
{
    public abstract void Run(AcceleratorStream stream, in HostFrame frame);
}

/// <summary>Host value → its device buffer (before the first device step that reads it).</summary>
internal sealed unsafe class UploadOp(int valueId, ArrayView<float> target) : DeviceOp
{
    private readonly nint _device = HostCopy.CudaAddress(target);

    public override void Run(AcceleratorStream stream, in HostFrame frame)
    {
        float* host = (float*)frame.Pointer(valueId);
        if (_device != 0) { HostCopy.Cuda(_device, (nint)host, target.LengthInBytes, stream, "upload"); return; }
        ArrayView1D<float, Stride1D.Dense> dense = target;
        dense.CopyFromCPU(stream, ref *host, target.Length);
    }
}

/// <summary>Device buffer → host value (before a CPU step or the end of the run reads it).</summary>
internal sealed unsafe class DownloadOp(int valueId, ArrayView<float> source) : DeviceOp
{
    private readonly nint _device = HostCopy.CudaAddress(source);

    public override void Run(AcceleratorStream stream, in HostFrame frame)
    {
        float* host = (float*)frame.Pointer(valueId);
        if (_device != 0) { HostCopy.Cuda((nint)host, _device, source.LengthInBytes, stream, "download"); return; }
        ArrayView1D<float, Stride1D.Dense> dense = source;
        dense.CopyToCPU(stream, ref *host, source.Length);
    }
}

/// <summary>
/// Copies between host memory and a CUDA buffer without allocating. ILGPU's CopyFromCPU/CopyToCPU wrap the host
/// pointer in a new CPU memory buffer object on every call (80 bytes each: 160 bytes per Run on an H200); with CUDA's
/// unified addressing one cuMemcpyAsync on the raw addresses does the same copy.
/// </summary>
internal static class HostCopy
{
    /// <summary>The view's device address if it lives in a CUDA buffer, else 0 (other accelerators copy through ILGPU).</summary>
    public static nint CudaAddress(ArrayView<float> view)
    {
        var buffer = ((IArrayView)view).Buffer;
        return buffer.AcceleratorType == AcceleratorType.Cuda ? buffer.NativePtr + (nint)((IContiguousArrayView)view).IndexInBytes : 0;
    }

    public static void Cuda(nint target, nint source, long bytes, AcceleratorStream stream, string what)
    {
        var error = ILGPU.Runtime.Cuda.CudaAPI.CurrentAPI.MemcpyAsync(target, source, (nint)bytes, stream);
        if (error != ILGPU.Runtime.Cuda.CudaError.CUDA_SUCCESS)
            throw new InvalidOperationException($"CUDA {what} of {bytes} bytes failed: {error}.");
    }
}

/// <summary>Waits for the stream (before the host reads downloaded data).</summary>
internal sealed class SyncOp : DeviceOp
{
    public override void Run(AcceleratorStream stream, in HostFrame frame) => stream.Synchronize();
}

/// <summary>A step without a device kernel, run by the CPU backend over host memory.</summary>
internal sealed class CpuStepOp(int step) : DeviceOp
{
    public override void Run(AcceleratorStream stream, in HostFrame frame) => frame.RunOnCpu(step);
}

/// <summary>A device-to-device copy (a view that is also a graph output, Identity).</summary>
internal sealed class CopyOp(ArrayView<float> source, ArrayView<float> target) : DeviceOp
{
    public override void Run(AcceleratorStream stream, in HostFrame frame)
    {
        ArrayView1D<float, Stride1D.Dense> s = source, t = target;
        s.CopyTo(stream, t);
    }
}

/// <summary>The tiled GEMM (MatMul, Gemm, MatMulAdd, convolution after im2col).</summary>
internal sealed class GemmOp(GpuKernelSet k, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias,
    ArrayView<float> residual, GemmParams p, int batch) : DeviceOp
{
    private readonly bool _skinny = p.M <= GemmKernel.SkinnyRows;
    private readonly bool _large = GemmKernelLarge.Suits(p);
    private readonly KernelConfig _config = GemmKernelLarge.Suits(p) ? GemmKernelLarge.Config(p, batch) : GemmKernel.Config(p, batch);
    private readonly int _outputs = checked(batch * p.M * p.N);

    public override void Run(AcceleratorStream stream, in HostFrame frame)
    {
        if (_skinny) k.GemmSkinny(stream, _outputs, a, b, c, bias, residual, p);
        else if (_large) k.GemmLarge(stream, _config, a, b, c, bias, residual, p);
        else k.Gemm(stream, _config, a, b, c, bias, residual, p);
    }
}

/// <summary>A skinny, long-K product split along K into scratch, then reduced with the epilogue (<see cref="GemmKernel.SplitKPartial"/>).</summary>
internal sealed class SplitKGemmOp(GpuKernelSet k, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias,
    ArrayView<float> residual, ArrayView<float> partial, GemmParams p, int chunks, int chunkLength) : DeviceOp
{
    private readonly int _plane = checked(p.M * p.N);

    public override void Run(AcceleratorStream stream, in HostFrame frame)
    {
        k.SplitKPartial(stream, _plane * chunks, a, b, partial, p, chunkLength);
        k.ReduceSplitK(stream, _plane, partial, c, bias, residual, p, chunks);
    }
}

internal sealed class Im2ColOp(GpuKernelSet k, ArrayView<float> x, ArrayView<float> col, WindowParams w, long count) : DeviceOp
{
    public override void Run(AcceleratorStream stream, in HostFrame frame) => k.Im2Col(stream, (int)count, x, col, w);
}

internal sealed class DepthwiseOp(GpuKernelSet k, ArrayView<float> x, ArrayView<float> weights, ArrayView<float> bias,
    ArrayView<float> residual, ArrayView<float> y, WindowParams w) : DeviceOp
{
    public override void Run(AcceleratorStream stream, in HostFrame frame) => k.Depthwise(stream, (int)y.Length, x, weights, bias, residual, y, w);
}

internal sealed class PoolOp(GpuKernelSet k, ArrayView<float> x, ArrayView<float> y, WindowParams w) : DeviceOp
{
    public override void Run(AcceleratorStream stream, in HostFrame frame) => k.Pool(stream, (int)y.Length, x, y, w);
}

internal sealed class BinaryOp(GpuKernelSet k, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, Strides6 s) : DeviceOp
{
    public override void Run(AcceleratorStream stream, in HostFrame frame) => k.Binary(stream, (int)y.Length, a, b, y, s);
}

internal sealed class UnaryOp(GpuKernelSet k, ArrayView<float> x, ArrayView<float> y, int op, float alpha, float beta) : DeviceOp
{
    public override void Run(AcceleratorStream stream, in HostFrame frame) => k.Unary(stream, (int)y.Length, x, y, op, alpha, beta);
}

internal sealed class GatherOp(GpuKernelSet k, ArrayView<float> x, ArrayView<float> y, Strides6 s) : DeviceOp
{
    public override void Run(AcceleratorStream stream, in HostFrame frame) => k.Gather(stream, (int)y.Length, x, y, s);
}

internal sealed class ConcatSliceOp(GpuKernelSet k, ArrayView<float> x, ArrayView<float> y, int axisIn, int inner, int axisOut, int offset) : DeviceOp
{
    public override void Run(AcceleratorStream stream, in HostFrame frame)
    {
        if (x.Length > 0) k.ConcatSlice(stream, (int)x.Length, x, y, axisIn, inner, axisOut, offset);
    }
}

internal sealed class SoftmaxOp(GpuKernelSet k, ArrayView<float> x, ArrayView<float> y, int rows, int axis, int inner, int log) : DeviceOp
{
    public override void Run(AcceleratorStream stream, in HostFrame frame) => k.Softmax(stream, rows, x, y, axis, inner, log);
}

internal sealed class LayerNormOp(GpuKernelSet k, ArrayView<float> x, ArrayView<float> scale, ArrayView<float> bias, ArrayView<float> y,
    int rows, int cols, float epsilon, int hasBias) : DeviceOp
{
    public override void Run(AcceleratorStream stream, in HostFrame frame) => k.LayerNorm(stream, rows, x, scale, bias, y, cols, epsilon, hasBias);
}
