// Internal: scalar helpers shared by the reference variants.
#ifndef VISIONC_KERNELS_SCALAR_H
#define VISIONC_KERNELS_SCALAR_H

#include "visionc_kernels.h"

// Same operand order as the SIMD max/min instructions (maxps(a, b) = a > b ? a : b), so a NaN
// or a signed zero comes out the same on every ISA.
static inline float vc_max_scalar(float a, float b) { return a > b ? a : b; }
static inline float vc_min_scalar(float a, float b) { return a < b ? a : b; }

static inline float vc_activate_scalar(float v, vc_activation act, float lo, float hi) {
    switch (act) {
    case VC_ACT_NONE: return v;
    case VC_ACT_RELU: return vc_max_scalar(v, 0.0f);
    case VC_ACT_CLIP: return vc_min_scalar(vc_max_scalar(v, lo), hi);
    }
    return v;
}

/// One element through an epilogue program (see vc_f32_epilogue).
static inline float vc_epilogue_scalar(float v, const vc_epilogue_op *ops, int op_count) {
    float saved = 0.0f;
    for (int k = 0; k < op_count; k++) {
        const vc_epilogue_op *op = &ops[k];
        switch (op->kind) {
        case VC_EPILOGUE_AFFINE: v = v * op->a + op->b; break;
        case VC_EPILOGUE_ACTIVATE: v = vc_activate_scalar(v + 0.0f, op->act, op->a, op->b); break;
        case VC_EPILOGUE_DIV: v = v / op->a; break;
        case VC_EPILOGUE_SAVE: saved = v; break;
        case VC_EPILOGUE_MUL_SAVED: v = saved * v; break;
        }
    }
    return v;
}

/// dst[i] = src[i*stride] for i < n.
static inline void vc_strided_copy_scalar(const float *src, int stride, float *dst, int n) {
    for (int i = 0; i < n; i++) dst[i] = src[(size_t)i * (size_t)stride];
}

#endif
