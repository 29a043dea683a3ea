using FastInfer.Ir;
using FastInfer.Kernels.Convolution;
using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Platform;

namespace FastInfer.Runtime.Operators.NeuralNet;

/// <summary>
/// Conv (1-D and 2-D, grouped, strided, dilated, padded), and the fused form the graph passes produce:
/// <c>fastinfer:FusedConv</c> with an optional residual input 3 and an activation in its epilogue, and optionally a
/// 2×2 or 3×3 stride-2 max pool after it (<see cref="Optimization.ConvPoolFusion"/>).
/// Constant filters are packed once, on first planning, and shared by every plan of the session.
/// </summary>
internal sealed unsafe class ConvOperator : Operator
{
    private ConvWeights? _packed;
    private readonly object _packLock = new();
    private readonly bool _allowWinograd;
    private readonly IsaLevel? _isa;
    private readonly IPackedOperandStore? _store;

    public ConvOperator(Node node, OperatorContext context) : base(node)
    {
        _allowWinograd = context.Options.Winograd;
        _isa = KernelScope.Validate(context.Options);
        _store = context.PackedOperands;
        PackKey = Prepacking.SessionPackedOperands.KeyFor(node);
    }

    /// <summary>Names this node's packed filters in a pre-packed <c>.fim</c>.</summary>
    private string PackKey { get; }

    public static IEnumerable<OperatorEntry> Entries()
    {
        yield return new("Conv", (n, c) => new ConvOperator(n, c), 1, OperatorRegistry.MaxSupportedOpset, Array.Empty<int>());
        yield return new("fastinfer:FusedConv", (n, c) => new ConvOperator(n, c), 1, OperatorRegistry.MaxSupportedOpset, Array.Empty<int>(),
            "Conv with BatchNorm folded in, a residual Add and an activation fused into its epilogue, and on the CPU a following 2×2 or 3×3 stride-2 MaxPool");
    }

    public override StepAction Plan(PlanContext ctx)
    {
        using (KernelScope.Enter(_isa)) return KernelScope.Wrap(_isa, PlanUnderIsa(ctx));
    }

    private StepAction PlanUnderIsa(PlanContext ctx)
    {
        ctx.RequireType(0, DataType.Float);
        ctx.RequireType(1, DataType.Float);
        var x = ctx.InputShape(0);
        var w = ctx.InputShape(1);
        if (x.Rank is not (3 or 4)) throw ctx.Fail($"only 1-D and 2-D convolutions are supported; input is {x}");
        if (w.Rank != x.Rank) throw ctx.Fail($"weights {w} and input {x} differ in rank");
        bool oneD = x.Rank == 3;
        int group = checked((int)ctx.Node.GetInt("group", 1));
        int c = x[1], m = w[0];
        if (group < 1 || c % group != 0 || m % group != 0 || w[1] * group != c)
            throw ctx.Fail($"input channels {c}, weights {w} and group {group} are inconsistent");
        var kernel = oneD ? new[] { w[2] } : new[] { w[2], w[3] };
        if (ctx.Node.GetInts("kernel_shape") is { } ks && !ks.Select(v => (int)v).SequenceEqual(kernel))
            throw ctx.Fail($"kernel_shape [{string.Join(",", ks)}] does not match weights {w}");
        var spatial = oneD ? new[] { x[2] } : new[] { x[2], x[3] };
        var sa = SpatialAttributes.Resolve(ctx, kernel, spatial, ceilMode: false);
        var shape = new ConvShape
        {
            Batch = x[0], InChannels = c, OutChannels = m, Group = group,
            InHeight = oneD ? 1 : x[2], InWidth = oneD ? x[2] : x[3],
            KernelHeight = oneD ? 1 : kernel[0], KernelWidth = oneD ? kernel[0] : kernel[1],
            StrideHeight = oneD ? 1 : sa.Strides[0], StrideWidth = sa.Strides[^1],
            DilationHeight = oneD ? 1 : sa.Dilations[0], DilationWidth = sa.Dilations[^1],
            PadTop = oneD ? 0 : sa.PadBegin(0), PadBottom = oneD ? 0 : sa.PadEnd(0),
            PadLeft = sa.PadBegin(sa.Rank - 1), PadRight = sa.PadEnd(sa.Rank - 1),
        };
        var output = oneD ? new TensorShape(x[0], m, shape.OutWidth) : new TensorShape(x[0], m, shape.OutHeight, shape.OutWidth);
        if (ctx.Node.GetInt(Optimization.ConvPoolFusion.Attribute, 0) is var window and not 0)
        {
            if (oneD || ctx.HasInput(3)) throw ctx.Fail("a fused max pool needs a 2-D convolution without a residual");
            return PlanPooled(ctx, shape, FusedActivation.Read(ctx.Node), FusedPool(ctx, shape, window));
        }
        ctx.SetOutput(0, DataType.Float, output);
        if (ctx.HasInput(2) && ctx.InputShape(2).ElementCount != m) throw ctx.Fail($"bias {ctx.InputShape(2)} does not have {m} values");
        bool residual = ctx.HasInput(3);
        var activation = FusedActivation.Read(ctx.Node);
        if (residual && !ctx.InputShape(3).Equals(output))
            return PlanBroadcastResidual(ctx, shape, output, activation);

        if (ctx.IsConstant(1) && (!ctx.HasInput(2) || ctx.IsConstant(2)))
        {
            var packed = Pack(ctx, shape);
            var algorithm = Conv2D.Choose(shape, _allowWinograd);
            packed.PrepareFor(algorithm, _store, PackKey);
            ctx.WorkspaceBytes = Conv2D.WorkspaceBytes(shape, algorithm);
            return (in StepArgs a) => Conv2D.Run(shape, packed, a.InF(0), a.OutF(0), residual ? a.InF(3) : null, activation, (float*)a.Workspace, a.Pool, algorithm);
        }
        // Filters fed at run time: the same convolution through the reference-speed unpacked path.
        return (in StepArgs a) => ConvReference.Run(shape, a.InF(0), a.InF(1), a.InF(2), residual ? a.InF(3) : null, activation, a.OutF(0));
    }

