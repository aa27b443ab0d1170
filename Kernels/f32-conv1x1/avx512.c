#include "../internal/avx512.h"
#include "../internal/window.h"

// Register tile: VC_CONV1X1_ROWS (8) output channels x up to 48 pixels (three vectors), 24
// accumulators. Each k step loads three vectors of one x row (x is read in place, never
// packed) and broadcasts the block's 8 weights from the packed panel. The x panel (k x 48)
// stays in L1/L2 while every row block of the output passes over it. Bias and activation are
// applied in registers, then the epilogue program, before the single store of each output.
VC_ALWAYS_INLINE VC_TARGET_AVX512 void conv1x1_tile_avx512(const float *block, const float *x, float *y, int m_rows,
                                                           int n, int k, const float *bias, vc_activation act,
                                                           __m512 lo, __m512 hi, const vc_epilogue_op *ops,
                                                           int op_count, int p, int cols, const int nv) {
    __m512 acc[VC_CONV1X1_ROWS][3];
    for (int r = 0; r < VC_CONV1X1_ROWS; r++)
        for (int v = 0; v < nv; v++) acc[r][v] = _mm512_setzero_ps();
    __mmask16 mask[3];
    for (int v = 0; v < nv; v++) {
        const int left = cols - 16 * v;
        mask[v] = left >= 16 ? (__mmask16)0xFFFF : vc_tail_mask_avx512((size_t)(left > 0 ? left : 0));
    }
    const float *xp = x + p;
    for (int i = 0; i < k; i++, xp += n, block += VC_CONV1X1_ROWS) {
        __m512 xv[3];
        for (int v = 0; v < nv; v++) xv[v] = _mm512_maskz_loadu_ps(mask[v], xp + 16 * v);
        for (int r = 0; r < VC_CONV1X1_ROWS; r++) {
            const __m512 wv = _mm512_set1_ps(block[r]);
            for (int v = 0; v < nv; v++) acc[r][v] = _mm512_fmadd_ps(wv, xv[v], acc[r][v]);
        }
    }
    for (int r = 0; r < m_rows; r++) {
        const __m512 b = _mm512_set1_ps(bias ? bias[r] : 0.0f);
        float *out = y + (size_t)r * (size_t)n + p;
        for (int v = 0; v < nv; v++) {
            const __m512 result = vc_activate_avx512(_mm512_add_ps(acc[r][v], b), act, lo, hi);
            _mm512_mask_storeu_ps(out + 16 * v, mask[v], op_count ? vc_epilogue_avx512(result, ops, op_count) : result);
        }
    }
}

VC_TARGET_AVX512 void vc_f32_conv1x1__avx512(const float *packed, const float *x, float *y, int m, int n, int k,
                                             const float *bias, vc_activation act, float lo, float hi,
                                             const vc_epilogue_op *ops, int op_count, int p_begin, int p_end) {
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    const int blocks = (m + VC_CONV1X1_ROWS - 1) / VC_CONV1X1_ROWS;
    for (int p = p_begin; p < p_end; p += 48) {
        const int cols = p_end - p < 48 ? p_end - p : 48;
        for (int b = 0; b < blocks; b++) {
            const int row = b * VC_CONV1X1_ROWS;
            const int rows = m - row < VC_CONV1X1_ROWS ? m - row : VC_CONV1X1_ROWS;
            const float *block = packed + (size_t)b * VC_CONV1X1_ROWS * (size_t)k;
            float *out = y + (size_t)row * (size_t)n;
            const float *rb = bias ? bias + row : NULL;
            const int nv = cols > 32 ? 3 : cols > 16 ? 2 : 1;
            // nv is a constant in each call, so each tile's vector loops unroll.
            if (nv == 3) conv1x1_tile_avx512(block, x, out, rows, n, k, rb, act, vlo, vhi, ops, op_count, p, cols, 3);
            else if (nv == 2)
                conv1x1_tile_avx512(block, x, out, rows, n, k, rb, act, vlo, vhi, ops, op_count, p, cols, 2);
            else conv1x1_tile_avx512(block, x, out, rows, n, k, rb, act, vlo, vhi, ops, op_count, p, cols, 1);
        }
    }
}
