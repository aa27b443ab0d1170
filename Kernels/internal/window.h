// Internal: sliding-window geometry and the loop drivers shared by every ISA's im2col and
// pooling. Each ISA passes its own inner-row function; the drivers are always inlined, so the
// indirect call becomes a direct (inlined) call inside each target-specific variant.
#ifndef VISIONC_KERNELS_WINDOW_H
#define VISIONC_KERNELS_WINDOW_H

#include <math.h>
#include <stddef.h>
#include <string.h>

#define VC_ALWAYS_INLINE static inline __attribute__((always_inline))

/// Outputs o in [*lo, *hi) (within [0, count)) for which o*stride + offset lies in [0, limit).
VC_ALWAYS_INLINE void vc_valid_range(int offset, int stride, int limit, int count, int *lo, int *hi) {
    int first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    int last = limit - 1 - offset < 0 ? 0 : (limit - 1 - offset) / stride + 1;
    if (first > count) first = count;
    if (last > count) last = count;
    if (last < first) last = first;
    *lo = first;
    *hi = last;
}

/// dst[i] = src[i*stride] for i < n.
typedef void vc_strided_copy_fn(const float *src, int stride, float *dst, int n);

/// im2col of output rows [oy_begin, oy_end): each col row holds (oy_end - oy_begin) * ow columns.
VC_ALWAYS_INLINE void vc_im2col_driver(const float *x, int h, int w, int kh, int kw, int sh, int sw, int pt,
                                       int pl, int dh, int dw, int ow, int oy_begin, int oy_end, float *col,
                                       int row_begin, int row_end, vc_strided_copy_fn *copy) {
    const size_t out_plane = (size_t)(oy_end - oy_begin) * (size_t)ow;
    for (int r = row_begin; r < row_end; r++) {
        const int kx = r % kw, ky = (r / kw) % kh, ch = r / (kw * kh);
        const float *plane = x + (size_t)ch * (size_t)h * (size_t)w;
        float *out = col + (size_t)r * out_plane;
        int ox_lo, ox_hi;
        vc_valid_range(kx * dw - pl, sw, w, ow, &ox_lo, &ox_hi);
        for (int oy = oy_begin; oy < oy_end; oy++) {
            float *dst = out + (size_t)(oy - oy_begin) * (size_t)ow;
            const int iy = oy * sh + ky * dh - pt;
            if (iy < 0 || iy >= h || ox_lo == ox_hi) {
                memset(dst, 0, sizeof(float) * (size_t)ow);
                continue;
            }
            memset(dst, 0, sizeof(float) * (size_t)ox_lo);
            copy(plane + (size_t)iy * (size_t)w + (ox_lo * sw + kx * dw - pl), sw, dst + ox_lo, ox_hi - ox_lo);
            memset(dst + ox_hi, 0, sizeof(float) * (size_t)(ow - ox_hi));
        }
    }
}

/// Pooling window of one output row, precomputed by the driver: the kernel rows [ky_lo, ky_hi)
/// that fall inside the image and the divisor of an average.
typedef struct vc_pool_row {
    const float *plane;
    int h, w, kh, kw, sw, pl, dh, dw;
    int iy0;          // input row of ky = 0
    int ky_lo, ky_hi; // kernel rows inside the image
    int ky_padded;    // kernel rows inside the explicitly padded image (the divisor with count_include_pad)
    int w_padded;     // w + right padding: a ceil-mode window's taps past it are not padding either
    int is_max;
    int count_include_pad;
} vc_pool_row;

/// One output pixel with every bounds check: the scalar reference, and the border columns of
/// every variant. Sums run ky-major then kx, the order the SIMD interiors keep per lane.
VC_ALWAYS_INLINE float vc_pool_pixel(const vc_pool_row *row, int ox) {
    const int ix0 = ox * row->sw - row->pl;
    float acc = row->is_max ? -INFINITY : 0.0f;
    int count = 0, padded_columns = 0;
    for (int kx = 0; kx < row->kw; kx++) padded_columns += ix0 + kx * row->dw < row->w_padded;
    for (int ky = row->ky_lo; ky < row->ky_hi; ky++) {
        const float *in = row->plane + (size_t)(row->iy0 + ky * row->dh) * (size_t)row->w;
        for (int kx = 0; kx < row->kw; kx++) {
            const int ix = ix0 + kx * row->dw;
            if (ix < 0 || ix >= row->w) continue;
            const float v = in[ix];
            acc = row->is_max ? (v > acc ? v : acc) : acc + v;
            count++;
        }
    }
    if (row->is_max) return acc;
    // ONNX counts the taps inside the explicit padding, not those a ceil-mode window adds past it.
    const int divisor = row->count_include_pad ? row->ky_padded * padded_columns : count;
    return divisor > 0 ? acc / (float)divisor : 0.0f;
}

/// Output pixels [ox_begin, ox_end) of one row, all of whose windows lie inside the image columns.
typedef void vc_pool_interior_fn(const vc_pool_row *row, int ox_begin, int ox_end, float *out);

VC_ALWAYS_INLINE void vc_pool_driver(const float *x, int h, int w, float *y, int oh, int ow, int kh, int kw,
                                     int sh, int sw, int pt, int pl, int pb, int pr, int dh, int dw, int is_max,
                                     int count_include_pad, int plane_begin, int plane_end,
                                     vc_pool_interior_fn *interior) {
    // Columns whose whole window is inside: first tap at or right of 0, last tap left of w.
    int in_lo, unused_hi, unused_lo, in_hi;
    vc_valid_range(-pl, sw, w, ow, &in_lo, &unused_hi);
    vc_valid_range((kw - 1) * dw - pl, sw, w, ow, &unused_lo, &in_hi);
    if (in_hi < in_lo) in_hi = in_lo; // no interior: every column takes the checked path
    for (int p = plane_begin; p < plane_end; p++) {
        vc_pool_row row = {
            .plane = x + (size_t)p * (size_t)h * (size_t)w,
            .h = h, .w = w, .kh = kh, .kw = kw, .sw = sw, .pl = pl, .dh = dh, .dw = dw, .w_padded = w + pr,
            .is_max = is_max, .count_include_pad = count_include_pad,
        };
        float *out_plane = y + (size_t)p * (size_t)oh * (size_t)ow;
        for (int oy = 0; oy < oh; oy++) {
            row.iy0 = oy * sh - pt;
            // ky with iy0 + ky*dh in [0, h), as a range over "outputs" ky with stride dh.
            vc_valid_range(row.iy0, dh, h, kh, &row.ky_lo, &row.ky_hi);
            int unused_padded_lo;
            vc_valid_range(row.iy0 + pt, dh, h + pt + pb, kh, &unused_padded_lo, &row.ky_padded);
            float *out = out_plane + (size_t)oy * (size_t)ow;
            for (int ox = 0; ox < in_lo; ox++) out[ox] = vc_pool_pixel(&row, ox);
            interior(&row, in_lo, in_hi, out);
            for (int ox = in_hi; ox < ow; ox++) out[ox] = vc_pool_pixel(&row, ox);
        }
    }
}

#endif
