using FastInfer.Kernels.Gemm.MicroKernels;
using FastInfer.Kernels.Threading;

namespace FastInfer.Kernels.Gemm;

/// <summary>
/// The blocked SGEMM loop nest (BLIS/MLAS style) as a parallel body over output tiles. A task owns an
/// M×N block of C and walks all of K in fixed KC steps, so every element of C sees the same sequence of
/// FMAs whatever the thread count or task split: results are bit-identical for any pool.
/// Inside a task: for each K block, pack B (if not prepacked) into the thread's scratch (L2-resident);
/// for each Mr-row panel, pack A (if not prepacked) into an L1-resident micro-panel and sweep the
/// micro-kernel across the block's columns.
/// </summary>
internal unsafe struct GemmDriver : IParallelBody
{
    public SgemmKernelTable Kernel;
    public int M, N, K;
    public float Alpha, Beta;
    public GemmEpilogue Epilogue;
    public float* A; public long Lda; public bool TransA;
    /// <summary>Prepacked A (panels of Kernel.Mr rows over all K), or null to pack from <see cref="A"/>.</summary>
    public float* APacked;
    public float* B; public long Ldb; public bool TransB;
    /// <summary>Prepacked B (16-column panels over all K), or null to pack from <see cref="B"/>.</summary>
    public float* BPacked;
    public float* C; public long Ldc;
    private int _mPanels, _n16, _mPer, _nPer, _nTasks;

    /// <summary>Splits C into tasks and runs them on the pool.</summary>
    public void Run(WorkerPool pool)
    {
        if (M <= 0 || N <= 0) return;
        int units = Kernel.Nr / 16;
        _mPanels = (M + Kernel.Mr - 1) / Kernel.Mr;
        _n16 = (N + 15) / 16;
        _nPer = Math.Min(RoundUp(_n16, units), GemmBlocking.NcUnits);
        _nTasks = Ceil(_n16, _nPer);
        _mPer = _mPanels;
        int mTasks = 1, threads = pool.Concurrency;
        if (threads > 1)
        {
            // Several tasks per thread so that uneven tiles balance out; split M first (B blocks stay wide).
            int want = 4 * threads;
            if (_nTasks < want)
            {
                mTasks = Math.Min(_mPanels, Ceil(want, _nTasks));
                _mPer = Ceil(_mPanels, mTasks);
                mTasks = Ceil(_mPanels, _mPer);
            }
            if (_nTasks * mTasks < want)
            {
                int nt = Ceil(want, mTasks);
                _nPer = Math.Max(units, RoundUp(Ceil(_n16, nt), units));
                _nTasks = Ceil(_n16, _nPer);
            }
        }
        pool.For(mTasks * _nTasks, ref this);
    }

    public void Invoke(int task)
    {
        int mt = task / _nTasks, nt = task - mt * _nTasks;
        int mp0 = mt * _mPer, mp1 = Math.Min(_mPanels, mp0 + _mPer);
        int np0 = nt * _nPer, np1 = Math.Min(_n16, np0 + _nPer);
        int colEnd = Math.Min(N, np1 * 16);
        int mr = Kernel.Mr, nr = Kernel.Nr, units = nr / 16;
        float* scratch = GemmScratch.Get();
        float* aScratch = scratch + GemmScratch.BFloats;
        var ctx = new TileContext(Alpha, Beta, Epilogue);
        int kBlocks = Math.Max(1, Ceil(K, GemmBlocking.Kc));
        for (int kb = 0; kb < kBlocks; kb++)
        {
            int k0 = kb * GemmBlocking.Kc, kc = Math.Min(GemmBlocking.Kc, K - k0);
            ctx.First = kb == 0;
            ctx.Last = kb == kBlocks - 1;
            float* bBase;
            nint bStride;
            if (BPacked != null)
            {
                bBase = BPacked + (long)np0 * 16 * K + (long)k0 * 16;
                bStride = (nint)16 * K;
            }
            else
            {
                GemmPacking.PackB(TransB, B, Ldb, k0, kc, np0 * 16, colEnd - np0 * 16, scratch);
                bBase = scratch;
                bStride = (nint)16 * kc;
            }
            for (int mp = mp0; mp < mp1; mp++)
            {
                int row0 = mp * mr, rows = Math.Min(mr, M - row0);
                float* ap;
                if (APacked != null) ap = APacked + (long)row0 * K + (long)k0 * rows;
                else if (rows == 1 && !TransA) ap = A + row0 * Lda + k0; // a single row already is its own panel
                else
                {
                    GemmPacking.PackA(TransA, A, Lda, row0, rows, k0, kc, aScratch);
                    ap = aScratch;
                }
                float* cRow = C + row0 * Ldc;
                for (int np = np0; np < np1; np += units)
                {
                    int col0 = np * 16, cols = Math.Min(nr, colEnd - col0);
                    Kernel.Run(rows, cols, ap, bBase + (np - np0) * bStride, bStride, kc, cRow + col0, (nint)Ldc, row0, col0, &ctx);
                }
            }
        }
    }

    private static int Ceil(int a, int b) => (a + b - 1) / b;
    private static int RoundUp(int a, int b) => Ceil(a, b) * b;
}
