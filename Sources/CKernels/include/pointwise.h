#ifndef GENLAB_POINTWISE_H
#define GENLAB_POINTWISE_H

/// Binary cross-entropy on logits, each element alone: out = max(x, 0) − x·t + log1p(e^−|x|) —
/// the same operations, in the same order and without fused multiply-adds, as Engine's
/// `Fn.softplus(x) − x·t`, so every instruction set gives the Swift composite's bits.
void genlab_bce_logits_forward(const float *x, const float *t, float *out, long n);

/// Its gradient with respect to the logits: dx = g·σ(x) − g·t (σ from e^−|x|, as Engine's `Fn.sigmoid`).
void genlab_bce_logits_backward(const float *g, const float *x, const float *t, float *dx, long n);

#endif
