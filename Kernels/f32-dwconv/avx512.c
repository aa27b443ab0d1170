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

// Activation, then the fused epilogue program, on a vector of finished outputs.
VC_ALWAYS_INLINE VC_TARGET_AVX512 __m512 dw_finish_avx512(const vc_dwconv_row *r, __m512 acc, __m512 lo, __m512 hi) {
    const __m512 v = vc_activate_avx512(acc, r->act, lo, hi);
    return r->op_count ? vc_epilogue_avx512(v, r->ops, r->op_count) : v;
}

VC_ALWAYS_INLINE VC_TARGET_AVX512 void dw_row_avx512(const vc_dwconv_row *r, int ox_begin, int ox_end, float *out,
                                                     const int kw, const int sw) {
    const __m512 lo = _mm512_set1_ps(r->lo), hi = _mm512_set1_ps(r->hi);
    int ox = ox_begin;
    // Four blocks at once: four independent accumulator chains keep the FMA pipes busy (one
    // chain waits out each FMA's latency). Each column still sums its taps in the same order.
    for (; ox + 64 <= ox_end; ox += 64) {
        __m512 acc0 = _mm512_set1_ps(r->bias), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int ky = r->ky_lo; ky < r->ky_hi; ky++) {
            const float *in = r->plane + (size_t)(r->iy0 + ky * r->dh) * (size_t)r->w + (ox * sw - r->pl);
            const float *k = r->weights + ky * kw;
            for (int kx = 0; kx < kw; kx++) {
                const __m512 wk = _mm512_set1_ps(k[kx]);
                const float *p = in + kx * r->dw;
                acc0 = _mm512_fmadd_ps(wk, dw_load_avx512(p, 16, sw), acc0);
                acc1 = _mm512_fmadd_ps(wk, dw_load_avx512(p + 16 * sw, 16, sw), acc1);
                acc2 = _mm512_fmadd_ps(wk, dw_load_avx512(p + 32 * sw, 16, sw), acc2);
                acc3 = _mm512_fmadd_ps(wk, dw_load_avx512(p + 48 * sw, 16, sw), acc3);
            }
        }
        _mm512_storeu_ps(out + ox, dw_finish_avx512(r, acc0, lo, hi));
        _mm512_storeu_ps(out + ox + 16, dw_finish_avx512(r, acc1, lo, hi));
        _mm512_storeu_ps(out + ox + 32, dw_finish_avx512(r, acc2, lo, hi));
        _mm512_storeu_ps(out + ox + 48, dw_finish_avx512(r, acc3, lo, hi));
    }
    for (; ox < ox_end; ox += 16) {
        const int n = ox_end - ox < 16 ? ox_end - ox : 16;
        __m512 acc = _mm512_set1_ps(r->bias);
        for (int ky = r->ky_lo; ky < r->ky_hi; ky++) {
            const float *in = r->plane + (size_t)(r->iy0 + ky * r->dh) * (size_t)r->w + (ox * sw - r->pl);
            const float *k = r->weights + ky * kw;
            for (int kx = 0; kx < kw; kx++)
                acc = _mm512_fmadd_ps(_mm512_set1_ps(k[kx]), dw_load_avx512(in + kx * r->dw, n, sw), acc);
        }
        _mm512_mask_storeu_ps(out + ox, vc_tail_mask_avx512((size_t)n), dw_finish_avx512(r, acc, lo, hi));
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

// Border columns [ox_begin, ox_end) (any columns, in fact): each tap's lanes are masked to
// the columns inside the row, so the taps outside read nothing and add nothing. Stride 1 uses
// masked unaligned loads (a masked-off lane never touches memory), other strides gathers.
static VC_TARGET_AVX512 void dwconv_border_avx512(const vc_dwconv_row *r, int ox_begin, int ox_end, float *out) {
    const __m512 lo = _mm512_set1_ps(r->lo), hi = _mm512_set1_ps(r->hi);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i width = _mm512_set1_epi32(r->w), zero = _mm512_setzero_si512();
    for (int ox = ox_begin; ox < ox_end; ox += 16) {
        const int n = ox_end - ox < 16 ? ox_end - ox : 16;
        const __mmask16 live = vc_tail_mask_avx512((size_t)n);
        // Input column of tap kx = 0 for each lane.
        const __m512i column = _mm512_add_epi32(lane, _mm512_set1_epi32(ox));
        const __m512i ix0 =
            _mm512_sub_epi32(_mm512_mullo_epi32(column, _mm512_set1_epi32(r->sw)), _mm512_set1_epi32(r->pl));
        __m512 acc = _mm512_set1_ps(r->bias);
        for (int ky = r->ky_lo; ky < r->ky_hi; ky++) {
            const float *in = r->plane + (size_t)(r->iy0 + ky * r->dh) * (size_t)r->w;
            const float *k = r->weights + ky * r->kw;
            for (int kx = 0; kx < r->kw; kx++) {
                const __m512i ix = _mm512_add_epi32(ix0, _mm512_set1_epi32(kx * r->dw));
                const __mmask16 inside = live & _mm512_cmpge_epi32_mask(ix, zero) & _mm512_cmplt_epi32_mask(ix, width);
                const __m512 v = r->sw == 1 ? _mm512_maskz_loadu_ps(inside, in + (ox - r->pl + kx * r->dw))
                                            : _mm512_mask_i32gather_ps(_mm512_setzero_ps(), inside, ix, in, 4);
                acc = _mm512_fmadd_ps(_mm512_set1_ps(k[kx]), v, acc);
            }
        }
        _mm512_mask_storeu_ps(out + ox, live, dw_finish_avx512(r, acc, lo, hi));
    }
}

VC_TARGET_AVX512 void vc_f32_dwconv__avx512(const float *x, int h, int w, const float *weights, const float *bias,
                                            float *y, int oh, int ow, int kh, int kw, int sh, int sw, int pt, int pl,
                                            int dh, int dw, vc_activation act, float lo, float hi,
                                            const vc_epilogue_op *ops, int op_count, int c_begin, int c_end) {
    vc_dwconv_driver(x, h, w, weights, bias, y, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw, act, lo, hi, ops, op_count,
                     c_begin, c_end, dwconv_interior_avx512, dwconv_border_avx512);
}
