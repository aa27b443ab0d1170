#include "../internal/kernels.h"
#include "../internal/scalar.h"

void vc_f32_conv2d__scalar(const float *packed, const float *x, int c, int h, int w, int kh, int kw, int pt, int pl,
                           float *y, int m, int oh, int ow, const float *bias, vc_activation act, float lo, float hi,
                           const vc_epilogue_op *ops, int op_count, int row_begin, int row_end) {
    const size_t depth = (size_t)c * (size_t)kh * (size_t)kw;
    for (int o = 0; o < m; o++) {
        const float *block = packed + (size_t)(o / VC_CONV1X1_ROWS) * VC_CONV1X1_ROWS * depth;
        const int r = o % VC_CONV1X1_ROWS;
        for (int oy = row_begin; oy < row_end; oy++) {
            for (int ox = 0; ox < ow; ox++) {
                float acc = 0.0f;
                for (int ch = 0; ch < c; ch++) {
                    for (int ky = 0; ky < kh; ky++) {
                        const int iy = oy + ky - pt;
                        if (iy < 0 || iy >= h) continue;
                        for (int kx = 0; kx < kw; kx++) {
                            const int ix = ox + kx - pl;
                            if (ix < 0 || ix >= w) continue;
                            const size_t i = ((size_t)ch * (size_t)kh + (size_t)ky) * (size_t)kw + (size_t)kx;
                            const size_t at = ((size_t)ch * (size_t)h + (size_t)iy) * (size_t)w + (size_t)ix;
                            acc += block[i * VC_CONV1X1_ROWS + r] * x[at];
                        }
                    }
                }
                const float v = vc_activate_scalar(acc + (bias ? bias[o] : 0.0f), act, lo, hi);
                const size_t at = ((size_t)o * (size_t)oh + (size_t)oy) * (size_t)ow + (size_t)ox;
                y[at] = vc_epilogue_scalar(v, ops, op_count);
            }
        }
    }
}
