using FastInfer.Ir;

namespace FastInfer.Tests.Formats.Keras;

/// <summary>A dense float tensor for the test interpreter and the Keras references.</summary>
public sealed class Tensor
{
    public long[] Shape { get; }
    public float[] Data { get; }
    public Tensor(long[] shape, float[] data)
    {
        long n = 1;
        foreach (long d in shape) n *= d;
        if (n != data.Length) throw new ArgumentException($"shape [{string.Join(",", shape)}] does not match {data.Length} values");
        Shape = shape; Data = data;
    }
    public Tensor(params long[] shape) : this(shape, new float[shape.Aggregate(1L, (a, b) => a * b)]) { }
    public int Rank => Shape.Length;
    public override string ToString() => $"[{string.Join(",", Shape)}]";
}

/// <summary>
/// A tiny scalar interpreter of the ONNX operators the Keras reader emits (NCHW, opset 17 semantics). Test-only: it
/// exists to validate the reader until the real runtime lands.
/// </summary>
public static class ReferenceInterpreter
{
    public static Dictionary<string, Tensor> Run(ModelGraph g, Dictionary<string, Tensor> inputs)
    {
        var env = new Dictionary<string, Tensor>(inputs);
        foreach (var (name, init) in g.Initializers)
        {
            float[] data = init.ElementType switch
            {
                DataType.Float => init.AsSpan<float>().ToArray(),
                DataType.Int64 => init.AsSpan<long>().ToArray().Select(v => (float)v).ToArray(),
                _ => throw new NotSupportedException(init.ElementType.ToString()),
            };
            env[name] = new Tensor(init.Dims.ToArray(), data);
        }
        foreach (var node in g.Nodes)
        {
            Tensor? In(int i) => i < node.Inputs.Count && node.Inputs[i].Length > 0 ? env[node.Inputs[i]] : null;
            env[node.Outputs[0]] = Eval(node, In);
        }
        return g.Outputs.ToDictionary(o => o.Name, o => env[o.Name]);
    }

    private static long IntAttr(Node n, string name, long dflt) => n.Attribute(name)?.Int ?? dflt;
    private static float FloatAttr(Node n, string name, float dflt) => n.Attribute(name)?.Float ?? dflt;
    private static long[]? IntsAttr(Node n, string name) => n.Attribute(name)?.Ints;

