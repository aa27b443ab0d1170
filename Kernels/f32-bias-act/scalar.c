#include "../internal/kernels.h"
#include "../internal/scalar.h"

void vc_f32_bias_act__scalar(float *y, const float *bias, size_t plane, int c_begin, int c_end,
                             vc_activation act, float lo, float hi) {
    for (int c = c_begin; c < c_end; c++) {
        float *row = y + (size_t)c * plane;
        const float b = bias ? bias[c] : 0.0f;
        for (size_t i = 0; i < plane; i++) row[i] = vc_activate_scalar(row[i] + b, act, lo, hi);
    }
}
