#include "../internal/avx2.h"
#include "../internal/window.h"

// Eight output columns per step; each lane keeps the scalar reference's ky-major, kx-minor
// order, so max and average give the same bits as vc_pool_pixel.
static VC_TARGET_AVX2 void pool_interior_avx2(const vc_pool_row *row, int ox_begin, int ox_end, float *out) {
    const __m256i index = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(row->sw));
    const int divisor = row->count_include_pad ? row->ky_padded * row->kw : (row->ky_hi - row->ky_lo) * row->kw;
    for (int ox = ox_begin; ox < ox_end; ox += 8) {
        const int n = ox_end - ox < 8 ? ox_end - ox : 8;
        const __m256i mask = vc_tail_mask_avx2((size_t)n);
        const int ix0 = ox * row->sw - row->pl;
        __m256 acc = row->is_max ? _mm256_set1_ps(-INFINITY) : _mm256_setzero_ps();
        for (int ky = row->ky_lo; ky < row->ky_hi; ky++) {
            const float *in = row->plane + (size_t)(row->iy0 + ky * row->dh) * (size_t)row->w + ix0;
            for (int kx = 0; kx < row->kw; kx++) {
                const float *p = in + kx * row->dw;
                const __m256 v = row->sw == 1 ? _mm256_maskload_ps(p, mask)
                                              : _mm256_mask_i32gather_ps(_mm256_setzero_ps(), p, index,
                                                                         _mm256_castsi256_ps(mask), 4);
                acc = row->is_max ? _mm256_max_ps(v, acc) : _mm256_add_ps(acc, v);
            }
        }
        if (!row->is_max)
            acc = divisor > 0 ? _mm256_div_ps(acc, _mm256_set1_ps((float)divisor)) : _mm256_setzero_ps();
        _mm256_maskstore_ps(out + ox, mask, acc);
    }
}

VC_TARGET_AVX2 void vc_f32_max_pool2d__avx2(const float *x, int h, int w, float *y, int oh, int ow, int kh, int kw,
                                            int sh, int sw, int pt, int pl, int dh, int dw, int plane_begin,
                                            int plane_end) {
    vc_pool_driver(x, h, w, y, oh, ow, kh, kw, sh, sw, pt, pl, 0, 0, dh, dw, 1, 0, plane_begin, plane_end,
                   pool_interior_avx2);
}

VC_TARGET_AVX2 void vc_f32_avg_pool2d__avx2(const float *x, int h, int w, float *y, int oh, int ow, int kh, int kw,
                                            int sh, int sw, int pt, int pl, int pb, int pr, int dh, int dw,
                                            int count_include_pad, int plane_begin, int plane_end) {
    vc_pool_driver(x, h, w, y, oh, ow, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, 0, count_include_pad, plane_begin,
                   plane_end, pool_interior_avx2);
}

VC_TARGET_AVX2 void vc_f32_global_avg_pool__avx2(const float *x, size_t plane, float *y, int plane_begin,
                                                 int plane_end) {
    const size_t body = plane & ~(size_t)7;
    const __m256i tail = vc_tail_mask_avx2(plane - body);
    for (int p = plane_begin; p < plane_end; p++) {
        const float *in = x + (size_t)p * plane;
        __m256 sum = _mm256_setzero_ps();
        for (size_t i = 0; i < body; i += 8) sum = _mm256_add_ps(sum, _mm256_loadu_ps(in + i));
        if (body < plane) sum = _mm256_add_ps(sum, _mm256_maskload_ps(in + body, tail));
        y[p] = vc_hsum_avx2(sum) / (float)plane;
    }
}
