using FastInfer.Gpu.Kernels;
using FastInfer.Ir;
using FastInfer.Runtime;
using FastInfer.Runtime.Backends;

namespace FastInfer.Gpu.Execution;

/// <summary>
/// Decides, per planned step, whether a GPU kernel covers it (float tensors, shapes and attributes the kernels
/// handle) and if so how it maps onto them. Anything else returns null and runs on the CPU.
/// </summary>
internal static class NodeLowering
{
    private const int MaxRank = 6;

    public static LoweredStep? Analyze(PlanDescription plan, StepDescription step, long opset)
    {
        var node = step.Node;
        string op = node.Domain is "" or "ai.onnx" ? node.OpType : node.Domain == "fastinfer" ? "fastinfer:" + node.OpType : "?";
        var l = new Lowering(plan, step);
        if (step.Outputs.Count == 0 || !l.IsFloat(l.Out)) return null;
        if (l.Out.Shape.ElementCount is 0 or > int.MaxValue) return null;
        try
        {
            return op switch
            {
                "Conv" or "fastinfer:FusedConv" => l.Conv(),
                "Gemm" => l.Gemm(),
                "MatMul" or "fastinfer:MatMulAdd" => l.MatMul(),
                "Add" => l.Binary(ElementwiseOp.Add),
                "Sub" => l.Binary(ElementwiseOp.Sub),
                "Mul" => l.Binary(ElementwiseOp.Mul),
                "Div" => l.Binary(ElementwiseOp.Div),
                "Pow" => l.Binary(ElementwiseOp.Pow),
                "Max" => l.Binary(ElementwiseOp.Max),
                "Min" => l.Binary(ElementwiseOp.Min),
                "Relu" => l.Unary(ElementwiseOp.Relu),
                "Sigmoid" => l.Unary(ElementwiseOp.Sigmoid),
                "Tanh" => l.Unary(ElementwiseOp.Tanh),
                "LeakyRelu" => l.Unary(ElementwiseOp.LeakyRelu, node.Float("alpha", 0.01f)),
                "Elu" => l.Unary(ElementwiseOp.Elu, node.Float("alpha", 1f)),
                "HardSigmoid" => l.Unary(ElementwiseOp.HardSigmoid, node.Float("alpha", 0.2f), node.Float("beta", 0.5f)),
                "Softplus" => l.Unary(ElementwiseOp.Softplus),
                "Exp" => l.Unary(ElementwiseOp.Exp),
                "Log" => l.Unary(ElementwiseOp.Log),
                "Sqrt" => l.Unary(ElementwiseOp.Sqrt),
                "Neg" => l.Unary(ElementwiseOp.Neg),
                "Abs" => l.Unary(ElementwiseOp.Abs),
                "Reciprocal" => l.Unary(ElementwiseOp.Reciprocal),
                "Erf" => l.Unary(ElementwiseOp.Erf),
                "Gelu" when node.Str("approximate", "none") == "none" => l.Unary(ElementwiseOp.Gelu),
                "Clip" => l.Clip(opset),
                "Identity" => l.ViewOrCopy(),
                "Reshape" or "Flatten" or "Squeeze" or "Unsqueeze" => l.ViewOrCopy(),
                "Softmax" => l.Softmax(opset, log: false),
                "LogSoftmax" => l.Softmax(opset, log: true),
                "LayerNormalization" => l.LayerNorm(),
                "MaxPool" => l.Pool(max: true, global: false),
                "AveragePool" => l.Pool(max: false, global: false),
                "GlobalMaxPool" => l.Pool(max: true, global: true),
                "GlobalAveragePool" => l.Pool(max: false, global: true),
                "Transpose" => l.Transpose(),
                "Concat" => l.Concat(),
                _ => null,
            };
        }
        catch (Exception e) when (e is ArgumentException or OverflowException or IndexOutOfRangeException or InvalidOperationException)
        {
            return null; // anything the GPU path does not understand stays on the CPU, which reports real errors
        }
    }

    private sealed class Lowering(PlanDescription plan, StepDescription step)
    {
        private Node Node => step.Node;
        public ValueDescription Out => plan.Values[step.Outputs[0]];
        private int OutId => step.Outputs[0];

