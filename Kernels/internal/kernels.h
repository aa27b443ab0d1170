// Internal: the per-ISA kernel variants and the dispatch table that selects among them.
// Variants are named vc_<family>__<isa> (XNNPACK style); each family folder has
// scalar.c (the reference), avx2.c and avx512.c.
#ifndef VISIONC_KERNELS_INTERNAL_H
#define VISIONC_KERNELS_INTERNAL_H

#include "visionc_kernels.h"

#include <stddef.h>
#include <stdint.h>

// Variants must agree bit for bit where the header promises it (a multiply then an add), so the
// compiler may not contract a*b+c into an FMA inside the FMA-enabled functions.
#pragma STDC FP_CONTRACT OFF

// Per-function ISA targets: the package builds for baseline x86-64, only these functions
// may use wider instructions, and dispatch.c calls them only after vc_cpu_detect agrees.
#define VC_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define VC_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))

// Elements per column chunk of the resize driver: bounds the stack scratch (a few tens of KiB)
// whatever the image width, so the resize kernels never allocate.
#define VC_RESIZE_CHUNK_ELEMS 1024
// Readable bytes past the end of a u8 chunk row: SIMD variants gather 32-bit words at byte
// offsets and keep the low byte.
#define VC_GATHER_PAD 4

#define VC_KERNEL_SIGNATURES(isa)                                                                  \
    void vc_f32_bias_act__##isa(float *y, const float *bias, size_t plane, int c_begin, int c_end,  \
                                vc_activation act, float lo, float hi);                            \
    void vc_f32_im2col__##isa(const float *x, int c, int h, int w, int kh, int kw, int stride_h,    \
                              int stride_w, int pad_top, int pad_left, int dil_h, int dil_w,         \
                              int oh, int ow, int oy_begin, int oy_end, float *col, int row_begin,  \
                              int row_end);                                                         \
    void vc_f32_max_pool2d__##isa(const float *x, int h, int w, float *y, int oh, int ow, int kh,   \
                                  int kw, int sh, int sw, int pt, int pl, int dh, int dw,           \
                                  int plane_begin, int plane_end);                                  \
    void vc_f32_avg_pool2d__##isa(const float *x, int h, int w, float *y, int oh, int ow, int kh,   \
                                  int kw, int sh, int sw, int pt, int pl, int pb, int pr, int dh,   \
                                  int dw, int count_include_pad, int plane_begin, int plane_end);   \
    void vc_f32_global_avg_pool__##isa(const float *x, size_t plane, float *y, int plane_begin,     \
                                       int plane_end);                                              \
    void vc_f32_binary__##isa(vc_binary_op op, const float *a, const float *b, float *y,            \
                              size_t begin, size_t end, vc_activation act, float lo, float hi);     \
    void vc_f32_softmax__##isa(const float *x, float *y, size_t cols, size_t row_begin,             \
                               size_t row_end);                                                     \
    void vc_u8_resize_hpass__##isa(const uint8_t *src_row, const int32_t *ofs0,                    \
                                   const int32_t *ofs1, const int16_t *alpha, int32_t *out,         \
                                   int n, int n_gather_safe);                                       \
    void vc_u8_resize_vblend__##isa(const int32_t *h0, const int32_t *h1, int b0, int b1,           \
                                    uint8_t *out, int n);                                           \
    void vc_u8_preprocess_store__##isa(const uint8_t *pixels, int npix, int src_channels,           \
                                       const int *channel_map, int out_channels,                    \
                                       const float *scale, const float *bias, int planar,           \
                                       size_t plane_stride, float *dst);                            \
    void vc_u8_to_f32__##isa(const uint8_t *x, float *y, size_t begin, size_t end);                 \
    void vc_f32_channel_affine_hwc__##isa(const float *x, float *y, size_t pixels_begin,            \
                                          size_t pixels_end, int channels, const float *scale,      \
                                          const float *bias);                                       \
    void vc_f32_hwc_to_chw__##isa(const float *x, float *y, int h, int w, int c, int row_begin,     \
                                  int row_end);                                                     \
    void vc_f32_chw_to_hwc__##isa(const float *x, float *y, int h, int w, int c, int row_begin,     \
                                  int row_end);                                                     \
    void vc_u8_hwc_to_chw__##isa(const uint8_t *x, uint8_t *y, int h, int w, int c,               \
                                 int row_begin, int row_end);                                       \
    void vc_f32_dwconv__##isa(const float *x, int h, int w, const float *weights, const float *bias, \
                              float *y, int oh, int ow, int kh, int kw, int sh, int sw, int pt,     \
                              int pl, int dh, int dw, vc_activation act, float lo, float hi,        \
                              const vc_epilogue_op *ops, int op_count, int c_begin, int c_end);    \
    void vc_f32_epilogue__##isa(float *y, size_t n, const vc_epilogue_op *ops, int op_count);      \
    void vc_f32_conv1x1__##isa(const float *packed, const float *x, float *y, int m, int n, int k,     \
                               const float *bias, vc_activation act, float lo, float hi,             \
                               const vc_epilogue_op *ops, int op_count, int p_begin, int p_end);    \
    void vc_f32_conv2d__##isa(const float *packed, const float *x, int c, int h, int w, int kh, int kw,   \
                              int pt, int pl, float *y, int m, int oh, int ow, const float *bias,       \
                              vc_activation act, float lo, float hi, const vc_epilogue_op *ops,          \
                              int op_count, int row_begin, int row_end);