    private static Tensor Eval(Node n, Func<int, Tensor?> In)
    {
        Tensor X = In(0)!;
        switch (n.OpType)
        {
            case "Identity": return X;
            case "Relu": return Map(X, v => MathF.Max(v, 0));
            case "Sigmoid": return Map(X, v => 1f / (1f + MathF.Exp(-v)));
            case "Tanh": return Map(X, MathF.Tanh);
            case "Exp": return Map(X, MathF.Exp);
            case "Erf": return Map(X, v => (float)Erf(v));
            case "Softplus": return Map(X, v => (float)Math.Log(1 + Math.Exp(v)));
            case "Softsign": return Map(X, v => v / (1 + MathF.Abs(v)));
            case "Elu": { float a = FloatAttr(n, "alpha", 1f); return Map(X, v => v > 0 ? v : a * (MathF.Exp(v) - 1)); }
            case "Selu":
            {
                float a = FloatAttr(n, "alpha", 1.67326319f), g = FloatAttr(n, "gamma", 1.05070102f);
                return Map(X, v => g * (v > 0 ? v : a * (MathF.Exp(v) - 1)));
            }
            case "LeakyRelu": { float a = FloatAttr(n, "alpha", 0.01f); return Map(X, v => v >= 0 ? v : a * v); }
            case "HardSigmoid":
            {
                float a = FloatAttr(n, "alpha", 0.2f), b = FloatAttr(n, "beta", 0.5f);
                return Map(X, v => MathF.Max(0, MathF.Min(1, a * v + b)));
            }
            case "Clip":
            {
                float lo = In(1)?.Data[0] ?? float.NegativeInfinity, hi = In(2)?.Data[0] ?? float.PositiveInfinity;
                return Map(X, v => MathF.Min(MathF.Max(v, lo), hi));
            }
            case "Add": return Broadcast(X, In(1)!, (a, b) => a + b);
            case "Sub": return Broadcast(X, In(1)!, (a, b) => a - b);
            case "Mul": return Broadcast(X, In(1)!, (a, b) => a * b);
            case "Div": return Broadcast(X, In(1)!, (a, b) => a / b);
            case "PRelu": return Broadcast(X, In(1)!, (a, s) => a >= 0 ? a : a * s);
            case "Max": return Variadic(n, In, MathF.Max);
            case "Min": return Variadic(n, In, MathF.Min);
            case "Softmax": case "LogSoftmax": return Softmax(X, (int)IntAttr(n, "axis", -1), n.OpType == "LogSoftmax");
            case "Transpose": return Transpose(X, IntsAttr(n, "perm")!);
            case "Reshape": return Reshape(X, In(1)!);
            case "Flatten":
            {
                int axis = (int)IntAttr(n, "axis", 1);
                if (axis < 0) axis += X.Rank;
                long a = X.Shape[..axis].Aggregate(1L, (p, d) => p * d);
                return new Tensor([a, X.Data.Length / Math.Max(a, 1)], X.Data);
            }
            case "Gemm": return Gemm(n, X, In(1)!, In(2));
            case "MatMul": return MatMul(X, In(1)!);
            case "Conv": return Conv(n, X, In(1)!, In(2));
            case "MaxPool": case "AveragePool": return Pool(n, X);
            case "GlobalAveragePool": case "GlobalMaxPool": return GlobalPool(X, n.OpType == "GlobalMaxPool");
            case "BatchNormalization":
            {
                Tensor s = In(1)!, b = In(2)!, m = In(3)!, v = In(4)!;
                float eps = FloatAttr(n, "epsilon", 1e-5f);
                long c = X.Shape[1], inner = X.Data.Length / X.Shape[0] / c;
                var y = new float[X.Data.Length];
                for (long i = 0; i < X.Data.Length; i++)
                {
                    long ch = i / inner % c;
                    y[i] = (X.Data[i] - m.Data[ch]) / MathF.Sqrt(v.Data[ch] + eps) * s.Data[ch] + b.Data[ch];
                }
                return new Tensor(X.Shape, y);
            }
            case "LayerNormalization":
            {
                int axis = (int)IntAttr(n, "axis", -1);
                if (axis < 0) axis += X.Rank;
                float eps = FloatAttr(n, "epsilon", 1e-5f);
                Tensor s = In(1)!; Tensor? b = In(2);
                long inner = X.Shape[axis..].Aggregate(1L, (p, d) => p * d);
                var y = new float[X.Data.Length];
                for (long o = 0; o < X.Data.Length / inner; o++)
                {
                    double mean = 0, var = 0;
                    for (long i = 0; i < inner; i++) mean += X.Data[o * inner + i];
                    mean /= inner;
                    for (long i = 0; i < inner; i++) { double d = X.Data[o * inner + i] - mean; var += d * d; }
                    var /= inner;
                    for (long i = 0; i < inner; i++)
                        y[o * inner + i] = (float)((X.Data[o * inner + i] - mean) / Math.Sqrt(var + eps)) * s.Data[i] + (b?.Data[i] ?? 0);
                }
                return new Tensor(X.Shape, y);
            }
            case "Concat":
            {
                var parts = Enumerable.Range(0, n.Inputs.Count).Select(i => In(i)!).ToList();
                int axis = (int)IntAttr(n, "axis", 0);
                if (axis < 0) axis += X.Rank;
                long outer = X.Shape[..axis].Aggregate(1L, (p, d) => p * d);
                var shape = X.Shape.ToArray();
                shape[axis] = parts.Sum(p => p.Shape[axis]);
                var y = new List<float>();
                for (long o = 0; o < outer; o++)
                    foreach (var p in parts)
                    {
                        long block = p.Data.Length / outer;
                        y.AddRange(p.Data.AsSpan((int)(o * block), (int)block).ToArray());
                    }
                return new Tensor(shape, y.ToArray());
            }
            case "Pad":
            {
                var pads = In(1)!.Data.Select(v => (long)v).ToArray();
                if ((n.Attribute("mode")?.String ?? "constant") != "constant") throw new NotSupportedException("Pad mode");
                int r = X.Rank;
                var shape = Enumerable.Range(0, r).Select(i => X.Shape[i] + pads[i] + pads[r + i]).ToArray();
                var y = new Tensor(shape);
                ForEachIndex(X.Shape, (idx, src) =>
                {
                    long dst = 0;
                    for (int i = 0; i < r; i++) dst = dst * shape[i] + idx[i] + pads[i];
                    y.Data[dst] = X.Data[src];
                });
                return y;
            }
            case "Resize":
            {
                var scales = In(2)!.Data;
                if (n.Attribute("mode")?.String != "nearest" || n.Attribute("coordinate_transformation_mode")?.String != "asymmetric" ||
                    n.Attribute("nearest_mode")?.String != "floor") throw new NotSupportedException("Resize mode");
                var shape = X.Shape.Select((d, i) => (long)Math.Floor(d * scales[i])).ToArray();
                var y = new Tensor(shape);
                var strides = Strides(X.Shape);
                ForEachIndex(shape, (idx, dst) =>
                {
                    long src = 0;
                    for (int i = 0; i < idx.Length; i++) src += Math.Min((long)Math.Floor(idx[i] / scales[i]), X.Shape[i] - 1) * strides[i];
                    y.Data[dst] = X.Data[src];
                });
                return y;
            }
            default: throw new NotSupportedException($"ReferenceInterpreter: op {n.OpType}");
        }
    }

