#include "../internal/kernels.h"

void vc_u8_hwc_to_chw__scalar(const uint8_t *x, uint8_t *y, int h, int w, int c, int row_begin, int row_end) {
    const size_t plane = (size_t)h * (size_t)w;
    for (int r = row_begin; r < row_end; r++) {
        const uint8_t *in = x + (size_t)r * (size_t)w * (size_t)c;
        for (int k = 0; k < c; k++) {
            uint8_t *out = y + k * plane + (size_t)r * (size_t)w;
            for (int i = 0; i < w; i++) out[i] = in[(size_t)i * (size_t)c + k];
        }
    }
}
