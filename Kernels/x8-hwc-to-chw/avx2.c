#include "../internal/avx2.h"

// Gathers 32-bit words at byte offsets and keeps the low byte. A word may reach 3 bytes past
// the byte it is for, so only lanes whose word ends inside the image use the gather.
VC_TARGET_AVX2 void vc_u8_hwc_to_chw__avx2(const uint8_t *x, uint8_t *y, int h, int w, int c, int row_begin,
                                           int row_end) {
    const size_t plane = (size_t)h * (size_t)w, total = plane * (size_t)c;
    const __m256i index = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(c));
    const __m256i low_byte = _mm256_set1_epi32(0xFF);
    for (int r = row_begin; r < row_end; r++) {
        const size_t row_start = (size_t)r * (size_t)w * (size_t)c;
        for (int k = 0; k < c; k++) {
            const uint8_t *in = x + row_start + k;
            uint8_t *out = y + k * plane + (size_t)r * (size_t)w;
            int i = 0;
            for (; i + 8 <= w && row_start + k + (size_t)(i + 7) * (size_t)c + 4 <= total; i += 8) {
                const __m256i v = _mm256_and_si256(
                    _mm256_i32gather_epi32((const int *)(in + (size_t)i * (size_t)c), index, 1), low_byte);
                const __m128i words = _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
                _mm_storel_epi64((__m128i *)(out + i), _mm_packus_epi16(words, words));
            }
            for (; i < w; i++) out[i] = in[(size_t)i * (size_t)c];
        }
    }
}
