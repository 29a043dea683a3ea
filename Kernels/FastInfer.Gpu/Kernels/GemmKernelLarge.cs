using ILGPU;
using ILGPU.Runtime;

namespace FastInfer.Gpu.Kernels;

/// <summary>
/// The large-tile SGEMM for big products (M and N of 128 or more: SGEMM 4096³, the wider convolution layers):
/// a 16×16 group computes a 128×128 tile of C and each thread an 8×8 block (rows ty+16i, columns tx+16j) in
/// registers, over 8-deep shared-memory panels. Sixteen shared-memory reads feed 64 FMAs per step (the 64×64
/// kernel's 8 reads feed 16), which keeps the FMA units rather than shared memory the limit.
/// Same parameters and epilogue as <see cref="GemmKernel"/>.
/// </summary>
internal static class GemmKernelLarge
{
    public const int Tile = 128, Depth = 8, Threads = 16;

    /// <summary>Whether a product is big enough in both dimensions for the 128×128 tile.</summary>
    public static bool Suits(in GemmParams p) => p.M >= Tile && p.N >= Tile;

    public static KernelConfig Config(in GemmParams p, int batch) => new(
        new Index3D((p.N + Tile - 1) / Tile, (p.M + Tile - 1) / Tile, batch),
        new Index3D(Threads, Threads, 1));

