// visionc C kernels: the hot loops of the runtime, with scalar / AVX2 / AVX-512 variants
// chosen once at start-up (see Kernels/dispatch.c). All arrays are row-major.
//
// Tiling contract: every kernel that takes a [begin, end) range of rows / planes / elements
// touches only that range of its output, so callers may split one call over threads on
// disjoint ranges. Kernels never allocate and keep no state between calls.
//
// Preconditions (sizes, channel counts, non-null pointers) are checked by the Swift
// wrappers in module `Kernels`; the C functions trust their arguments.
#ifndef VISIONC_KERNELS_H
#define VISIONC_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - CPU detection and dispatch

typedef enum { VC_ISA_SCALAR = 0, VC_ISA_AVX2 = 1, VC_ISA_AVX512 = 2 } vc_isa;

/// Best ISA this CPU and OS support (cpuid feature bits + xgetbv for saved ymm/zmm state).
/// AVX2 means AVX2+FMA; AVX512 means AVX-512 F+BW+DQ+VL.
vc_isa vc_cpu_detect(void);
/// (Re)selects the kernel variants: the best one <= min(max_isa, vc_cpu_detect()).
/// Kernels called before any init use vc_cpu_detect()'s choice.
void vc_kernels_init(vc_isa max_isa);
/// ISA of the variants currently dispatched.
vc_isa vc_kernels_isa(void);
/// "scalar" | "avx2" | "avx512" ("unknown" for a value outside the enum).
const char *vc_isa_name(vc_isa isa);
/// CPU brand string from cpuid leaves 0x80000002..4, trimmed ("unknown" if unavailable).
const char *vc_cpu_model(void);

// MARK: - OpenBLAS (loaded at run time)

/// Loads libopenblas.so.0 with dlopen after setting OPENBLAS_CORETYPE from vc_cpu_detect()
/// (SkylakeX for AVX-512, Haswell for AVX2) unless the environment already sets it.
/// Idempotent and thread-safe. Returns 0 on success, else -1 with a message in err.
int vc_blas_load(char *err, size_t err_len);
/// openblas_get_corename() / openblas_get_config(), loading the library if needed; "" when it
/// cannot be loaded.
const char *vc_blas_core_name(void);
const char *vc_blas_config(void);
/// openblas_set_num_threads(n), loading the library if needed; no effect when it cannot be loaded.
void vc_blas_set_threads(int n);
/// Row-major cblas_sgemm: C = alpha * op(A) * op(B) + beta * C, op(A) is m x k, op(B) is k x n.
/// Requires a successful vc_blas_load (aborts with a message otherwise: a programming error).
void vc_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc);

// MARK: - f32 elementwise and model kernels

typedef enum { VC_ACT_NONE = 0, VC_ACT_RELU = 1, VC_ACT_CLIP = 2 } vc_activation;

/// GEMM epilogue. y is [channels, plane]; for c in [c_begin, c_end):
/// y[c,:] = act(y[c,:] + (bias ? bias[c] : 0)). RELU is max(v, 0); CLIP is min(max(v, lo), hi)
/// (NaN maps to lo, like the SIMD max instruction).
void vc_f32_bias_act(float *y, const float *bias, size_t plane, int c_begin, int c_end,
                     vc_activation act, float lo, float hi);

/// x is one image [c, h, w]; col is [c*kh*kw, (oy_end - oy_begin)*ow]: the columns of output
/// rows [oy_begin, oy_end) (all of them for 0, oh). Fills col rows [row_begin, row_end),
/// row r = (ch*kh + ky)*kw + kx, with x[ch, oy*stride_h + ky*dil_h - pad_top,
/// ox*stride_w + kx*dil_w - pad_left], 0 outside the image.
void vc_f32_im2col(const float *x, int c, int h, int w, int kh, int kw, int stride_h, int stride_w,
                   int pad_top, int pad_left, int dil_h, int dil_w, int oh, int ow, int oy_begin, int oy_end,
                   float *col, int row_begin, int row_end);

/// NCHW pooling over planes [plane_begin, plane_end) of x (each h*w) into y (each oh*ow).
/// Max pool pads with -inf (padding never wins).
void vc_f32_max_pool2d(const float *x, int h, int w, float *y, int oh, int ow, int kh, int kw,
                       int sh, int sw, int pt, int pl, int dh, int dw, int plane_begin, int plane_end);
