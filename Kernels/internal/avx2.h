// Internal: AVX2+FMA helpers shared by the avx2.c variants.
#ifndef VISIONC_KERNELS_AVX2_H
#define VISIONC_KERNELS_AVX2_H

#include "kernels.h"

#include <immintrin.h>

static inline VC_TARGET_AVX2 __m256 vc_activate_avx2(__m256 v, vc_activation act, __m256 lo, __m256 hi) {
    switch (act) {
    case VC_ACT_NONE: return v;
    case VC_ACT_RELU: return _mm256_max_ps(v, _mm256_setzero_ps());
    case VC_ACT_CLIP: return _mm256_min_ps(_mm256_max_ps(v, lo), hi);
    }
    return v;
}

// One vector through an epilogue program (see vc_f32_epilogue), for kernels that run it on
// their results before storing them.
static inline VC_TARGET_AVX2 __m256 vc_epilogue_avx2(__m256 v, const vc_epilogue_op *ops, int op_count) {
    __m256 saved = _mm256_setzero_ps();
    for (int k = 0; k < op_count; k++) {
        const vc_epilogue_op *op = &ops[k];
        const __m256 a = _mm256_set1_ps(op->a), b = _mm256_set1_ps(op->b);
        switch (op->kind) {
        case VC_EPILOGUE_AFFINE: v = _mm256_add_ps(_mm256_mul_ps(v, a), b); break;
        case VC_EPILOGUE_ACTIVATE:
            v = vc_activate_avx2(_mm256_add_ps(v, _mm256_setzero_ps()), op->act, a, b);
            break;
        case VC_EPILOGUE_DIV: v = _mm256_div_ps(v, a); break;
        case VC_EPILOGUE_SAVE: saved = v; break;
        case VC_EPILOGUE_MUL_SAVED: v = _mm256_mul_ps(saved, v); break;
        }
    }
    return v;
}

// exp(x) by range reduction x = n*ln2 + r, |r| <= ln2/2, and the Cephes degree-6 polynomial
// for e^r (about 2 ulp). Inputs below -87.3 give 0 (expf gives denormals there); above 88.7, +inf
// is not needed by the callers (softmax feeds x - max <= 0) so the input is clamped.
static inline VC_TARGET_AVX2 __m256 vc_exp_avx2(__m256 x) {
    const __m256 underflow = _mm256_cmp_ps(x, _mm256_set1_ps(-87.33654f), _CMP_LT_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.33654f)), _mm256_set1_ps(88.72283f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    const __m256i pow2n = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_andnot_ps(underflow, _mm256_mul_ps(p, _mm256_castsi256_ps(pow2n)));
}

// Lanes [0, n) all set, for masked loads and stores of a tail of n < 8 floats.
static inline VC_TARGET_AVX2 __m256i vc_tail_mask_avx2(size_t n) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), lanes);
}

static inline VC_TARGET_AVX2 float vc_hsum_avx2(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline VC_TARGET_AVX2 float vc_hmax_avx2(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// dst[i] = src[i*stride] for i < n. Unit stride (the common 1x1 / stride-1 case) is a plain vector copy; other strides gather.
static inline VC_TARGET_AVX2 void vc_strided_copy_avx2(const float *src, int stride, float *dst, int n) {
    int i = 0;
    if (stride == 1) {
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_loadu_ps(src + i));
        if (i < n) {
            const __m256i mask = vc_tail_mask_avx2((size_t)(n - i));
            _mm256_maskstore_ps(dst + i, mask, _mm256_maskload_ps(src + i, mask));
        }
        return;
    }
    const __m256i index = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(stride));
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_i32gather_ps(src + (size_t)i * (size_t)stride, index, 4));
    if (i < n) {
        const __m256i mask = vc_tail_mask_avx2((size_t)(n - i));
        const __m256 v = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), src + (size_t)i * (size_t)stride, index,
                                                  _mm256_castsi256_ps(mask), 4);
        _mm256_maskstore_ps(dst + i, mask, v);
    }
}

#endif
