// Compiles the kernel body named by ISA_BODY three times — for AVX-512, AVX2+FMA and baseline SSE2 —
// with ISA(name) giving each copy's functions their own suffix (name_avx512, name_avx2, name_sse2).
// Include it after defining ISA_BODY; pick a copy at run time with genlab_isa_level().
#define ISA(name) name##_avx512
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma"))), apply_to = function)
#include ISA_BODY
#pragma clang attribute pop
#undef ISA

#define ISA(name) name##_avx2
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include ISA_BODY
#pragma clang attribute pop
#undef ISA

#define ISA(name) name##_sse2
#include ISA_BODY
#undef ISA
