#define _GNU_SOURCE
#include "blas_loader.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// CBLAS enum values (cblas.h); declared here so the shim needs no BLAS headers to build.
enum { RowMajor = 101, NoTrans = 111, Trans = 112 };

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int,
                         float, float *, int);
typedef void (*dgemm_fn)(int, int, int, int, int, int, double, const double *, int, const double *, int,
                         double, double *, int);
// LAPACK's Fortran dsyevd_: jobz, uplo, n, a, lda, w, work, lwork, iwork, liwork, info.
typedef void (*dsyevd_fn)(const char *, const char *, const int *, double *, const int *, double *, double *,
                          const int *, int *, const int *, int *);
typedef char *(*corename_fn)(void);
typedef void (*set_threads_fn)(int);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int requested_threads = 1;
static sgemm_fn sgemm_ptr = NULL;
static dgemm_fn dgemm_ptr = NULL;
static dsyevd_fn dsyevd_ptr = NULL;
static corename_fn corename_ptr = NULL;
static set_threads_fn set_threads_ptr = NULL;
static char library_path[512] = "";
static char coretype_set[32] = "";
static char load_error[512] = "";

// True when /proc/cpuinfo's first "flags" line lists `flag` as a whole word.
static int cpu_has(const char *flag) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return 0;
    char line[8192];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0) continue;
        size_t n = strlen(flag);
        for (char *p = strstr(line, flag); p; p = strstr(p + 1, flag)) {
            if ((p[-1] == ' ' || p[-1] == '\t') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0')) {
                found = 1;
                break;
            }
        }
        break;
    }
    fclose(f);
    return found;
}

static void choose_coretype(void) {
    if (getenv("OPENBLAS_CORETYPE")) return;  // the user's choice wins
    const char *core = NULL;
    if (cpu_has("avx512f") && cpu_has("avx512bw") && cpu_has("avx512vl") && cpu_has("avx512dq"))
        core = "SkylakeX";
    else if (cpu_has("avx2") && cpu_has("fma"))
        core = "Haswell";
    if (core) {
        setenv("OPENBLAS_CORETYPE", core, 0);
        snprintf(coretype_set, sizeof coretype_set, "%s", core);
    }
}

static void load_once(void) {
    choose_coretype();
    // OpenBLAS's own thread pool must not fight GenLab's threads: size it before it starts.
    char nthreads[16];
    snprintf(nthreads, sizeof nthreads, "%d", requested_threads);
    if (!getenv("OPENBLAS_NUM_THREADS")) setenv("OPENBLAS_NUM_THREADS", nthreads, 0);

    const char *candidates[] = {getenv("GENLAB_BLAS"), "libopenblas.so.0", "libopenblas.so",
                                "libblas.so.3", NULL};
    for (int i = 0; i < 4; i++) {
        const char *name = candidates[i];
        if (!name) continue;
        void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            snprintf(load_error, sizeof load_error, "%s", dlerror());
            continue;
        }
        sgemm_ptr = (sgemm_fn)dlsym(h, "cblas_sgemm");
        if (!sgemm_ptr) {
            snprintf(load_error, sizeof load_error, "%s has no cblas_sgemm", name);
            continue;
        }
        dgemm_ptr = (dgemm_fn)dlsym(h, "cblas_dgemm");
        dsyevd_ptr = (dsyevd_fn)dlsym(h, "dsyevd_");
        corename_ptr = (corename_fn)dlsym(h, "openblas_get_corename");
        set_threads_ptr = (set_threads_fn)dlsym(h, "openblas_set_num_threads");
        snprintf(library_path, sizeof library_path, "%s", name);
        load_error[0] = '\0';
        if (set_threads_ptr) set_threads_ptr(requested_threads);
        return;
    }
}

int genlab_blas_load(int threads) {
    if (threads > 0) requested_threads = threads;
    pthread_once(&once, load_once);
    return sgemm_ptr != NULL;
}

const char *genlab_blas_corename(void) {
    if (!corename_ptr) return sgemm_ptr ? "unknown" : "none";
    return corename_ptr();
}
const char *genlab_blas_library(void) { return library_path; }
const char *genlab_blas_coretype_set(void) { return coretype_set; }
const char *genlab_blas_error(void) { return load_error; }
void genlab_blas_set_threads(int threads) {
    if (set_threads_ptr && threads > 0) set_threads_ptr(threads);
}

int genlab_dgemm(int transA, int transB, int m, int n, int k, double alpha, const double *a, int lda,
                 const double *b, int ldb, double beta, double *c, int ldc) {
    if (!dgemm_ptr) return 0;
    dgemm_ptr(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, a, lda, b, ldb, beta,
              c, ldc);
    return 1;
}

int genlab_dsyevd(int n, double *a, double *w) {
    if (!dsyevd_ptr) return -1000;
    char jobz = 'V', uplo = 'U';
    int lwork = -1, liwork = -1, info = 0, iwork_size = 0;
    double work_size = 0;
    dsyevd_ptr(&jobz, &uplo, &n, a, &n, w, &work_size, &lwork, &iwork_size, &liwork, &info);
    if (info != 0) return info;
    lwork = (int)work_size;
    liwork = iwork_size;
    double *work = malloc(sizeof(double) * (size_t)(lwork > 1 ? lwork : 1));
    int *iwork = malloc(sizeof(int) * (size_t)(liwork > 1 ? liwork : 1));
    if (!work || !iwork) {
        free(work);
        free(iwork);
        return -1001;
    }
    dsyevd_ptr(&jobz, &uplo, &n, a, &n, w, work, &lwork, iwork, &liwork, &info);
    free(work);
    free(iwork);
    return info;
}

void genlab_sgemm(int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda,
                  const float *b, int ldb, float beta, float *c, int ldc) {
    sgemm_ptr(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, a, lda, b,
              ldb, beta, c, ldc);
}