/// Max pool that also writes each maximum's index into the whole input, flattened row-major
/// (N, C, H, W) or, with column_major, (N, C, W, H) (ONNX MaxPool's Indices, storage_order);
/// the first maximum in window order wins. Scalar only.
void vc_f32_max_pool2d_indices(const float *x, int h, int w, float *y, int64_t *indices, int oh, int ow, int kh,
                               int kw, int sh, int sw, int pt, int pl, int dh, int dw, int column_major,
                               int plane_begin, int plane_end);
/// Average pool (pads pt, pl, pb, pr: top, left, bottom, right); with count_include_pad the
/// divisor is the number of window taps inside the padded image (a ceil-mode window's taps
/// past the bottom/right padding are not counted), else the number inside the image.
void vc_f32_avg_pool2d(const float *x, int h, int w, float *y, int oh, int ow, int kh, int kw,
                       int sh, int sw, int pt, int pl, int pb, int pr, int dh, int dw, int count_include_pad,
                       int plane_begin, int plane_end);
/// y[p] = mean of x[p*plane ..< (p+1)*plane] for p in [plane_begin, plane_end).
void vc_f32_global_avg_pool(const float *x, size_t plane, float *y, int plane_begin, int plane_end);

/// One step of an elementwise epilogue program (vc_f32_epilogue), each mirroring the kernel
/// that runs the same op as its own node, so the fused result is bit for bit the unfused one:
/// AFFINE v = v*a + b (multiply, then add: how add/sub/mul by a scalar run); ACTIVATE
/// v = act(v + 0) with lo = a, hi = b (vc_f32_bias_act without bias: relu, clip, and an add's
/// fused activation); DIV v = v / a; SAVE s = v; MUL_SAVED v = s * v (HardSwish's x * gate(x)).
typedef enum {
    VC_EPILOGUE_AFFINE = 0,
    VC_EPILOGUE_ACTIVATE = 1,
    VC_EPILOGUE_DIV = 2,
    VC_EPILOGUE_SAVE = 3,
    VC_EPILOGUE_MUL_SAVED = 4,
} vc_epilogue_kind;

typedef struct vc_epilogue_op {
    vc_epilogue_kind kind;
    vc_activation act;
    float a, b;
} vc_epilogue_op;

/// Direct depthwise convolution (one filter per channel, multiplier 1) of one image [c, h, w]
/// into y [c, oh, ow], for channels [c_begin, c_end): y[c, oy, ox] = act(bias[c] + sum over
/// ky, kx of weights[c, ky, kx] * x[c, oy*sh + ky*dh - pt, ox*sw + kx*dw - pl]), taps outside
/// the image skipped. bias may be NULL. SIMD variants fuse multiply-adds, so they agree with
/// the scalar reference up to rounding; 3x3 and 5x5 kernels at stride 1 and 2 have unrolled paths.
/// The epilogue program `ops` (may be empty) runs on each output before it is stored.
void vc_f32_dwconv(const float *x, int h, int w, const float *weights, const float *bias, float *y, int oh, int ow,
                   int kh, int kw, int sh, int sw, int pt, int pl, int dh, int dw, vc_activation act, float lo,
                   float hi, const vc_epilogue_op *ops, int op_count, int c_begin, int c_end);

/// Runs the ops in order on every element of y[0, n), in place (at most one SAVE is live).
void vc_f32_epilogue(float *y, size_t n, const vc_epilogue_op *ops, int op_count);

/// Rows per block of the packed pointwise-conv weights.
#define VC_CONV1X1_ROWS 8

/// Floats of the packed weights of an m x k pointwise conv: m rounded up to VC_CONV1X1_ROWS, times k.
size_t vc_f32_conv1x1_packed_count(int m, int k);
/// Packs w [m, k] (row-major) for vc_f32_conv1x1: blocks of VC_CONV1X1_ROWS rows, each [k, rows]
/// (k-major, so one k step reads the block's weights contiguously), rows past m zero.
void vc_f32_conv1x1_pack(const float *w, int m, int k, float *packed);
/// Pointwise convolution of one image as a GEMM with no packing of x:
/// y[o, p] = act(sum over i of w[o, i] * x[i, p] + (bias ? bias[o] : 0)) for every o < m and
/// p in [p_begin, p_end); x is [k, n], y is [m, n] (row-major), packed from vc_f32_conv1x1_pack.
/// The sums run over i in order; SIMD variants fuse multiply-adds, so they agree with the scalar
/// reference up to rounding. The epilogue program `ops` (may be empty) then runs on each output
/// before it is stored, exactly as vc_f32_epilogue would run it.
void vc_f32_conv1x1(const float *packed, const float *x, float *y, int m, int n, int k, const float *bias,
                    vc_activation act, float lo, float hi, const vc_epilogue_op *ops, int op_count, int p_begin,
                    int p_end);

