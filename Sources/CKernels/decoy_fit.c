#include "decoy_fit.h"
#include "adam.h"
#include "isa.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 32       // pixels per block: a block's activations stay in L1 between forward and backward
#define MAX_LAYERS 16
#define MAX_WIDTH 4096

typedef float vf __attribute__((ext_vector_type(16), aligned(64)));
typedef float vf8 __attribute__((ext_vector_type(8)));
typedef float vf4 __attribute__((ext_vector_type(4)));
typedef int vi __attribute__((ext_vector_type(16), aligned(64)));

// Where everything lives in the padded parameter vector (hidden widths rounded up to 16 lanes).
typedef struct {
    int layers, pixels;
    long steps;
    float lr, weight_decay, beta1, beta2, eps;
    int pw[MAX_LAYERS + 1];
    long w_off[MAX_LAYERS], b_off[MAX_LAYERS], wt_off[MAX_LAYERS];
    long total, wt_total;
} plan;

typedef struct {
    float *theta, *grad, *m, *v, *wt, *coords, *z, *dz, *da, *db;
    float *acts[MAX_LAYERS + 1];
} buffers;

// σ(x) without overflow, as the engine's Fn.sigmoid.
static inline float sigmoid(float x) {
    if (x >= 0) return 1 / (1 + expf(-x));
    float e = expf(x);
    return e / (1 + e);
}

#define ISA_BODY "decoy_body.h"
#include "multi_isa.h"

int genlab_decoy_use_isa(const char *name) {
    if (!name || !*name) return genlab_isa_force(-1);
    if (!strcmp(name, "avx512")) return genlab_isa_force(GENLAB_ISA_AVX512);
    if (!strcmp(name, "avx2")) return genlab_isa_force(GENLAB_ISA_AVX2);
    if (!strcmp(name, "sse2")) return genlab_isa_force(GENLAB_ISA_SSE2);
    return 0;
}

const char *genlab_decoy_isa(void) {
    switch (genlab_isa_level()) {
    case GENLAB_ISA_AVX512: return "avx512";
    case GENLAB_ISA_AVX2: return "avx2";
    default: return "sse2";
    }
}

static long round16(long n) { return (n + 15) / 16 * 16; }

static int make_plan(const genlab_decoy_problem *p, plan *pl) {
    if (!p || p->layers < 2 || p->layers > MAX_LAYERS || p->pixels < 1 || p->steps < 0 || !p->widths || !p->coords)
        return 0;
    if (p->widths[0] != 2 || p->widths[p->layers] != 1) return 0;
    memset(pl, 0, sizeof *pl);
    pl->layers = p->layers; pl->pixels = p->pixels; pl->steps = p->steps;
    pl->lr = p->lr; pl->weight_decay = p->weight_decay; pl->beta1 = p->beta1; pl->beta2 = p->beta2; pl->eps = p->eps;
    pl->pw[0] = 2;
    pl->pw[p->layers] = 1;
    for (int l = 1; l < p->layers; l++) {
        if (p->widths[l] < 1 || p->widths[l] > MAX_WIDTH) return 0;
        pl->pw[l] = (int)round16(p->widths[l]);
    }
    long off = 0, wt = 0;
    for (int l = 0; l < p->layers; l++) {
        pl->w_off[l] = off; off = round16(off + (long)pl->pw[l] * pl->pw[l + 1]);
        pl->b_off[l] = off; off = round16(off + pl->pw[l + 1]);
        pl->wt_off[l] = wt;
        if (l >= 1 && l < p->layers - 1) wt += (long)pl->pw[l] * pl->pw[l + 1];
    }
    pl->total = off;
    pl->wt_total = wt < 16 ? 16 : wt;
    return 1;
}

static float *zalloc(long n) {
    size_t bytes = (size_t)round16(n < 1 ? 1 : n) * sizeof(float);
    float *q = aligned_alloc(64, bytes);
    if (q) memset(q, 0, bytes);
    return q;
}

float genlab_decoy_fit(const genlab_decoy_problem *problem, float *const *weights, float *const *biases,
                       const float *target) {
    plan pl;
    if (!make_plan(problem, &pl) || !weights || !biases || !target) return -1;
    int L = pl.layers, maxw = 16;
    for (int l = 1; l < L; l++) if (pl.pw[l] > maxw) maxw = pl.pw[l];
    long rows = (pl.pixels + BLOCK - 1) / BLOCK * BLOCK;
    buffers bf = {0};
    bf.theta = zalloc(pl.total); bf.grad = zalloc(pl.total); bf.m = zalloc(pl.total); bf.v = zalloc(pl.total);
    bf.wt = zalloc(pl.wt_total); bf.coords = zalloc(2 * rows);
    bf.z = zalloc(BLOCK); bf.dz = zalloc(BLOCK);
    bf.da = zalloc((long)BLOCK * maxw); bf.db = zalloc((long)BLOCK * maxw);
    int ok = bf.theta && bf.grad && bf.m && bf.v && bf.wt && bf.coords && bf.z && bf.dz && bf.da && bf.db;
    for (int l = 1; l < L && ok; l++) ok = (bf.acts[l] = zalloc((long)BLOCK * pl.pw[l])) != 0;
    float accuracy = -1;
    if (ok) {
        // Rows past the last pixel keep zero coordinates (and get no gradient in the fit).
        memcpy(bf.coords, problem->coords, sizeof(float) * 2 * (size_t)pl.pixels);
        for (int l = 0; l < L; l++) {
            int in = problem->widths[l], out = problem->widths[l + 1];
            for (int i = 0; i < in; i++)
                memcpy(bf.theta + pl.w_off[l] + (long)i * pl.pw[l + 1], weights[l] + (long)i * out, sizeof(float) * out);
            memcpy(bf.theta + pl.b_off[l], biases[l], sizeof(float) * out);
        }
        long right;
        switch (genlab_isa_level()) {
        case GENLAB_ISA_AVX512: fit_avx512(&pl, &bf, target); right = correct_avx512(&pl, &bf, target); break;
        case GENLAB_ISA_AVX2: fit_avx2(&pl, &bf, target); right = correct_avx2(&pl, &bf, target); break;
        default: fit_sse2(&pl, &bf, target); right = correct_sse2(&pl, &bf, target); break;
        }
        for (int l = 0; l < L; l++) {
            int in = problem->widths[l], out = problem->widths[l + 1];
            for (int i = 0; i < in; i++)
                memcpy(weights[l] + (long)i * out, bf.theta + pl.w_off[l] + (long)i * pl.pw[l + 1], sizeof(float) * out);
            memcpy(biases[l], bf.theta + pl.b_off[l], sizeof(float) * out);
        }
        accuracy = (float)right / (float)pl.pixels;
    }
    free(bf.theta); free(bf.grad); free(bf.m); free(bf.v); free(bf.wt); free(bf.coords);
    free(bf.z); free(bf.dz); free(bf.da); free(bf.db);
    for (int l = 1; l < L; l++) free(bf.acts[l]);
    return accuracy;
}
