#include "genlab_mpi.h"
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#if __has_include(<mpi.h>)
#include <mpi.h>
#elif __has_include(<mpi/mpi.h>)
#include <mpi/mpi.h>  // Debian's multiarch alternative for Open MPI's headers
#else
#error "GenLab needs Open MPI's headers to build: apt-get install libopenmpi-dev"
#endif

static char message[512];
static void *library;
static MPI_Comm world;
static MPI_Datatype t_float, t_double, t_byte;
static MPI_Op op_sum, op_max;

#define FN(name) static __typeof__(&name) p_##name
FN(MPI_Init_thread); FN(MPI_Finalize); FN(MPI_Abort); FN(MPI_Comm_rank); FN(MPI_Comm_size); FN(MPI_Barrier);
FN(MPI_Allreduce); FN(MPI_Bcast); FN(MPI_Allgather); FN(MPI_Gatherv); FN(MPI_Error_string); FN(MPI_Wtime);
FN(MPI_Comm_set_errhandler);

const char *genlab_mpi_error(void) { return message; }

static int fail(const char *what, int code) {
    char text[MPI_MAX_ERROR_STRING] = "";
    int length = 0;
    if (p_MPI_Error_string) p_MPI_Error_string(code, text, &length);
    snprintf(message, sizeof message, "%s failed (MPI error %d: %s)", what, code, text);
    return code == 0 ? -1 : code;
}

static void *symbol(const char *name) {
    void *s = dlsym(library, name);
    if (!s) snprintf(message, sizeof message, "libmpi has no symbol %s (not Open MPI 4 or later?)", name);
    return s;
}

int genlab_mpi_start(int *rank, int *size) {
    message[0] = 0;
    const char *names[] = {"libmpi.so.40", "libmpi.so"};
    for (int i = 0; i < 2 && !library; i++) library = dlopen(names[i], RTLD_NOW | RTLD_GLOBAL);
    if (!library) {
        snprintf(message, sizeof message, "cannot load Open MPI's libmpi (%s): install openmpi-bin and libopenmpi-dev", dlerror());
        return -1;
    }
#define LOAD(name) if (!(p_##name = (__typeof__(p_##name))symbol(#name))) return -1
    LOAD(MPI_Init_thread); LOAD(MPI_Finalize); LOAD(MPI_Abort); LOAD(MPI_Comm_rank); LOAD(MPI_Comm_size); LOAD(MPI_Barrier);
    LOAD(MPI_Allreduce); LOAD(MPI_Bcast); LOAD(MPI_Allgather); LOAD(MPI_Gatherv); LOAD(MPI_Error_string); LOAD(MPI_Wtime);
    LOAD(MPI_Comm_set_errhandler);
#define HANDLE(var, type, name) if (!(var = (type)symbol(name))) return -1
    HANDLE(world, MPI_Comm, "ompi_mpi_comm_world");
    HANDLE(t_float, MPI_Datatype, "ompi_mpi_float"); HANDLE(t_double, MPI_Datatype, "ompi_mpi_double");
    HANDLE(t_byte, MPI_Datatype, "ompi_mpi_byte");
    HANDLE(op_sum, MPI_Op, "ompi_mpi_op_sum"); HANDLE(op_max, MPI_Op, "ompi_mpi_op_max");
    MPI_Errhandler *returnErrors = (MPI_Errhandler *)symbol("ompi_mpi_errors_return");
    if (!returnErrors) return -1;
    int provided = 0;
    int rc = p_MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) return fail("MPI_Init_thread", rc);
    // Errors come back as codes (reported with the rank), not as an abort inside the library.
    p_MPI_Comm_set_errhandler(world, (MPI_Errhandler)returnErrors);
    if ((rc = p_MPI_Comm_rank(world, rank)) != MPI_SUCCESS) return fail("MPI_Comm_rank", rc);
    if ((rc = p_MPI_Comm_size(world, size)) != MPI_SUCCESS) return fail("MPI_Comm_size", rc);
    return 0;
}

int genlab_mpi_finalize(void) { return p_MPI_Finalize ? p_MPI_Finalize() : 0; }
void genlab_mpi_abort(int code) { if (p_MPI_Abort) p_MPI_Abort(world, code); }
double genlab_mpi_wtime(void) { return p_MPI_Wtime ? p_MPI_Wtime() : 0; }

int genlab_mpi_barrier(void) {
    int rc = p_MPI_Barrier(world);
    return rc == MPI_SUCCESS ? 0 : fail("MPI_Barrier", rc);
}

static int allreduce(void *buffer, long count, MPI_Datatype type, size_t width, MPI_Op op, const char *what) {
    char *p = buffer;
    while (count > 0) {
        int n = count > INT_MAX / 2 ? INT_MAX / 2 : (int)count;
        int rc = p_MPI_Allreduce(MPI_IN_PLACE, p, n, type, op, world);
        if (rc != MPI_SUCCESS) return fail(what, rc);
        p += (size_t)n * width; count -= n;
    }
    return 0;
}

int genlab_mpi_allreduce_sum_float(float *b, long n) { return allreduce(b, n, t_float, sizeof(float), op_sum, "MPI_Allreduce(sum)"); }
int genlab_mpi_allreduce_sum_double(double *b, long n) { return allreduce(b, n, t_double, sizeof(double), op_sum, "MPI_Allreduce(sum)"); }
int genlab_mpi_allreduce_max_double(double *b, long n) { return allreduce(b, n, t_double, sizeof(double), op_max, "MPI_Allreduce(max)"); }

int genlab_mpi_broadcast(void *buffer, long count, int root) {
    char *p = buffer;
    while (count > 0) {
        int n = count > INT_MAX / 2 ? INT_MAX / 2 : (int)count;
        int rc = p_MPI_Bcast(p, n, t_byte, root, world);
        if (rc != MPI_SUCCESS) return fail("MPI_Bcast", rc);
        p += n; count -= n;
    }
    return 0;
}

int genlab_mpi_allgather(const void *buffer, long count, void *out) {
    if (count > INT_MAX) { snprintf(message, sizeof message, "MPI_Allgather of %ld bytes a rank is too large", count); return -1; }
    int rc = p_MPI_Allgather(buffer, (int)count, t_byte, out, (int)count, t_byte, world);
    return rc == MPI_SUCCESS ? 0 : fail("MPI_Allgather", rc);
}

int genlab_mpi_gatherv(const void *buffer, int count, void *out, const int *counts, const int *displacements, int root) {
    int rc = p_MPI_Gatherv(buffer, count, t_byte, out, counts, displacements, t_byte, root, world);
    return rc == MPI_SUCCESS ? 0 : fail("MPI_Gatherv", rc);
}
