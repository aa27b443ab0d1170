#include "../internal/avx2.h"
#include "../internal/window.h"

VC_TARGET_AVX2 void vc_f32_im2col__avx2(const float *x, int c, int h, int w, int kh, int kw, int stride_h,
                                        int stride_w, int pad_top, int pad_left, int dil_h, int dil_w, int oh,
                                        int ow, int oy_begin, int oy_end, float *col, int row_begin, int row_end) {
    (void)oh;
    vc_im2col_driver(x, h, w, kh, kw, stride_h, stride_w, pad_top, pad_left, dil_h, dil_w, ow, oy_begin, oy_end, col,
                     row_begin, row_end, vc_strided_copy_avx2);
}
