#include "../internal/avx2.h"

VC_TARGET_AVX2 void vc_f32_hwc_to_chw__avx2(const float *x, float *y, int h, int w, int c, int row_begin, int row_end) {
    const size_t plane = (size_t)h * (size_t)w;
    for (int r = row_begin; r < row_end; r++)
        for (int k = 0; k < c; k++)
            vc_strided_copy_avx2(x + (size_t)r * (size_t)w * (size_t)c + k, c, y + k * plane + (size_t)r * (size_t)w, w);
}
