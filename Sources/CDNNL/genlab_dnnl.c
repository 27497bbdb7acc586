#include "genlab_dnnl.h"

#if __has_include(<oneapi/dnnl/dnnl.h>)
#include <oneapi/dnnl/dnnl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Every oneDNN entry point GenLab calls, looked up once in the dlopen()ed library.
#define DNNL_FUNCTIONS(X) \
    X(dnnl_engine_create) X(dnnl_stream_create) X(dnnl_stream_wait) X(dnnl_memory_desc_init_by_tag) \
    X(dnnl_dilated_convolution_forward_desc_init) X(dnnl_dilated_convolution_backward_data_desc_init) \
    X(dnnl_dilated_convolution_backward_weights_desc_init) X(dnnl_primitive_desc_create) \
    X(dnnl_primitive_desc_query_md) X(dnnl_primitive_create) X(dnnl_primitive_execute) X(dnnl_memory_create) \
    X(dnnl_memory_set_data_handle) X(dnnl_reorder_primitive_desc_create) X(dnnl_memory_desc_equal) X(dnnl_version) \
    X(dnnl_memory_desc_get_size) X(dnnl_primitive_desc_query)
#define DECLARE(name) static __typeof__(&name) p_##name;
DNNL_FUNCTIONS(DECLARE)

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int usable = 0, wanted_threads = 1;
static char status[256] = "not loaded";
static dnnl_engine_t engine;
static dnnl_stream_t stream;

static void load(void) {
    const char *off = getenv("GENLAB_DNNL");
    if (off && !strcmp(off, "0")) { snprintf(status, sizeof status, "off (GENLAB_DNNL=0)"); return; }
    // libgomp reads its wait policy once, as it loads with oneDNN. Unless the user chose one, its
    // workers sleep when a convolution ends instead of spinning for a while: GenLab's own pool runs
    // the ops between convolutions on the same cores, and a spinning OpenMP worker holds one of them.
    // The variable is removed again at once, so child processes (PyTorch in `bench --compare`) see
    // the environment the user gave.
    const char *policy = getenv("OMP_WAIT_POLICY"), *spin = getenv("GOMP_SPINCOUNT");
    int choose_policy = !(policy && *policy) && !(spin && *spin);
    if (choose_policy) setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    void *lib = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_GLOBAL);
    if (choose_policy) unsetenv("OMP_WAIT_POLICY");
    if (!lib) { snprintf(status, sizeof status, "libdnnl.so.2 not found (Debian: libdnnl2)"); return; }
