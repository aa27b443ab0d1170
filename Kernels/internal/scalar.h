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

/// dst[i] = src[i*stride] for i < n.
static inline void vc_strided_copy_scalar(const float *src, int stride, float *dst, int n) {
    for (int i = 0; i < n; i++) dst[i] = src[(size_t)i * (size_t)stride];
}

#endif
