#include "../internal/avx512.h"

// Same period trick as the AVX2 variant, with 16 pixels = `channels` vectors.
VC_TARGET_AVX512 void vc_f32_channel_affine_hwc__avx512(const float *x, float *y, size_t pixels_begin,
                                                        size_t pixels_end, int channels, const float *scale,
                                                        const float *bias) {
    const size_t cn = (size_t)channels;
    float scale_period[16 * VC_MAX_CHANNELS], bias_period[16 * VC_MAX_CHANNELS];
    for (size_t i = 0; i < 16 * cn; i++) {
        scale_period[i] = scale[i % cn];
        bias_period[i] = bias[i % cn];
    }
    const float *in = x + pixels_begin * cn;
    float *out = y + pixels_begin * cn;
    const size_t n = (pixels_end - pixels_begin) * cn;
    size_t i = 0, phase = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_mul_ps(_mm512_loadu_ps(in + i), _mm512_loadu_ps(scale_period + phase));
        _mm512_storeu_ps(out + i, _mm512_add_ps(v, _mm512_loadu_ps(bias_period + phase)));
        phase = phase + 16 == 16 * cn ? 0 : phase + 16;
    }
    if (i < n) {
        // The tail starts at a period boundary plus `phase`, so the period tables still apply.
        const __mmask16 mask = vc_tail_mask_avx512(n - i);
        const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, in + i), _mm512_loadu_ps(scale_period + phase));
        _mm512_mask_storeu_ps(out + i, mask, _mm512_add_ps(v, _mm512_loadu_ps(bias_period + phase)));
    }
}
