// The resize plan (OpenCV INTER_NEAREST / INTER_LINEAR coefficients for the ROI) and the
// two-tap row driver shared by vc_u8_resize and the fused vc_u8_preprocess (the filter kinds,
// AREA, ANTIALIAS_BILINEAR and LANCZOS, have their own driver in filter.c). The driver walks the ROI in
// column chunks of at most VC_RESIZE_CHUNK_ELEMS elements so every scratch row lives on the
// stack; within a chunk, the horizontally interpolated source rows are kept while consecutive
// output rows need them (upscaling reuses each one about twice).
#include "../internal/kernels.h"
#include "../internal/resize_plan.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define COEF_SCALE 2048 // OpenCV INTER_RESIZE_COEF_SCALE (11 fraction bits)

// OpenCV computes the scale as 1 / (dst/src) in double; the same expression gives the same
// rounding of every source coordinate.
static double inverse_scale(int src, int dst) { return 1.0 / ((double)dst / (double)src); }

// INTER_LINEAR taps for outputs [first, first+count) of one axis. clamp_weights: the x axis
// resets the weight at the borders, the y axis (as in OpenCV) only clamps the rows.
static void linear_taps(int src, int dst, int first, int count, int clamp_weights, int32_t *i0, int32_t *i1,
                        int16_t *weights) {
    const double scale = inverse_scale(src, dst);
    for (int j = 0; j < count; j++) {
        float f = (float)((first + j + 0.5) * scale - 0.5);
        int s = (int)floorf(f);
        f -= (float)s;
        int lo = s, hi = s + 1;
        if (clamp_weights) {
            if (s < 0) f = 0.0f, lo = hi = 0;
            if (s >= src - 1) f = 0.0f, lo = hi = src - 1;
            if (hi >= src) hi = src - 1;
        } else {
            lo = lo < 0 ? 0 : (lo >= src ? src - 1 : lo);
            hi = hi < 0 ? 0 : (hi >= src ? src - 1 : hi);
        }
        i0[j] = lo;
        i1[j] = hi;
        weights[2 * j] = (int16_t)lrintf((1.0f - f) * COEF_SCALE);
        weights[2 * j + 1] = (int16_t)lrintf(f * COEF_SCALE);
    }
}

static void nearest_taps(int src, int dst, int first, int count, int32_t *i0, int32_t *i1) {
    const double scale = inverse_scale(src, dst);
    for (int j = 0; j < count; j++) {
        const int s = (int)floor((first + j) * scale);
        i0[j] = i1[j] = s < src - 1 ? s : src - 1;
    }
}

vc_resize_plan *vc_resize_plan_create(int src_h, int src_w, int dst_h, int dst_w, int roi_y, int roi_x, int roi_h,
                                      int roi_w, vc_interp interp) {
    if (src_h < 1 || src_w < 1 || dst_h < 1 || dst_w < 1 || roi_h < 1 || roi_w < 1) return NULL;
    if (roi_y < 0 || roi_x < 0 || roi_y > dst_h - roi_h || roi_x > dst_w - roi_w) return NULL;
    if (interp != VC_INTERP_NEAREST && interp != VC_INTERP_BILINEAR && interp != VC_INTERP_AREA &&
        interp != VC_INTERP_ANTIALIAS_BILINEAR && interp != VC_INTERP_LANCZOS)
        return NULL;
    // One block: the struct, then int32 tables, then int16 tables (alignment stays natural).
    const size_t w = (size_t)roi_w, h = (size_t)roi_h;
    const size_t bytes = sizeof(vc_resize_plan) + sizeof(int32_t) * 2 * (w + h) + sizeof(int16_t) * 2 * (w + h);
    vc_resize_plan *plan = malloc(bytes);
    if (!plan) return NULL;
    plan->src_h = src_h, plan->src_w = src_w, plan->roi_h = roi_h, plan->roi_w = roi_w, plan->interp = interp;
    int32_t *ints = (int32_t *)(plan + 1);
    plan->x0 = ints, plan->x1 = ints + w, plan->y0 = ints + 2 * w, plan->y1 = ints + 2 * w + h;
    int16_t *shorts = (int16_t *)(ints + 2 * (w + h));
    plan->xalpha = shorts, plan->ybeta = shorts + 2 * w;
    plan->fx = plan->fy = NULL;
    plan->vertical_first = 0;
    if (interp == VC_INTERP_AREA || interp == VC_INTERP_ANTIALIAS_BILINEAR || interp == VC_INTERP_LANCZOS) {
        if (vc_filter_plan_init(plan, dst_h, dst_w, roi_y, roi_x) != 0) {
            vc_resize_plan_destroy(plan);
            return NULL;
        }
    } else if (interp == VC_INTERP_BILINEAR) {
        linear_taps(src_w, dst_w, roi_x, roi_w, 1, plan->x0, plan->x1, plan->xalpha);
        linear_taps(src_h, dst_h, roi_y, roi_h, 0, plan->y0, plan->y1, plan->ybeta);
    } else {
        nearest_taps(src_w, dst_w, roi_x, roi_w, plan->x0, plan->x1);
        nearest_taps(src_h, dst_h, roi_y, roi_h, plan->y0, plan->y1);
        memset(plan->xalpha, 0, sizeof(int16_t) * 2 * (w + h));
    }
    return plan;
}

