#include "../internal/kernels.h"

void vc_u8_preprocess_store__scalar(const uint8_t *pixels, int npix, int src_channels, const int *channel_map,
                                    int out_channels, const float *scale, const float *bias, int planar,
                                    size_t plane_stride, float *dst) {
    for (int oc = 0; oc < out_channels; oc++) {
        const uint8_t *in = pixels + channel_map[oc];
        const float s = scale[oc], b = bias[oc];
        if (planar) {
            float *out = dst + (size_t)oc * plane_stride;
            for (int x = 0; x < npix; x++) out[x] = (float)in[(size_t)x * (size_t)src_channels] * s + b;
        } else {
            for (int x = 0; x < npix; x++)
                dst[(size_t)x * (size_t)out_channels + (size_t)oc] = (float)in[(size_t)x * (size_t)src_channels] * s + b;
        }
    }
}
