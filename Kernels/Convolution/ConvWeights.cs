using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Memory;

namespace FastInfer.Kernels.Convolution;

/// <summary>
/// A convolution's filters, in the layout its algorithm reads (packed GEMM operands, Winograd transforms, …) prepared
/// once at plan time, and its bias, kept with the plan. Depends only on channels, kernel size and group, not on the image size.
/// </summary>
public sealed unsafe class ConvWeights : IDisposable
{
    public int OutChannels { get; }
    public int InChannelsPerGroup { get; }
    public int KernelHeight { get; }
    public int KernelWidth { get; }
    public int Group { get; }
    /// <summary>The filters packed as GEMM left operands, one per group: packed on first need (<see cref="PrepareFor"/>), so a
    /// convolution that runs through Winograd or the pixel-rows path never holds (or pays for) this copy.</summary>
    internal PackedMatrix[] PackedGroups
    {
        get
        {
            if (_packedGroups == null) PrepareGemm();
            return _packedGroups!;
        }
    }
    private PackedMatrix[]? _packedGroups;
    internal AlignedBuffer? Bias { get; }
    /// <summary>The filters as given (OIHW), kept for paths that read them directly (depthwise).</summary>
    internal AlignedBuffer Raw { get; }
    /// <summary>Winograd F(4×4, 3×3) filters, one packed M×C left operand per transformed point; null until <see cref="PrepareWinograd"/>.</summary>
    internal PackedMatrix[]? WinogradFilters { get; private set; }
    /// <summary>Winograd F(2×2, 3×3) filters, one packed C×M right operand per transformed point; null until <see cref="PrepareWinogradF23"/>.</summary>
    internal PackedMatrix[]? WinogradF23Filters { get; private set; }
    /// <summary>The block <see cref="WinogradF23Filters"/> view when packed here (not found in a store).</summary>
    private AlignedBuffer? _winogradF23Block;
    private readonly object _winogradLock = new();
    /// <summary>Wᵀ (K×M) packed as a GEMM right operand for <see cref="ConvAlgorithm.PixelRowsGemm"/>; null until <see cref="PrepareTransposed"/>.</summary>
    internal PackedMatrix? TransposedFilters { get; private set; }
    /// <summary>Filters as [tap][output channel] for <see cref="DirectSmallConv"/>; null until <see cref="PrepareTapMajor"/>.</summary>
    internal AlignedBuffer? TapMajor { get; private set; }

    /// <param name="weights">OIHW filters: [M, C/group, KH, KW].</param>
    /// <param name="bias">[M] or null.</param>
    public ConvWeights(int outChannels, int inChannelsPerGroup, int kernelHeight, int kernelWidth, int group, float* weights, float* bias)
    {
        OutChannels = outChannels; InChannelsPerGroup = inChannelsPerGroup;
        KernelHeight = kernelHeight; KernelWidth = kernelWidth; Group = group;
        int k = inChannelsPerGroup * kernelHeight * kernelWidth;
        long total = (long)outChannels * k;
        Raw = new AlignedBuffer(total * sizeof(float), zero: false);
        Buffer.MemoryCopy(weights, Raw.Pointer, total * sizeof(float), total * sizeof(float));
        if (bias != null)
        {
            Bias = new AlignedBuffer((long)outChannels * sizeof(float), zero: false);
            Buffer.MemoryCopy(bias, Bias.Pointer, outChannels * sizeof(float), outChannels * sizeof(float));
        }
    }

    /// <summary>
    /// Prepares the filter layout <paramref name="algorithm"/> reads. Packed operands come from <paramref name="store"/>
    /// where it holds them under <paramref name="key"/> (a pre-packed <c>.fim</c>), and are offered to it otherwise.
    /// </summary>
    public void PrepareFor(ConvAlgorithm algorithm, IPackedOperandStore? store = null, string key = "")
    {
        if (algorithm == ConvAlgorithm.Gemm) PrepareGemm(store, key);
        else if (algorithm == ConvAlgorithm.Winograd) PrepareWinograd(store, key);
        else if (algorithm == ConvAlgorithm.WinogradF23) PrepareWinogradF23(store, key);
        else if (algorithm == ConvAlgorithm.PixelRowsGemm) PrepareTransposed(store, key);
        else if (algorithm == ConvAlgorithm.DirectSmall) PrepareTapMajor();
        else if (algorithm == ConvAlgorithm.DirectTiles) PrepareTapBlocks();
    }

