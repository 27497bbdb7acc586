// The decoy fit's steps, written once and compiled once per instruction set by decoy_fit.c, which
// defines ISA(name) (a suffix for every function here) and wraps this file in a target pragma.
// Everything works on `vf`, 16 floats: one zmm register with AVX-512, two ymm with AVX2.

// Rows (or inputs) whose accumulators a register-blocked loop keeps at once: half the registers,
// so that the weights and the broadcasts still have room — eight with AVX-512's 32 zmm, four with
// AVX2's 16 ymm (eight would spill), two with SSE2. The sums' order is the same for any ROWS.
#undef ROWS
#define ROWS (ISA_REGISTERS / 2 / (16 / ISA_LANES))

static inline vf ISA(vtanh)(vf x) {
    // The engine's Fn.Tanh, lane by lane: Eigen's 13/6 rational on [−7.9988, 7.9988], x itself near 0.
    const float c = 7.99881172180175781f;
    vf y = __builtin_elementwise_min(__builtin_elementwise_max(x, (vf)(-c)), (vf)c);
    vf y2 = y * y;
    vf p = (vf)-2.76076847742355e-16f;
    p = p * y2 + 2.00018790482477e-13f;
    p = p * y2 - 8.60467152213735e-11f;
    p = p * y2 + 5.12229709037114e-08f;
    p = p * y2 + 1.48572235717979e-05f;
    p = p * y2 + 6.37261928875436e-04f;
    p = p * y2 + 4.89352455891786e-03f;
    vf q = (vf)1.19825839466702e-06f;
    q = q * y2 + 1.18534705686654e-04f;
    q = q * y2 + 2.26843463243900e-03f;
    q = q * y2 + 4.89352518554385e-03f;
    vf r = y * p / q;
    vi small = __builtin_elementwise_abs(x) < 0.0004f;
    return (vf)((small & (vi)x) | (~small & (vi)r));
}

static inline float ISA(hsum)(vf s) {
    vf8 a = __builtin_shufflevector(s, s, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(s, s, 8, 9, 10, 11, 12, 13, 14, 15);
    vf4 b = __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
    return (b[0] + b[2]) + (b[1] + b[3]);
}

// out[r] = tanh(b + x[r]·W) for the first layer (two inputs), R rows.
static void ISA(first_forward)(const float *x, const vf *W, const vf *b, vf *out, int nv) {
    for (int r = 0; r < BLOCK; r++) {
        float x0 = x[2 * r], x1 = x[2 * r + 1];
        for (int j = 0; j < nv; j++) out[r * nv + j] = ISA(vtanh)(b[j] + x0 * W[j] + x1 * W[nv + j]);
    }
}

// out[r] = tanh(b + a[r]·W), a: [BLOCK, k] floats, W: [k, nv] vectors. ROWS rows share each load
// of W, and their independent accumulators keep both FMA pipes busy.
static void ISA(hidden_forward)(const float *a, int k, const vf *W, const vf *b, vf *out, int nv) {
    for (int r = 0; r < BLOCK; r += ROWS) {
        const float *ar = a + r * k;
        for (int j = 0; j < nv; j++) {
            vf c[ROWS];
            for (int u = 0; u < ROWS; u++) c[u] = b[j];
            for (int i = 0; i < k; i++) {
                vf w = W[i * nv + j];
                for (int u = 0; u < ROWS; u++) c[u] += ar[u * k + i] * w;
            }
            for (int u = 0; u < ROWS; u++) out[(r + u) * nv + j] = ISA(vtanh)(c[u]);
        }
    }
}

// z[r] = b + a[r]·w for the last layer (one output).
static void ISA(last_forward)(const vf *a, const vf *w, float b, float *z, int nv) {
    for (int r = 0; r < BLOCK; r++) {
        vf s = a[r * nv] * w[0];
        for (int j = 1; j < nv; j++) s += a[r * nv + j] * w[j];
        z[r] = b + ISA(hsum)(s);
    }
}

// gW[i] += Σ_r a[r][i]·dz[r] and gb += Σ_r dz[r]; a: [BLOCK, k] floats, dz: [BLOCK, nv] vectors.
static void ISA(accumulate)(const float *a, int k, const vf *dz, vf *gW, vf *gb, int nv) {
    for (int j = 0; j < nv; j++) {
        vf s = gb[j];
        for (int r = 0; r < BLOCK; r++) s += dz[r * nv + j];
        gb[j] = s;
    }
    int i = 0;
    for (; i + ROWS <= k; i += ROWS) {
        for (int j = 0; j < nv; j++) {
            vf g[ROWS];
            for (int u = 0; u < ROWS; u++) g[u] = gW[(i + u) * nv + j];
            for (int r = 0; r < BLOCK; r++) {
                vf d = dz[r * nv + j];
                const float *ar = a + r * k + i;
                for (int u = 0; u < ROWS; u++) g[u] += ar[u] * d;
            }
            for (int u = 0; u < ROWS; u++) gW[(i + u) * nv + j] = g[u];
        }
    }
    for (; i < k; i++) {
        for (int j = 0; j < nv; j++) {
            vf g = gW[i * nv + j];
            for (int r = 0; r < BLOCK; r++) g += a[r * k + i] * dz[r * nv + j];
            gW[i * nv + j] = g;
        }
    }
}

// da[r] = (dz[r]·Wᵀ) ⊙ (1 − a[r]²): the next layer's gradient through W (given as Wᵀ: [n, kv]
// vectors, n = the layer's padded output width) and this layer's tanh.
static void ISA(hidden_backward)(const float *dz, int n, const vf *WT, const vf *a, vf *da, int kv) {
    for (int r = 0; r < BLOCK; r += ROWS) {
        const float *dr = dz + r * n;
        for (int j = 0; j < kv; j++) {
            vf c[ROWS];
            for (int u = 0; u < ROWS; u++) c[u] = 0;
            for (int i = 0; i < n; i++) {
                vf w = WT[i * kv + j];
                for (int u = 0; u < ROWS; u++) c[u] += dr[u * n + i] * w;
            }
            for (int u = 0; u < ROWS; u++) {
                vf t = a[(r + u) * kv + j];
                da[(r + u) * kv + j] = c[u] * (1 - t * t);
            }
        }
    }
}

// Forward over one block of rows: acts[l] for the hidden layers, z the logits.
static void ISA(block_forward)(const plan *pl, const float *theta, const float *x, float *const *acts, float *z) {
    int L = pl->layers;
    ISA(first_forward)(x, (const vf *)(theta + pl->w_off[0]), (const vf *)(theta + pl->b_off[0]), (vf *)acts[1],
                       pl->pw[1] / 16);
    for (int l = 1; l < L - 1; l++)
        ISA(hidden_forward)(acts[l], pl->pw[l], (const vf *)(theta + pl->w_off[l]), (const vf *)(theta + pl->b_off[l]),
                            (vf *)acts[l + 1], pl->pw[l + 1] / 16);
    ISA(last_forward)((const vf *)acts[L - 1], (const vf *)(theta + pl->w_off[L - 1]), theta[pl->b_off[L - 1]], z,
                      pl->pw[L - 1] / 16);
}

// Every hidden→hidden layer's Wᵀ, for the backward pass.
static void ISA(transpose_weights)(const plan *pl, const float *theta, float *wt) {
    for (int l = 1; l < pl->layers - 1; l++) {
        int k = pl->pw[l], n = pl->pw[l + 1];
        const float *W = theta + pl->w_off[l];
        float *T = wt + pl->wt_off[l];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < n; j++) T[j * k + i] = W[i * n + j];
    }
}