#define LOOKUP(name)                                                                 \
    if (!(p_##name = (__typeof__(&name))dlsym(lib, #name))) {                        \
        snprintf(status, sizeof status, "libdnnl.so.2 lacks %s", #name);             \
        return;                                                                      \
    }
    DNNL_FUNCTIONS(LOOKUP)
    // Its OpenMP runtime gets GenLab's thread count (the pool sleeps while oneDNN runs).
    void (*set_threads)(int) = (void (*)(int))dlsym(lib, "omp_set_num_threads");
    if (set_threads) set_threads(wanted_threads);
    if (p_dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success ||
        p_dnnl_stream_create(&stream, engine, dnnl_stream_default_flags) != dnnl_success) {
        snprintf(status, sizeof status, "oneDNN has no CPU engine");
        return;
    }
    const dnnl_version_t *v = p_dnnl_version();
    snprintf(status, sizeof status, "oneDNN %d.%d.%d", v->major, v->minor, v->patch);
    usable = 1;
}

int genlab_dnnl_load(int threads) {
    if (threads > 0) wanted_threads = threads;
    pthread_once(&once, load);
    return usable;
}

const char *genlab_dnnl_status(void) { return status; }

enum { FORWARD, FORWARD_BIAS, BACKWARD_DATA, BACKWARD_WEIGHTS, BACKWARD_WEIGHTS_BIAS };

// One argument of a primitive: the caller's plain buffer, and oneDNN's layout when it differs
// (then a reorder runs before an input is read or after an output is written).
typedef struct {
    int arg, output;
    dnnl_memory_t user, inner;
    dnnl_primitive_t reorder;
    size_t bytes;   // of the inner layout, when it differs (it lives in the shared workspace)
    int blocking;   // 16 or 8 when the inner layout is nChw16c or nChw8c (a caller's buffer in that
                    // layout is used as it is), else 0
} slot;

typedef struct entry {
    int kind;
    genlab_conv_shape s;
    dnnl_primitive_t primitive;
    slot slots[4];
    int count;
    struct entry *next;
} entry;

static entry *cache;
static char *workspace;
static size_t workspace_bytes;

static int plain(dnnl_memory_desc_t *md, int rank, const dnnl_dim_t *dims, dnnl_format_tag_t tag) {
    return p_dnnl_memory_desc_init_by_tag(md, rank, dims, dnnl_f32, tag) == dnnl_success;
}

static int add_slot(entry *e, dnnl_primitive_desc_t pd, int arg, dnnl_query_t query, int output, const dnnl_memory_desc_t *user) {
    slot *sl = &e->slots[e->count++];
    sl->arg = arg; sl->output = output;
    const dnnl_memory_desc_t *inner = p_dnnl_primitive_desc_query_md(pd, query, 0);
    if (!inner || p_dnnl_memory_create(&sl->user, user, engine, DNNL_MEMORY_NONE) != dnnl_success) return 0;
    dnnl_memory_desc_t b;
    if (user->ndims == 4 && user->dims[1] % 16 == 0 && plain(&b, 4, user->dims, dnnl_aBcd16b) &&
        p_dnnl_memory_desc_equal(inner, &b))
        sl->blocking = 16;
    else if (user->ndims == 4 && user->dims[1] % 8 == 0 && plain(&b, 4, user->dims, dnnl_aBcd8b) &&
             p_dnnl_memory_desc_equal(inner, &b))
        sl->blocking = 8;
    if (p_dnnl_memory_desc_equal(inner, user)) { sl->inner = sl->user; return 1; }
    // The inner copies of every primitive share one workspace (calls are serialised), so a
    // cache of many shapes costs the largest one's copies, not their sum.
    if (p_dnnl_memory_create(&sl->inner, inner, engine, DNNL_MEMORY_NONE) != dnnl_success) return 0;
    sl->bytes = (p_dnnl_memory_desc_get_size(inner) + 63) / 64 * 64;
    dnnl_primitive_desc_t rpd;
    if (output ? p_dnnl_reorder_primitive_desc_create(&rpd, inner, engine, user, engine, NULL)
               : p_dnnl_reorder_primitive_desc_create(&rpd, user, engine, inner, engine, NULL)) return 0;
    return p_dnnl_primitive_create(&sl->reorder, rpd) == dnnl_success;
}

// The bias (index 1 of the weights' query) is used in its plain layout; a primitive that wants
// another is refused (and the caller falls back).
static int plain_slot(entry *e, dnnl_primitive_desc_t pd, int arg, dnnl_query_t query, int output, const dnnl_memory_desc_t *user) {
    slot *sl = &e->slots[e->count++];
    sl->arg = arg; sl->output = output;
    const dnnl_memory_desc_t *b = p_dnnl_primitive_desc_query_md(pd, query, 1);
    if (!b || !p_dnnl_memory_desc_equal(b, user)) return 0;
    if (p_dnnl_memory_create(&sl->user, user, engine, DNNL_MEMORY_NONE) != dnnl_success) return 0;
    sl->inner = sl->user;
    return 1;
}

// Whether oneDNN chose its reference (unoptimised) implementation for `pd`.
static int is_reference(dnnl_primitive_desc_t pd) {
    const char *impl = NULL;
    if (p_dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success || !impl) return 0;
    return !strncmp(impl, "ref", 3);
}

// `thin`: a side with fewer than 16 channels (a grey image in, one channel out) stays in its plain
// layout, where "any" would let oneDNN pad it to a block of 16 channels — 16 times the memory of a
// one-channel batch. Refused (NULL primitive) when oneDNN has only its reference kernel for that;
// the caller then builds with "any".
static entry *build(int kind, const genlab_conv_shape *s, int thin) {
    dnnl_dim_t src[4] = {s->n, s->c, s->h, s->w}, wei[4] = {s->o, s->c, s->kh, s->kw}, dst[4] = {s->n, s->o, s->oh, s->ow};
    dnnl_dim_t bias[1] = {s->o}, strides[2] = {s->sh, s->sw}, dil[2] = {s->dh - 1, s->dw - 1}, pad[2] = {s->ph, s->pw};
    // The far side's padding makes oneDNN's output size the one asked for (floor semantics, and
    // the larger input of a transposed convolution with output padding).
    dnnl_dim_t pad_r[2] = {(s->oh - 1) * s->sh + (s->kh - 1) * s->dh + 1 - s->h - s->ph,
                           (s->ow - 1) * s->sw + (s->kw - 1) * s->dw + 1 - s->w - s->pw};
    if (pad_r[0] < 0) pad_r[0] = 0;
    if (pad_r[1] < 0) pad_r[1] = 0;
    dnnl_memory_desc_t u_src, u_wei, u_dst, u_bias, a_src, a_wei, a_dst, a_bias;
    if (!plain(&u_src, 4, src, dnnl_nchw) || !plain(&u_wei, 4, wei, dnnl_oihw) || !plain(&u_dst, 4, dst, dnnl_nchw) ||
        !plain(&u_bias, 1, bias, dnnl_x) || !plain(&a_src, 4, src, thin && s->c < 16 ? dnnl_nchw : dnnl_format_tag_any) ||
        !plain(&a_wei, 4, wei, dnnl_format_tag_any) ||
        !plain(&a_dst, 4, dst, thin && s->o < 16 ? dnnl_nchw : dnnl_format_tag_any) ||
        !plain(&a_bias, 1, bias, dnnl_format_tag_any)) return NULL;
    int with_bias = kind == FORWARD_BIAS || kind == BACKWARD_WEIGHTS_BIAS;
    dnnl_convolution_desc_t fd;
    if (p_dnnl_dilated_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &a_src, &a_wei,
                                                     with_bias ? &a_bias : NULL, &a_dst, strides, dil, pad, pad_r)) return NULL;
    dnnl_primitive_desc_t fpd, pd;
    if (p_dnnl_primitive_desc_create(&fpd, &fd, NULL, engine, NULL)) return NULL;
    entry *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->kind = kind; e->s = *s;
    int ok = 1;
    if (kind == FORWARD || kind == FORWARD_BIAS) {
        pd = fpd;
        ok = add_slot(e, pd, DNNL_ARG_SRC, dnnl_query_src_md, 0, &u_src) &&
             add_slot(e, pd, DNNL_ARG_WEIGHTS, dnnl_query_weights_md, 0, &u_wei) &&
             add_slot(e, pd, DNNL_ARG_DST, dnnl_query_dst_md, 1, &u_dst);
        if (ok && with_bias) ok = plain_slot(e, pd, DNNL_ARG_BIAS, dnnl_query_weights_md, 0, &u_bias);
    } else if (kind == BACKWARD_DATA) {
        dnnl_convolution_desc_t bd;
        ok = !p_dnnl_dilated_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, &a_src, &a_wei, &a_dst,
                                                                  strides, dil, pad, pad_r) &&
             !p_dnnl_primitive_desc_create(&pd, &bd, NULL, engine, fpd);
        ok = ok && add_slot(e, pd, DNNL_ARG_DIFF_DST, dnnl_query_diff_dst_md, 0, &u_dst) &&
             add_slot(e, pd, DNNL_ARG_WEIGHTS, dnnl_query_weights_md, 0, &u_wei) &&
             add_slot(e, pd, DNNL_ARG_DIFF_SRC, dnnl_query_diff_src_md, 1, &u_src);
    } else {
        dnnl_convolution_desc_t wd;
        ok = !p_dnnl_dilated_convolution_backward_weights_desc_init(&wd, dnnl_convolution_direct, &a_src, &a_wei,
                                                                     with_bias ? &a_bias : NULL, &a_dst, strides, dil,
                                                                     pad, pad_r) &&
             !p_dnnl_primitive_desc_create(&pd, &wd, NULL, engine, fpd);
        ok = ok && add_slot(e, pd, DNNL_ARG_SRC, dnnl_query_src_md, 0, &u_src) &&
             add_slot(e, pd, DNNL_ARG_DIFF_DST, dnnl_query_diff_dst_md, 0, &u_dst) &&
             add_slot(e, pd, DNNL_ARG_DIFF_WEIGHTS, dnnl_query_diff_weights_md, 1, &u_wei);
        if (ok && with_bias) ok = plain_slot(e, pd, DNNL_ARG_DIFF_BIAS, dnnl_query_diff_weights_md, 1, &u_bias);
    }
    ok = ok && !(thin && is_reference(pd)) && p_dnnl_primitive_create(&e->primitive, pd) == dnnl_success;
    // A refused shape stays in the cache without a primitive, so it is not tried again.
    if (!ok) { memset(e->slots, 0, sizeof e->slots); e->count = 0; e->primitive = NULL; }
    return e;
}