    /// <summary>Packs the filters as GEMM left operands (once), under the ISA tier the convolution will run with.</summary>
    public void PrepareGemm(IPackedOperandStore? store = null, string key = "")
    {
        lock (_winogradLock)
        {
            if (_packedGroups != null) return;
            int mg = OutChannels / Group, k = InChannelsPerGroup * KernelHeight * KernelWidth;
            var packed = new PackedMatrix[Group];
            for (int g = 0; g < Group; g++)
                packed[g] = Sgemm.PackA(false, mg, k, Raw.Floats + (long)g * mg * k, k, store, $"{key}/gemm/{g}");
            _packedGroups = packed;
        }
    }

    /// <summary>
    /// Transforms and packs the filters for <see cref="WinogradF43"/> (once; later calls return at once).
    /// Call at plan time, under the ISA tier the convolution will run with.
    /// </summary>
    public void PrepareWinograd(IPackedOperandStore? store = null, string key = "")
    {
        if (KernelHeight != 3 || KernelWidth != 3 || Group != 1)
            throw new InvalidOperationException($"Winograd F(4x4,3x3) needs 3x3 ungrouped filters, not {KernelHeight}x{KernelWidth} in {Group} group(s).");
        lock (_winogradLock)
        {
            if (WinogradFilters != null) return;
            var packed = new PackedMatrix[36];
            // All 36 stored: the transform (the costliest part of a cold start) is skipped altogether.
            int found = 0;
            while (found < 36 && Sgemm.FindA(OutChannels, InChannelsPerGroup, store, $"{key}/winograd/{found}") is { } stored) packed[found++] = stored;
            if (found < 36)
            {
                for (int xi = 0; xi < found; xi++) packed[xi].Dispose();
                float[] u = WinogradF43.TransformFilters(Raw.Floats, OutChannels, InChannelsPerGroup);
                fixed (float* pu = u)
                    for (int xi = 0; xi < 36; xi++)
                    {
                        packed[xi] = Sgemm.PackA(false, OutChannels, InChannelsPerGroup, pu + (long)xi * OutChannels * InChannelsPerGroup, InChannelsPerGroup);
                        store?.Offer($"{key}/winograd/{xi}", packed[xi].Buffer.Floats, packed[xi].ByteLength);
                    }
            }
            WinogradFilters = packed;
        }
    }

    /// <summary>
    /// Transforms and packs the filters for <see cref="WinogradF23"/> (once; later calls return at once). Each point's
    /// C×M matrix is a right operand, found in or offered to <paramref name="store"/>.
    /// </summary>
    public void PrepareWinogradF23(IPackedOperandStore? store = null, string key = "")
    {
        if (KernelHeight != 3 || KernelWidth != 3 || Group != 1 || OutChannels % 16 != 0)
            throw new InvalidOperationException($"Winograd F(2x2,3x3) needs 3x3 ungrouped filters with output channels in blocks of 16, not {KernelHeight}x{KernelWidth} in {Group} group(s), {OutChannels} channels.");
        lock (_winogradLock)
        {
            if (WinogradF23Filters != null) return;
            int c = InChannelsPerGroup, m = OutChannels;
            long floats = (long)m * c, bytes = floats * sizeof(float);
            var packed = new PackedMatrix[16];
            int found = 0;
            // All 16 stored (a pre-packed .fim): used in place, the transform skipped.
            while (found < 16 && Sgemm.FindB(c, m, store, $"{key}/winograd23/{found}") is { } stored) packed[found++] = stored;
            if (found < 16)
            {
                // All 16 in one block: at 16 MiB for ResNet's 512 channels it gets huge pages (NativeAllocation), where
                // 16 separate 1 MiB blocks streamed through a TLB miss every 4 KiB (ResNet's 7×7 convs in the model, one thread:
                // 1.23-1.58 ms each in 4 KiB pages, 0.87-1.05 in huge pages).
                for (int xi = 0; xi < found; xi++) packed[xi].Dispose();
                _winogradF23Block = new AlignedBuffer(16 * bytes, zero: false);
                WinogradF23.TransformFiltersPacked(Raw.Floats, m, c, _winogradF23Block.Floats, floats);
                for (int xi = 0; xi < 16; xi++)
                {
                    float* dst = _winogradF23Block.Floats + xi * floats;
                    packed[xi] = Sgemm.PackedB(c, m, dst);
                    store?.Offer($"{key}/winograd23/{xi}", dst, bytes);
                }
            }
            WinogradF23Filters = packed;
        }
    }

