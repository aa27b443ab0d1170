#include "../internal/avx2.h"

// Gathers both taps of 8 elements as 32-bit words (low byte kept), packs them into 16-bit
// pairs and multiplies by the weight pairs with one vpmaddwd: exact integer arithmetic.
VC_TARGET_AVX2 void vc_u8_resize_hpass__avx2(const uint8_t *src_row, const int32_t *ofs0, const int32_t *ofs1,
                                             const int16_t *alpha, int32_t *out, int n, int n_gather_safe) {
    const __m256i low_byte = _mm256_set1_epi32(0xFF);
    int j = 0;
    for (; j + 8 <= n_gather_safe; j += 8) {
        const __m256i t0 = _mm256_i32gather_epi32((const int *)src_row, _mm256_loadu_si256((const __m256i *)(ofs0 + j)), 1);
        const __m256i t1 = _mm256_i32gather_epi32((const int *)src_row, _mm256_loadu_si256((const __m256i *)(ofs1 + j)), 1);
        const __m256i pairs = _mm256_or_si256(_mm256_and_si256(t0, low_byte), _mm256_slli_epi32(_mm256_and_si256(t1, low_byte), 16));
        _mm256_storeu_si256((__m256i *)(out + j),
                            _mm256_madd_epi16(pairs, _mm256_loadu_si256((const __m256i *)(alpha + 2 * j))));
    }
    for (; j < n; j++) out[j] = src_row[ofs0[j]] * alpha[2 * j] + src_row[ofs1[j]] * alpha[2 * j + 1];
}

VC_TARGET_AVX2 void vc_u8_resize_vblend__avx2(const int32_t *h0, const int32_t *h1, int b0, int b1, uint8_t *out,
                                              int n) {
    const __m256i vb0 = _mm256_set1_epi32(b0), vb1 = _mm256_set1_epi32(b1), two = _mm256_set1_epi32(2);
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        const __m256i s0 = _mm256_srai_epi32(_mm256_loadu_si256((const __m256i *)(h0 + j)), 4);
        const __m256i s1 = _mm256_srai_epi32(_mm256_loadu_si256((const __m256i *)(h1 + j)), 4);
        const __m256i t0 = _mm256_srai_epi32(_mm256_mullo_epi32(s0, vb0), 16);
        const __m256i t1 = _mm256_srai_epi32(_mm256_mullo_epi32(s1, vb1), 16);
        const __m256i v = _mm256_srai_epi32(_mm256_add_epi32(_mm256_add_epi32(t0, t1), two), 2);
        const __m128i words = _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        _mm_storel_epi64((__m128i *)(out + j), _mm_packus_epi16(words, words));
    }
    for (; j < n; j++) {
        const int v = ((((h0[j] >> 4) * b0) >> 16) + (((h1[j] >> 4) * b1) >> 16) + 2) >> 2;
        out[j] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
}