    public static void Run(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias, ArrayView<float> residual, GemmParams p)
    {
        var tileA = SharedMemory.Allocate<float>(Tile * Depth);
        var tileB = SharedMemory.Allocate<float>(Tile * Depth);
        int tx = Group.IdxX, ty = Group.IdxY;
        int col0 = Grid.IdxX * Tile, row0 = Grid.IdxY * Tile;
        int batch = Grid.IdxZ;
        int outer = batch / p.InnerCount, inner = batch - outer * p.InnerCount;
        long aBase = outer * p.AOuter + inner * p.AInner;
        long bBase = outer * p.BOuter + inner * p.BInner;
        long cBase = outer * p.COuter + inner * p.CInner;
        int t = ty * Threads + tx;

        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c04 = 0, c05 = 0, c06 = 0, c07 = 0;
        float c10 = 0, c11 = 0, c12 = 0, c13 = 0, c14 = 0, c15 = 0, c16 = 0, c17 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c24 = 0, c25 = 0, c26 = 0, c27 = 0;
        float c30 = 0, c31 = 0, c32 = 0, c33 = 0, c34 = 0, c35 = 0, c36 = 0, c37 = 0;
        float c40 = 0, c41 = 0, c42 = 0, c43 = 0, c44 = 0, c45 = 0, c46 = 0, c47 = 0;
        float c50 = 0, c51 = 0, c52 = 0, c53 = 0, c54 = 0, c55 = 0, c56 = 0, c57 = 0;
        float c60 = 0, c61 = 0, c62 = 0, c63 = 0, c64 = 0, c65 = 0, c66 = 0, c67 = 0;
        float c70 = 0, c71 = 0, c72 = 0, c73 = 0, c74 = 0, c75 = 0, c76 = 0, c77 = 0;

        for (int k0 = 0; k0 < p.K; k0 += Depth)
        {
            for (int l = 0; l < 4; l++)
            {
                int e = t + 256 * l;
                int am = e / Depth, ak = e - am * Depth;
                int gr = row0 + am, gk = k0 + ak;
                tileA[ak * Tile + am] = gr < p.M && gk < p.K ? a[aBase + (long)gr * p.Lda + gk] : 0f;
                int bk = e / Tile, bn = e - bk * Tile;
                int gk2 = k0 + bk, gc = col0 + bn;
                float bv = 0f;
                if (gk2 < p.K && gc < p.N)
                    bv = p.TransB != 0 ? b[bBase + (long)gc * p.Ldb + gk2] : b[bBase + (long)gk2 * p.Ldb + gc];
                tileB[bk * Tile + bn] = bv;
            }
            Group.Barrier();
            for (int kk = 0; kk < Depth; kk++)
            {
                int ra = kk * Tile + ty, rb = kk * Tile + tx;
                float a0 = tileA[ra], a1 = tileA[ra + 16], a2 = tileA[ra + 32], a3 = tileA[ra + 48];
                float a4 = tileA[ra + 64], a5 = tileA[ra + 80], a6 = tileA[ra + 96], a7 = tileA[ra + 112];
                float b0 = tileB[rb], b1 = tileB[rb + 16], b2 = tileB[rb + 32], b3 = tileB[rb + 48];
                float b4 = tileB[rb + 64], b5 = tileB[rb + 80], b6 = tileB[rb + 96], b7 = tileB[rb + 112];
                c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3; c04 += a0 * b4; c05 += a0 * b5; c06 += a0 * b6; c07 += a0 * b7;
                c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3; c14 += a1 * b4; c15 += a1 * b5; c16 += a1 * b6; c17 += a1 * b7;
                c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3; c24 += a2 * b4; c25 += a2 * b5; c26 += a2 * b6; c27 += a2 * b7;
                c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3; c34 += a3 * b4; c35 += a3 * b5; c36 += a3 * b6; c37 += a3 * b7;
                c40 += a4 * b0; c41 += a4 * b1; c42 += a4 * b2; c43 += a4 * b3; c44 += a4 * b4; c45 += a4 * b5; c46 += a4 * b6; c47 += a4 * b7;
                c50 += a5 * b0; c51 += a5 * b1; c52 += a5 * b2; c53 += a5 * b3; c54 += a5 * b4; c55 += a5 * b5; c56 += a5 * b6; c57 += a5 * b7;
                c60 += a6 * b0; c61 += a6 * b1; c62 += a6 * b2; c63 += a6 * b3; c64 += a6 * b4; c65 += a6 * b5; c66 += a6 * b6; c67 += a6 * b7;
                c70 += a7 * b0; c71 += a7 * b1; c72 += a7 * b2; c73 += a7 * b3; c74 += a7 * b4; c75 += a7 * b5; c76 += a7 * b6; c77 += a7 * b7;
            }
            Group.Barrier();
        }

        int r = row0 + ty, cl = col0 + tx;
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 0, cl + 0, c00);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 0, cl + 16, c01);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 0, cl + 32, c02);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 0, cl + 48, c03);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 0, cl + 64, c04);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 0, cl + 80, c05);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 0, cl + 96, c06);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 0, cl + 112, c07);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 16, cl + 0, c10);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 16, cl + 16, c11);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 16, cl + 32, c12);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 16, cl + 48, c13);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 16, cl + 64, c14);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 16, cl + 80, c15);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 16, cl + 96, c16);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 16, cl + 112, c17);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 32, cl + 0, c20);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 32, cl + 16, c21);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 32, cl + 32, c22);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 32, cl + 48, c23);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 32, cl + 64, c24);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 32, cl + 80, c25);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 32, cl + 96, c26);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 32, cl + 112, c27);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 48, cl + 0, c30);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 48, cl + 16, c31);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 48, cl + 32, c32);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 48, cl + 48, c33);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 48, cl + 64, c34);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 48, cl + 80, c35);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 48, cl + 96, c36);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 48, cl + 112, c37);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 64, cl + 0, c40);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 64, cl + 16, c41);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 64, cl + 32, c42);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 64, cl + 48, c43);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 64, cl + 64, c44);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 64, cl + 80, c45);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 64, cl + 96, c46);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 64, cl + 112, c47);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 80, cl + 0, c50);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 80, cl + 16, c51);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 80, cl + 32, c52);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 80, cl + 48, c53);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 80, cl + 64, c54);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 80, cl + 80, c55);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 80, cl + 96, c56);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 80, cl + 112, c57);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 96, cl + 0, c60);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 96, cl + 16, c61);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 96, cl + 32, c62);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 96, cl + 48, c63);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 96, cl + 64, c64);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 96, cl + 80, c65);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 96, cl + 96, c66);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 96, cl + 112, c67);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 112, cl + 0, c70);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 112, cl + 16, c71);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 112, cl + 32, c72);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 112, cl + 48, c73);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 112, cl + 64, c74);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 112, cl + 80, c75);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 112, cl + 96, c76);
        GemmKernel.Store(c, bias, residual, p, cBase, inner, r + 112, cl + 112, c77);
    }
}
