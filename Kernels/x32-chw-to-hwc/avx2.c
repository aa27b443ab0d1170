#include "../internal/avx2.h"

// AVX2 has no scatter: pixel by pixel, so the stores are contiguous; the compiler vectorizes
// the loads of the three-channel case (every RGB model input), other counts stay generic.
VC_TARGET_AVX2 void vc_f32_chw_to_hwc__avx2(const float *x, float *y, int h, int w, int c, int row_begin, int row_end) {
    const size_t plane = (size_t)h * (size_t)w;
    for (int r = row_begin; r < row_end; r++) {
        float *dst = y + (size_t)r * (size_t)w * (size_t)c;
        const float *src = x + (size_t)r * (size_t)w;
        if (c == 3) {
            const float *r0 = src, *r1 = src + plane, *r2 = src + 2 * plane;
            for (int i = 0; i < w; i++) {
                dst[3 * (size_t)i] = r0[i];
                dst[3 * (size_t)i + 1] = r1[i];
                dst[3 * (size_t)i + 2] = r2[i];
            }
        } else {
            for (int i = 0; i < w; i++)
                for (int k = 0; k < c; k++) dst[(size_t)i * (size_t)c + k] = src[k * plane + i];
        }
    }
}