    /// <summary>The fused max pool's geometry: 2×2 stride 2 unpadded, or 3×3 stride 2 with the pads the fusion recorded.</summary>
    private static Kernels.Pooling.PoolShape FusedPool(PlanContext ctx, ConvShape shape, long window)
    {
        if (window is not (2 or 3)) throw ctx.Fail($"a fused max pool window of {window}; only 2 and 3 exist");
        var pads = window == 3 ? ctx.Node.GetInts(Optimization.ConvPoolFusion.PadsAttribute) ?? new long[4] : new long[4];
        if (pads.Length != 4 || pads.Any(p => p < 0 || p >= window)) throw ctx.Fail($"fused max pool pads [{string.Join(",", pads)}] are not 4 values below {window}");
        int k = (int)window, top = (int)pads[0], left = (int)pads[1], bottom = (int)pads[2], right = (int)pads[3];
        int spanH = shape.OutHeight + top + bottom - k, spanW = shape.OutWidth + left + right - k;
        if (spanH < 0 || spanW < 0) throw ctx.Fail($"a fused {k}×{k} max pool over a {shape.OutHeight}×{shape.OutWidth} output");
        var pool = new Kernels.Pooling.PoolShape
        {
            Planes = shape.Batch * shape.OutChannels, InHeight = shape.OutHeight, InWidth = shape.OutWidth,
            OutHeight = spanH / 2 + 1, OutWidth = spanW / 2 + 1,
            KernelHeight = k, KernelWidth = k, StrideHeight = 2, StrideWidth = 2, DilationHeight = 1, DilationWidth = 1,
            PadTop = top, PadLeft = left, PadBottom = bottom, PadRight = right,
        };
        return pool;
    }

