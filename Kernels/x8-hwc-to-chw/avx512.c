#include "../internal/avx512.h"

// Same safe-gather rule as the AVX2 variant; vpmovdb keeps the low byte of each word.
VC_TARGET_AVX512 void vc_u8_hwc_to_chw__avx512(const uint8_t *x, uint8_t *y, int h, int w, int c, int row_begin,
                                               int row_end) {
    const size_t plane = (size_t)h * (size_t)w, total = plane * (size_t)c;
    const __m512i index = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(c));
    for (int r = row_begin; r < row_end; r++) {
        const size_t row_start = (size_t)r * (size_t)w * (size_t)c;
        for (int k = 0; k < c; k++) {
            const uint8_t *in = x + row_start + k;
            uint8_t *out = y + k * plane + (size_t)r * (size_t)w;
            int i = 0;
            for (; i + 16 <= w && row_start + k + (size_t)(i + 15) * (size_t)c + 4 <= total; i += 16) {
                const __m512i v = _mm512_i32gather_epi32(index, (const int *)(in + (size_t)i * (size_t)c), 1);
                _mm_storeu_si128((__m128i *)(out + i), _mm512_cvtepi32_epi8(v));
            }
            for (; i < w; i++) out[i] = in[(size_t)i * (size_t)c];
        }
    }
}
