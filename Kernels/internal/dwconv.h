// Internal: the loop driver of the direct depthwise convolution, shared by every ISA. The
// driver walks channels and output rows, works out which kernel rows fall inside the image
// and which output columns see only in-image taps, computes the border columns itself (or
// with the ISA's masked border function, when it has one) and hands the interior run of each
// row to the ISA's row function (always inlined, so the call
// is direct inside each target-specific variant).
#ifndef VISIONC_KERNELS_DWCONV_H
#define VISIONC_KERNELS_DWCONV_H

#include "scalar.h"
#include "window.h"

/// One output row of one channel, as the interior function sees it.
typedef struct vc_dwconv_row {
    const float *plane;   // the channel's input plane [h, w]
    const float *weights; // the channel's kernel [kh, kw]
    int w, kw, sw, pl, dw, dh;
    int iy0;              // input row of ky = 0
    int ky_lo, ky_hi;     // kernel rows inside the image
    float bias;
    vc_activation act;
    float lo, hi;
    const vc_epilogue_op *ops; // the fused epilogue program, run after the activation
    int op_count;
} vc_dwconv_row;

/// Writes out[ox] for ox in [ox_begin, ox_end), where every horizontal tap is inside the row.
typedef void vc_dwconv_interior_fn(const vc_dwconv_row *row, int ox_begin, int ox_end, float *out);
/// Writes out[ox] for any ox in [ox_begin, ox_end), skipping taps outside the row.
typedef void vc_dwconv_border_fn(const vc_dwconv_row *row, int ox_begin, int ox_end, float *out);

/// One output pixel with every tap bounds-checked (borders, and the scalar reference).
VC_ALWAYS_INLINE float vc_dwconv_pixel(const vc_dwconv_row *r, int ox) {
    float acc = r->bias;
    const int ix0 = ox * r->sw - r->pl;
    for (int ky = r->ky_lo; ky < r->ky_hi; ky++) {
        const float *in = r->plane + (size_t)(r->iy0 + ky * r->dh) * (size_t)r->w;
        const float *k = r->weights + ky * r->kw;
        for (int kx = 0; kx < r->kw; kx++) {
            const int ix = ix0 + kx * r->dw;
            if (ix >= 0 && ix < r->w) acc += k[kx] * in[ix];
        }
    }
    return vc_epilogue_scalar(vc_activate_scalar(acc, r->act, r->lo, r->hi), r->ops, r->op_count);
}

VC_ALWAYS_INLINE void vc_dwconv_driver(const float *x, int h, int w, const float *weights, const float *bias,
                                       float *y, int oh, int ow, int kh, int kw, int sh, int sw, int pt, int pl,
                                       int dh, int dw, vc_activation act, float lo, float hi,
                                       const vc_epilogue_op *ops, int op_count, int c_begin, int c_end,
                                       vc_dwconv_interior_fn *interior, vc_dwconv_border_fn *border) {
    // Columns whose taps ox*sw - pl + kx*dw, kx in [0, kw), all lie in [0, w).
    int ox_lo, ox_hi;
    vc_valid_range(-pl, sw, w - (kw - 1) * dw, ow, &ox_lo, &ox_hi);
    for (int c = c_begin; c < c_end; c++) {
        vc_dwconv_row r = {
            .plane = x + (size_t)c * (size_t)h * (size_t)w, .weights = weights + (size_t)c * (size_t)(kh * kw),
            .w = w, .kw = kw, .sw = sw, .pl = pl, .dw = dw, .dh = dh,
            .bias = bias ? bias[c] : 0.0f, .act = act, .lo = lo, .hi = hi, .ops = ops, .op_count = op_count,
        };
        float *out_plane = y + (size_t)c * (size_t)oh * (size_t)ow;
        for (int oy = 0; oy < oh; oy++) {
            r.iy0 = oy * sh - pt;
            vc_valid_range(r.iy0, dh, h, kh, &r.ky_lo, &r.ky_hi);
            float *out = out_plane + (size_t)oy * (size_t)ow;
            if (border) {
                // Vector borders, each a full block where the row allows (the border function is
                // right for any column), so the few border columns do not cost a pixel loop each.
                const int block = 16;
                const int left_end = ox_lo == 0 ? 0 : (ox_lo > block ? ox_lo : (ow < block ? ow : block));
                int right_start = ox_hi >= ow ? ow : (ox_hi < ow - block ? ox_hi : ow - block);
                if (right_start < left_end) right_start = left_end;
                if (left_end > 0) border(&r, 0, left_end, out);
                if (left_end < right_start) interior(&r, left_end, right_start, out);
                if (right_start < ow) border(&r, right_start, ow, out);
                continue;
            }
            for (int ox = 0; ox < ox_lo; ox++) out[ox] = vc_dwconv_pixel(&r, ox);
            if (ox_lo < ox_hi) interior(&r, ox_lo, ox_hi, out);
            for (int ox = ox_hi > ox_lo ? ox_hi : ox_lo; ox < ow; ox++) out[ox] = vc_dwconv_pixel(&r, ox);
        }
    }
}

#endif
