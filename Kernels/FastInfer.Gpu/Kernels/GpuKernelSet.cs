using ILGPU;
using ILGPU.Runtime;

namespace FastInfer.Gpu.Kernels;

/// <summary>
/// Every kernel compiled for one accelerator, loaded once when the accelerator is opened (never on a Run).
/// The delegates launch on the stream given.
/// </summary>
internal sealed class GpuKernelSet
{
    public GpuKernelSet(Accelerator accelerator)
    {
        Gemm = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmParams>(GemmKernel.Run);
        GemmLarge = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmParams>(GemmKernelLarge.Run);
        GemmSkinny = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmParams>(GemmKernel.RunSkinny);
        SplitKPartial = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmParams, int>(GemmKernel.SplitKPartial);
        ReduceSplitK = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmParams, int>(GemmKernel.ReduceSplitK);
        Im2Col = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, WindowParams>(ConvKernels.Im2Col);
        Depthwise = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowParams>(ConvKernels.Depthwise);
        Pool = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, WindowParams>(ConvKernels.Pool);
        Binary = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, Strides6>(ElementwiseKernels.Binary);
        Unary = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int, float, float>(ElementwiseKernels.Unary);
        Gather = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, Strides6>(ElementwiseKernels.Gather);
        ConcatSlice = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int>(ElementwiseKernels.ConcatSlice);
        Softmax = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>(NormalizationKernels.Softmax);
        LayerNorm = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int>(NormalizationKernels.LayerNorm);
    }

    public Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmParams> Gemm { get; }
    public Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmParams> GemmLarge { get; }
    public Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmParams> GemmSkinny { get; }
    public Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmParams, int> SplitKPartial { get; }
    public Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmParams, int> ReduceSplitK { get; }
    public Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, WindowParams> Im2Col { get; }
    public Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowParams> Depthwise { get; }
    public Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, WindowParams> Pool { get; }
    public Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, Strides6> Binary { get; }
    public Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, float, float> Unary { get; }
    public Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, Strides6> Gather { get; }
    public Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int> ConcatSlice { get; }
    public Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int, int> Softmax { get; }
    public Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int> LayerNorm { get; }
}