// The cached entry for a pass and shape, built on first use (the lock held).
static entry *lookup(int kind, const genlab_conv_shape *s) {
    entry *e = cache;
    while (e && !(e->kind == kind && !memcmp(&e->s, s, sizeof *s))) e = e->next;
    if (!e) {
        int thin = s->c < 16 || s->o < 16;
        e = thin ? build(kind, s, 1) : NULL;
        if (!e || !e->primitive) e = build(kind, s, 0);  // a refused thin entry's few objects are left
        if (!e && (e = calloc(1, sizeof *e))) { e->kind = kind; e->s = *s; }  // refused before it began
        if (e) { e->next = cache; cache = e; }
    }
    return e;
}

static int kind_of(int pass, int with_bias) {
    switch (pass) {
        case GENLAB_CONV_FORWARD: return with_bias ? FORWARD_BIAS : FORWARD;
        case GENLAB_CONV_BACKWARD_DATA: return BACKWARD_DATA;
        default: return with_bias ? BACKWARD_WEIGHTS_BIAS : BACKWARD_WEIGHTS;
    }
}

unsigned genlab_dnnl_conv_blocked(int pass, int with_bias, const genlab_conv_shape *s, unsigned *by8) {
    *by8 = 0;
    if (!genlab_dnnl_load(0)) return 0;
    pthread_mutex_lock(&lock);
    entry *e = lookup(kind_of(pass, with_bias), s);
    unsigned by16 = 0;
    for (int i = 0; e && e->primitive && i < e->count; i++) {
        if (e->slots[i].blocking == 16) by16 |= 1u << i;
        if (e->slots[i].blocking == 8) *by8 |= 1u << i;
    }
    pthread_mutex_unlock(&lock);
    return by16;
}

