#ifndef GENLAB_DNNL_H
#define GENLAB_DNNL_H

/// Convolutions through oneDNN (Debian's libdnnl2, what PyTorch's CPU convolutions use), loaded at
/// run time: a genlab without the library falls back to its own im2col + GEMM kernels.
///
/// Each call describes the convolution with plain NCHW/OIHW buffers; oneDNN picks its fastest
/// (blocked) layouts, and the buffers are reordered into and out of them around the primitive, as
/// PyTorch does. Primitives and reorders are made once per shape and kept.

/// A 2-D convolution: input [n, c, h, w], weight [o, c, kh, kw], output [n, o, oh, ow].
/// Dilation is PyTorch's (1 = none); padding is applied on both sides.
typedef struct {
    long n, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow;
} genlab_conv_shape;

/// Loads oneDNN (once) and gives its OpenMP runtime `threads` threads. Returns 1 when it is usable.
int genlab_dnnl_load(int threads);
/// The library's version, or why it could not be loaded.
const char *genlab_dnnl_status(void);

/// y = conv(x, w) + b (b may be null). Returns 0, or -1 when oneDNN refused (the caller falls back).
int genlab_dnnl_conv_forward(const genlab_conv_shape *s, const float *x, const float *w, const float *b, float *y);
/// dx = the input gradient for output gradient dy (overwrites dx).
int genlab_dnnl_conv_backward_data(const genlab_conv_shape *s, const float *dy, const float *w, float *dx);
/// dw (and db when not null) = the weight (and bias) gradients (overwritten).
int genlab_dnnl_conv_backward_weights(const genlab_conv_shape *s, const float *x, const float *dy, float *dw, float *db);

#endif