    public static double Erf(double x)
    {
        // Series for small |x|, continued fraction complement for large: accurate to ~1e-12.
        double ax = Math.Abs(x);
        if (ax < 2.5)
        {
            double sum = x, term = x, x2 = x * x;
            for (int k = 1; k < 60; k++) { term *= -x2 / k; sum += term / (2 * k + 1); }
            return 2 / Math.Sqrt(Math.PI) * sum;
        }
        double t = 0;
        for (int k = 60; k >= 1; k--) t = k / 2.0 / (ax + t);
        double erfc = Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / (ax + t);
        return Math.Sign(x) * (1 - erfc);
    }

    public static Tensor Map(Tensor x, Func<float, float> f) => new(x.Shape, x.Data.Select(f).ToArray());

    public static long[] Strides(long[] shape)
    {
        var s = new long[shape.Length];
        long acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
        return s;
    }

    public static void ForEachIndex(long[] shape, Action<long[], long> body)
    {
        long total = shape.Aggregate(1L, (a, b) => a * b);
        var idx = new long[shape.Length];
        for (long flat = 0; flat < total; flat++)
        {
            body(idx, flat);
            for (int i = shape.Length - 1; i >= 0; i--) { if (++idx[i] < shape[i]) break; idx[i] = 0; }
        }
    }

    public static Tensor Broadcast(Tensor a, Tensor b, Func<float, float, float> f)
    {
        int r = Math.Max(a.Rank, b.Rank);
        long[] Pad(long[] s) => Enumerable.Repeat(1L, r - s.Length).Concat(s).ToArray();
        long[] sa = Pad(a.Shape), sb = Pad(b.Shape);
        var shape = new long[r];
        for (int i = 0; i < r; i++)
        {
            if (sa[i] != sb[i] && sa[i] != 1 && sb[i] != 1) throw new InvalidOperationException($"cannot broadcast {a} and {b}");
            shape[i] = Math.Max(sa[i], sb[i]);
        }
        long[] ta = Strides(sa), tb = Strides(sb);
        var y = new Tensor(shape);
        ForEachIndex(shape, (idx, flat) =>
        {
            long ia = 0, ib = 0;
            for (int i = 0; i < r; i++) { ia += (sa[i] == 1 ? 0 : idx[i]) * ta[i]; ib += (sb[i] == 1 ? 0 : idx[i]) * tb[i]; }
            y.Data[flat] = f(a.Data[ia], b.Data[ib]);
        });
        return y;
    }

    private static Tensor Variadic(Node n, Func<int, Tensor?> In, Func<float, float, float> f)
    {
        var acc = In(0)!;
        for (int i = 1; i < n.Inputs.Count; i++) acc = Broadcast(acc, In(i)!, f);
        return acc;
    }

