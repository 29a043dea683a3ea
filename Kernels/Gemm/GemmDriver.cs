using FastInfer.Kernels.Gemm.MicroKernels;
using FastInfer.Kernels.Threading;

namespace FastInfer.Kernels.Gemm;

/// <summary>
/// The blocked SGEMM loop nest (BLIS/MLAS style) as a parallel body over output tiles. A task owns an
/// M×N block of C and walks all of K in fixed KC steps, so every element of C sees the same sequence of
/// FMAs whatever the thread count or task split: results are bit-identical for any pool.
/// Inside a task: for each K block, pack B (if not prepacked) into the thread's scratch (L2-resident);
/// for each block of up to <see cref="GemmBlocking.McPanels"/> Mr-row panels, pack A (if not prepacked)
/// into L2-resident scratch, then for each kc×Nr slice of B (L1-resident) run the micro-kernel on every
/// panel of the block.
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
    /// <summary>Rows of each prepacked B panel when this product uses only K of them (a depth slice); 0: K.</summary>
    public int BPackedDepth;
    public float* C; public long Ldc;
    /// <summary>
    /// The prepacked B (offset as <see cref="BPacked"/>) of the product the caller runs next on this thread, or null: the
    /// last slice of this one prefetches its first slice, which would otherwise start cold (Winograd's 16 products in a row).
    /// </summary>
    public float* NextB;
    private int _mPanels, _n16, _nTasks, _mTasks, _nTiles;

    /// <summary>Splits C into tasks and runs them on the pool.</summary>
    public void Run(WorkerPool pool)
    {
        if (M <= 0 || N <= 0) return;
        int units = Kernel.Nr / 16;
        _mPanels = (M + Kernel.Mr - 1) / Kernel.Mr;
        _n16 = (N + 15) / 16;
        // An N block bounds the B block packed into scratch; a prepacked B needs no scratch, so a task then takes all
        // its columns and packs each A panel once per K block instead of once per N block (MiniLM's 1536-wide FFN
        // packed its activations six times).
        bool wideB = BPacked == null && APacked == null && WideNc && _mPanels >= GemmBlocking.McPanels;
        int nBlock = BPacked != null ? RoundUp(_n16, units) : wideB ? GemmBlocking.NcUnitsWide : GemmBlocking.NcUnits;
        int nPer = Math.Min(RoundUp(_n16, units), nBlock), mPer;
        _nTasks = Ceil(_n16, nPer);
        int mTasks = 1, threads = pool.Concurrency;
        if (threads > 1)
        {
            bool wideEnough = _n16 >= 2 * units * threads && !MSplitBalancesBetter(threads);
            // A prepacked B that does not stay in one core's L2 streams from memory once per M task.
            bool bStreams = BPacked != null && (long)K * N * sizeof(float) > GemmBlocking.L2Bytes / 2;
            if (wideEnough && (BPacked == null || bStreams))
            {
                // Split N, one slice per thread: every block of B is packed (or streamed from memory) exactly once,
                // and A — repacked or re-streamed by every N task — is walked only once per thread.
                // A multiple of the thread count, each at most an N block: tasks of equal width (see Invoke) then
                // give every thread the same share. (Blocks of 256 columns first, remainder last, gave ResNet's
                // 784-column layer2 GEMM 32 of its 49 column units on one thread and 17 on the other.)
                int tiles = Ceil(_n16, units);
                _nTasks = Math.Min(tiles, threads * Ceil(Ceil(tiles, threads), nBlock / units));
            }
            else if (BPacked == null)
            {
                // Too few columns to share out: one M slice per thread, each packing B once.
                mTasks = Math.Min(_mPanels, threads);
                mPer = Ceil(_mPanels, mTasks);
                mTasks = Ceil(_mPanels, mPer);
            }
            else
            {
                // B is prepacked and cache-resident: split M (several tasks per thread so uneven tiles balance
                // out; B blocks stay wide), then N.
                int want = 4 * threads;
                if (_nTasks < want)
                {
                    mTasks = Math.Min(_mPanels, Ceil(want, _nTasks));
                    mPer = Ceil(_mPanels, mTasks);
                    mTasks = Ceil(_mPanels, mPer);
                }
                if (_nTasks * mTasks < want)
                {
                    int nt = Ceil(want, mTasks);
                    nPer = Math.Max(units, RoundUp(Ceil(_n16, nt), units));
                    _nTasks = Ceil(_n16, nPer);
                }
            }
        }
        // The caller's scratch exists before the loop even if the workers happen to take every task this time,
        // so a later call on this thread never allocates it.
        GemmScratch.Get();
        _mTasks = mTasks;
        _nTiles = Ceil(_n16, units);
        pool.For(mTasks * _nTasks, ref this);
    }

    /// <summary>Whether an A packed on the fly gets the wide N block. A field for A/B runs.</summary>
    internal static bool WideNc = true;

    /// <summary>Whether narrow tails run two panels per call. A field for A/B runs.</summary>
    internal static bool PairTails = true;

    /// <summary>Whether a prepacked B's first slice of the next K block is prefetched by the last slice of this one. A field for A/B runs.</summary>
    internal static bool PrefetchNextKBlock = true;

    /// <summary>Whether <see cref="NextB"/> is prefetched. A field for A/B runs.</summary>
    internal static bool PrefetchNextProduct = true;

    /// <summary>Whether a prepacked A's next panel is prefetched (<see cref="TileContext.PrefetchA"/>). A field for A/B runs.</summary>
    internal static bool PrefetchPrepackedA = true;

    /// <summary>Whether a prepacked B's next slice is prefetched by all full panels of a block, spread out, rather than in a burst by the first. A field for A/B runs.</summary>
    internal static bool SpreadPrefetch = true;

    /// <summary>Whether <see cref="MSplitBalancesBetter"/> may choose an M split. A field for A/B runs.</summary>
    internal static bool BalanceSplit = true;

    /// <summary>
    /// Whether one M slice per thread shares the work out more evenly than one N slice per thread, by enough (10%) to
    /// pay for every thread packing all of B. N slices are whole Nr tiles: ResNet's 196-pixel layer3 GEMMs have seven
    /// 32-column tiles, 128 columns on one thread and 68 on the other, where their 22 M panels split 11 and 11.
    /// </summary>
    private readonly bool MSplitBalancesBetter(int threads)
    {
        if (!BalanceSplit || BPacked != null || _mPanels < threads) return false;
        double nLargest = Math.Min(N, Ceil(Ceil(N, Kernel.Nr), threads) * Kernel.Nr);
        double mLargest = Math.Min(M, Ceil(_mPanels, threads) * Kernel.Mr);
        return nLargest / N > 1.1 * (mLargest / M);
    }

    public void Invoke(int task)
    {
        int mt = task / _nTasks, nt = task - mt * _nTasks;
        // Tasks of equal size (±1 panel or Nr tile): task i of n takes [total·i/n, total·(i+1)/n), never more than
        // the panels or units per task the task count was derived from, so the B scratch always holds its slice.
        int mr = Kernel.Mr, nr = Kernel.Nr, units = nr / 16;
        int mp0 = (int)((long)_mPanels * mt / _mTasks), mp1 = (int)((long)_mPanels * (mt + 1) / _mTasks);
        int np0 = (int)((long)_nTiles * nt / _nTasks) * units, np1 = Math.Min(_n16, (int)((long)_nTiles * (nt + 1) / _nTasks) * units);
        int colEnd = Math.Min(N, np1 * 16);
        float* scratch = GemmScratch.Get();
        float* aScratch = scratch + GemmScratch.BFloats;
        // Decided on the shape, once: B's full slices read in place, and then all of A's panels in one block.
        bool direct = ReadsBInPlace;
        int blockPanels = direct ? InPlaceBPanels : GemmBlocking.McPanels;
        float** panels = stackalloc float*[Math.Max(GemmBlocking.McPanels, InPlaceBPanels)];
        var ctx = new TileContext(Alpha, Beta, Epilogue);
        int kStep = GemmBlocking.KStep(K), kBlocks = Math.Max(1, Ceil(K, kStep));
        for (int kb = 0; kb < kBlocks; kb++)
        {
            int k0 = kb * kStep, kc = Math.Min(kStep, K - k0);
            ctx.First = kb == 0;
            ctx.Last = kb == kBlocks - 1;
            float* bBase;
            nint bStride;
            if (BPacked != null)
            {
                long depth = BPackedDepth > 0 ? BPackedDepth : K;
                bBase = BPacked + (long)np0 * 16 * depth + (long)k0 * 16;
                bStride = (nint)(16 * depth);
            }
            else if (direct)
            {
                // Full slices straight from B (rows Ldb apart); a tail slice is packed when it comes.
                bBase = B + k0 * Ldb + np0 * 16;
                bStride = 16;
            }
            else
            {
                GemmPacking.PackB(TransB, B, Ldb, k0, kc, np0 * 16, colEnd - np0 * 16, scratch);
                bBase = scratch;
                bStride = (nint)16 * kc;
            }
            ctx.BStep = 16;
            // BLIS order: a block of up to McPanels A panels (L2-resident), then for each Nr-column slice of B
            // (kc×Nr, L1-resident) every panel of the block. A B slice streamed from memory — a prepacked weight
            // — is then used by the whole block while it is in L1 instead of being fetched again per panel.
            for (int mb = mp0; mb < mp1; mb += blockPanels)
            {
                int mbEnd = Math.Min(mp1, mb + blockPanels);
                // A prepacked B's next slice is shared out among the block's panels tall enough to prefetch, each taking
                // kc/full consecutive k steps of both 16-column panels, one line pair every `full` steps: the slice then
                // streams in evenly over the whole block instead of in a burst during its first call.
                int full = 0;
                for (int mp = mb; mp < mbEnd && SpreadPrefetch; mp++) if (PanelRow(mp + 1) - PanelRow(mp) >= SgemmKernel12x32Avx512.PrefetchRows) full++;
                full = Math.Max(1, full);
                ctx.PrefetchInterval = full;
                for (int mp = mb; mp < mbEnd; mp++)
                {
                    int row0 = PanelRow(mp), rows = PanelRow(mp + 1) - row0;
                    float* ap;
                    if (APacked != null) ap = APacked + (long)row0 * K + (long)k0 * rows;
                    else if (rows == 1 && !TransA) ap = A + row0 * Lda + k0; // a single row already is its own panel
                    else
                    {
                        ap = aScratch + (long)(mp - mb) * mr * kc;
                        GemmPacking.PackA(TransA, A, Lda, row0, rows, k0, kc, ap);
                    }
                    panels[mp - mb] = ap;
                }
                for (int np = np0; np < np1; np += units)
                {
                    int col0 = np * 16, cols = Math.Min(nr, colEnd - col0);
                    float* bSlice = bBase + (np - np0) * bStride;
                    nint sliceStride = bStride;
                    bool directSlice = direct && cols == nr;
                    if (directSlice) ctx.BStep = (nint)Ldb;
                    else if (direct)
                    {
                        // The tail slice of an in-place B: packed (zero-padded) so no load reads past B's rows.
                        GemmPacking.PackB(TransB, B, Ldb, k0, kc, col0, cols, scratch);
                        bSlice = scratch;
                        sliceStride = (nint)16 * kc;
                        ctx.BStep = 16;
                    }
                    ctx.PrefetchPanelStride = sliceStride;
                    // A B from memory (a prepacked weight, or one read in place): the block's calls pull the next
                    // slice into L2.
                    // (Read in place, only a full next slice: a tail slice is packed when it comes.)
                    bool hasNext = np + units < np1 && np + 2 * units <= _n16;
                    bool prefetchNext = (BPacked != null && GemmBlocking.PrefetchPrepackedB) || (directSlice && (np + 2 * units) * 16 <= colEnd);
                    float* nextSlice = hasNext && prefetchNext ? bSlice + units * bStride : null;
                    // The last slice of a K block pulls in the task's first slice of what follows: the next K block, or after
                    // the last one the next product's B (NextB). A prepacked weight streaming from memory would otherwise
                    // start every K block, and every product of a series, with a slice nobody prefetched.
                    if (nextSlice == null && BPacked != null && GemmBlocking.PrefetchPrepackedB && np + units >= np1 && mbEnd == mp1 && np0 + 2 * units <= _n16)
                    {
                        float* following = kb + 1 < kBlocks ? (PrefetchNextKBlock ? BPacked + (long)(k0 + kStep) * 16 : null) : (PrefetchNextProduct ? NextB : null);
                        if (following != null) nextSlice = following + (long)np0 * 16 * (BPackedDepth > 0 ? BPackedDepth : K);
                    }
                    bool firstSlice = np == np0 && APacked != null && PrefetchPrepackedA;
                    if (PairTails && Kernel.RunTailPair != null && cols <= Kernel.TailPairMaxCols)
                    {
                        // A narrow tail: two panels per call, so its FMA chains fill the pipeline (one panel's 1-4 do not).
                        int mp = mb;
                        for (; mp + 1 < mbEnd; mp += 2)
                        {
                            int r0 = PanelRow(mp), r1 = PanelRow(mp + 1), r2 = PanelRow(mp + 2);
                            Kernel.RunTailPair(r1 - r0, panels[mp - mb], C + r0 * Ldc + col0, r0, r2 - r1, panels[mp + 1 - mb], C + r1 * Ldc + col0, r1,
                                cols, bSlice, kc, (nint)Ldc, col0, &ctx);
                        }
                        if (mp < mbEnd)
                        {
                            // An odd panel out: the same tail kernel on its own (it reads no prefetch fields of the context).
                            int r0 = PanelRow(mp);
                            Kernel.RunTail(PanelRow(mp + 1) - r0, cols, panels[mp - mb], bSlice, kc, C + r0 * Ldc + col0, (nint)Ldc, r0, col0, &ctx);
                        }
                        continue;
                    }
                    for (int mp = mb; mp < mbEnd; mp++)
                    {
                        int row0 = PanelRow(mp), rows = PanelRow(mp + 1) - row0;
                        int j = mp - mb;
                        ctx.Prefetch = nextSlice != null && j < full ? nextSlice + (long)j * kc / full * ctx.BStep : null;
                        // A prepacked weight's next panel (the next block's first after the last) while this one runs.
                        int nextRow = PanelRow(mp + 1);
                        ctx.PrefetchA = firstSlice && mp + 1 < mp1 ? APacked + (long)nextRow * K + (long)k0 * (PanelRow(mp + 2) - nextRow) : null;
                        Kernel.Run(rows, cols, panels[mp - mb], bSlice, sliceStride, kc, C + row0 * Ldc + col0, (nint)Ldc, row0, col0, &ctx);
                    }
                }
                ctx.Prefetch = null;
                ctx.PrefetchA = null;
            }
        }
    }

    /// <summary>
    /// Whether full B slices are read in place rather than packed: an AVX-512 product whose B is row-major and packed on
    /// the fly, with an A of at most <see cref="InPlaceBPanels"/> panels, all in one block (a convolution's 64-288 output channels).
    /// Each packed slice would be read by only that block's kernel calls, so packing it (written, then read back) cost
    /// a large share of the product; in place, the calls read the slice's rows straight from B, the next slice
    /// prefetched. In-process A/B, one thread, A prepacked: 64×12544×147 141 → 175 GFLOP/s, 64×3136×576 155 → 190,
    /// 128×784×1152 185 → 202, 192×3136×576 172 → 186; with two M blocks or more (1024³) it was 1-5% slower.
    /// </summary>
    private readonly bool ReadsBInPlace =>
        InPlaceB && BPacked == null && !TransB && Kernel.Nr == 32 && Kernel.Isa == Platform.IsaLevel.Avx512
        && _mPanels <= InPlaceBPanels;

    /// <summary>
    /// Most panels of A (prepacked or packed on the fly) for which B is read in place, all of them in one block: a prepacked
    /// A 256×784×576 179 → 189 GFLOP/s and 256×3136×576 175 → 186; packed on the fly (up to 16 panels before), 256×784×576
    /// 194 → 213, 200×300×1000 188 → 194, 256×196×2304 192 → 194 (in-process A/B, one thread).
    /// </summary>
    internal const int InPlaceBPanels = 24;

    /// <summary>Whether <see cref="ReadsBInPlace"/> may apply. A field for A/B runs.</summary>
    internal static bool InPlaceB = true;

    /// <summary>
    /// First row of panel <paramref name="mp"/> (M for the panel past the last). A prepacked A has panels of exactly Mr
    /// rows. One packed on the fly shares M out evenly instead (49 rows: 10, 10, 10, 10, 9 rather than 12, 12, 12, 12, 1):
    /// a 1-row tail keeps only two accumulators busy, too few FMA chains to hide the latency, and runs at 23% of peak
    /// against 80% from 6 rows up (`profile kernel`). Depends on M alone, so the result never depends on the thread count.
    /// </summary>
    private readonly int PanelRow(int mp) =>
        APacked != null || !BalancePanels ? Math.Min(M, mp * Kernel.Mr) : (int)((long)M * mp / _mPanels);

    /// <summary>Whether an A packed on the fly gets panels of even height (<see cref="PanelRow"/>). A field for A/B runs.</summary>
    internal static bool BalancePanels = true;

    private static int Ceil(int a, int b) => (a + b - 1) / b;
    private static int RoundUp(int a, int b) => Ceil(a, b) * b;
}
