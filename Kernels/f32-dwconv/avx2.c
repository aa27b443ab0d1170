#include "../internal/avx2.h"
#include "../internal/dwconv.h"

// Eight output columns per step, as in f32-dwconv/avx512.c. Stride 2 loads 16 columns and
// keeps the even ones (shuffle within lanes, then a cross-lane permute); other strides read
// the taps one by one.
VC_ALWAYS_INLINE VC_TARGET_AVX2 __m256 dw_load_avx2(const float *p, int n, const int sw) {
    if (sw == 1) return n == 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, vc_tail_mask_avx2((size_t)n));
    if (sw == 2) {
        // Columns 0, 2, .., 2(n-1): the last one read is the last tap of the last output.
        const int span = 2 * n - 1;
        const __m256 a = _mm256_maskload_ps(p, vc_tail_mask_avx2((size_t)(span < 8 ? span : 8)));
        const __m256 b = span > 8 ? _mm256_maskload_ps(p + 8, vc_tail_mask_avx2((size_t)(span - 8))) : _mm256_setzero_ps();
        const __m256 even = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
        return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even), _MM_SHUFFLE(3, 1, 2, 0)));
    }
    float lanes[8] = {0};
    for (int i = 0; i < n; i++) lanes[i] = p[(size_t)i * (size_t)sw];
    return _mm256_loadu_ps(lanes);
}

VC_ALWAYS_INLINE VC_TARGET_AVX2 void dw_row_avx2(const vc_dwconv_row *r, int ox_begin, int ox_end, float *out,
                                                 const int kw, const int sw) {
    const __m256 lo = _mm256_set1_ps(r->lo), hi = _mm256_set1_ps(r->hi);
    for (int ox = ox_begin; ox < ox_end; ox += 8) {
        const int n = ox_end - ox < 8 ? ox_end - ox : 8;
        __m256 acc = _mm256_set1_ps(r->bias);
        for (int ky = r->ky_lo; ky < r->ky_hi; ky++) {
            const float *in = r->plane + (size_t)(r->iy0 + ky * r->dh) * (size_t)r->w + (ox * sw - r->pl);
            const float *k = r->weights + ky * kw;
            for (int kx = 0; kx < kw; kx++)
                acc = _mm256_fmadd_ps(_mm256_set1_ps(k[kx]), dw_load_avx2(in + kx * r->dw, n, sw), acc);
        }
        acc = vc_activate_avx2(acc, r->act, lo, hi);
        if (r->op_count) acc = vc_epilogue_avx2(acc, r->ops, r->op_count);
        if (n == 8) _mm256_storeu_ps(out + ox, acc);
        else _mm256_maskstore_ps(out + ox, vc_tail_mask_avx2((size_t)n), acc);
    }
}

static VC_TARGET_AVX2 void dwconv_interior_avx2(const vc_dwconv_row *r, int ox_begin, int ox_end, float *out) {
    if (r->kw == 3 && r->sw == 1) dw_row_avx2(r, ox_begin, ox_end, out, 3, 1);
    else if (r->kw == 3 && r->sw == 2) dw_row_avx2(r, ox_begin, ox_end, out, 3, 2);
    else if (r->kw == 5 && r->sw == 1) dw_row_avx2(r, ox_begin, ox_end, out, 5, 1);
    else if (r->kw == 5 && r->sw == 2) dw_row_avx2(r, ox_begin, ox_end, out, 5, 2);
    else if (r->sw == 1) dw_row_avx2(r, ox_begin, ox_end, out, r->kw, 1);
    else if (r->sw == 2) dw_row_avx2(r, ox_begin, ox_end, out, r->kw, 2);
    else dw_row_avx2(r, ox_begin, ox_end, out, r->kw, r->sw);
}

VC_TARGET_AVX2 void vc_f32_dwconv__avx2(const float *x, int h, int w, const float *weights, const float *bias,
                                        float *y, int oh, int ow, int kh, int kw, int sh, int sw, int pt, int pl,
                                        int dh, int dw, vc_activation act, float lo, float hi,
                                        const vc_epilogue_op *ops, int op_count, int c_begin, int c_end) {
    vc_dwconv_driver(x, h, w, weights, bias, y, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw, act, lo, hi, ops, op_count,
                     c_begin, c_end, dwconv_interior_avx2, NULL);
}