    public static Tensor Softmax(Tensor x, int axis, bool log = false)
    {
        if (axis < 0) axis += x.Rank;
        long len = x.Shape[axis], inner = x.Shape[(axis + 1)..].Aggregate(1L, (p, d) => p * d), outer = x.Data.Length / len / inner;
        var y = new float[x.Data.Length];
        for (long o = 0; o < outer; o++)
            for (long i = 0; i < inner; i++)
            {
                double max = double.NegativeInfinity, sum = 0;
                for (long k = 0; k < len; k++) max = Math.Max(max, x.Data[(o * len + k) * inner + i]);
                for (long k = 0; k < len; k++) sum += Math.Exp(x.Data[(o * len + k) * inner + i] - max);
                for (long k = 0; k < len; k++)
                {
                    double z = x.Data[(o * len + k) * inner + i] - max;
                    y[(o * len + k) * inner + i] = (float)(log ? z - Math.Log(sum) : Math.Exp(z) / sum);
                }
            }
        return new Tensor(x.Shape, y);
    }

    public static Tensor Transpose(Tensor x, long[] perm)
    {
        var shape = perm.Select(p => x.Shape[p]).ToArray();
        var st = Strides(x.Shape);
        var y = new Tensor(shape);
        ForEachIndex(shape, (idx, flat) =>
        {
            long src = 0;
            for (int i = 0; i < idx.Length; i++) src += idx[i] * st[perm[i]];
            y.Data[flat] = x.Data[src];
        });
        return y;
    }

    private static Tensor Reshape(Tensor x, Tensor shapeT)
    {
        var shape = shapeT.Data.Select(v => (long)v).ToArray();
        for (int i = 0; i < shape.Length; i++) if (shape[i] == 0) shape[i] = x.Shape[i];
        int unknown = Array.IndexOf(shape, -1L);
        if (unknown >= 0) shape[unknown] = x.Data.Length / shape.Where(d => d != -1).Aggregate(1L, (a, b) => a * b);
        return new Tensor(shape, x.Data);
    }

    private static Tensor Gemm(Node n, Tensor a, Tensor b, Tensor? c)
    {
        if (IntAttr(n, "transA", 0) != 0 || IntAttr(n, "transB", 0) != 0) throw new NotSupportedException("Gemm trans");
        float alpha = FloatAttr(n, "alpha", 1f), beta = FloatAttr(n, "beta", 1f);
        var y = MatMul(a, b);
        for (int i = 0; i < y.Data.Length; i++) y.Data[i] *= alpha;
        if (c is not null) y = Broadcast(y, Map(c, v => v * beta), (p, q) => p + q);
        return y;
    }

    public static Tensor MatMul(Tensor a, Tensor b)
    {
        if (b.Rank != 2) throw new NotSupportedException("MatMul with a batched B");
        long k = a.Shape[^1], m = a.Data.Length / k, nOut = b.Shape[1];
        if (b.Shape[0] != k) throw new InvalidOperationException($"MatMul {a} x {b}");
        var y = new float[m * nOut];
        for (long i = 0; i < m; i++)
            for (long j = 0; j < nOut; j++)
            {
                double s = 0;
                for (long p = 0; p < k; p++) s += (double)a.Data[i * k + p] * b.Data[p * nOut + j];
                y[i * nOut + j] = (float)s;
            }
        return new Tensor([.. a.Shape[..^1], nOut], y);
    }

    private static (long[] pads, long[] outSpatial) Window(Node n, long[] inSpatial, long[] k, long[] s, long[] d)
    {
        int r = inSpatial.Length;
        var pads = IntsAttr(n, "pads") ?? new long[2 * r];
        if (n.Attribute("auto_pad")?.String is "SAME_UPPER")
        {
            pads = new long[2 * r];
            for (int i = 0; i < r; i++)
            {
                long o = (inSpatial[i] + s[i] - 1) / s[i];
                long total = Math.Max((o - 1) * s[i] + (k[i] - 1) * d[i] + 1 - inSpatial[i], 0);
                pads[i] = total / 2; pads[r + i] = total - total / 2;
            }
        }
        var outs = new long[r];
        for (int i = 0; i < r; i++) outs[i] = (inSpatial[i] + pads[i] + pads[r + i] - ((k[i] - 1) * d[i] + 1)) / s[i] + 1;
        return (pads, outs);
    }

