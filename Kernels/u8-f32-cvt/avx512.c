#include "../internal/avx512.h"

VC_TARGET_AVX512 void vc_u8_to_f32__avx512(const uint8_t *x, float *y, size_t begin, size_t end) {
    size_t i = begin;
    for (; i + 16 <= end; i += 16)
        _mm512_storeu_ps(y + i, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(x + i)))));
    if (i < end) {
        const __mmask16 mask = vc_tail_mask_avx512(end - i);
        const __m128i v = _mm_maskz_loadu_epi8(mask, x + i);
        _mm512_mask_storeu_ps(y + i, mask, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(v)));
    }
}