        public bool Has(int i) => i < step.Inputs.Count && step.Inputs[i] >= 0;
        public ValueDescription In(int i) => plan.Values[step.Inputs[i]];
        private int InId(int i) => step.Inputs[i];
        public bool IsFloat(ValueDescription v) => v.Type == DataType.Float;
        private bool FloatInputs(params int[] inputs) => inputs.All(i => Has(i) && IsFloat(In(i)));
        /// <summary>Only output 0 may be consumed (optional outputs such as MaxPool's Indices stay on the CPU).</summary>
        private bool OnlyFirstOutput() => step.Outputs.Skip(1).All(id => plan.Values[id].Name.Length == 0);

        private static (int Kind, float Alpha, float Beta)? FusedActivation(Node node) => node.Str("activation", "") switch
        {
            "" => (ActivationCode.None, 0f, 0f),
            "Relu" => (ActivationCode.Relu, 0f, 0f),
            "Clip" => (ActivationCode.Clip, node.Float("activation_alpha", float.NegativeInfinity), node.Float("activation_beta", float.PositiveInfinity)),
            "LeakyRelu" => (ActivationCode.LeakyRelu, node.Float("activation_alpha", 0.01f), 0f),
            "Sigmoid" => (ActivationCode.Sigmoid, 0f, 0f),
            "Tanh" => (ActivationCode.Tanh, 0f, 0f),
            _ => null,
        };

        // ---- convolution --------------------------------------------------------------------------

        public LoweredStep? Conv()
        {
            if (!FloatInputs(0, 1) || !OnlyFirstOutput()) return null;
            var x = In(0).Shape; var w = In(1).Shape; var y = Out.Shape;
            if (x.Rank is not (3 or 4) || w.Rank != x.Rank || y.Rank != x.Rank) return null;
            bool oneD = x.Rank == 3;
            int group = checked((int)Node.Int("group", 1));
            int c = x[1], m = w[0];
            if (group < 1 || c % group != 0 || m % group != 0 || w[1] * group != c) return null;
            bool hasBias = Has(2), hasResidual = Has(3);
            if (hasBias && (!IsFloat(In(2)) || In(2).Shape.ElementCount != m)) return null;
            if (hasResidual && (!IsFloat(In(3)) || !In(3).Shape.Equals(y))) return null;
            if (FusedActivation(Node) is not { } act) return null;
            var win = Window(x, y, oneD ? 1 : w[2], w[^1], oneD);
            if (win is not { } g) return null;
            g.Group = group; g.OutChannels = m;
            g.HasBias = hasBias ? 1 : 0; g.HasResidual = hasResidual ? 1 : 0;
            g.Activation = act.Kind; g.Alpha = act.Alpha; g.Beta = act.Beta;
            int inId = InId(0), wId = InId(1), biasId = hasBias ? InId(2) : -1, resId = hasResidual ? InId(3) : -1, outId = OutId;
            var reads = new List<int> { inId, wId };
            if (hasBias) reads.Add(biasId);
            if (hasResidual) reads.Add(resId);

            if (group == c && group == m && w[1] == 1)
                return new LoweredStep(reads.ToArray(), new[] { outId }, 0, v => new DeviceOp[]
                {
                    new DepthwiseOp(v.Kernels, v.Of(inId), v.Of(wId), hasBias ? v.Of(biasId) : v.None, hasResidual ? v.Of(resId) : v.None, v.Of(outId), g),
                });

            int cg = c / group, mg = m / group;
            int k = cg * g.KernelH * g.KernelW, p = g.OutHeight * g.OutWidth;
            bool pointwise = g.KernelH == 1 && g.KernelW == 1 && g.StrideH == 1 && g.StrideW == 1 && g.PadTop == 0 && g.PadLeft == 0
                && g.OutHeight == g.Height && g.OutWidth == g.Width;
            var gp = new GemmParams
            {
                M = mg, N = p, K = k, Lda = k, Ldb = p, Ldc = p, InnerCount = group,
                AOuter = 0, AInner = (long)mg * k,
                BOuter = pointwise ? (long)c * p : (long)group * k * p, BInner = (long)k * p,
                COuter = (long)m * p, CInner = (long)mg * p,
                BiasKind = hasBias ? 1 : 0, BiasInner = mg, HasResidual = hasResidual ? 1 : 0,
                Activation = act.Kind, Alpha = act.Alpha, Beta = act.Beta,
            };
            int batch = checked(g.Batch * group);
            long colFloats = pointwise ? 0 : checked((long)batch * k * p);
            if (colFloats > int.MaxValue) return null;
            return new LoweredStep(reads.ToArray(), new[] { outId }, colFloats, v =>
            {
                var bias = hasBias ? v.Of(biasId) : v.None;
                var residual = hasResidual ? v.Of(resId) : v.None;
                if (pointwise)
                    return new DeviceOp[] { new GemmOp(v.Kernels, v.Of(wId), v.Of(inId), v.Of(outId), bias, residual, gp, batch) };
                var col = v.Workspace.SubView(0, colFloats);
                return new DeviceOp[]
                {
                    new Im2ColOp(v.Kernels, v.Of(inId), col, g, colFloats),
                    new GemmOp(v.Kernels, v.Of(wId), col, v.Of(outId), bias, residual, gp, batch),
                };
            });
        }

