#include "../internal/dwconv.h"

static void dwconv_interior_scalar(const vc_dwconv_row *row, int ox_begin, int ox_end, float *out) {
    for (int ox = ox_begin; ox < ox_end; ox++) out[ox] = vc_dwconv_pixel(row, ox);
}

void vc_f32_dwconv__scalar(const float *x, int h, int w, const float *weights, const float *bias, float *y, int oh,
                           int ow, int kh, int kw, int sh, int sw, int pt, int pl, int dh, int dw,
                           vc_activation act, float lo, float hi, const vc_epilogue_op *ops, int op_count,
                           int c_begin, int c_end) {
    vc_dwconv_driver(x, h, w, weights, bias, y, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw, act, lo, hi, ops, op_count,
                     c_begin, c_end, dwconv_interior_scalar, NULL);
}
