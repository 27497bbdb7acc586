#include "isa.h"

#include <stdlib.h>
#include <strings.h>

static int forced = -1;

static int best(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        return GENLAB_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return GENLAB_ISA_AVX2;
    return GENLAB_ISA_SSE2;
}

// `GENLAB_ISA` (avx512, avx2, sse2) caps the level, as `OPENBLAS_CORETYPE` and oneDNN's
// `ONEDNN_MAX_CPU_ISA` cap theirs: an AVX-512 machine can then run what an AVX2-only one would.
// A level the CPU lacks, or an unknown name, is ignored.
static int from_environment(void) {
    const char *e = getenv("GENLAB_ISA");
    if (!e || !*e) return -1;
    int level = !strcasecmp(e, "avx512") ? GENLAB_ISA_AVX512
                : !strcasecmp(e, "avx2") ? GENLAB_ISA_AVX2
                : !strcasecmp(e, "sse2") ? GENLAB_ISA_SSE2 : -1;
    return level <= best() ? level : -1;
}

int genlab_isa_level(void) {
    if (forced >= 0) return forced;
    int capped = from_environment();
    return capped >= 0 ? capped : best();
}

int genlab_isa_force(int level) {
    if (level < 0) { forced = -1; return 1; }
    if (level > best()) return 0;
    forced = level;
    return 1;
}