/// Widest kernel vc_f32_conv2d takes.
#define VC_CONV2D_MAX_KW 8

/// Direct convolution of one image, stride 1, dilation 1, group 1, without im2col: x is
/// [c, h, w], y is [m, oh, ow], packed from vc_f32_conv1x1_pack of the weights as an
/// m x (c*kh*kw) matrix (kw <= VC_CONV2D_MAX_KW). For output rows [row_begin, row_end):
/// y[o, oy, ox] = program(act(sum over (ch, ky, kx) in order of w[o, ch, ky, kx] *
/// x[ch, oy + ky - pt, ox + kx - pl] + bias[o])), taps outside the image skipped. SIMD
/// variants fuse multiply-adds, so they agree with the scalar reference up to rounding.
void vc_f32_conv2d(const float *packed, const float *x, int c, int h, int w, int kh, int kw, int pt, int pl,
                   float *y, int m, int oh, int ow, const float *bias, vc_activation act, float lo, float hi,
                   const vc_epilogue_op *ops, int op_count, int row_begin, int row_end);

typedef enum { VC_BINARY_ADD = 0, VC_BINARY_SUB = 1, VC_BINARY_MUL = 2, VC_BINARY_DIV = 3 } vc_binary_op;

/// y[i] = act(a[i] op b[i]) for i in [begin, end); same shapes; y may alias a or b.
void vc_f32_binary(vc_binary_op op, const float *a, const float *b, float *y, size_t begin, size_t end,
                   vc_activation act, float lo, float hi);
/// vc_f32_binary with VC_BINARY_ADD (the residual-add epilogue).
void vc_f32_add_act(const float *a, const float *b, float *y, size_t begin, size_t end,
                    vc_activation act, float lo, float hi);

/// Rows [row_begin, row_end) of x[rows, cols] -> y: y = exp(x - max) / sum(exp(x - max)).
/// y may alias x. SIMD variants use a polynomial exp (about 2 ulp).
void vc_f32_softmax(const float *x, float *y, size_t cols, size_t row_begin, size_t row_end);

// MARK: - u8 resize and the fused preprocess

/// Largest channel count accepted by the resize, preprocess and channel-affine kernels.
#define VC_MAX_CHANNELS 64

/// Interpolation with OpenCV cv2.resize semantics on u8:
/// NEAREST = INTER_NEAREST: sx = min(floor(dx * src_w/dst_w), src_w-1).
/// BILINEAR = INTER_LINEAR: sx = (dx+0.5)*src_w/dst_w - 0.5 clamped to the border, 11-bit
/// fixed-point weights, and OpenCV's SIMD rounding of the vertical blend:
/// (((h0>>4)*b0 >> 16) + ((h1>>4)*b1 >> 16) + 2) >> 2, where h0/h1 are the horizontal sums.
/// AREA = INTER_AREA: box weights (the overlap of each source pixel with the output pixel's
/// footprint) when neither axis upscales, else OpenCV's area-mode two-tap weights; within ±1 of
/// cv2 (22-bit weights, horizontal pass rounded to u8 first).
/// ANTIALIAS_BILINEAR = Pillow's Image.resize(BILINEAR): the triangle filter widened by the
/// scale when downscaling, Pillow's 22-bit weights and rounding, and Pillow 13's pass order:
/// horizontal first unless the height shrinks by more than twice as many pixels as the width.
/// LANCZOS = Pillow's Image.resize(LANCZOS): the same arithmetic with Pillow's lanczos3 filter
/// (support 3, widened by the scale when downscaling).
typedef enum {
    VC_INTERP_NEAREST = 0,
    VC_INTERP_BILINEAR = 1,
    VC_INTERP_AREA = 2,
    VC_INTERP_ANTIALIAS_BILINEAR = 3,
    VC_INTERP_LANCZOS = 4,
} vc_interp;

