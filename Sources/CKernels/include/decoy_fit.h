#ifndef GENLAB_DECOY_FIT_H
#define GENLAB_DECOY_FIT_H

/// One decoy network's whole fit as a single fused kernel: a tanh MLP (x, y) → logit, trained with
/// full-batch AdamW on binary cross-entropy summed over the pixels and divided by their count —
/// exactly the graph `DecoyNet.fitReference` builds from Engine ops (that path is the judge).
///
/// The autograd path spends most of a step in separate elementwise passes over [decoys, pixels,
/// width] tensors; here each block of pixels goes forward and backward while its activations are
/// still in L1, hidden widths are padded to 16 lanes (zero weights stay exactly zero under AdamW,
/// so the padding changes nothing), and the CPU's widest vectors are chosen at run time
/// (AVX-512, AVX2+FMA, or baseline SSE2).
typedef struct {
    /// Linear layers (≥ 2); widths has layers + 1 entries, widths[0] == 2 and widths[layers] == 1.
    int layers;
    const int *widths;
    int pixels;
    /// [pixels, 2] coordinates, row-major.
    const float *coords;
    int steps;
    float lr, weight_decay, beta1, beta2, eps;
} genlab_decoy_problem;

/// Fits one decoy in place. weights[l] is [widths[l], widths[l+1]] row-major, biases[l] is
/// [widths[l+1]]; target is [pixels] of 0/1. Returns the fraction of pixels whose logit has the
/// target's sign after the fit, or -1 when the problem is malformed or memory could not be had.
float genlab_decoy_fit(const genlab_decoy_problem *problem, float *const *weights, float *const *biases,
                       const float *target);

/// The instruction set the kernel runs with on this CPU: "avx512", "avx2" or "sse2".
const char *genlab_decoy_isa(void);

/// Makes the kernels (this one and the Adam update) run with `name` ("avx512", "avx2", "sse2"; "" for the CPU's best) so tests can
/// check every path this CPU can run. Returns 0, changing nothing, when the CPU lacks it.
int genlab_decoy_use_isa(const char *name);

#endif
