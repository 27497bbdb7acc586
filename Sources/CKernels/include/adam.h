#ifndef GENLAB_ADAM_H
#define GENLAB_ADAM_H

/// The constants of one Adam/AdamW step (NN's `Adam` computes them, bias corrections included).
typedef struct {
    float decay;        // AdamW: 1 − lr·wd (1 otherwise)
    float l2;           // Adam: wd added to the gradient (0 otherwise)
    float beta1, beta2, eps;
    float step_size;    // lr / (1 − β₁ᵗ)
    float correction2;  // √(1 − β₂ᵗ)
} genlab_adam_step;

/// The constants of step t (1-based) of Adam (`decoupled` 0: weight decay added to the gradient) or
/// AdamW (1: decoupled), the bias corrections in double precision as PyTorch computes them from a
/// Python float. The one place the rule's constants are made (NN's `Adam`, the decoy kernel).
genlab_adam_step genlab_adam_make_step(float lr, float weight_decay, int decoupled, float beta1, float beta2, float eps,
                                       long t);

/// p ← p·decay; g ← g + l2·p; m ← m + (1 − β₁)(g − m); v ← β₂v + (1 − β₂)g²;
/// p ← p − step_size·m / (√v / correction2 + eps) — over n elements, with the CPU's widest vectors
/// and without fused multiply-adds, so every instruction set gives the same bits.
void genlab_adam_update(float *p, const float *g, float *m, float *v, long n, const genlab_adam_step *s);

#endif