    /// <summary>
    /// The convolution and activation followed by a fused stride-2 max pool (<see cref="Optimization.ConvPoolFusion"/>):
    /// inside the direct kernel where it applies, else the convolution into the workspace and the pooling kernel after it.
    /// </summary>
    private StepAction PlanPooled(PlanContext ctx, ConvShape shape, Activation activation, Kernels.Pooling.PoolShape pool)
    {
        ctx.SetOutput(0, DataType.Float, new TensorShape(shape.Batch, shape.OutChannels, pool.OutHeight, pool.OutWidth));
        long full = ((long)pool.Planes * pool.InHeight * pool.InWidth * sizeof(float) + 63) & ~63L;
        if (ctx.IsConstant(1) && (!ctx.HasInput(2) || ctx.IsConstant(2)))
        {
            var packed = Pack(ctx, shape);
            var algorithm = Conv2D.Choose(shape, _allowWinograd);
            packed.PrepareFor(algorithm, _store, PackKey);
            if (algorithm == ConvAlgorithm.DirectSmall && DirectSmallConv.CanPoolFromPhases(shape, pool))
            {
                ctx.WorkspaceBytes = DirectSmallConv.WorkspaceBytes(shape);
                return (in StepArgs a) => DirectSmallConv.RunPooledFromPhases(shape, packed, a.InF(0), a.OutF(0), activation, pool, a.Pool, (float*)a.Workspace);
            }
            ctx.WorkspaceBytes = full + Conv2D.WorkspaceBytes(shape, algorithm);
            return (in StepArgs a) =>
            {
                float* y = (float*)a.Workspace;
                Conv2D.Run(shape, packed, a.InF(0), y, null, activation, (float*)((byte*)a.Workspace + full), a.Pool, algorithm);
                Kernels.Pooling.Pool2D.Run(Kernels.Pooling.PoolKind.Max, pool, false, y, a.OutF(0), a.Pool);
            };
        }
        ctx.WorkspaceBytes = full;
        return (in StepArgs a) =>
        {
            float* y = (float*)a.Workspace;
            ConvReference.Run(shape, a.InF(0), a.InF(1), a.InF(2), null, activation, y);
            Kernels.Pooling.Pool2D.Run(Kernels.Pooling.PoolKind.Max, pool, false, y, a.OutF(0), a.Pool);
        };
    }

    /// <summary>
    /// A fused residual that must be broadcast (e.g. [1,C,1,1]): convolve, then add with broadcasting and
    /// activate, as the unfused Conv → Add → activation would.
    /// </summary>
    private StepAction PlanBroadcastResidual(PlanContext ctx, ConvShape shape, TensorShape output, Activation activation)
    {
        var plan = new Elementwise.Broadcast(output, ctx.InputShape(3));
        if (!plan.Output.Equals(output))
            throw ctx.Fail($"residual {ctx.InputShape(3)} broadcast with the output {output} gives {plan.Output}");
        bool packed = ctx.IsConstant(1) && (!ctx.HasInput(2) || ctx.IsConstant(2));
        var weights = packed ? Pack(ctx, shape) : null;
        weights?.PrepareFor(ConvAlgorithm.Gemm, _store, PackKey);
        ctx.WorkspaceBytes = packed ? Conv2D.WorkspaceBytes(shape) : 0;
        long count = output.ElementCount;
        return (in StepArgs a) =>
        {
            float* y = a.OutF(0);
            if (weights is not null) Conv2D.Run(shape, weights, a.InF(0), y, null, Activation.None, (float*)a.Workspace, a.Pool);
            else ConvReference.Run(shape, a.InF(0), a.InF(1), a.InF(2), null, Activation.None, y);
            Elementwise.BroadcastRunner.Run<float, float, Elementwise.AddOp<float>>(plan, y, a.InF(3), y);
            if (activation.Kind != ActivationKind.None)
                for (long i = 0; i < count; i += int.MaxValue) ActivationRow.Apply(y + i, (int)Math.Min(int.MaxValue, count - i), activation);
        };
    }

    private ConvWeights Pack(PlanContext ctx, in ConvShape s)
    {
        lock (_packLock)
        {
            if (_packed is null)
            {
                float* bias = ctx.HasInput(2) ? (float*)ctx.InputValue(2).ConstantPointer : null;
                _packed = new ConvWeights(s.OutChannels, s.InChannelsPerGroup, s.KernelHeight, s.KernelWidth, s.Group,
                    (float*)ctx.InputValue(1).ConstantPointer, bias);
            }
            return _packed;
        }
    }

    public override void Dispose() => _packed?.Dispose();
}
