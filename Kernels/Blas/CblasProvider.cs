using System.Runtime.InteropServices;

namespace FastInfer.Kernels.Blas;

/// <summary>
/// An optional native CBLAS <c>sgemm</c> (MKL first, then OpenBLAS), loaded at run time through
/// <see cref="NativeLibrary"/> so that nothing native is needed to build or to run without it. Both share
/// the CBLAS ABI, so one function pointer serves either. Used for comparisons and as an opt-in provider;
/// the managed kernels stay the default.
/// </summary>
public sealed unsafe class CblasProvider : IDisposable
{
    public const int RowMajor = 101, NoTrans = 111, Trans = 112;

    private static readonly string[] Candidates =
        ["mkl_rt", "libmkl_rt.so", "libmkl_rt.so.2", "libopenblas.so.0", "libopenblas.so", "openblas"];

    private nint _handle;
    private readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _sgemm;

    private CblasProvider(nint handle, string name, nint sgemm)
    {
        _handle = handle; LibraryName = name;
        _sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm;
    }

    /// <summary>The library name that loaded (e.g. <c>libopenblas.so.0</c>).</summary>
    public string LibraryName { get; }

    /// <summary>Probes the candidates in order; on failure <paramref name="message"/> says what was tried.</summary>
    public static bool TryLoad(out CblasProvider? provider, out string message)
    {
        var tried = new List<string>();
        foreach (string name in Candidates)
        {
            if (!NativeLibrary.TryLoad(name, typeof(CblasProvider).Assembly, null, out nint handle)) { tried.Add($"{name}: not found"); continue; }
            if (NativeLibrary.TryGetExport(handle, "cblas_sgemm", out nint sgemm))
            {
                provider = new CblasProvider(handle, name, sgemm);
                message = $"Loaded cblas_sgemm from {name}.";
                return true;
            }
            tried.Add($"{name}: loaded but has no cblas_sgemm");
            NativeLibrary.Free(handle);
        }
        provider = null;
        message = "No CBLAS library could be loaded (install MKL or OpenBLAS, e.g. Debian's libopenblas0). Tried: " + string.Join("; ", tried);
        return false;
    }

    /// <summary>Row-major C = alpha·op(A)·op(B) + beta·C through <c>cblas_sgemm</c>.</summary>
    public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb,
        float beta, float* c, int ldc)
    {
        ObjectDisposedException.ThrowIf(_handle == 0, this);
        _sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>
    /// Asks the library for this many threads (OpenBLAS and MKL otherwise use every core), so a comparison with the
    /// managed kernels on one thread is like for like. A library with neither export is left as it is.
    /// </summary>
    public void LimitThreads(int threads)
    {
        ObjectDisposedException.ThrowIf(_handle == 0, this);
        if (NativeLibrary.TryGetExport(_handle, "openblas_set_num_threads", out nint f))
            ((delegate* unmanaged<int, void>)f)(threads);
        else if (NativeLibrary.TryGetExport(_handle, "MKL_Set_Num_Threads", out f))
            ((delegate* unmanaged<int, void>)f)(threads);
    }

    /// <summary>Unloads the library. Native code may keep threads; call only when no Sgemm is in flight.</summary>
    public void Dispose()
    {
        if (_handle == 0) return;
        NativeLibrary.Free(_handle);
        _handle = 0;
    }
}
