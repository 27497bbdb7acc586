#include "adam.h"
#include "isa.h"

#define ISA_BODY "adam_body.h"
#include "multi_isa.h"

void genlab_adam_update(float *p, const float *g, float *m, float *v, long n, const genlab_adam_step *s) {
    switch (genlab_isa_level()) {
    case GENLAB_ISA_AVX512: adam_avx512(p, g, m, v, n, s); break;
    case GENLAB_ISA_AVX2: adam_avx2(p, g, m, v, n, s); break;
    default: adam_sse2(p, g, m, v, n, s); break;
    }
}
