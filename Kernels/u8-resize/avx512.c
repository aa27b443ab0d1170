#include "../internal/avx512.h"

// 16 elements per step; same arithmetic as the AVX2 variant (see u8-resize/avx2.c).
VC_TARGET_AVX512 void vc_u8_resize_hpass__avx512(const uint8_t *src_row, const int32_t *ofs0, const int32_t *ofs1,
                                                 const int16_t *alpha, int32_t *out, int n, int n_gather_safe) {
    const __m512i low_byte = _mm512_set1_epi32(0xFF);
    int j = 0;
    for (; j + 16 <= n_gather_safe; j += 16) {
        const __m512i t0 = _mm512_i32gather_epi32(_mm512_loadu_si512(ofs0 + j), (const int *)src_row, 1);
        const __m512i t1 = _mm512_i32gather_epi32(_mm512_loadu_si512(ofs1 + j), (const int *)src_row, 1);
        const __m512i pairs = _mm512_or_si512(_mm512_and_si512(t0, low_byte), _mm512_slli_epi32(_mm512_and_si512(t1, low_byte), 16));
        _mm512_storeu_si512(out + j, _mm512_madd_epi16(pairs, _mm512_loadu_si512(alpha + 2 * j)));
    }
    for (; j < n; j++) out[j] = src_row[ofs0[j]] * alpha[2 * j] + src_row[ofs1[j]] * alpha[2 * j + 1];
}

VC_TARGET_AVX512 void vc_u8_resize_vblend__avx512(const int32_t *h0, const int32_t *h1, int b0, int b1, uint8_t *out,
                                                  int n) {
    const __m512i vb0 = _mm512_set1_epi32(b0), vb1 = _mm512_set1_epi32(b1), two = _mm512_set1_epi32(2);
    int j = 0;
    for (; j < n; j += 16) {
        const __mmask16 mask = n - j >= 16 ? (__mmask16)0xFFFF : vc_tail_mask_avx512((size_t)(n - j));
        const __m512i s0 = _mm512_srai_epi32(_mm512_maskz_loadu_epi32(mask, h0 + j), 4);
        const __m512i s1 = _mm512_srai_epi32(_mm512_maskz_loadu_epi32(mask, h1 + j), 4);
        const __m512i t0 = _mm512_srai_epi32(_mm512_mullo_epi32(s0, vb0), 16);
        const __m512i t1 = _mm512_srai_epi32(_mm512_mullo_epi32(s1, vb1), 16);
        const __m512i v = _mm512_srai_epi32(_mm512_add_epi32(_mm512_add_epi32(t0, t1), two), 2);
        _mm_mask_storeu_epi8(out + j, mask, _mm512_cvtusepi32_epi8(_mm512_max_epi32(v, _mm512_setzero_si512())));
    }
}