    private static Tensor Conv(Node n, Tensor x, Tensor w, Tensor? bias)
    {
        int r = x.Rank - 2;
        long N = x.Shape[0], C = x.Shape[1], M = w.Shape[0], group = IntAttr(n, "group", 1);
        long[] k = w.Shape[2..];
        long[] s = IntsAttr(n, "strides") ?? Enumerable.Repeat(1L, r).ToArray();
        long[] d = IntsAttr(n, "dilations") ?? Enumerable.Repeat(1L, r).ToArray();
        var (pads, outs) = Window(n, x.Shape[2..], k, s, d);
        long cg = C / group, mg = M / group;
        if (w.Shape[1] != cg) throw new InvalidOperationException($"Conv weight {w} vs input {x} group {group}");
        var y = new Tensor([N, M, .. outs]);
        var xs = Strides(x.Shape); var ws = Strides(w.Shape);
        var kidx = new long[r];
        ForEachIndex([N, M, .. outs], (idx, flat) =>
        {
            long b = idx[0], m = idx[1], g = m / mg;
            double acc = bias?.Data[m] ?? 0;
            for (long c = 0; c < cg; c++)
                ForEachIndex(k, (ki, kflat) =>
                {
                    long src = b * xs[0] + (g * cg + c) * xs[1];
                    for (int i = 0; i < r; i++)
                    {
                        long pos = idx[2 + i] * s[i] + ki[i] * d[i] - pads[i];
                        if (pos < 0 || pos >= x.Shape[2 + i]) return;
                        src += pos * xs[2 + i];
                    }
                    acc += (double)x.Data[src] * w.Data[m * ws[0] + c * ws[1] + kflat];
                });
            y.Data[flat] = (float)acc;
        });
        return y;
    }

    private static Tensor Pool(Node n, Tensor x)
    {
        int r = x.Rank - 2;
        long[] k = IntsAttr(n, "kernel_shape")!;
        long[] s = IntsAttr(n, "strides") ?? Enumerable.Repeat(1L, r).ToArray();
        var (pads, outs) = Window(n, x.Shape[2..], k, s, Enumerable.Repeat(1L, r).ToArray());
        bool max = n.OpType == "MaxPool";
        bool includePad = IntAttr(n, "count_include_pad", 0) != 0;
        var y = new Tensor([x.Shape[0], x.Shape[1], .. outs]);
        var xs = Strides(x.Shape);
        ForEachIndex(y.Shape, (idx, flat) =>
        {
            double acc = max ? double.NegativeInfinity : 0;
            long count = 0;
            ForEachIndex(k, (ki, _) =>
            {
                long src = idx[0] * xs[0] + idx[1] * xs[1];
                for (int i = 0; i < r; i++)
                {
                    long pos = idx[2 + i] * s[i] + ki[i] - pads[i];
                    if (pos < 0 || pos >= x.Shape[2 + i]) { if (includePad) count++; return; }
                    src += pos * xs[2 + i];
                }
                count++;
                acc = max ? Math.Max(acc, x.Data[src]) : acc + x.Data[src];
            });
            y.Data[flat] = (float)(max ? acc : acc / count);
        });
        return y;
    }

    private static Tensor GlobalPool(Tensor x, bool max)
    {
        long nc = x.Shape[0] * x.Shape[1], inner = x.Data.Length / nc;
        var y = new float[nc];
        for (long i = 0; i < nc; i++)
        {
            double acc = max ? double.NegativeInfinity : 0;
            for (long j = 0; j < inner; j++) acc = max ? Math.Max(acc, x.Data[i * inner + j]) : acc + x.Data[i * inner + j];
            y[i] = (float)(max ? acc : acc / inner);
        }
        return new Tensor([x.Shape[0], x.Shape[1], .. Enumerable.Repeat(1L, x.Rank - 2)], y);
    }
}
