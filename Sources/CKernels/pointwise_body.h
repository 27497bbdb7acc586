// Pointwise loss kernels, written once and compiled per instruction set by pointwise.c. The
// functions mirror Engine's `Fn.expUnit`, `Fn.log1pUnit`, `Fn.sigmoid` and `Fn.softplus`
// operation for operation (Swift's max/min/abs semantics included), with contraction off.

// eˣ for x ≤ 0: Cephes' expf (x = n·ln 2 + r, a degree-6 polynomial for eʳ, 2ⁿ into the exponent).
static inline float ISA(exp_unit)(float x) {
#pragma clang fp contract(off)
    const float lo = -87.33654f;
    float xc = lo >= x ? lo : x;  // Swift.max(x, lo): NaN stays NaN
    float t = xc * 1.44269504088896341f + 12582912.0f;
    int tb;
    __builtin_memcpy(&tb, &t, 4);
    int n = (int)((unsigned)tb - 0x4B400000u);
    float nf = t - 12582912.0f;
    float r = (xc - nf * 0.693359375f) - nf * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float er = p * r * r + r + 1;
    unsigned sb = ((unsigned)n + 127u) << 23;
    float scale;
    __builtin_memcpy(&scale, &sb, 4);
    return x < lo ? 0.0f : er * scale;
}

// log(1 + y) for y in [0, 1] as 2·atanh(y / (2 + y)), summed to s¹³.
static inline float ISA(log1p_unit)(float y) {
#pragma clang fp contract(off)
    float s = y / (2 + y), s2 = s * s;
    float p = 1.0f / 13;
    p = p * s2 + 1.0f / 11;
    p = p * s2 + 1.0f / 9;
    p = p * s2 + 1.0f / 7;
    p = p * s2 + 1.0f / 5;
    p = p * s2 + 1.0f / 3;
    p = p * s2 + 1;
    return 2 * s * p;
}

static void ISA(bce_forward)(const float *restrict x, const float *restrict t, float *restrict out, long n) {
#pragma clang fp contract(off)
    for (long i = 0; i < n; i++) {
        float v = x[i];
        float e = ISA(exp_unit)(-__builtin_fabsf(v));
        float relu = 0.0f >= v ? 0.0f : v;  // Swift.max(v, 0)
        float softplus = relu + ISA(log1p_unit)(e);
        out[i] = softplus - v * t[i];
    }
}

static void ISA(bce_backward)(const float *restrict g, const float *restrict x, const float *restrict t,
                              float *restrict dx, long n) {
#pragma clang fp contract(off)
    for (long i = 0; i < n; i++) {
        float v = x[i], gv = g[i];
        float e = ISA(exp_unit)(-__builtin_fabsf(v));
        float sigma = (v >= 0 ? 1.0f : e) / (1 + e);
        dx[i] = gv * sigma - gv * t[i];
    }
}
