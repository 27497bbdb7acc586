#ifndef GENLAB_MPI_H
#define GENLAB_MPI_H
// Open MPI, loaded at run time: a single-process genlab never needs libmpi. The handles that
// mpi.h defines as macros over link-time globals (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, …) are
// looked up in the loaded library instead. Every call returns 0 or an MPI error code, with
// the library's message in genlab_mpi_error().

/// Loads libmpi (RTLD_GLOBAL: its components load themselves against it) and calls
/// MPI_Init_thread(FUNNELED). Returns 0, or non-zero with the reason in genlab_mpi_error().
int genlab_mpi_start(int *rank, int *size);
/// The last error's text ("" when none).
const char *genlab_mpi_error(void);
int genlab_mpi_finalize(void);
void genlab_mpi_abort(int code);
int genlab_mpi_barrier(void);
/// In-place sums and maxima over all ranks (counts above INT_MAX go in pieces).
int genlab_mpi_allreduce_sum_float(float *buffer, long count);
int genlab_mpi_allreduce_sum_double(double *buffer, long count);
int genlab_mpi_allreduce_max_double(double *buffer, long count);
/// Root's bytes to every rank.
int genlab_mpi_broadcast(void *buffer, long count, int root);
/// Every rank's `count` bytes, in rank order, into `out` on every rank (out holds size × count).
int genlab_mpi_allgather(const void *buffer, long count, void *out);
/// Variable-length bytes to root: counts and displacements in bytes, root's `out` large enough.
int genlab_mpi_gatherv(const void *buffer, int count, void *out, const int *counts, const int *displacements, int root);
double genlab_mpi_wtime(void);

#endif
