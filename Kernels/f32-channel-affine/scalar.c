#include "../internal/kernels.h"

void vc_f32_channel_affine_hwc__scalar(const float *x, float *y, size_t pixels_begin, size_t pixels_end, int channels,
                                       const float *scale, const float *bias) {
    const size_t cn = (size_t)channels;
    for (size_t p = pixels_begin; p < pixels_end; p++)
        for (size_t c = 0; c < cn; c++) y[p * cn + c] = x[p * cn + c] * scale[c] + bias[c];
}
