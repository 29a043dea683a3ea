using FastInfer.Kernels.Attention;
using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Platform;
using Xunit;

namespace FastInfer.Tests.Kernels;

/// <summary>
/// The fused attention kernel against its double-precision definition, on every ISA tier: odd head sizes, score
/// blocks shorter than the query length, K and V broadcast over the batch, and each kind of mask (none, one row per
/// sequence, one per query, broadcast along the keys, with −∞ entries).
/// </summary>
public unsafe class AttentionKernelTests
{
    public enum MaskKind { None, PaddingRow, Full, SharedAcrossBatchAndHeads, AlongKeys }

    public static IEnumerable<object[]> Cases()
    {
        foreach (var isa in KernelIsa.Supported())
        {
            yield return new object[] { isa, 1, 2, 8, 8, 16, 16, MaskKind.PaddingRow, false };
            yield return new object[] { isa, 2, 3, 7, 13, 5, 9, MaskKind.Full, false };
            yield return new object[] { isa, 2, 3, 300, 70, 33, 17, MaskKind.PaddingRow, false }; // several score blocks
            yield return new object[] { isa, 1, 4, 40, 1100, 32, 32, MaskKind.SharedAcrossBatchAndHeads, false }; // 16-row blocks
            yield return new object[] { isa, 3, 2, 17, 19, 3, 1, MaskKind.AlongKeys, true };
            yield return new object[] { isa, 2, 2, 1, 1, 1, 1, MaskKind.None, true };
            yield return new object[] { isa, 1, 12, 128, 128, 32, 32, MaskKind.PaddingRow, false }; // MiniLM's shape
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTheDefinition(IsaLevel isa, int batch, int heads, int sq, int sk, int d, int dv, MaskKind maskKind, bool kvBroadcast)
    {
        var rnd = new Random(sq * 31 + sk);
        int kvBatch = kvBroadcast ? 1 : batch;
        using var q = KernelTestUtil.Random((long)batch * sq * heads * d, rnd, 2f);
        using var k = KernelTestUtil.Random((long)kvBatch * sk * heads * d, rnd, 2f);
        using var v = KernelTestUtil.Random((long)kvBatch * sk * heads * dv, rnd);
        long outFloats = (long)batch * sq * heads * dv;
        using var got = new AlignedBuffer(outFloats * sizeof(float), zero: true);
        using var want = new AlignedBuffer(outFloats * sizeof(float), zero: true);
        var p = new AttentionProblem
        {
            Batch = batch, Heads = heads, QueryLength = sq, KeyLength = sk, Dim = d, ValueDim = dv, Scale = 1f / MathF.Sqrt(d),
            Q = q.Floats, K = k.Floats, V = v.Floats,
            QRowStride = heads * d, KRowStride = heads * d, VRowStride = heads * dv, ORowStride = heads * dv,
            QBatchStride = (long)sq * heads * d, QHeadStride = d,
            KBatchStride = kvBroadcast ? 0 : (long)sk * heads * d, KHeadStride = d,
            VBatchStride = kvBroadcast ? 0 : (long)sk * heads * dv, VHeadStride = dv,
            OBatchStride = (long)sq * heads * dv, OHeadStride = dv,
        };
        using var mask = MakeMask(ref p, maskKind, rnd);

        var reference = p;
        reference.O = want.Floats;
        ScaledDotProductAttention.Reference(reference);

        using var scores = new AlignedBuffer(ScaledDotProductAttention.ScoreFloats(sq, sk) * sizeof(float), zero: false);
        p.O = got.Floats;
        using (KernelIsa.Override(isa))
        {
            // Two calls over halves of the head pairs: the ranges the operator hands its threads.
            int pairs = batch * heads;
            ScaledDotProductAttention.Heads(p, 0, pairs / 2, scores.Floats);
            ScaledDotProductAttention.Heads(p, pairs / 2, pairs, scores.Floats);
        }
        KernelTestUtil.AssertClose(want.Floats, got.Floats, outFloats, 2e-4, 2e-5, $"{isa} attention b{batch} h{heads} {sq}x{sk} d{d}/{dv} {maskKind}");
    }

    /// <summary>Fills the mask (0 or −10000 padding, −∞ for a few keys, random biases) and its strides.</summary>
    private static AlignedBuffer? MakeMask(ref AttentionProblem p, MaskKind kind, Random rnd)
    {
        if (kind == MaskKind.None) return null;
        int b = p.Batch, h = p.Heads, sq = p.QueryLength, sk = p.KeyLength;
        (long count, long sb, long sh, long sr, long sc) = kind switch
        {
            MaskKind.PaddingRow => ((long)b * sk, (long)sk, 0L, 0L, 1L),
            MaskKind.Full => ((long)b * h * sq * sk, (long)h * sq * sk, (long)sq * sk, (long)sk, 1L),
            MaskKind.SharedAcrossBatchAndHeads => ((long)sq * sk, 0L, 0L, (long)sk, 1L),
            _ => ((long)b * sq, (long)sq, 0L, 1L, 0L), // AlongKeys: one value per query row
        };
        var m = new AlignedBuffer(count * sizeof(float), zero: false);
        for (long i = 0; i < count; i++)
            m.Floats[i] = kind == MaskKind.PaddingRow ? (rnd.Next(4) == 0 ? -10000f : 0f) : (float)(rnd.NextDouble() * 6 - 3);
        // Keys masked with −∞ (never all of a row's keys): their probability must be exactly zero.
        if (kind is MaskKind.Full or MaskKind.SharedAcrossBatchAndHeads && sk > 1) m.Floats[0] = float.NegativeInfinity;
        p.Mask = m.Floats;
        p.MaskBatchStride = sb; p.MaskHeadStride = sh; p.MaskRowStride = sr; p.MaskColumnStride = sc;
        return m;
    }

    [Fact]
    public void NoKeysGivesZeros()
    {
        using var o = new AlignedBuffer(2 * 3 * 4 * sizeof(float), zero: false);
        for (int i = 0; i < 24; i++) o.Floats[i] = float.NaN;
        using var q = new AlignedBuffer(2 * 3 * 5 * sizeof(float), zero: true);
        var p = new AttentionProblem
        {
            Batch = 1, Heads = 2, QueryLength = 3, KeyLength = 0, Dim = 5, ValueDim = 4, Scale = 1f,
            Q = q.Floats, K = q.Floats, V = q.Floats, O = o.Floats, QRowStride = 10, KRowStride = 10, VRowStride = 8, ORowStride = 8,
            QHeadStride = 5, KHeadStride = 5, VHeadStride = 4, OHeadStride = 4,
        };
        ScaledDotProductAttention.Heads(p, 0, 2, null);
        for (int i = 0; i < 24; i++) Assert.Equal(0f, o.Floats[i]);
    }
}