/// Source and destination geometry of one resize (+ crop) shape: the source (src_h x src_w) is
/// resized to (dst_h x dst_w) and only rows [roi_y, roi_y+roi_h) x cols [roi_x, roi_x+roi_w)
/// of that resized image are produced. Holds index and weight tables for the ROI only;
/// immutable after creation, so one plan may be used by many threads at once.
typedef struct vc_resize_plan vc_resize_plan;
/// NULL when a size is < 1, the ROI is not inside the resized image, or memory runs out.
vc_resize_plan *vc_resize_plan_create(int src_h, int src_w, int dst_h, int dst_w,
                                      int roi_y, int roi_x, int roi_h, int roi_w, vc_interp interp);
void vc_resize_plan_destroy(vc_resize_plan *plan);
/// The source rows [*row_begin, *row_end) and columns [*col_begin, *col_end) that the resize
/// and preprocess kernels read for this plan's ROI (every tap, zero-weight ones included): a
/// source whose pixels are right inside this window gives the same output as a whole one.
void vc_resize_plan_source_window(const vc_resize_plan *plan, int *row_begin, int *row_end, int *col_begin,
                                  int *col_end);

/// Writes u8 rows [row_begin, row_end) of the ROI (0-based within the ROI) of the resized
/// HWC image: ROI row y goes to dst + y*dst_stride (dst is the whole ROI image).
/// channels in [1, VC_MAX_CHANNELS]. Returns 0, or -1 when the filter kinds cannot allocate
/// their scratch rows (the two-tap kinds never allocate).
int vc_u8_resize(const vc_resize_plan *plan, const uint8_t *src, size_t src_stride, int channels,
                 uint8_t *dst, size_t dst_stride, int row_begin, int row_end);

/// Fused resize + crop + channel select + cast + normalize + layout. For each ROI pixel the u8
/// value is interpolated exactly as vc_u8_resize does (bit for bit), then for output channel oc:
/// v = (float)u8[channel_map[oc]] * scale[oc] + bias[oc] (a multiply then an add, never fused,
/// so every ISA gives the same bits), written planar (dst[oc*roi_h*roi_w + y*roi_w + x]) when
/// planar != 0, else interleaved (dst[(y*roi_w + x)*out_channels + oc]). dst is the whole ROI
/// tensor; only rows [row_begin, row_end) are written. src_channels, out_channels in
/// [1, VC_MAX_CHANNELS]; channel_map entries in [0, src_channels). Returns as vc_u8_resize.
int vc_u8_preprocess(const vc_resize_plan *plan, const uint8_t *src, size_t src_stride, int src_channels,
                     const int *channel_map, int out_channels, const float *scale, const float *bias,
                     int planar, float *dst, int row_begin, int row_end);

// MARK: - Unfused-path helpers

/// y[i] = (float)x[i] for i in [begin, end).
void vc_u8_to_f32(const uint8_t *x, float *y, size_t begin, size_t end);
/// Interleaved per-channel affine over pixels [pixels_begin, pixels_end):
/// y[p*channels + c] = x[p*channels + c] * scale[c] + bias[c] (multiply then add, never fused).
/// channels in [1, VC_MAX_CHANNELS]; y may alias x.
void vc_f32_channel_affine_hwc(const float *x, float *y, size_t pixels_begin, size_t pixels_end,
                               int channels, const float *scale, const float *bias);
/// HWC [h, w, c] -> CHW [c, h, w] for image rows [row_begin, row_end). y must not alias x.
void vc_f32_hwc_to_chw(const float *x, float *y, int h, int w, int c, int row_begin, int row_end);
void vc_u8_hwc_to_chw(const uint8_t *x, uint8_t *y, int h, int w, int c, int row_begin, int row_end);
/// CHW [c, h, w] -> HWC [h, w, c] for image rows [row_begin, row_end) (a model's NCHW input
/// handed to channels-last convs). y must not alias x.
void vc_f32_chw_to_hwc(const float *x, float *y, int h, int w, int c, int row_begin, int row_end);

#ifdef __cplusplus
}
#endif

#endif
