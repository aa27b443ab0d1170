#include "../internal/avx512.h"

#include <math.h>

VC_TARGET_AVX512 void vc_f32_softmax__avx512(const float *x, float *y, size_t cols, size_t row_begin,
                                             size_t row_end) {
    const size_t body = cols & ~(size_t)15;
    const __mmask16 tail = vc_tail_mask_avx512(cols - body);
    for (size_t r = row_begin; r < row_end; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        __m512 vmax = _mm512_set1_ps(-INFINITY);
        for (size_t i = 0; i < body; i += 16) vmax = _mm512_max_ps(vmax, _mm512_loadu_ps(xr + i));
        if (tail) vmax = _mm512_mask_max_ps(vmax, tail, vmax, _mm512_maskz_loadu_ps(tail, xr + body));
        const __m512 max = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
        __m512 vsum = _mm512_setzero_ps();
        for (size_t i = 0; i < body; i += 16) {
            const __m512 e = vc_exp_avx512(_mm512_sub_ps(_mm512_loadu_ps(xr + i), max));
            _mm512_storeu_ps(yr + i, e);
            vsum = _mm512_add_ps(vsum, e);
        }
        if (tail) {
            const __m512 e = vc_exp_avx512(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, xr + body), max));
            _mm512_mask_storeu_ps(yr + body, tail, e);
            vsum = _mm512_mask_add_ps(vsum, tail, vsum, e);
        }
        const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(vsum));
        for (size_t i = 0; i < body; i += 16) _mm512_storeu_ps(yr + i, _mm512_mul_ps(_mm512_loadu_ps(yr + i), inv));
        if (tail) _mm512_mask_storeu_ps(yr + body, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, yr + body), inv));
    }
}
