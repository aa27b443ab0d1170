#include "../internal/avx2.h"

// Planar: per output channel, gather 8 pixels' bytes (32-bit words at byte offsets, low byte
// kept; the chunk row has VC_GATHER_PAD readable bytes after its end), convert, scale, store.
// Interleaved: the output stream repeats its (source offset, scale, bias) pattern every 8 pixels
// = out_channels vectors, the source offset advancing by 8*src_channels per period.
VC_TARGET_AVX2 void vc_u8_preprocess_store__avx2(const uint8_t *pixels, int npix, int src_channels,
                                                 const int *channel_map, int out_channels, const float *scale,
                                                 const float *bias, int planar, size_t plane_stride, float *dst) {
    const __m256i low_byte = _mm256_set1_epi32(0xFF);
    if (planar) {
        const __m256i index = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(src_channels));
        for (int oc = 0; oc < out_channels; oc++) {
            const uint8_t *in = pixels + channel_map[oc];
            float *out = dst + (size_t)oc * plane_stride;
            const __m256 s = _mm256_set1_ps(scale[oc]), b = _mm256_set1_ps(bias[oc]);
            for (int x = 0; x < npix; x += 8) {
                const __m256i mask = vc_tail_mask_avx2((size_t)(npix - x < 8 ? npix - x : 8));
                const __m256i v = _mm256_and_si256(
                    _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), (const int *)(in + (size_t)x * (size_t)src_channels),
                                                index, mask, 1),
                    low_byte);
                _mm256_maskstore_ps(out + x, mask, _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(v), s), b));
            }
        }
        return;
    }
    int offset_period[8 * VC_MAX_CHANNELS];
    float scale_period[8 * VC_MAX_CHANNELS], bias_period[8 * VC_MAX_CHANNELS];
    const int period = 8 * out_channels;
    for (int i = 0; i < period; i++) {
        offset_period[i] = (i / out_channels) * src_channels + channel_map[i % out_channels];
        scale_period[i] = scale[i % out_channels];
        bias_period[i] = bias[i % out_channels];
    }
    const int n = npix * out_channels;
    for (int base = 0, pixel = 0; base < n; base += period, pixel += 8) {
        const uint8_t *in = pixels + (size_t)pixel * (size_t)src_channels;
        for (int i = 0; i < period && base + i < n; i += 8) {
            const __m256i mask = vc_tail_mask_avx2((size_t)(n - base - i < 8 ? n - base - i : 8));
            // Masked-off lanes gather nothing, so offsets past the last pixel are never read.
            const __m256i v = _mm256_and_si256(
                _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), (const int *)in,
                                            _mm256_loadu_si256((const __m256i *)(offset_period + i)), mask, 1),
                low_byte);
            const __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(v), _mm256_loadu_ps(scale_period + i));
            _mm256_maskstore_ps(dst + base + i, mask, _mm256_add_ps(f, _mm256_loadu_ps(bias_period + i)));
        }
    }
}
