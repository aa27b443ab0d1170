#include "../internal/avx512.h"

// Three channels (every RGB model input): sixteen pixels of each plane become three full
// vectors of interleaved output through two two-source permutes each, stored contiguously.
// Other counts scatter sixteen pixels of one channel every c floats (scatters are slow on some
// cores, so the common case avoids them).
VC_TARGET_AVX512 void vc_f32_chw_to_hwc__avx512(const float *x, float *y, int h, int w, int c, int row_begin,
                                                int row_end) {
    const size_t plane = (size_t)h * (size_t)w;
    // Output vector v, lane j holds output float p = 16v + j: pixel p / 3, channel p % 3.
    // First permute: channel 0 from a (index = pixel), channel 1 from b (16 + pixel); second:
    // channel 2 from c (16 + pixel), the rest kept from the first (index = lane).
    int32_t ab[3][16], tc[3][16];
    for (int v = 0; v < 3; v++)
        for (int j = 0; j < 16; j++) {
            const int p = 16 * v + j, pixel = p / 3, channel = p % 3;
            ab[v][j] = channel == 0 ? pixel : channel == 1 ? 16 + pixel : 0;
            tc[v][j] = channel == 2 ? 16 + pixel : j;
        }
    const __m512i scatter_index = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(c));
    for (int r = row_begin; r < row_end; r++) {
        const float *src = x + (size_t)r * (size_t)w;
        float *dst = y + (size_t)r * (size_t)w * (size_t)c;
        int i = 0;
        if (c == 3) {
            const __m512i ab0 = _mm512_loadu_si512(ab[0]), ab1 = _mm512_loadu_si512(ab[1]), ab2 = _mm512_loadu_si512(ab[2]);
            const __m512i tc0 = _mm512_loadu_si512(tc[0]), tc1 = _mm512_loadu_si512(tc[1]), tc2 = _mm512_loadu_si512(tc[2]);
            for (; i + 16 <= w; i += 16) {
                const __m512 a = _mm512_loadu_ps(src + i), b = _mm512_loadu_ps(src + plane + i);
                const __m512 g = _mm512_loadu_ps(src + 2 * plane + i);
                float *out = dst + 3 * (size_t)i;
                _mm512_storeu_ps(out, _mm512_permutex2var_ps(_mm512_permutex2var_ps(a, ab0, b), tc0, g));
                _mm512_storeu_ps(out + 16, _mm512_permutex2var_ps(_mm512_permutex2var_ps(a, ab1, b), tc1, g));
                _mm512_storeu_ps(out + 32, _mm512_permutex2var_ps(_mm512_permutex2var_ps(a, ab2, b), tc2, g));
            }
            for (; i < w; i++)
                for (int k = 0; k < 3; k++) dst[3 * (size_t)i + k] = src[k * plane + i];
            continue;
        }
        for (int k = 0; k < c; k++) {
            const float *channel = src + k * plane;
            float *out = dst + k;
            int j = 0;
            for (; j + 16 <= w; j += 16)
                _mm512_i32scatter_ps(out + (size_t)j * (size_t)c, scatter_index, _mm512_loadu_ps(channel + j), 4);
            if (j < w) {
                const __mmask16 mask = vc_tail_mask_avx512((size_t)(w - j));
                _mm512_mask_i32scatter_ps(out + (size_t)j * (size_t)c, mask, scatter_index, _mm512_maskz_loadu_ps(mask, channel + j), 4);
            }
        }
    }
}
