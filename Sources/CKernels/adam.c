#include "adam.h"

#define ISA(name) name##_avx512
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma"))), apply_to = function)
#include "adam_body.h"
#pragma clang attribute pop
#undef ISA

#define ISA(name) name##_avx2
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "adam_body.h"
#pragma clang attribute pop
#undef ISA

#define ISA(name) name##_sse2
#include "adam_body.h"
#undef ISA

static int level = -1;  // 2 avx512, 1 avx2, 0 sse2

void genlab_adam_update(float *p, const float *g, float *m, float *v, long n, const genlab_adam_step *s) {
    if (level < 0) {
        __builtin_cpu_init();
        level = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") ? 2
              : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
    }
    if (level == 2) adam_avx512(p, g, m, v, n, s);
    else if (level == 1) adam_avx2(p, g, m, v, n, s);
    else adam_sse2(p, g, m, v, n, s);
}
