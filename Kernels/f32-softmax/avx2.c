#include "../internal/avx2.h"

#include <math.h>

VC_TARGET_AVX2 void vc_f32_softmax__avx2(const float *x, float *y, size_t cols, size_t row_begin, size_t row_end) {
    const size_t body = cols & ~(size_t)7;
    const __m256i tail = vc_tail_mask_avx2(cols - body);
    for (size_t r = row_begin; r < row_end; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        __m256 vmax = _mm256_set1_ps(-INFINITY);
        for (size_t i = 0; i < body; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(xr + i));
        if (body < cols)
            vmax = _mm256_max_ps(vmax, _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), _mm256_maskload_ps(xr + body, tail),
                                                         _mm256_castsi256_ps(tail)));
        const __m256 max = _mm256_set1_ps(vc_hmax_avx2(vmax));
        __m256 vsum = _mm256_setzero_ps();
        for (size_t i = 0; i < body; i += 8) {
            const __m256 e = vc_exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(xr + i), max));
            _mm256_storeu_ps(yr + i, e);
            vsum = _mm256_add_ps(vsum, e);
        }
        if (body < cols) {
            const __m256 e = _mm256_and_ps(vc_exp_avx2(_mm256_sub_ps(_mm256_maskload_ps(xr + body, tail), max)),
                                           _mm256_castsi256_ps(tail));
            _mm256_maskstore_ps(yr + body, tail, e);
            vsum = _mm256_add_ps(vsum, e);
        }
        const __m256 inv = _mm256_set1_ps(1.0f / vc_hsum_avx2(vsum));
        for (size_t i = 0; i < body; i += 8) _mm256_storeu_ps(yr + i, _mm256_mul_ps(_mm256_loadu_ps(yr + i), inv));
        if (body < cols)
            _mm256_maskstore_ps(yr + body, tail, _mm256_mul_ps(_mm256_maskload_ps(yr + body, tail), inv));
    }
}
