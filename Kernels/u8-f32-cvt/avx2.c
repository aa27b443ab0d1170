#include "../internal/avx2.h"

VC_TARGET_AVX2 void vc_u8_to_f32__avx2(const uint8_t *x, float *y, size_t begin, size_t end) {
    size_t i = begin;
    for (; i + 8 <= end; i += 8)
        _mm256_storeu_ps(y + i, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(x + i)))));
    for (; i < end; i++) y[i] = (float)x[i];
}