        /// <summary>Window geometry from the attributes, with pads resolved against the planned output size.</summary>
        private WindowParams? Window(Runtime.TensorShape x, Runtime.TensorShape y, int kh, int kw, bool oneD)
        {
            int rank = oneD ? 1 : 2;
            long[] strides = Node.Ints("strides") ?? Enumerable.Repeat(1L, rank).ToArray();
            long[] dilations = Node.Ints("dilations") ?? Enumerable.Repeat(1L, rank).ToArray();
            long[] pads = Node.Ints("pads") ?? new long[2 * rank];
            if (strides.Length != rank || dilations.Length != rank || pads.Length != 2 * rank) return null;
            int inH = oneD ? 1 : x[2], inW = x[^1], outH = oneD ? 1 : y[2], outW = y[^1];
            int[] ins = oneD ? new[] { inW } : new[] { inH, inW };
            int[] outs = oneD ? new[] { outW } : new[] { outH, outW };
            int[] ks = oneD ? new[] { kw } : new[] { kh, kw };
            var begin = new int[rank]; var end = new int[rank];
            string autoPad = Node.Str("auto_pad", "NOTSET");
            for (int i = 0; i < rank; i++)
            {
                int extent = (ks[i] - 1) * (int)dilations[i] + 1;
                if (autoPad is "SAME_UPPER" or "SAME_LOWER")
                {
                    int total = Math.Max(0, (outs[i] - 1) * (int)strides[i] + extent - ins[i]);
                    begin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                    end[i] = total - begin[i];
                }
                else if (autoPad == "VALID") { begin[i] = 0; end[i] = 0; }
                else if (autoPad is "NOTSET" or "") { begin[i] = (int)pads[i]; end[i] = (int)pads[rank + i]; }
                else return null;
            }
            return new WindowParams
            {
                Batch = x[0], Channels = x[1], Height = inH, Width = inW,
                OutChannels = y[1], OutHeight = outH, OutWidth = outW,
                KernelH = kh, KernelW = kw,
                StrideH = oneD ? 1 : (int)strides[0], StrideW = (int)strides[^1],
                DilationH = oneD ? 1 : (int)dilations[0], DilationW = (int)dilations[^1],
                PadTop = oneD ? 0 : begin[0], PadLeft = begin[^1], PadBottom = oneD ? 0 : end[0], PadRight = end[^1],
                Group = 1,
            };
        }

        public LoweredStep? Pool(bool max, bool global)
        {
            if (!FloatInputs(0) || !OnlyFirstOutput()) return null;
            var x = In(0).Shape; var y = Out.Shape;
            if (x.Rank is not (3 or 4) || y.Rank != x.Rank) return null;
            bool oneD = x.Rank == 3;
            WindowParams g;
            if (global)
                g = new WindowParams
                {
                    Batch = x[0], Channels = x[1], Height = oneD ? 1 : x[2], Width = x[^1], OutChannels = x[1], OutHeight = 1, OutWidth = 1,
                    KernelH = oneD ? 1 : x[2], KernelW = x[^1], StrideH = 1, StrideW = 1, DilationH = 1, DilationW = 1, Group = 1,
                };
            else
            {
                var ks = Node.Ints("kernel_shape");
                if (ks is null || ks.Length != (oneD ? 1 : 2)) return null;
                if (!max && Node.Ints("dilations") is { } d && d.Any(v => v != 1)) return null;
                if (Window(x, y, oneD ? 1 : (int)ks[0], (int)ks[^1], oneD) is not { } w) return null;
                g = w;
                g.CountIncludePad = (int)Node.Int("count_include_pad", 0);
            }
            g.PoolKind = max ? 0 : 1;
            int inId = InId(0), outId = OutId;
            return new LoweredStep(new[] { inId }, new[] { outId }, 0, v => new DeviceOp[] { new PoolOp(v.Kernels, v.Of(inId), v.Of(outId), g) });
        }