VC_KERNEL_SIGNATURES(scalar)
VC_KERNEL_SIGNATURES(avx2)
VC_KERNEL_SIGNATURES(avx512)

// One row of function pointers per ISA. Row primitives of the resize family:
// - u8_resize_hpass: out[j] = src_row[ofs0[j]]*alpha[2j] + src_row[ofs1[j]]*alpha[2j+1] for j < n;
//   SIMD variants may read 4 bytes at an offset only for j < n_gather_safe.
// - u8_resize_vblend: OpenCV's u8 vertical blend of two horizontal rows (see the public header).
// - u8_preprocess_store: npix pixels (src_channels bytes each, VC_GATHER_PAD readable bytes
//   after the last) -> floats at dst; planar: dst[oc*plane_stride + x], else dst[x*out_channels + oc].
typedef struct vc_kernel_table {
    vc_isa isa;
    __typeof__(vc_f32_bias_act__scalar) *f32_bias_act;
    __typeof__(vc_f32_im2col__scalar) *f32_im2col;
    __typeof__(vc_f32_max_pool2d__scalar) *f32_max_pool2d;
    __typeof__(vc_f32_avg_pool2d__scalar) *f32_avg_pool2d;
    __typeof__(vc_f32_global_avg_pool__scalar) *f32_global_avg_pool;
    __typeof__(vc_f32_binary__scalar) *f32_binary;
    __typeof__(vc_f32_softmax__scalar) *f32_softmax;
    __typeof__(vc_u8_resize_hpass__scalar) *u8_resize_hpass;
    __typeof__(vc_u8_resize_vblend__scalar) *u8_resize_vblend;
    __typeof__(vc_u8_preprocess_store__scalar) *u8_preprocess_store;
    __typeof__(vc_u8_to_f32__scalar) *u8_to_f32;
    __typeof__(vc_f32_channel_affine_hwc__scalar) *f32_channel_affine_hwc;
    __typeof__(vc_f32_hwc_to_chw__scalar) *f32_hwc_to_chw;
    __typeof__(vc_f32_chw_to_hwc__scalar) *f32_chw_to_hwc;
    __typeof__(vc_u8_hwc_to_chw__scalar) *u8_hwc_to_chw;
    __typeof__(vc_f32_dwconv__scalar) *f32_dwconv;
    __typeof__(vc_f32_epilogue__scalar) *f32_epilogue;
    __typeof__(vc_f32_conv1x1__scalar) *f32_conv1x1;
    __typeof__(vc_f32_conv2d__scalar) *f32_conv2d;
} vc_kernel_table;

/// The table of the ISA selected by vc_kernels_init (or by detection on first use).
const vc_kernel_table *vc_kernels(void);

#endif