static void ISA(fit)(const plan *pl, buffers *bf, const float *target) {
    int L = pl->layers;
    float inv_p = 1.0f / (float)pl->pixels;
    for (long step = 1; step <= pl->steps; step++) {
        memset(bf->grad, 0, sizeof(float) * pl->total);
        ISA(transpose_weights)(pl, bf->theta, bf->wt);
        for (int r0 = 0; r0 < pl->pixels; r0 += BLOCK) {
            int valid = pl->pixels - r0 < BLOCK ? pl->pixels - r0 : BLOCK;
            const float *x = bf->coords + 2 * r0;
            ISA(block_forward)(pl, bf->theta, x, bf->acts, bf->z);
            // d(loss)/d(logit) = (σ(z) − t) / P; rows past the image contribute nothing.
            for (int r = 0; r < BLOCK; r++) bf->dz[r] = r < valid ? (sigmoid(bf->z[r]) - target[r0 + r]) * inv_p : 0;
            int nv = pl->pw[L - 1] / 16;
            const vf *wl = (const vf *)(bf->theta + pl->w_off[L - 1]);
            vf *gw = (vf *)(bf->grad + pl->w_off[L - 1]), *da = (vf *)bf->da;
            const vf *a = (const vf *)bf->acts[L - 1];
            float gb = 0;
            for (int r = 0; r < BLOCK; r++) {
                float d = bf->dz[r];
                gb += d;
                for (int j = 0; j < nv; j++) {
                    vf t = a[r * nv + j];
                    gw[j] += d * t;
                    da[r * nv + j] = d * wl[j] * (1 - t * t);
                }
            }
            bf->grad[pl->b_off[L - 1]] += gb;
            // da now holds d(loss)/d(pre-activation) of hidden layer L−1; walk down the layers.
            for (int l = L - 2; l >= 1; l--) {
                int nvo = pl->pw[l + 1] / 16;
                ISA(accumulate)(bf->acts[l], pl->pw[l], (const vf *)bf->da, (vf *)(bf->grad + pl->w_off[l]),
                                (vf *)(bf->grad + pl->b_off[l]), nvo);
                ISA(hidden_backward)(bf->da, pl->pw[l + 1], (const vf *)(bf->wt + pl->wt_off[l]), (const vf *)bf->acts[l],
                                     (vf *)bf->db, pl->pw[l] / 16);
                float *swap = bf->da; bf->da = bf->db; bf->db = swap;
            }
            ISA(accumulate)(x, 2, (const vf *)bf->da, (vf *)(bf->grad + pl->w_off[0]), (vf *)(bf->grad + pl->b_off[0]),
                            pl->pw[1] / 16);
        }
        genlab_adam_step c = genlab_adam_make_step(pl->lr, pl->weight_decay, 1, pl->beta1, pl->beta2, pl->eps, step);
        genlab_adam_update(bf->theta, bf->grad, bf->m, bf->v, pl->total, &c);
    }
}

static long ISA(correct)(const plan *pl, buffers *bf, const float *target) {
    long right = 0;
    for (int r0 = 0; r0 < pl->pixels; r0 += BLOCK) {
        ISA(block_forward)(pl, bf->theta, bf->coords + 2 * r0, bf->acts, bf->z);
        for (int r = 0; r < BLOCK && r0 + r < pl->pixels; r++) right += (bf->z[r] > 0) == (target[r0 + r] > 0.5f);
    }
    return right;
}
