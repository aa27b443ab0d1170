#include "../internal/kernels.h"

#include <math.h>

void vc_f32_softmax__scalar(const float *x, float *y, size_t cols, size_t row_begin, size_t row_end) {
    for (size_t r = row_begin; r < row_end; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        float max = -INFINITY;
        for (size_t i = 0; i < cols; i++) max = xr[i] > max ? xr[i] : max;
        float sum = 0.0f;
        for (size_t i = 0; i < cols; i++) {
            const float e = expf(xr[i] - max);
            yr[i] = e;
            sum += e;
        }
        const float inv = 1.0f / sum;
        for (size_t i = 0; i < cols; i++) yr[i] *= inv;
    }
}
