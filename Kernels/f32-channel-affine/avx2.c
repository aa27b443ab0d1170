#include "../internal/avx2.h"

// 8 pixels of `channels` floats are exactly `channels` vectors, so the per-lane scale and bias
// repeat with a period of `channels` vectors: build that period once, then stream.
VC_TARGET_AVX2 void vc_f32_channel_affine_hwc__avx2(const float *x, float *y, size_t pixels_begin, size_t pixels_end,
                                                    int channels, const float *scale, const float *bias) {
    const size_t cn = (size_t)channels;
    float scale_period[8 * VC_MAX_CHANNELS], bias_period[8 * VC_MAX_CHANNELS];
    for (size_t i = 0; i < 8 * cn; i++) {
        scale_period[i] = scale[i % cn];
        bias_period[i] = bias[i % cn];
    }
    const float *in = x + pixels_begin * cn;
    float *out = y + pixels_begin * cn;
    const size_t n = (pixels_end - pixels_begin) * cn;
    size_t i = 0, phase = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(in + i), _mm256_loadu_ps(scale_period + phase));
        _mm256_storeu_ps(out + i, _mm256_add_ps(v, _mm256_loadu_ps(bias_period + phase)));
        phase = phase + 8 == 8 * cn ? 0 : phase + 8;
    }
    for (; i < n; i++) out[i] = in[i] * scale[i % cn] + bias[i % cn];
}
