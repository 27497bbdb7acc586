// Compiles the kernel body named by ISA_BODY three times — for AVX-512, AVX2+FMA and baseline SSE2 —
// with ISA(name) giving each copy's functions their own suffix (name_avx512, name_avx2, name_sse2).
// Include it after defining ISA_BODY; pick a copy at run time with genlab_isa_level(). ISA_REGISTERS
// and ISA_LANES tell each copy how many vector registers it has and how many floats each holds.
#define ISA(name) name##_avx512
#define ISA_REGISTERS 32 // vector registers
#define ISA_LANES 16     // floats in one
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma"))), apply_to = function)
#include ISA_BODY
#pragma clang attribute pop
#undef ISA
#undef ISA_REGISTERS
#undef ISA_LANES

#define ISA(name) name##_avx2
#define ISA_REGISTERS 16
#define ISA_LANES 8
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include ISA_BODY
#pragma clang attribute pop
#undef ISA
#undef ISA_REGISTERS
#undef ISA_LANES

#define ISA(name) name##_sse2
#define ISA_REGISTERS 16
#define ISA_LANES 4
#include ISA_BODY
#undef ISA
#undef ISA_REGISTERS
#undef ISA_LANES
