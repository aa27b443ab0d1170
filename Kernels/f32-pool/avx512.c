#include "../internal/avx512.h"
#include "../internal/window.h"

// Sixteen output columns per step, lane order as in pool_interior_avx2 (see f32-pool/avx2.c).
static VC_TARGET_AVX512 void pool_interior_avx512(const vc_pool_row *row, int ox_begin, int ox_end, float *out) {
    const __m512i index = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(row->sw));
    const int divisor = row->count_include_pad ? row->ky_padded * row->kw : (row->ky_hi - row->ky_lo) * row->kw;
    for (int ox = ox_begin; ox < ox_end; ox += 16) {
        const int n = ox_end - ox < 16 ? ox_end - ox : 16;
        const __mmask16 mask = vc_tail_mask_avx512((size_t)n);
        const int ix0 = ox * row->sw - row->pl;
        __m512 acc = row->is_max ? _mm512_set1_ps(-INFINITY) : _mm512_setzero_ps();
        for (int ky = row->ky_lo; ky < row->ky_hi; ky++) {
            const float *in = row->plane + (size_t)(row->iy0 + ky * row->dh) * (size_t)row->w + ix0;
            for (int kx = 0; kx < row->kw; kx++) {
                const float *p = in + kx * row->dw;
                const __m512 v = row->sw == 1 ? _mm512_maskz_loadu_ps(mask, p)
                                              : _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, index, p, 4);
                acc = row->is_max ? _mm512_max_ps(v, acc) : _mm512_add_ps(acc, v);
            }
        }
        if (!row->is_max)
            acc = divisor > 0 ? _mm512_div_ps(acc, _mm512_set1_ps((float)divisor)) : _mm512_setzero_ps();
        _mm512_mask_storeu_ps(out + ox, mask, acc);
    }
}

VC_TARGET_AVX512 void vc_f32_max_pool2d__avx512(const float *x, int h, int w, float *y, int oh, int ow, int kh,
                                                int kw, int sh, int sw, int pt, int pl, int dh, int dw,
                                                int plane_begin, int plane_end) {
    vc_pool_driver(x, h, w, y, oh, ow, kh, kw, sh, sw, pt, pl, 0, 0, dh, dw, 1, 0, plane_begin, plane_end,
                   pool_interior_avx512);
}

VC_TARGET_AVX512 void vc_f32_avg_pool2d__avx512(const float *x, int h, int w, float *y, int oh, int ow, int kh,
                                                int kw, int sh, int sw, int pt, int pl, int pb, int pr, int dh,
                                                int dw, int count_include_pad, int plane_begin, int plane_end) {
    vc_pool_driver(x, h, w, y, oh, ow, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, 0, count_include_pad, plane_begin,
                   plane_end, pool_interior_avx512);
}

VC_TARGET_AVX512 void vc_f32_global_avg_pool__avx512(const float *x, size_t plane, float *y, int plane_begin,
                                                     int plane_end) {
    const size_t body = plane & ~(size_t)15;
    const __mmask16 tail = vc_tail_mask_avx512(plane - body);
    for (int p = plane_begin; p < plane_end; p++) {
        const float *in = x + (size_t)p * plane;
        __m512 sum = _mm512_setzero_ps();
        for (size_t i = 0; i < body; i += 16) sum = _mm512_add_ps(sum, _mm512_loadu_ps(in + i));
        if (tail) sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(tail, in + body));
        y[p] = _mm512_reduce_add_ps(sum) / (float)plane;
    }
}
