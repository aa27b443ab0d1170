#include "../internal/avx512.h"

// 16 pixels per step; same scheme as the AVX2 variant (see u8-preprocess/avx2.c).
VC_TARGET_AVX512 void vc_u8_preprocess_store__avx512(const uint8_t *pixels, int npix, int src_channels,
                                                     const int *channel_map, int out_channels, const float *scale,
                                                     const float *bias, int planar, size_t plane_stride, float *dst) {
    const __m512i low_byte = _mm512_set1_epi32(0xFF);
    if (planar) {
        const __m512i index = _mm512_mullo_epi32(
            _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(src_channels));
        for (int oc = 0; oc < out_channels; oc++) {
            const uint8_t *in = pixels + channel_map[oc];
            float *out = dst + (size_t)oc * plane_stride;
            const __m512 s = _mm512_set1_ps(scale[oc]), b = _mm512_set1_ps(bias[oc]);
            for (int x = 0; x < npix; x += 16) {
                const __mmask16 mask = vc_tail_mask_avx512((size_t)(npix - x < 16 ? npix - x : 16));
                const __m512i v = _mm512_and_si512(
                    _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), mask, index,
                                                (const int *)(in + (size_t)x * (size_t)src_channels), 1),
                    low_byte);
                _mm512_mask_storeu_ps(out + x, mask, _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(v), s), b));
            }
        }
        return;
    }
    int offset_period[16 * VC_MAX_CHANNELS];
    float scale_period[16 * VC_MAX_CHANNELS], bias_period[16 * VC_MAX_CHANNELS];
    const int period = 16 * out_channels;
    for (int i = 0; i < period; i++) {
        offset_period[i] = (i / out_channels) * src_channels + channel_map[i % out_channels];
        scale_period[i] = scale[i % out_channels];
        bias_period[i] = bias[i % out_channels];
    }
    const int n = npix * out_channels;
    for (int base = 0, pixel = 0; base < n; base += period, pixel += 16) {
        const uint8_t *in = pixels + (size_t)pixel * (size_t)src_channels;
        for (int i = 0; i < period && base + i < n; i += 16) {
            const __mmask16 mask = vc_tail_mask_avx512((size_t)(n - base - i < 16 ? n - base - i : 16));
            const __m512i v = _mm512_and_si512(
                _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), mask, _mm512_loadu_si512(offset_period + i),
                                            (const int *)in, 1),
                low_byte);
            const __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(v), _mm512_loadu_ps(scale_period + i));
            _mm512_mask_storeu_ps(dst + base + i, mask, _mm512_add_ps(f, _mm512_loadu_ps(bias_period + i)));
        }
    }
}
