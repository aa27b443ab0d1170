#include "../internal/avx512.h"

VC_TARGET_AVX512 void vc_f32_bias_act__avx512(float *y, const float *bias, size_t plane, int c_begin, int c_end,
                                              vc_activation act, float lo, float hi) {
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    for (int c = c_begin; c < c_end; c++) {
        float *row = y + (size_t)c * plane;
        const __m512 vb = _mm512_set1_ps(bias ? bias[c] : 0.0f);
        size_t i = 0;
        for (; i + 16 <= plane; i += 16)
            _mm512_storeu_ps(row + i, vc_activate_avx512(_mm512_add_ps(_mm512_loadu_ps(row + i), vb), act, vlo, vhi));
        if (i < plane) {
            const __mmask16 mask = vc_tail_mask_avx512(plane - i);
            const __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, row + i), vb);
            _mm512_mask_storeu_ps(row + i, mask, vc_activate_avx512(v, act, vlo, vhi));
        }
    }
}
