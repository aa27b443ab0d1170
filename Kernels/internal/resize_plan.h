// Internal: the resize plan shared by the u8-resize and u8-preprocess drivers.
#ifndef VISIONC_KERNELS_RESIZE_PLAN_H
#define VISIONC_KERNELS_RESIZE_PLAN_H

#include "visionc_kernels.h"

#include <stdint.h>

struct vc_resize_plan {
    int src_h, src_w, roi_h, roi_w;
    vc_interp interp;
    // Per ROI column: source columns of the two taps (x1 = x0 for nearest and at the right
    // border) and the 11-bit weights (pairs; bilinear only).
    int32_t *x0, *x1;
    int16_t *xalpha;
    // Per ROI row: source rows of the two taps, already clamped to the image, and the weights,
    // which (as in OpenCV) are not reset at the border.
    int32_t *y0, *y1;
    int16_t *ybeta;
    // AREA, ANTIALIAS_BILINEAR and LANCZOS only (NULL otherwise): the separable filter of each axis.
    struct vc_filter_axis *fx, *fy;
    // The Pillow kinds: filter columns before rows (Pillow 13's order when the height shrinks by
    // more than twice as many pixels as the width); rows first otherwise, and always for AREA.
    int vertical_first;
};

// Per ROI output index i of one axis: taps start[i] .. start[i]+count[i]-1 (inside the source)
// with weights w[i*ksize + t] in VC_FILTER_BITS fixed point (they sum to 1 << VC_FILTER_BITS
// up to rounding, Pillow's normalize_coeffs_8bpc).
#define VC_FILTER_BITS 22
typedef struct vc_filter_axis {
    int out, ksize;
    int32_t *start, *count, *w;
} vc_filter_axis;

// Where the row drivers send each finished u8 row of a column chunk.
typedef struct resize_sink {
    // vc_u8_resize: u8 rows into dst.
    uint8_t *u8_dst;
    size_t u8_stride;
    // vc_u8_preprocess: floats through the store primitive.
    const int *channel_map;
    int out_channels;
    const float *scale, *bias;
    int planar;
    float *f32_dst;
} resize_sink;

// The filter kinds' tables (filter.c); 0 on success, -1 when out of memory.
int vc_filter_plan_init(vc_resize_plan *plan, int dst_h, int dst_w, int roi_y, int roi_x);
void vc_filter_plan_free(vc_resize_plan *plan);
// The filter kinds' row driver (filter.c): u8 rows [row_begin, row_end) of the ROI to the sink
// (row_u8 of the preprocess sink is the scratch the caller passes). 0 on success, -1 when
// out of memory.
int vc_filter_rows(const vc_resize_plan *plan, const uint8_t *src, size_t src_stride, int cn,
                   const resize_sink *sink, int row_begin, int row_end);
// Sends one finished u8 chunk row (npix pixels at column px0 of ROI row y) to the sink.
void vc_resize_sink_row(const vc_resize_plan *plan, const resize_sink *sink, const uint8_t *row, int y, int px0,
                        int npix, int cn);

#endif
