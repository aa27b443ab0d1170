// CPU detection and the one dispatch table: filled on first use (or by vc_kernels_init) with
// the best variants the CPU and OS support, cascading AVX-512 -> AVX2 -> scalar.
#include "internal/kernels.h"

#include <cpuid.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

// MARK: - CPU detection

static uint64_t read_xcr0(void) {
    uint32_t eax, edx;
    // Inline asm instead of _xgetbv so the file needs no -mxsave; only called when OSXSAVE is set.
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

vc_isa vc_cpu_detect(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return VC_ISA_SCALAR;
    const int osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1, fma = (ecx >> 12) & 1;
    if (!osxsave || !avx) return VC_ISA_SCALAR;
    const uint64_t xcr0 = read_xcr0();
    // The OS must save xmm+ymm state (bits 1,2), and for AVX-512 also opmask/zmm (bits 5,6,7).
    if ((xcr0 & 0x6) != 0x6) return VC_ISA_SCALAR;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return VC_ISA_SCALAR;
    const int avx2 = (ebx >> 5) & 1;
    const int avx512 = ((ebx >> 16) & 1) && ((ebx >> 17) & 1) && ((ebx >> 30) & 1) && ((ebx >> 31) & 1);
    if (avx512 && avx2 && fma && (xcr0 & 0xE0) == 0xE0) return VC_ISA_AVX512;
    if (avx2 && fma) return VC_ISA_AVX2;
    return VC_ISA_SCALAR;
}

const char *vc_isa_name(vc_isa isa) {
    switch (isa) {
    case VC_ISA_SCALAR: return "scalar";
    case VC_ISA_AVX2: return "avx2";
    case VC_ISA_AVX512: return "avx512";
    }
    return "unknown";
}

static char cpu_model[49];
static pthread_once_t cpu_model_once = PTHREAD_ONCE_INIT;

static void read_cpu_model(void) {
    unsigned regs[12];
    if (__get_cpuid_max(0x80000000u, NULL) < 0x80000004u) {
        strcpy(cpu_model, "unknown");
        return;
    }
    for (unsigned i = 0; i < 3; i++)
        __get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
    memcpy(cpu_model, regs, 48);
    cpu_model[48] = 0;
    // The brand string is padded with leading / trailing spaces on many CPUs.
    size_t start = 0, end = strlen(cpu_model);
    while (start < end && cpu_model[start] == ' ') start++;
    while (end > start && cpu_model[end - 1] == ' ') end--;
    memmove(cpu_model, cpu_model + start, end - start);
    cpu_model[end - start] = 0;
    if (cpu_model[0] == 0) strcpy(cpu_model, "unknown");
}

const char *vc_cpu_model(void) {
    pthread_once(&cpu_model_once, read_cpu_model);
    return cpu_model;
}

// MARK: - Dispatch table

#define VC_TABLE(isa_enum, suffix)                                       \
    {                                                                 \
        .isa = isa_enum,                                              \
        .f32_bias_act = vc_f32_bias_act__##suffix,                       \
        .f32_im2col = vc_f32_im2col__##suffix,                           \
        .f32_max_pool2d = vc_f32_max_pool2d__##suffix,                   \
        .f32_avg_pool2d = vc_f32_avg_pool2d__##suffix,                   \
        .f32_global_avg_pool = vc_f32_global_avg_pool__##suffix,         \
        .f32_binary = vc_f32_binary__##suffix,                           \
        .f32_softmax = vc_f32_softmax__##suffix,                         \
        .u8_resize_hpass = vc_u8_resize_hpass__##suffix,                 \
        .u8_resize_vblend = vc_u8_resize_vblend__##suffix,               \
        .u8_preprocess_store = vc_u8_preprocess_store__##suffix,         \
        .u8_to_f32 = vc_u8_to_f32__##suffix,                             \
        .f32_channel_affine_hwc = vc_f32_channel_affine_hwc__##suffix,   \
        .f32_hwc_to_chw = vc_f32_hwc_to_chw__##suffix,                   \
        .f32_chw_to_hwc = vc_f32_chw_to_hwc__##suffix,                   \
        .u8_hwc_to_chw = vc_u8_hwc_to_chw__##suffix,                     \
        .f32_dwconv = vc_f32_dwconv__##suffix,                           \
        .f32_epilogue = vc_f32_epilogue__##suffix,                       \
        .f32_conv1x1 = vc_f32_conv1x1__##suffix,                         \
        .f32_conv2d = vc_f32_conv2d__##suffix,                           \
    }

static const vc_kernel_table tables[3] = {
    VC_TABLE(VC_ISA_SCALAR, scalar),
    VC_TABLE(VC_ISA_AVX2, avx2),
    VC_TABLE(VC_ISA_AVX512, avx512),
};

static _Atomic(const vc_kernel_table *) active_table;

void vc_kernels_init(vc_isa max_isa) {
    vc_isa isa = vc_cpu_detect();
    if (max_isa < isa) isa = max_isa;
    if (isa < VC_ISA_SCALAR) isa = VC_ISA_SCALAR;
    atomic_store_explicit(&active_table, &tables[isa], memory_order_release);
}

const vc_kernel_table *vc_kernels(void) {
    const vc_kernel_table *table = atomic_load_explicit(&active_table, memory_order_acquire);
    if (table) return table;
    // First use without an explicit init: every racing thread computes the same answer,
    // and an explicit vc_kernels_init that got there first wins.
    const vc_kernel_table *expected = NULL;
    atomic_compare_exchange_strong(&active_table, &expected, &tables[vc_cpu_detect()]);
    return atomic_load_explicit(&active_table, memory_order_acquire);
}

vc_isa vc_kernels_isa(void) { return vc_kernels()->isa; }

// MARK: - Public entry points of the table-dispatched families

void vc_f32_bias_act(float *y, const float *bias, size_t plane, int c_begin, int c_end,
                     vc_activation act, float lo, float hi) {
    vc_kernels()->f32_bias_act(y, bias, plane, c_begin, c_end, act, lo, hi);
}

void vc_f32_im2col(const float *x, int c, int h, int w, int kh, int kw, int stride_h, int stride_w,
                   int pad_top, int pad_left, int dil_h, int dil_w, int oh, int ow, int oy_begin, int oy_end,
                   float *col, int row_begin, int row_end) {
    vc_kernels()->f32_im2col(x, c, h, w, kh, kw, stride_h, stride_w, pad_top, pad_left, dil_h, dil_w,
                             oh, ow, oy_begin, oy_end, col, row_begin, row_end);
}

void vc_f32_conv1x1(const float *packed, const float *x, float *y, int m, int n, int k, const float *bias,
                    vc_activation act, float lo, float hi, const vc_epilogue_op *ops, int op_count, int p_begin,
                    int p_end) {
    vc_kernels()->f32_conv1x1(packed, x, y, m, n, k, bias, act, lo, hi, ops, op_count, p_begin, p_end);
}

void vc_f32_conv2d(const float *packed, const float *x, int c, int h, int w, int kh, int kw, int pt, int pl,
                   float *y, int m, int oh, int ow, const float *bias, vc_activation act, float lo, float hi,
                   const vc_epilogue_op *ops, int op_count, int row_begin, int row_end) {
    vc_kernels()->f32_conv2d(packed, x, c, h, w, kh, kw, pt, pl, y, m, oh, ow, bias, act, lo, hi, ops, op_count,
                             row_begin, row_end);
}

void vc_f32_epilogue(float *y, size_t n, const vc_epilogue_op *ops, int op_count) {
    vc_kernels()->f32_epilogue(y, n, ops, op_count);
}

void vc_f32_max_pool2d(const float *x, int h, int w, float *y, int oh, int ow, int kh, int kw,
                       int sh, int sw, int pt, int pl, int dh, int dw, int plane_begin, int plane_end) {
    vc_kernels()->f32_max_pool2d(x, h, w, y, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw, plane_begin, plane_end);
}

void vc_f32_avg_pool2d(const float *x, int h, int w, float *y, int oh, int ow, int kh, int kw,
                       int sh, int sw, int pt, int pl, int pb, int pr, int dh, int dw, int count_include_pad,
                       int plane_begin, int plane_end) {
    vc_kernels()->f32_avg_pool2d(x, h, w, y, oh, ow, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, count_include_pad,
                                 plane_begin, plane_end);
}

void vc_f32_global_avg_pool(const float *x, size_t plane, float *y, int plane_begin, int plane_end) {
    vc_kernels()->f32_global_avg_pool(x, plane, y, plane_begin, plane_end);
}

void vc_f32_binary(vc_binary_op op, const float *a, const float *b, float *y, size_t begin, size_t end,
                   vc_activation act, float lo, float hi) {
    vc_kernels()->f32_binary(op, a, b, y, begin, end, act, lo, hi);
}

void vc_f32_add_act(const float *a, const float *b, float *y, size_t begin, size_t end,
                    vc_activation act, float lo, float hi) {
    vc_kernels()->f32_binary(VC_BINARY_ADD, a, b, y, begin, end, act, lo, hi);
}

void vc_f32_softmax(const float *x, float *y, size_t cols, size_t row_begin, size_t row_end) {
    vc_kernels()->f32_softmax(x, y, cols, row_begin, row_end);
}

void vc_u8_to_f32(const uint8_t *x, float *y, size_t begin, size_t end) {
    vc_kernels()->u8_to_f32(x, y, begin, end);
}

void vc_f32_channel_affine_hwc(const float *x, float *y, size_t pixels_begin, size_t pixels_end,
                               int channels, const float *scale, const float *bias) {
    vc_kernels()->f32_channel_affine_hwc(x, y, pixels_begin, pixels_end, channels, scale, bias);
}

void vc_f32_hwc_to_chw(const float *x, float *y, int h, int w, int c, int row_begin, int row_end) {
    vc_kernels()->f32_hwc_to_chw(x, y, h, w, c, row_begin, row_end);
}

void vc_f32_chw_to_hwc(const float *x, float *y, int h, int w, int c, int row_begin, int row_end) {
    vc_kernels()->f32_chw_to_hwc(x, y, h, w, c, row_begin, row_end);
}

void vc_u8_hwc_to_chw(const uint8_t *x, uint8_t *y, int h, int w, int c, int row_begin, int row_end) {
    vc_kernels()->u8_hwc_to_chw(x, y, h, w, c, row_begin, row_end);
}

void vc_f32_dwconv(const float *x, int h, int w, const float *weights, const float *bias, float *y, int oh, int ow,
                   int kh, int kw, int sh, int sw, int pt, int pl, int dh, int dw, vc_activation act, float lo,
                   float hi, const vc_epilogue_op *ops, int op_count, int c_begin, int c_end) {
    vc_kernels()->f32_dwconv(x, h, w, weights, bias, y, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw, act, lo, hi, ops,
                             op_count, c_begin, c_end);
}