    /// <summary>Packs Wᵀ once for <see cref="ConvAlgorithm.PixelRowsGemm"/> (later calls return at once).</summary>
    public void PrepareTransposed(IPackedOperandStore? store = null, string key = "")
    {
        if (Group != 1) throw new InvalidOperationException("The pixel-rows GEMM path needs an ungrouped convolution.");
        lock (_winogradLock)
        {
            if (TransposedFilters != null) return;
            int k = InChannelsPerGroup * KernelHeight * KernelWidth;
            TransposedFilters = Sgemm.PackB(true, k, OutChannels, Raw.Floats, k, store, key + "/transposed");
        }
    }

    /// <summary>Lays the filters out tap-major once for <see cref="ConvAlgorithm.DirectSmall"/> (later calls return at once).</summary>
    public void PrepareTapMajor()
    {
        if (Group != 1) throw new InvalidOperationException("The direct convolution paths need an ungrouped convolution.");
        lock (_winogradLock)
        {
            if (TapMajor != null) return;
            float[] t = DirectSmallConv.TapMajorFilters(Raw.Floats, OutChannels, InChannelsPerGroup * KernelHeight * KernelWidth);
            var buffer = new AlignedBuffer((long)t.Length * sizeof(float), zero: false);
            t.AsSpan().CopyTo(new Span<float>(buffer.Floats, t.Length));
            TapMajor = buffer;
        }
    }

    /// <summary>
    /// Filters as [block of 64 output channels][tap][64] for <see cref="DirectTileConv"/>; null until <see cref="PrepareTapBlocks"/>.
    /// A tile walks one block's taps in order, so its filters stream from L2 sequentially (256 bytes a tap) rather
    /// than 4 lines out of every M·4 bytes.
    /// </summary>
    internal AlignedBuffer? TapBlocks { get; private set; }

    /// <summary>Lays the filters out in 64-channel tap-major blocks once (output channels a multiple of 64).</summary>
    public void PrepareTapBlocks()
    {
        if (Group != 1 || OutChannels % 64 != 0) throw new InvalidOperationException($"The direct tile path needs an ungrouped convolution with output channels in blocks of 64, not {OutChannels} in {Group} group(s).");
        lock (_winogradLock)
        {
            if (TapBlocks != null) return;
            int taps = InChannelsPerGroup * KernelHeight * KernelWidth;
            var buffer = new AlignedBuffer((long)OutChannels * taps * sizeof(float), zero: false);
            float* dst = buffer.Floats, src = Raw.Floats;
            for (int b = 0; b < OutChannels / 64; b++)
                for (int k = 0; k < taps; k++)
                    for (int j = 0; j < 64; j++)
                        *dst++ = src[(long)(b * 64 + j) * taps + k];
            TapBlocks = buffer;
        }
    }

    public void Dispose()
    {
        TapMajor?.Dispose();
        TapBlocks?.Dispose();
        TransposedFilters?.Dispose();
        if (WinogradFilters != null) foreach (var p in WinogradFilters) p.Dispose();
        if (WinogradF23Filters != null) foreach (var p in WinogradF23Filters) p.Dispose();
        _winogradF23Block?.Dispose();
        if (_packedGroups != null) foreach (var p in _packedGroups) p.Dispose();
        Bias?.Dispose();
        Raw.Dispose();
    }
}