        // ---- matrix products ----------------------------------------------------------------------

        public LoweredStep? Gemm()
        {
            if (!FloatInputs(0, 1)) return null;
            var a = In(0).Shape; var b = In(1).Shape;
            if (a.Rank != 2 || b.Rank != 2 || Node.Int("transA", 0) != 0 || Node.Float("alpha", 1f) != 1f) return null;
            bool transB = Node.Int("transB", 0) != 0;
            int m = a[0], k = a[1], n = transB ? b[0] : b[1];
            if ((transB ? b[1] : b[0]) != k) return null;
            if (FusedActivation(Node) is not { } act) return null;
            int biasKind = 0, residual = 0;
            if (Has(2))
            {
                var c = In(2).Shape;
                if (!IsFloat(In(2)) || Node.Float("beta", 1f) != 1f) return null;
                if (c.ElementCount == n && (c.Rank == 1 || (c.Rank == 2 && c[0] == 1))) biasKind = 2;
                else if (c.Rank == 2 && c[0] == m && c[1] == n) residual = 1;
                else return null;
            }
            var p = new GemmParams
            {
                M = m, N = n, K = k, Lda = k, Ldb = transB ? k : n, Ldc = n, TransB = transB ? 1 : 0, InnerCount = 1,
                BiasKind = biasKind, HasResidual = residual, Activation = act.Kind, Alpha = act.Alpha, Beta = act.Beta,
            };
            return GemmStep(p, 1, Has(2) ? InId(2) : -1, residual != 0);
        }

        public LoweredStep? MatMul()
        {
            if (!FloatInputs(0, 1)) return null;
            var a = In(0).Shape; var b = In(1).Shape;
            if (a.Rank < 2 || b.Rank < 2) return null;
            int m = a[^2], k = a[^1], n = b[^1];
            if (b[^2] != k) return null;
            if (FusedActivation(Node) is not { } act) return null;
            if (Has(3)) return null; // a fused residual (MatMulEpilogueFusion) stays on the CPU path
            bool hasBias = Has(2);
            if (hasBias && (!IsFloat(In(2)) || In(2).Shape.ElementCount != n)) return null;
            GemmParams p;
            int batch;
            if (b.Rank == 2)
            {
                // All of A's rows against one weight.
                p = new GemmParams { M = checked((int)(a.ElementCount / k)), N = n, K = k, Lda = k, Ldb = n, Ldc = n, InnerCount = 1 };
                batch = 1;
            }
            else if (a.Rank == b.Rank && a.Dims[..^2].SequenceEqual(b.Dims[..^2]))
            {
                batch = checked((int)(a.ElementCount / ((long)m * k)));
                p = new GemmParams
                {
                    M = m, N = n, K = k, Lda = k, Ldb = n, Ldc = n, InnerCount = 1,
                    AOuter = (long)m * k, BOuter = (long)k * n, COuter = (long)m * n,
                };
            }
            else return null;
            p.BiasKind = hasBias ? 2 : 0;
            p.Activation = act.Kind; p.Alpha = act.Alpha; p.Beta = act.Beta;
            return GemmStep(p, batch, hasBias ? InId(2) : -1, residual: false);
        }

        private LoweredStep GemmStep(GemmParams p, int batch, int extraId, bool residual)
        {
            int aId = InId(0), bId = InId(1), outId = OutId;
            var reads = extraId >= 0 ? new[] { aId, bId, extraId } : new[] { aId, bId };
            bool bias = p.BiasKind != 0;
            if (batch == 1 && p.M <= GemmKernel.SkinnyRows && p.K >= GemmKernel.SplitKThreshold)
            {
                var (chunks, length) = GemmKernel.SplitK(p.M, p.N, p.K);
                long partialFloats = (long)chunks * p.M * p.N;
                return new LoweredStep(reads, new[] { outId }, partialFloats, v => new DeviceOp[]
                {
                    new SplitKGemmOp(v.Kernels, v.Of(aId), v.Of(bId), v.Of(outId), bias ? v.Of(extraId) : v.None, residual ? v.Of(extraId) : v.None,
                        v.Workspace.SubView(0, partialFloats), p, chunks, length),
                });
            }
            return new LoweredStep(reads, new[] { outId }, 0, v => new DeviceOp[]
            {
                new GemmOp(v.Kernels, v.Of(aId), v.Of(bId), v.Of(outId), bias ? v.Of(extraId) : v.None, residual ? v.Of(extraId) : v.None, p, batch),
            });
        }

