#include "../internal/kernels.h"

// The reference: each channel plane's row read contiguously, stored every c floats.
void vc_f32_chw_to_hwc__scalar(const float *x, float *y, int h, int w, int c, int row_begin, int row_end) {
    const size_t plane = (size_t)h * (size_t)w;
    for (int r = row_begin; r < row_end; r++)
        for (int k = 0; k < c; k++) {
            const float *src = x + k * plane + (size_t)r * (size_t)w;
            float *dst = y + (size_t)r * (size_t)w * (size_t)c + k;
            for (int i = 0; i < w; i++) dst[(size_t)i * (size_t)c] = src[i];
        }
}
