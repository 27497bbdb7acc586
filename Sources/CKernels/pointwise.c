#include "pointwise.h"
#include "isa.h"

#define ISA_BODY "pointwise_body.h"
#include "multi_isa.h"

void genlab_bce_logits_forward(const float *x, const float *t, float *out, long n) {
    switch (genlab_isa_level()) {
    case GENLAB_ISA_AVX512: bce_forward_avx512(x, t, out, n); break;
    case GENLAB_ISA_AVX2: bce_forward_avx2(x, t, out, n); break;
    default: bce_forward_sse2(x, t, out, n); break;
    }
}

void genlab_bce_logits_backward(const float *g, const float *x, const float *t, float *dx, long n) {
    switch (genlab_isa_level()) {
    case GENLAB_ISA_AVX512: bce_backward_avx512(g, x, t, dx, n); break;
    case GENLAB_ISA_AVX2: bce_backward_avx2(g, x, t, dx, n); break;
    default: bce_backward_sse2(g, x, t, dx, n); break;
    }
}
