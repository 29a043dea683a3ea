using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Threading;

namespace FastInfer.Kernels.Convolution;

/// <summary>
/// 2-D convolution over NCHW: per image and group, im2col into the caller's workspace (from the plan's
/// arena), then one packed GEMM W[M/g × K]·col[K × OH·OW] whose epilogue adds the bias and residual and
/// applies the activation. 1×1 stride-1 convolutions skip im2col: the input already is the column matrix.
/// </summary>
public static unsafe class Conv2D
{
    /// <summary>Scratch bytes <see cref="Run"/> needs for this shape.</summary>
    public static long WorkspaceBytes(in ConvShape s) =>
        s.IsPointwise ? 0 : (long)s.KernelSize * s.OutHeight * s.OutWidth * sizeof(float);

    /// <param name="residual">Optional tensor shaped like Y, added before the activation (a fused residual Add).</param>
    public static void Run(in ConvShape s, ConvWeights weights, float* x, float* y, float* residual, Activation activation,
        float* workspace, WorkerPool pool)
    {
        int oh = s.OutHeight, ow = s.OutWidth, spatial = oh * ow;
        int cg = s.InChannelsPerGroup, mg = s.OutChannelsPerGroup;
        for (int n = 0; n < s.Batch; n++)
        {
            for (int g = 0; g < s.Group; g++)
            {
                float* xg = x + ((long)n * s.InChannels + (long)g * cg) * s.InHeight * s.InWidth;
                float* yg = y + ((long)n * s.OutChannels + (long)g * mg) * spatial;
                float* col = xg;
                if (!s.IsPointwise)
                {
                    Im2Col.Run(s, xg, workspace, pool);
                    col = workspace;
                }
                var epilogue = new GemmEpilogue
                {
                    Bias = weights.Bias != null ? weights.Bias.Floats + g * mg : null,
                    BiasKind = weights.Bias != null ? BiasKind.PerRow : BiasKind.None,
                    Residual = residual != null ? residual + ((long)n * s.OutChannels + (long)g * mg) * spatial : null,
                    ResidualStride = spatial,
                    Activation = activation,
                };
                Sgemm.MultiplyPackedA(weights.PackedGroups[g], spatial, col, spatial, yg, spatial, epilogue, pool);
            }
        }
    }
}
