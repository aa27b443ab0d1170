#include "../internal/avx2.h"

VC_TARGET_AVX2 void vc_f32_bias_act__avx2(float *y, const float *bias, size_t plane, int c_begin, int c_end,
                                          vc_activation act, float lo, float hi) {
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    for (int c = c_begin; c < c_end; c++) {
        float *row = y + (size_t)c * plane;
        const __m256 vb = _mm256_set1_ps(bias ? bias[c] : 0.0f);
        size_t i = 0;
        for (; i + 8 <= plane; i += 8)
            _mm256_storeu_ps(row + i, vc_activate_avx2(_mm256_add_ps(_mm256_loadu_ps(row + i), vb), act, vlo, vhi));
        if (i < plane) {
            const __m256i mask = vc_tail_mask_avx2(plane - i);
            const __m256 v = _mm256_add_ps(_mm256_maskload_ps(row + i, mask), vb);
            _mm256_maskstore_ps(row + i, mask, vc_activate_avx2(v, act, vlo, vhi));
        }
    }
}
