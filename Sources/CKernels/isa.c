#include "isa.h"

static int forced = -1;

static int best(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        return GENLAB_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return GENLAB_ISA_AVX2;
    return GENLAB_ISA_SSE2;
}

int genlab_isa_level(void) { return forced >= 0 ? forced : best(); }

int genlab_isa_force(int level) {
    if (level < 0) { forced = -1; return 1; }
    if (level > best()) return 0;
    forced = level;
    return 1;
}