        // ---- element-wise -------------------------------------------------------------------------

        public LoweredStep? Binary(int op)
        {
            if (step.Inputs.Count != 2 || !FloatInputs(0, 1)) return null;
            var y = Out.Shape;
            if (y.Rank > MaxRank) return null;
            var s = BroadcastStrides(In(0).Shape, In(1).Shape, y);
            s.Op = op;
            int aId = InId(0), bId = InId(1), outId = OutId;
            return new LoweredStep(new[] { aId, bId }, new[] { outId }, 0, v => new DeviceOp[] { new BinaryOp(v.Kernels, v.Of(aId), v.Of(bId), v.Of(outId), s) });
        }

        public LoweredStep? Unary(int op, float alpha = 0, float beta = 0)
        {
            if (!FloatInputs(0) || !OnlyFirstOutput()) return null;
            int inId = InId(0), outId = OutId;
            return new LoweredStep(new[] { inId }, new[] { outId }, 0, v => new DeviceOp[] { new UnaryOp(v.Kernels, v.Of(inId), v.Of(outId), op, alpha, beta) });
        }

        public unsafe LoweredStep? Clip(long opset)
        {
            float min = float.NegativeInfinity, max = float.PositiveInfinity;
            if (opset < 11)
            {
                min = Node.Float("min", min); max = Node.Float("max", max);
            }
            else
            {
                // Bounds come as inputs; the kernel takes them as numbers, so they must be known when planning.
                for (int i = 1; i <= 2; i++)
                {
                    if (!Has(i)) continue;
                    var bound = In(i);
                    if (bound.Role != ValueRole.Constant || !IsFloat(bound) || bound.Shape.ElementCount != 1) return null;
                    float value = *(float*)bound.ConstantPointer;
                    if (i == 1) min = value; else max = value;
                }
            }
            return Unary(ElementwiseOp.Clip, min, max);
        }

        public LoweredStep? ViewOrCopy()
        {
            if (!FloatInputs(0)) return null;
            if (Out.Role == ValueRole.Alias) return LoweredStep.View();
            if (In(0).Shape.ElementCount != Out.Shape.ElementCount) return null;
            int inId = InId(0), outId = OutId;
            return new LoweredStep(new[] { inId }, new[] { outId }, 0, v => new DeviceOp[] { new CopyOp(v.Of(inId), v.Of(outId)) });
        }

        public LoweredStep? Softmax(long opset, bool log)
        {
            if (!FloatInputs(0)) return null;
            var x = In(0).Shape;
            if (x.Rank == 0) return null;
            long axis = Node.Int("axis", opset >= 13 ? -1 : 1);
            if (axis < 0) axis += x.Rank;
            if (axis < 0 || axis >= x.Rank) return null;
            int ax = (int)axis;
            long outer = x.Size(0, ax);
            int length, inner;
            if (opset >= 13) { length = x[ax]; inner = checked((int)x.Size(ax + 1, x.Rank)); }
            else { length = checked((int)x.Size(ax, x.Rank)); inner = 1; }
            int rows = checked((int)(outer * inner));
            int inId = InId(0), outId = OutId;
            return new LoweredStep(new[] { inId }, new[] { outId }, 0,
                v => new DeviceOp[] { new SoftmaxOp(v.Kernels, v.Of(inId), v.Of(outId), rows, length, inner, log ? 1 : 0) });
        }

        public LoweredStep? LayerNorm()
        {
            if (!FloatInputs(0, 1) || !OnlyFirstOutput()) return null;
            var x = In(0).Shape;
            long axis = Node.Int("axis", -1);
            if (axis < 0) axis += x.Rank;
            if (axis < 0 || axis >= x.Rank) return null;
            int cols = checked((int)x.Size((int)axis, x.Rank));
            if (In(1).Shape.ElementCount != cols) return null;
            bool hasBias = Has(2);
            if (hasBias && (!IsFloat(In(2)) || In(2).Shape.ElementCount != cols)) return null;
            int rows = checked((int)(x.ElementCount / Math.Max(1, cols)));
            float epsilon = Node.Float("epsilon", 1e-5f);
            int inId = InId(0), scaleId = InId(1), biasId = hasBias ? InId(2) : -1, outId = OutId;
            var reads = hasBias ? new[] { inId, scaleId, biasId } : new[] { inId, scaleId };
            return new LoweredStep(reads, new[] { outId }, 0, v => new DeviceOp[]
            {
                new LayerNormOp(v.Kernels, v.Of(inId), v.Of(scaleId), hasBias ? v.Of(biasId) : v.None, v.Of(outId), rows, cols, epsilon, hasBias ? 1 : 0),
            });
        }

