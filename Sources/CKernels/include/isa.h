#ifndef GENLAB_ISA_H
#define GENLAB_ISA_H

/// The instruction sets CKernels' kernels are compiled for.
enum { GENLAB_ISA_SSE2 = 0, GENLAB_ISA_AVX2 = 1, GENLAB_ISA_AVX512 = 2 };

/// The set the kernels run with: the CPU's widest, unless a test forced a narrower one.
int genlab_isa_level(void);
/// Makes every kernel run with `level` (−1: the CPU's best again). Returns 0, changing nothing,
/// when the CPU lacks it.
int genlab_isa_force(int level);

#endif
