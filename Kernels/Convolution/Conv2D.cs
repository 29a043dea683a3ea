using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Threading;

namespace FastInfer.Kernels.Convolution;

/// <summary>
/// 2-D convolution over NCHW: per image and group, im2col into the caller's workspace (from the plan's
/// arena), then one packed GEMM W[M/g × K]·col[K × OH·OW] whose epilogue adds the bias and residual and
/// applies the activation. Paths, chosen per shape:
/// <list type="bullet">
/// <item>depthwise (group = C = M): direct, vectorized along the output row, no workspace;</item>
/// <item>1×1 stride 1, no padding: no im2col, the input already is the column matrix;</item>
/// <item>everything else (strided 1×1 included, where im2col is a plain gather): im2col + packed GEMM;</item>
/// <item>3×3 stride 1, when asked for with <see cref="ConvAlgorithm.Winograd"/>: <see cref="WinogradF43"/>.</item>
/// </list>
/// </summary>
public static unsafe class Conv2D
{
    /// <summary>
    /// The algorithm for this shape: Winograd where allowed, supported on the current ISA tier and expected
    /// to win (<see cref="WinogradF43.IsProfitable"/>), else the GEMM-based paths.
    /// </summary>
    public static ConvAlgorithm Choose(in ConvShape s, bool allowWinograd) =>
        allowWinograd && WinogradF43.IsProfitable(s) ? ConvAlgorithm.Winograd : ConvAlgorithm.Gemm;

    /// <summary>Scratch bytes <see cref="Run(in ConvShape, ConvWeights, float*, float*, float*, Activation, float*, WorkerPool, ConvAlgorithm)"/> needs.</summary>
    public static long WorkspaceBytes(in ConvShape s, ConvAlgorithm algorithm) =>
        algorithm == ConvAlgorithm.Winograd ? WinogradF43.WorkspaceBytes(s) : WorkspaceBytes(s);

    /// <summary>Runs with a chosen algorithm; Winograd needs <see cref="ConvWeights.PrepareWinograd"/> first.</summary>
    public static void Run(in ConvShape s, ConvWeights weights, float* x, float* y, float* residual, Activation activation,
        float* workspace, WorkerPool pool, ConvAlgorithm algorithm)
    {
        if (algorithm == ConvAlgorithm.Winograd) WinogradF43.Run(s, weights, x, y, residual, activation, workspace, pool);
        else Run(s, weights, x, y, residual, activation, workspace, pool);
    }

    /// <summary>Scratch bytes <see cref="Run"/> needs for this shape.</summary>
    public static long WorkspaceBytes(in ConvShape s) =>
        UsesDepthwise(s) || s.IsPointwise ? 0 : (long)s.KernelSize * s.OutHeight * s.OutWidth * sizeof(float);

    /// <summary>Depthwise with one filter per channel: the direct path applies.</summary>
    private static bool UsesDepthwise(in ConvShape s) => s.IsDepthwise && s.InChannelsPerGroup == 1 && s.OutChannelsPerGroup == 1;

    /// <param name="residual">Optional tensor shaped like Y, added before the activation (a fused residual Add).</param>
    public static void Run(in ConvShape s, ConvWeights weights, float* x, float* y, float* residual, Activation activation,
        float* workspace, WorkerPool pool)
    {
        if (UsesDepthwise(s)) { DepthwiseConv.Run(s, weights, x, y, residual, activation, pool); return; }
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