        // ---- layout -------------------------------------------------------------------------------

        public LoweredStep? Transpose()
        {
            if (!FloatInputs(0)) return null;
            var x = In(0).Shape;
            int rank = x.Rank;
            if (rank > MaxRank) return null;
            long[] perm = Node.Ints("perm") ?? Enumerable.Range(0, rank).Reverse().Select(i => (long)i).ToArray();
            if (perm.Length != rank) return null;
            var inStrides = ContiguousStrides(x.Dims);
            var outDims = new int[rank]; var strides = new long[rank];
            for (int i = 0; i < rank; i++) { outDims[i] = x[(int)perm[i]]; strides[i] = inStrides[(int)perm[i]]; }
            var s = Pack(outDims, strides, new long[rank]);
            int inId = InId(0), outId = OutId;
            return new LoweredStep(new[] { inId }, new[] { outId }, 0, v => new DeviceOp[] { new GatherOp(v.Kernels, v.Of(inId), v.Of(outId), s) });
        }

        public LoweredStep? Concat()
        {
            var y = Out.Shape;
            if (y.Rank == 0) return null;
            for (int i = 0; i < step.Inputs.Count; i++) if (!Has(i) || !IsFloat(In(i))) return null;
            long axis = Node.Int("axis", 0);
            if (axis < 0) axis += y.Rank;
            if (axis < 0 || axis >= y.Rank) return null;
            int ax = (int)axis;
            int inner = checked((int)y.Size(ax + 1, y.Rank));
            var ids = step.Inputs.ToArray();
            var widths = ids.Select(id => plan.Values[id].Shape[ax]).ToArray();
            int outId = OutId, axisOut = y[ax];
            return new LoweredStep(ids, new[] { outId }, 0, v =>
            {
                var ops = new List<DeviceOp>();
                int offset = 0;
                for (int i = 0; i < ids.Length; i++)
                {
                    ops.Add(new ConcatSliceOp(v.Kernels, v.Of(ids[i]), v.Of(outId), widths[i], inner, axisOut, offset));
                    offset += widths[i];
                }
                return ops;
            });
        }

        // ---- index maps ---------------------------------------------------------------------------

        private static long[] ContiguousStrides(ReadOnlySpan<int> dims)
        {
            var s = new long[dims.Length];
            long acc = 1;
            for (int i = dims.Length - 1; i >= 0; i--) { s[i] = acc; acc *= dims[i]; }
            return s;
        }

        /// <summary>Strides of each operand over the output dims, 0 where an operand is broadcast (numpy rules).</summary>
        private static Strides6 BroadcastStrides(Runtime.TensorShape a, Runtime.TensorShape b, Runtime.TensorShape y)
        {
            int rank = y.Rank;
            long[] Operand(Runtime.TensorShape s)
            {
                var own = ContiguousStrides(s.Dims);
                var result = new long[rank];
                for (int i = 0; i < rank; i++)
                {
                    int j = i - (rank - s.Rank);
                    if (j < 0) continue;
                    if (s[j] == y[i]) result[i] = own[j];
                    else if (s[j] == 1) result[i] = 0;
                    else throw new ArgumentException($"cannot broadcast {s} to {y}");
                }
                return result;
            }
            return Pack(y.ToArray(), Operand(a), Operand(b));
        }

        /// <summary>Right-aligns dims and strides into the fixed rank-6 map (leading dims of size 1).</summary>
        private static Strides6 Pack(int[] dims, long[] a, long[] b)
        {
            var d = new int[MaxRank]; var sa = new long[MaxRank]; var sb = new long[MaxRank];
            int shift = MaxRank - dims.Length;
            for (int i = 0; i < MaxRank; i++) d[i] = 1;
            for (int i = 0; i < dims.Length; i++) { d[shift + i] = dims[i]; sa[shift + i] = a[i]; sb[shift + i] = b[i]; }
            return new Strides6
            {
                D0 = d[0], D1 = d[1], D2 = d[2], D3 = d[3], D4 = d[4], D5 = d[5],
                A0 = sa[0], A1 = sa[1], A2 = sa[2], A3 = sa[3], A4 = sa[4], A5 = sa[5],
                B0 = sb[0], B1 = sb[1], B2 = sb[2], B3 = sb[3], B4 = sb[4], B5 = sb[5],
            };
        }
    }
}
