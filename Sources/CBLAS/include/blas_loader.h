#ifndef GENLAB_BLAS_LOADER_H
#define GENLAB_BLAS_LOADER_H

/// Loads OpenBLAS at first use, after choosing its CPU kernel.
///
/// Debian 12's OpenBLAS (0.3.21, DYNAMIC_ARCH) does not recognise recent CPUs and falls back to a
/// slow SSE3 kernel. It reads OPENBLAS_CORETYPE once, in the library's constructor, so the variable
/// must be set before the library is loaded: this shim sets it (only when the user has not, and
/// only to a kernel /proc/cpuinfo says the CPU supports) and then dlopen()s the library.
///
/// Returns 1 when a BLAS was loaded, 0 otherwise (genlab_blas_error() says why).
int genlab_blas_load(int threads);

/// The kernel OpenBLAS reports (openblas_get_corename), or "none".
const char *genlab_blas_corename(void);
/// The library file that was loaded, or "".
const char *genlab_blas_library(void);
/// The OPENBLAS_CORETYPE value GenLab chose, "" when it left the variable alone.
const char *genlab_blas_coretype_set(void);
/// Why loading failed, "" when it did not.
const char *genlab_blas_error(void);
/// Sets the BLAS thread count (no-op when the library lacks the call).
void genlab_blas_set_threads(int threads);

/// Row-major single-precision GEMM: C = alpha * op(A) * op(B) + beta * C.
void genlab_sgemm(int transA, int transB, int m, int n, int k, float alpha,
                  const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

/// Row-major double-precision GEMM; returns 0 when the library has no cblas_dgemm.
int genlab_dgemm(int transA, int transB, int m, int n, int k, double alpha, const double *a, int lda,
                 const double *b, int ldb, double beta, double *c, int ldc);

/// Eigenvalues (ascending, into w) and eigenvectors (over a: column-major, so row i of the row-major
/// result is eigenvector i) of the symmetric n×n matrix a, by LAPACK's dsyevd. Returns LAPACK's info
/// (0 = success), -1000 when the library has no LAPACK.
int genlab_dsyevd(int n, double *a, double *w);

#endif
