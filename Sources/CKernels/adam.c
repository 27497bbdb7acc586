#include "adam.h"
#include "isa.h"
#include <math.h>

#define ISA_BODY "adam_body.h"
#include "multi_isa.h"

void genlab_adam_update(float *p, const float *g, float *m, float *v, long n, const genlab_adam_step *s) {
    switch (genlab_isa_level()) {
    case GENLAB_ISA_AVX512: adam_avx512(p, g, m, v, n, s); break;
    case GENLAB_ISA_AVX2: adam_avx2(p, g, m, v, n, s); break;
    default: adam_sse2(p, g, m, v, n, s); break;
    }
}

genlab_adam_step genlab_adam_make_step(float lr, float weight_decay, int decoupled, float beta1, float beta2, float eps,
                                       long t) {
#pragma clang fp contract(off)
    genlab_adam_step s;
    s.decay = decoupled && weight_decay != 0 ? 1 - lr * weight_decay : 1;
    s.l2 = decoupled ? 0 : weight_decay;
    s.beta1 = beta1; s.beta2 = beta2; s.eps = eps;
    s.step_size = (float)((double)lr / (1 - pow((double)beta1, (double)t)));
    s.correction2 = (float)sqrt(1 - pow((double)beta2, (double)t));
    return s;
}
