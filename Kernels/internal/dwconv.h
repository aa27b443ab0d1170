// Internal: the loop driver of the direct depthwise convolution, shared by every ISA. The
// driver walks channels and output rows, works out which kernel rows fall inside the image
// and which output columns see only in-image taps, computes the border columns itself and
// hands the interior run of each row to the ISA's row function (always inlined, so the call
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
} vc_dwconv_row;

/// Writes out[ox] for ox in [ox_begin, ox_end), where every horizontal tap is inside the row.
typedef void vc_dwconv_interior_fn(const vc_dwconv_row *row, int ox_begin, int ox_end, float *out);

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
    return vc_activate_scalar(acc, r->act, r->lo, r->hi);
}

VC_ALWAYS_INLINE void vc_dwconv_driver(const float *x, int h, int w, const float *weights, const float *bias,
                                       float *y, int oh, int ow, int kh, int kw, int sh, int sw, int pt, int pl,
                                       int dh, int dw, vc_activation act, float lo, float hi, int c_begin,
                                       int c_end, vc_dwconv_interior_fn *interior) {
    // Columns whose taps ox*sw - pl + kx*dw, kx in [0, kw), all lie in [0, w).
    int ox_lo, ox_hi;
    vc_valid_range(-pl, sw, w - (kw - 1) * dw, ow, &ox_lo, &ox_hi);
    for (int c = c_begin; c < c_end; c++) {
        vc_dwconv_row r = {
            .plane = x + (size_t)c * (size_t)h * (size_t)w, .weights = weights + (size_t)c * (size_t)(kh * kw),
            .w = w, .kw = kw, .sw = sw, .pl = pl, .dw = dw, .dh = dh,
            .bias = bias ? bias[c] : 0.0f, .act = act, .lo = lo, .hi = hi,
        };
        float *out_plane = y + (size_t)c * (size_t)oh * (size_t)ow;
        for (int oy = 0; oy < oh; oy++) {
            r.iy0 = oy * sh - pt;
            vc_valid_range(r.iy0, dh, h, kh, &r.ky_lo, &r.ky_hi);
            float *out = out_plane + (size_t)oy * (size_t)ow;
            for (int ox = 0; ox < ox_lo; ox++) out[ox] = vc_dwconv_pixel(&r, ox);
            if (ox_lo < ox_hi) interior(&r, ox_lo, ox_hi, out);
            for (int ox = ox_hi > ox_lo ? ox_hi : ox_lo; ox < ow; ox++) out[ox] = vc_dwconv_pixel(&r, ox);
        }
    }
}

#endif
