#include "../internal/avx512.h"
#include "../internal/dwconv.h"

// Sixteen output columns per step: the accumulator starts at the bias and takes one FMA per
// tap. Stride 1 reads the taps with unaligned loads, stride 2 loads 32 columns and keeps the
// even ones, other strides gather. KW and SW are compile-time constants in the fast paths
// (3x3 and 5x5 kernels at stride 1 and 2), so the tap loop unrolls.
VC_ALWAYS_INLINE VC_TARGET_AVX512 __m512 dw_load_avx512(const float *p, int n, const int sw) {
    const __mmask16 mask = vc_tail_mask_avx512((size_t)n);
    if (sw == 1) return _mm512_maskz_loadu_ps(mask, p);
    if (sw == 2) {
        // Columns 0, 2, .., 2(n-1): the last one read is the last tap of the last output.
        const uint32_t span = 2u * (uint32_t)n - 1u;
        const uint32_t bits = span >= 32 ? 0xFFFFFFFFu : (1u << span) - 1u;
        const __m512 a = _mm512_maskz_loadu_ps((__mmask16)(bits & 0xFFFF), p);
        const __m512 b = _mm512_maskz_loadu_ps((__mmask16)(bits >> 16), p + 16);
        const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        return _mm512_permutex2var_ps(a, even, b);
    }
    const __m512i index = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(sw));
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, index, p, 4);
}

VC_ALWAYS_INLINE VC_TARGET_AVX512 void dw_row_avx512(const vc_dwconv_row *r, int ox_begin, int ox_end, float *out,
                                                     const int kw, const int sw) {
    const __m512 lo = _mm512_set1_ps(r->lo), hi = _mm512_set1_ps(r->hi);
    for (int ox = ox_begin; ox < ox_end; ox += 16) {
        const int n = ox_end - ox < 16 ? ox_end - ox : 16;
        __m512 acc = _mm512_set1_ps(r->bias);
        for (int ky = r->ky_lo; ky < r->ky_hi; ky++) {
            const float *in = r->plane + (size_t)(r->iy0 + ky * r->dh) * (size_t)r->w + (ox * sw - r->pl);
            const float *k = r->weights + ky * kw;
            for (int kx = 0; kx < kw; kx++)
                acc = _mm512_fmadd_ps(_mm512_set1_ps(k[kx]), dw_load_avx512(in + kx * r->dw, n, sw), acc);
        }
        _mm512_mask_storeu_ps(out + ox, vc_tail_mask_avx512((size_t)n), vc_activate_avx512(acc, r->act, lo, hi));
    }
}

static VC_TARGET_AVX512 void dwconv_interior_avx512(const vc_dwconv_row *r, int ox_begin, int ox_end, float *out) {
    if (r->kw == 3 && r->sw == 1) dw_row_avx512(r, ox_begin, ox_end, out, 3, 1);
    else if (r->kw == 3 && r->sw == 2) dw_row_avx512(r, ox_begin, ox_end, out, 3, 2);
    else if (r->kw == 5 && r->sw == 1) dw_row_avx512(r, ox_begin, ox_end, out, 5, 1);
    else if (r->kw == 5 && r->sw == 2) dw_row_avx512(r, ox_begin, ox_end, out, 5, 2);
    else if (r->sw == 1) dw_row_avx512(r, ox_begin, ox_end, out, r->kw, 1);
    else if (r->sw == 2) dw_row_avx512(r, ox_begin, ox_end, out, r->kw, 2);
    else dw_row_avx512(r, ox_begin, ox_end, out, r->kw, r->sw);
}

VC_TARGET_AVX512 void vc_f32_dwconv__avx512(const float *x, int h, int w, const float *weights, const float *bias,
                                            float *y, int oh, int ow, int kh, int kw, int sh, int sw, int pt, int pl,
                                            int dh, int dw, vc_activation act, float lo, float hi, int c_begin,
                                            int c_end) {
    vc_dwconv_driver(x, h, w, weights, bias, y, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw, act, lo, hi, c_begin, c_end,
                     dwconv_interior_avx512);
}
