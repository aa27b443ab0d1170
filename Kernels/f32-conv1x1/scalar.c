#include "../internal/kernels.h"
#include "../internal/scalar.h"

void vc_f32_conv1x1__scalar(const float *packed, const float *x, float *y, int m, int n, int k, const float *bias,
                            vc_activation act, float lo, float hi, const vc_epilogue_op *ops, int op_count,
                            int p_begin, int p_end) {
    for (int o = 0; o < m; o++) {
        const float *block = packed + (size_t)(o / VC_CONV1X1_ROWS) * VC_CONV1X1_ROWS * (size_t)k;
        const int r = o % VC_CONV1X1_ROWS;
        for (int p = p_begin; p < p_end; p++) {
            float acc = 0.0f;
            for (int i = 0; i < k; i++) acc += block[(size_t)i * VC_CONV1X1_ROWS + r] * x[(size_t)i * (size_t)n + p];
            const float v = vc_activate_scalar(acc + (bias ? bias[o] : 0.0f), act, lo, hi);
            y[(size_t)o * (size_t)n + p] = vc_epilogue_scalar(v, ops, op_count);
        }
    }
}
