// One Adam/AdamW update over n elements, written once and compiled per instruction set by adam.c.
// Contraction into FMAs is off so every instruction set gives the same bits as the Swift rule.
static void ISA(adam)(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, long n,
                      const genlab_adam_step *s) {
#pragma clang fp contract(off)
    const float decay = s->decay, l2 = s->l2, b1 = s->beta1, b2 = s->beta2, e = s->eps, lr = s->step_size, c2 = s->correction2;
    const float one_b1 = 1 - b1, one_b2 = 1 - b2;
    if (l2 != 0) {
        for (long i = 0; i < n; i++) {
            float pv = p[i] * decay, gv = g[i] + l2 * pv, mv = m[i], vv = v[i];
            mv += one_b1 * (gv - mv);
            vv = vv * b2 + one_b2 * gv * gv;
            p[i] = pv - lr * (mv / (__builtin_sqrtf(vv) / c2 + e));
            m[i] = mv; v[i] = vv;
        }
    } else {
        for (long i = 0; i < n; i++) {
            float pv = p[i] * decay, gv = g[i], mv = m[i], vv = v[i];
            mv += one_b1 * (gv - mv);
            vv = vv * b2 + one_b2 * gv * gv;
            p[i] = pv - lr * (mv / (__builtin_sqrtf(vv) / c2 + e));
            m[i] = mv; v[i] = vv;
        }
    }
}