// The span of one axis's taps: the filter tables when the kind has them, else the two-tap
// indices (x1 = x0 for nearest).
static void axis_window(const vc_filter_axis *filter, const int32_t *tap0, const int32_t *tap1, int count,
                        int *begin, int *end) {
    int lo = INT32_MAX, hi = INT32_MIN;
    for (int i = 0; i < count; i++) {
        const int first = filter ? filter->start[i] : (tap0[i] < tap1[i] ? tap0[i] : tap1[i]);
        const int last = filter ? filter->start[i] + filter->count[i] - 1 : (tap0[i] > tap1[i] ? tap0[i] : tap1[i]);
        if (first < lo) lo = first;
        if (last > hi) hi = last;
    }
    *begin = lo, *end = hi + 1;
}

void vc_resize_plan_source_window(const vc_resize_plan *plan, int *row_begin, int *row_end, int *col_begin,
                                  int *col_end) {
    axis_window(plan->fy, plan->y0, plan->y1, plan->roi_h, row_begin, row_end);
    axis_window(plan->fx, plan->x0, plan->x1, plan->roi_w, col_begin, col_end);
}

void vc_resize_plan_destroy(vc_resize_plan *plan) {
    if (!plan) return;
    vc_filter_plan_free(plan);
    free(plan);
}

void vc_resize_sink_row(const vc_resize_plan *plan, const resize_sink *sink, const uint8_t *row, int y, int px0,
                        int npix, int cn) {
    if (sink->u8_dst) {
        memcpy(sink->u8_dst + (size_t)y * sink->u8_stride + (size_t)px0 * (size_t)cn, row, (size_t)npix * (size_t)cn);
        return;
    }
    const size_t plane = (size_t)plan->roi_h * (size_t)plan->roi_w;
    const size_t pixel = (size_t)y * (size_t)plan->roi_w + (size_t)px0;
    float *dst = sink->planar ? sink->f32_dst + pixel : sink->f32_dst + pixel * (size_t)sink->out_channels;
    vc_kernels()->u8_preprocess_store(row, npix, cn, sink->channel_map, sink->out_channels, sink->scale, sink->bias,
                                      sink->planar, plane, dst);
}