static int run(int kind, const genlab_conv_shape *s, void *const *buffers, unsigned blocked) {
    if (!genlab_dnnl_load(0)) return -1;
    pthread_mutex_lock(&lock);
    entry *e = lookup(kind, s);
    int rc = e && e->primitive ? 0 : -1;
    for (int i = 0; !rc && i < e->count; i++)
        if ((blocked >> i & 1) && !e->slots[i].blocking) rc = -1;  // a layout the primitive does not compute in
    if (rc) { pthread_mutex_unlock(&lock); return rc; }
    size_t need = 0;
    for (int i = 0; i < e->count; i++) need += e->slots[i].bytes;
    if (need > workspace_bytes) {
        free(workspace);
        workspace = aligned_alloc(64, need);
        workspace_bytes = workspace ? need : 0;
        if (!workspace) rc = -1;
    }
    size_t offset = 0;
    for (int i = 0; !rc && i < e->count; i++) {
        slot *sl = &e->slots[i];
        if (blocked >> i & 1) {  // already (or to be left) in the primitive's own layout
            if (p_dnnl_memory_set_data_handle(sl->inner, buffers[i])) rc = -1;
            offset += sl->bytes;
            continue;
        }
        if (sl->bytes) {
            if (p_dnnl_memory_set_data_handle(sl->inner, workspace + offset)) rc = -1;
            offset += sl->bytes;
        }
        if (p_dnnl_memory_set_data_handle(sl->user, buffers[i])) rc = -1;
        if (!sl->output && sl->reorder) {
            dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, sl->user}, {DNNL_ARG_TO, sl->inner}};
            if (p_dnnl_primitive_execute(sl->reorder, stream, 2, a)) rc = -1;
        }
    }
    if (!rc) {
        dnnl_exec_arg_t args[4];
        for (int i = 0; i < e->count; i++) { args[i].arg = e->slots[i].arg; args[i].memory = e->slots[i].inner; }
        if (p_dnnl_primitive_execute(e->primitive, stream, e->count, args)) rc = -1;
        for (int i = 0; i < e->count && !rc; i++) {
            slot *sl = &e->slots[i];
            if (sl->output && sl->reorder && !(blocked >> i & 1)) {
                dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, sl->inner}, {DNNL_ARG_TO, sl->user}};
                if (p_dnnl_primitive_execute(sl->reorder, stream, 2, a)) rc = -1;
            }
        }
        if (!rc && p_dnnl_stream_wait(stream)) rc = -1;
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

