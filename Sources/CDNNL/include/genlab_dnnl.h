#ifndef GENLAB_DNNL_H
#define GENLAB_DNNL_H

/// Convolutions through oneDNN (Debian's libdnnl2, what PyTorch's CPU convolutions use), loaded at
/// run time: a genlab without the library falls back to its own im2col + GEMM kernels.
///
/// Each call describes the convolution with plain NCHW/OIHW buffers; oneDNN picks its fastest
/// (blocked) layouts, and the buffers are reordered into and out of them around the primitive, as
/// PyTorch does — unless the caller's image buffers are already in oneDNN's layout (see
/// `genlab_dnnl_conv_blocked`). Primitives and reorders are made once per shape and kept.

/// A 2-D convolution: input [n, c, h, w], weight [o, c, kh, kw], output [n, o, oh, ow].
/// Dilation is PyTorch's (1 = none); padding is applied on both sides.
typedef struct {
    long n, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow;
} genlab_conv_shape;

/// Loads oneDNN (once) and gives its OpenMP runtime `threads` threads. Returns 1 when it is usable.
int genlab_dnnl_load(int threads);
/// The library's version, or why it could not be loaded.
const char *genlab_dnnl_status(void);

/// The three passes of a convolution; the buffers of each are numbered in the order of its call's
/// arguments below (forward: x 0, w 1, y 2, b 3; backward data: dy 0, w 1, dx 2; backward weights:
/// x 0, dy 1, dw 2, db 3).
enum { GENLAB_CONV_FORWARD, GENLAB_CONV_BACKWARD_DATA, GENLAB_CONV_BACKWARD_WEIGHTS };

/// Which of the pass's image buffers (bit i for buffer i) oneDNN computes in a channel-blocked
/// layout, so that a caller may hand them over, or take them back, in that layout with no
/// reordering: returns those in nChw16c (AVX-512) and writes those in nChw8c (AVX2) to `by8`.
/// 0 when none, or when oneDNN is not usable for the shape.
unsigned genlab_dnnl_conv_blocked(int pass, int with_bias, const genlab_conv_shape *s, unsigned *by8);

/// `blocked` (each call): bit i set when buffer i is, or is to be left, in the blocked layout its
/// primitive computes in — only for buffers that `genlab_dnnl_conv_blocked` named, in that
/// layout; other buffers are plain NCHW/OIHW.
/// y = conv(x, w) + b (b may be null). Returns 0, or -1 when oneDNN refused (the caller falls back).
int genlab_dnnl_conv_forward(const genlab_conv_shape *s, const float *x, const float *w, const float *b, float *y,
                             unsigned blocked);
/// dx = the input gradient for output gradient dy (overwrites dx).
int genlab_dnnl_conv_backward_data(const genlab_conv_shape *s, const float *dy, const float *w, float *dx,
                                   unsigned blocked);
/// dw (and db when not null) = the weight (and bias) gradients (overwritten).
int genlab_dnnl_conv_backward_weights(const genlab_conv_shape *s, const float *x, const float *dy, float *dw, float *db,
                                      unsigned blocked);

#endif
