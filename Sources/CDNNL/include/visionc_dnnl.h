// visionc's shim over oneDNN's C API: the convolutions and poolings of the `dnnl` backend.
//
// oneDNN is loaded with dlopen (libdnnl.so.2) the first time it is asked for, so a build
// machine with its headers makes a binary that still runs (on the `native` backend) where the
// library is absent, and GNU OpenMP's settings can be chosen before libgomp reads them. The
// shim compiles against the 2.x C API (Debian 12's 2.6); other major versions build a shim
// that reports itself unavailable, until their changed API (3.x dropped op descriptors) is
// added beside it.
//
// Everything expensive happens in the *_create functions, once per plan: primitive
// descriptors, JIT code, weights reordered into the layout the kernel picked. The *_run
// functions only bind pointers and execute, on the calling thread's OpenMP team.
#ifndef VISIONC_DNNL_H
#define VISIONC_DNNL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Loads oneDNN (idempotent, thread-safe). 0 on success, else -1 with the reason in err.
int vc_dnnl_load(char *err, size_t err_len);
/// "2.6.3" or "" when not loaded.
const char *vc_dnnl_version(void);
/// oneDNN's effective ISA name ("avx512_core_bf16", …) or "" when not loaded.
const char *vc_dnnl_isa(void);
/// Whether the CPU runs oneDNN's bf16 kernels natively (AVX512-BF16 or AMX), by its ISA detection.
int vc_dnnl_has_bf16(void);
/// Sets the OpenMP team size of the calling thread's oneDNN calls (omp_set_num_threads).
void vc_dnnl_set_threads(int threads);

/// One fused post-op of a convolution, applied in order to each output element.
typedef enum {
    VC_DNNL_POST_RELU = 0,       // max(x, 0)
    VC_DNNL_POST_CLIP = 1,       // min(max(x, alpha), beta)
    VC_DNNL_POST_LINEAR = 2,     // alpha * x + beta
    VC_DNNL_POST_HARDSWISH = 3,  // x * min(max(x + 3, 0), 6) / 6
    VC_DNNL_POST_SIGMOID = 4,    // 1 / (1 + exp(-x))
    VC_DNNL_POST_ADD = 5,        // x + residual[same index]: the tensor passed to vc_dnnl_conv_run
} vc_dnnl_post_kind;

typedef struct {
    vc_dnnl_post_kind kind;
    float alpha, beta;
} vc_dnnl_post_op;

/// A 2-D convolution. Activations are NCHW or NHWC (`nhwc`) in memory the caller owns, f32
/// unless `src_bf16` / `dst_bf16` say bf16; weights [M, C/groups, KH, KW] f32 are reordered
/// into the kernel's layout (copied: the pointer need not outlive the create call). `bf16`:
/// weights and source in bf16 (an f32 source converted on each run), f32 accumulation.
/// The residual of VC_DNNL_POST_ADD is f32.
typedef struct {
    int batch, in_channels, in_height, in_width;
    int out_channels, out_height, out_width, groups;
    int kernel_height, kernel_width, stride_height, stride_width, dilation_height, dilation_width;
    int pad_top, pad_left, pad_bottom, pad_right;
    int nhwc, bf16, src_bf16, dst_bf16;
    /// A transposed convolution (ONNX ConvTranspose, oneDNN's deconvolution): weights are
    /// [C, M/groups, KH, KW] instead.
    int transposed;
    const float *weights;
    const float *bias;  // [M] or NULL
    const vc_dnnl_post_op *post_ops;
    int post_op_count;  // at most one VC_DNNL_POST_ADD
} vc_dnnl_conv_params;

typedef struct vc_dnnl_primitive vc_dnnl_primitive;

/// 0 on success (*out set), else -1 with oneDNN's status and the failing call in err.
int vc_dnnl_conv_create(const vc_dnnl_conv_params *params, vc_dnnl_primitive **out, char *err, size_t err_len);

typedef enum { VC_DNNL_POOL_MAX = 0, VC_DNNL_POOL_AVG_INCLUDE_PAD = 1, VC_DNNL_POOL_AVG_EXCLUDE_PAD = 2 } vc_dnnl_pool_kind;

/// A 2-D max or average pooling (global average pooling: the whole plane as one window).
typedef struct {
    int batch, channels, in_height, in_width, out_height, out_width;
    int kernel_height, kernel_width, stride_height, stride_width;
    int pad_top, pad_left, pad_bottom, pad_right;
    int nhwc;
    vc_dnnl_pool_kind kind;
} vc_dnnl_pool_params;

int vc_dnnl_pool_create(const vc_dnnl_pool_params *params, vc_dnnl_primitive **out, char *err, size_t err_len);

/// Bytes of scratch one run needs (oneDNN's scratchpad and, for bf16, the converted source);
/// the caller passes that many bytes, 64-byte aligned, to each run.
size_t vc_dnnl_scratch_bytes(const vc_dnnl_primitive *primitive);
/// The implementation oneDNN picked ("brgconv:avx512_core", "jit:avx512_core", …).
const char *vc_dnnl_implementation(const vc_dnnl_primitive *primitive);

/// Runs on src → dst (residual: the VC_DNNL_POST_ADD operand, else NULL). 0, or -1 with err.
int vc_dnnl_run(vc_dnnl_primitive *primitive, const void *src, void *dst, const float *residual, void *scratch,
                char *err, size_t err_len);

void vc_dnnl_destroy(vc_dnnl_primitive *primitive);

#ifdef __cplusplus
}
#endif

#endif