static void resize_rows(const vc_resize_plan *plan, const uint8_t *src, size_t src_stride, int cn,
                        const resize_sink *sink, int row_begin, int row_end) {
    const vc_kernel_table *k = vc_kernels();
    int32_t ofs0[VC_RESIZE_CHUNK_ELEMS], ofs1[VC_RESIZE_CHUNK_ELEMS];
    int16_t alpha[2 * VC_RESIZE_CHUNK_ELEMS];
    int32_t hrow_storage[2][VC_RESIZE_CHUNK_ELEMS];
    int32_t *hrow[2] = {hrow_storage[0], hrow_storage[1]};
    uint8_t row_u8[VC_RESIZE_CHUNK_ELEMS + VC_GATHER_PAD];
    memset(row_u8 + VC_RESIZE_CHUNK_ELEMS, 0, VC_GATHER_PAD);
    const int chunk_pixels = VC_RESIZE_CHUNK_ELEMS / cn;
    const size_t src_row_bytes = (size_t)plan->src_w * (size_t)cn;
    const int bilinear = plan->interp == VC_INTERP_BILINEAR;

    for (int px0 = 0; px0 < plan->roi_w; px0 += chunk_pixels) {
        const int npix = plan->roi_w - px0 < chunk_pixels ? plan->roi_w - px0 : chunk_pixels;
        const int n = npix * cn;
        for (int p = 0; p < npix; p++)
            for (int c = 0; c < cn; c++) {
                const int j = p * cn + c;
                ofs0[j] = plan->x0[px0 + p] * cn + c;
                ofs1[j] = plan->x1[px0 + p] * cn + c;
                alpha[2 * j] = plan->xalpha[2 * (px0 + p)];
                alpha[2 * j + 1] = plan->xalpha[2 * (px0 + p) + 1];
            }
        int n_gather_safe = 0;
        while (n_gather_safe < n && (size_t)ofs1[n_gather_safe] + VC_GATHER_PAD <= src_row_bytes) n_gather_safe++;

        int cached_row[2] = {-1, -1};
        for (int y = row_begin; y < row_end; y++) {
            uint8_t *out = sink->u8_dst ? sink->u8_dst + (size_t)y * sink->u8_stride + (size_t)px0 * (size_t)cn
                                        : row_u8;
            const int r0 = plan->y0[y], r1 = plan->y1[y];
            if (bilinear) {
                if (cached_row[0] != r0 && cached_row[1] == r0) {
                    int32_t *row = hrow[0];
                    hrow[0] = hrow[1], hrow[1] = row;
                    cached_row[1] = cached_row[0], cached_row[0] = r0;
                }
                if (cached_row[0] != r0) {
                    k->u8_resize_hpass(src + (size_t)r0 * src_stride, ofs0, ofs1, alpha, hrow[0], n, n_gather_safe);
                    cached_row[0] = r0;
                }
                if (r1 != r0 && cached_row[1] != r1) {
                    k->u8_resize_hpass(src + (size_t)r1 * src_stride, ofs0, ofs1, alpha, hrow[1], n, n_gather_safe);
                    cached_row[1] = r1;
                }
                k->u8_resize_vblend(hrow[0], r1 != r0 ? hrow[1] : hrow[0], plan->ybeta[2 * y], plan->ybeta[2 * y + 1],
                                    out, n);
            } else {
                const uint8_t *in = src + (size_t)r0 * src_stride;
                for (int j = 0; j < n; j++) out[j] = in[ofs0[j]];
            }
            if (!sink->u8_dst) vc_resize_sink_row(plan, sink, row_u8, y, px0, npix, cn);
        }
    }
}

// The two-tap kinds never allocate; the filter kinds need a scratch ring sized by the plan.
static int run_rows(const vc_resize_plan *plan, const uint8_t *src, size_t src_stride, int cn, const resize_sink *sink,
                    int row_begin, int row_end) {
    if (plan->fx) return vc_filter_rows(plan, src, src_stride, cn, sink, row_begin, row_end);
    resize_rows(plan, src, src_stride, cn, sink, row_begin, row_end);
    return 0;
}

int vc_u8_resize(const vc_resize_plan *plan, const uint8_t *src, size_t src_stride, int channels, uint8_t *dst,
                 size_t dst_stride, int row_begin, int row_end) {
    const resize_sink sink = {.u8_dst = dst, .u8_stride = dst_stride};
    return run_rows(plan, src, src_stride, channels, &sink, row_begin, row_end);
}

int vc_u8_preprocess(const vc_resize_plan *plan, const uint8_t *src, size_t src_stride, int src_channels,
                     const int *channel_map, int out_channels, const float *scale, const float *bias, int planar,
                     float *dst, int row_begin, int row_end) {
    const resize_sink sink = {
        .channel_map = channel_map, .out_channels = out_channels, .scale = scale, .bias = bias,
        .planar = planar, .f32_dst = dst,
    };
    return run_rows(plan, src, src_stride, src_channels, &sink, row_begin, row_end);
}