int genlab_dnnl_conv_forward(const genlab_conv_shape *s, const float *x, const float *w, const float *b, float *y,
                             unsigned blocked) {
    void *buffers[4] = {(void *)x, (void *)w, y, (void *)b};
    return run(b ? FORWARD_BIAS : FORWARD, s, buffers, blocked);
}

int genlab_dnnl_conv_backward_data(const genlab_conv_shape *s, const float *dy, const float *w, float *dx,
                                   unsigned blocked) {
    void *buffers[3] = {(void *)dy, (void *)w, dx};
    return run(BACKWARD_DATA, s, buffers, blocked);
}

int genlab_dnnl_conv_backward_weights(const genlab_conv_shape *s, const float *x, const float *dy, float *dw, float *db,
                                      unsigned blocked) {
    void *buffers[4] = {(void *)x, (void *)dy, dw, db};
    return run(db ? BACKWARD_WEIGHTS_BIAS : BACKWARD_WEIGHTS, s, buffers, blocked);
}

#else  // built without oneDNN's headers: every call falls back

int genlab_dnnl_load(int threads) { (void)threads; return 0; }
const char *genlab_dnnl_status(void) { return "built without oneDNN (Debian: libdnnl-dev)"; }
unsigned genlab_dnnl_conv_blocked(int pass, int with_bias, const genlab_conv_shape *s, unsigned *by8) {
    (void)pass; (void)with_bias; (void)s; *by8 = 0; return 0;
}
int genlab_dnnl_conv_forward(const genlab_conv_shape *s, const float *x, const float *w, const float *b, float *y,
                             unsigned blocked) {
    (void)s; (void)x; (void)w; (void)b; (void)y; (void)blocked; return -1;
}
int genlab_dnnl_conv_backward_data(const genlab_conv_shape *s, const float *dy, const float *w, float *dx,
                                   unsigned blocked) {
    (void)s; (void)dy; (void)w; (void)dx; (void)blocked; return -1;
}
int genlab_dnnl_conv_backward_weights(const genlab_conv_shape *s, const float *x, const float *dy, float *dw, float *db,
                                      unsigned blocked) {
    (void)s; (void)x; (void)dy; (void)dw; (void)db; (void)blocked; return -1;
}
#endif
