// Internal: AVX-512 (F+BW+DQ+VL) helpers shared by the avx512.c variants.
#ifndef VISIONC_KERNELS_AVX512_H
#define VISIONC_KERNELS_AVX512_H

#include "kernels.h"

#include <immintrin.h>

static inline VC_TARGET_AVX512 __m512 vc_activate_avx512(__m512 v, vc_activation act, __m512 lo, __m512 hi) {
    switch (act) {
    case VC_ACT_NONE: return v;
    case VC_ACT_RELU: return _mm512_max_ps(v, _mm512_setzero_ps());
    case VC_ACT_CLIP: return _mm512_min_ps(_mm512_max_ps(v, lo), hi);
    }
    return v;
}

// Same algorithm and constants as vc_exp_avx2 (see internal/avx2.h).
static inline VC_TARGET_AVX512 __m512 vc_exp_avx512(__m512 x) {
    const __mmask16 keep = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.33654f), _CMP_GE_OQ);
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.33654f)), _mm512_set1_ps(88.72283f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    const __m512i pow2n = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_maskz_mul_ps(keep, p, _mm512_castsi512_ps(pow2n));
}

// One vector through an epilogue program (see vc_f32_epilogue), for kernels that run it on
// their results before storing them.
static inline VC_TARGET_AVX512 __m512 vc_epilogue_avx512(__m512 v, const vc_epilogue_op *ops, int op_count) {
    __m512 saved = _mm512_setzero_ps();
    for (int k = 0; k < op_count; k++) {
        const vc_epilogue_op *op = &ops[k];
        const __m512 a = _mm512_set1_ps(op->a), b = _mm512_set1_ps(op->b);
        switch (op->kind) {
        case VC_EPILOGUE_AFFINE: v = _mm512_add_ps(_mm512_mul_ps(v, a), b); break;
        case VC_EPILOGUE_ACTIVATE:
            v = vc_activate_avx512(_mm512_add_ps(v, _mm512_setzero_ps()), op->act, a, b);
            break;
        case VC_EPILOGUE_DIV: v = _mm512_div_ps(v, a); break;
        case VC_EPILOGUE_SAVE: saved = v; break;
        case VC_EPILOGUE_MUL_SAVED: v = _mm512_mul_ps(saved, v); break;
        }
    }
    return v;
}

// Lanes [0, n) set, for masked loads and stores of a tail of n < 16 elements.
static inline VC_TARGET_AVX512 __mmask16 vc_tail_mask_avx512(size_t n) {
    return (__mmask16)((1u << n) - 1u);
}

// dst[i] = src[i*stride] for i < n; unit stride is a vector copy, other strides gather.
static inline VC_TARGET_AVX512 void vc_strided_copy_avx512(const float *src, int stride, float *dst, int n) {
    int i = 0;
    if (stride == 1) {
        for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, _mm512_loadu_ps(src + i));
        if (i < n) {
            const __mmask16 mask = vc_tail_mask_avx512((size_t)(n - i));
            _mm512_mask_storeu_ps(dst + i, mask, _mm512_maskz_loadu_ps(mask, src + i));
        }
        return;
    }
    const __m512i index = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(stride));
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, _mm512_i32gather_ps(index, src + (size_t)i * (size_t)stride, 4));
    if (i < n) {
        const __mmask16 mask = vc_tail_mask_avx512((size_t)(n - i));
        const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, index, src + (size_t)i * (size_t)stride, 4);
        _mm512_mask_storeu_ps(dst + i, mask, v);
    }
}

#endif
