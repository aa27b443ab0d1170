#include "../internal/kernels.h"

// The runtime lowers these convs to im2col + OpenBLAS below AVX-512, so the AVX2 row of the
// table is the scalar reference.
VC_TARGET_AVX2 void vc_f32_conv2d__avx2(const float *packed, const float *x, int c, int h, int w, int kh, int kw,
                                        int pt, int pl, float *y, int m, int oh, int ow, const float *bias,
                                        vc_activation act, float lo, float hi, const vc_epilogue_op *ops, int op_count,
                                        int row_begin, int row_end) {
    vc_f32_conv2d__scalar(packed, x, c, h, w, kh, kw, pt, pl, y, m, oh, ow, bias, act, lo, hi, ops, op_count,
                          row_begin, row_end);
}
