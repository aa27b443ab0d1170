#include "../internal/avx512.h"
#include "../internal/window.h"

// The register tile of f32-conv1x1 (8 output channels x up to 48 pixels of one output row),
// with the im2col row of each tap (ch, ky, kx) read straight from the input row: its pixels
// are contiguous at stride 1. Taps whose input row is outside the image are skipped; columns
// outside it are masked per kx (a masked-off lane reads nothing), so borders need no copy.
VC_ALWAYS_INLINE VC_TARGET_AVX512 void conv2d_tile_avx512(const float *block, const float *x, int c, int h, int w,
                                                          int kh, int kw, int pt, int pl, float *y, int m_rows,
                                                          size_t plane, int oy, int ox0, int cols, const float *bias,
                                                          vc_activation act, __m512 lo, __m512 hi,
                                                          const vc_epilogue_op *ops, int op_count, const int nv) {
    __m512 acc[VC_CONV1X1_ROWS][3];
    for (int r = 0; r < VC_CONV1X1_ROWS; r++)
        for (int v = 0; v < nv; v++) acc[r][v] = _mm512_setzero_ps();
    // Lanes of vector v whose input column ox0 + 16v + lane + kx - pl lies in [0, w), and < cols.
    __mmask16 mask[VC_CONV2D_MAX_KW][3];
    for (int kx = 0; kx < kw; kx++) {
        for (int v = 0; v < nv; v++) {
            const int first = ox0 + 16 * v + kx - pl; // input column of lane 0
            int lo_lane = -first > 0 ? -first : 0;
            int hi_lane = w - first < 16 ? w - first : 16;
            if (cols - 16 * v < hi_lane) hi_lane = cols - 16 * v;
            mask[kx][v] = hi_lane <= lo_lane ? 0 : (__mmask16)(((1u << hi_lane) - 1u) & ~((1u << lo_lane) - 1u));
        }
    }
    for (int ch = 0; ch < c; ch++) {
        const float *channel = x + (size_t)ch * (size_t)h * (size_t)w;
        for (int ky = 0; ky < kh; ky++) {
            const int iy = oy + ky - pt;
            if (iy < 0 || iy >= h) continue;
            const float *row = channel + (size_t)iy * (size_t)w + ox0 - pl;
            const float *wk = block + ((size_t)(ch * kh + ky) * (size_t)kw) * VC_CONV1X1_ROWS;
            for (int kx = 0; kx < kw; kx++, wk += VC_CONV1X1_ROWS) {
                __m512 xv[3];
                for (int v = 0; v < nv; v++) xv[v] = _mm512_maskz_loadu_ps(mask[kx][v], row + kx + 16 * v);
                for (int r = 0; r < VC_CONV1X1_ROWS; r++) {
                    const __m512 wv = _mm512_set1_ps(wk[r]);
                    for (int v = 0; v < nv; v++) acc[r][v] = _mm512_fmadd_ps(wv, xv[v], acc[r][v]);
                }
            }
        }
    }
    for (int r = 0; r < m_rows; r++) {
        const __m512 b = _mm512_set1_ps(bias ? bias[r] : 0.0f);
        float *out = y + (size_t)r * plane;
        for (int v = 0; v < nv; v++) {
            const int left = cols - 16 * v;
            const __mmask16 store = left >= 16 ? (__mmask16)0xFFFF : vc_tail_mask_avx512((size_t)left);
            const __m512 result = vc_activate_avx512(_mm512_add_ps(acc[r][v], b), act, lo, hi);
            _mm512_mask_storeu_ps(out + 16 * v, store, op_count ? vc_epilogue_avx512(result, ops, op_count) : result);
        }
    }
}

VC_TARGET_AVX512 void vc_f32_conv2d__avx512(const float *packed, const float *x, int c, int h, int w, int kh, int kw,
                                            int pt, int pl, float *y, int m, int oh, int ow, const float *bias,
                                            vc_activation act, float lo, float hi, const vc_epilogue_op *ops,
                                            int op_count, int row_begin, int row_end) {
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    const int blocks = (m + VC_CONV1X1_ROWS - 1) / VC_CONV1X1_ROWS;
    const size_t depth = (size_t)c * (size_t)kh * (size_t)kw, plane = (size_t)oh * (size_t)ow;
    for (int oy = row_begin; oy < row_end; oy++) {
        for (int ox = 0; ox < ow; ox += 48) {
            const int cols = ow - ox < 48 ? ow - ox : 48;
            for (int b = 0; b < blocks; b++) {
                const int row = b * VC_CONV1X1_ROWS;
                const int rows = m - row < VC_CONV1X1_ROWS ? m - row : VC_CONV1X1_ROWS;
                const float *block = packed + (size_t)b * VC_CONV1X1_ROWS * depth;
                float *out = y + (size_t)row * plane + (size_t)oy * (size_t)ow + (size_t)ox;
                const float *rb = bias ? bias + row : NULL;
                if (cols > 32)
                    conv2d_tile_avx512(block, x, c, h, w, kh, kw, pt, pl, out, rows, plane, oy, ox, cols, rb, act, vlo,
                                       vhi, ops, op_count, 3);
                else if (cols > 16)
                    conv2d_tile_avx512(block, x, c, h, w, kh, kw, pt, pl, out, rows, plane, oy, ox, cols, rb, act, vlo,
                                       vhi, ops, op_count, 2);
                else
                    conv2d_tile_avx512(block, x, c, h, w, kh, kw, pt, pl, out, rows, plane, oy, ox, cols, rb, act, vlo,
                                       vhi, ops, op_count, 1);
            }
        }
    }
}
