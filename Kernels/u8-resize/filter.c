// The filter kinds of the resize plan: INTER_AREA and Pillow's antialiased BILINEAR and LANCZOS. Each axis
// gets a table of taps (first source index, count, VC_FILTER_BITS fixed-point weights) for the
// ROI's outputs; the row driver filters source rows horizontally into a ring of u8 rows
// (rounded as Pillow's ImagingResampleHorizontal_8bpc does), then blends the ring vertically.
// Source rows shared by consecutive output rows are filtered once per column chunk. Where
// Pillow 13 runs the vertical pass first, a second driver blends the source rows into one u8
// row, then filters it horizontally.
#include "../internal/kernels.h"
#include "../internal/resize_plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// The ring of horizontally filtered rows stays under this many bytes; wide filters (large
// downscales) get narrower column chunks instead of more memory.
#define RING_BYTES (1 << 20)

// Taps of one output index as doubles; returns the tap count (weights normalized to sum 1).
typedef int (*taps_fn)(int src, int dst, int i, int *start, double *w);

// Pillow's filters (Resample.c): the triangle of BILINEAR and the truncated sinc of LANCZOS.
static double triangle_filter(double x) {
    if (x < 0.0) x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

static double sinc_filter(double x) {
    if (x == 0.0) return 1.0;
    x *= M_PI;
    return sin(x) / x;
}

static double lanczos3_filter(double x) { return -3.0 <= x && x < 3.0 ? sinc_filter(x) * sinc_filter(x / 3.0) : 0.0; }

// Pillow's precompute_coeffs: the filter's support widened by the scale when downscaling, so
// every source pixel contributes (antialiasing); weights normalized to sum 1.
static int pillow_taps(double (*filter)(double), double filter_support, int src, int dst, int i, int *start,
                       double *w) {
    const double scale = (double)src / (double)dst;
    const double filterscale = scale < 1.0 ? 1.0 : scale;
    const double support = filter_support * filterscale, ss = 1.0 / filterscale;
    const double center = (i + 0.5) * scale;
    int xmin = (int)(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = (int)(center + support + 0.5);
    if (xmax > src) xmax = src;
    xmax -= xmin;
    double total = 0.0;
    for (int x = 0; x < xmax; x++) {
        w[x] = filter((x + xmin - center + 0.5) * ss);
        total += w[x];
    }
    if (total != 0.0)
        for (int x = 0; x < xmax; x++) w[x] /= total;
    *start = xmin;
    return xmax;
}

static int pillow_bilinear_taps(int src, int dst, int i, int *start, double *w) {
    return pillow_taps(triangle_filter, 1.0, src, dst, i, start, w);
}

static int pillow_lanczos_taps(int src, int dst, int i, int *start, double *w) {
    return pillow_taps(lanczos3_filter, 3.0, src, dst, i, start, w);
}

// Pillow's ksize: the most taps one output can have for a filter of this support.
static int pillow_ksize(double filter_support, int src, int dst) {
    const double scale = (double)src / (double)dst;
    return (int)ceil(filter_support * (scale < 1.0 ? 1.0 : scale)) * 2 + 1;
}

// INTER_AREA when no axis upscales: each source pixel weighs its overlap with the output
// pixel's footprint [i*scale, (i+1)*scale); slivers under 1e-3 are dropped as OpenCV does.
static int area_box_taps(int src, int dst, int i, int *start, double *w) {
    const double scale = (double)src / (double)dst;
    const double lo = i * scale;
    double hi = (i + 1) * scale;
    if (hi > src) hi = src;
    int first = (int)floor(lo), last = (int)ceil(hi);
    if (last > src) last = src;
    if (last <= first) last = first + 1;
    int count = 0, begin = -1;
    double total = 0.0;
    for (int x = first; x < last; x++) {
        const double overlap = fmin(x + 1.0, hi) - fmax((double)x, lo);
        if (overlap < 1e-3 && last - first > 1) {
            if (begin < 0) continue;  // a leading sliver
            break;                    // a trailing sliver
        }
        if (begin < 0) begin = x;
        w[count++] = overlap;
        total += overlap;
    }
    for (int x = 0; x < count; x++) w[x] /= total;
    *start = begin;
    return count;
}

// INTER_AREA when an axis upscales: OpenCV then runs INTER_LINEAR on both axes with its area
// mode coefficients, sx = floor(i*scale), fx = frac((i+1) - (sx+1)/scale) (0 when negative).
static int area_linear_taps(int src, int dst, int i, int *start, double *w) {
    const double scale = 1.0 / ((double)dst / (double)src), inv_scale = (double)dst / (double)src;
    int sx = (int)floor(i * scale);
    float fx = (float)((i + 1) - (sx + 1) * inv_scale);
    fx = fx <= 0 ? 0.0f : fx - floorf(fx);
    if (sx < 0) fx = 0.0f, sx = 0;
    if (sx >= src - 1) fx = 0.0f, sx = src - 1;
    *start = sx;
    w[0] = 1.0 - fx;
    if (fx == 0.0f) return 1;
    w[1] = fx;
    return 2;
}

static vc_filter_axis *axis_create(taps_fn taps, int ksize, int src, int dst, int first, int count) {
    vc_filter_axis *axis = malloc(sizeof(vc_filter_axis));
    double *w = malloc(sizeof(double) * (size_t)ksize);
    int32_t *tables = malloc(sizeof(int32_t) * (size_t)count * (size_t)(2 + ksize));
    if (!axis || !w || !tables) {
        free(axis), free(w), free(tables);
        return NULL;
    }
    axis->out = count, axis->ksize = ksize;
    axis->start = tables, axis->count = tables + count, axis->w = tables + 2 * (size_t)count;
    for (int i = 0; i < count; i++) {
        int start = 0;
        const int n = taps(src, dst, first + i, &start, w);
        axis->start[i] = start, axis->count[i] = n;
        int32_t *k = axis->w + (size_t)i * (size_t)ksize;
        for (int t = 0; t < ksize; t++) {
            // Pillow's normalize_coeffs_8bpc: round half away from zero.
            const double v = t < n ? w[t] * (double)(1 << VC_FILTER_BITS) : 0.0;
            k[t] = (int32_t)(v < 0 ? v - 0.5 : v + 0.5);
        }
    }
    free(w);
    return axis;
}

static void axis_free(vc_filter_axis *axis) {
    if (!axis) return;
    free(axis->start);
    free(axis);
}

int vc_filter_plan_init(vc_resize_plan *plan, int dst_h, int dst_w, int roi_y, int roi_x) {
    const int src_h = plan->src_h, src_w = plan->src_w;
    taps_fn taps;
    int kx, ky;
    if (plan->interp == VC_INTERP_ANTIALIAS_BILINEAR || plan->interp == VC_INTERP_LANCZOS) {
        const int lanczos = plan->interp == VC_INTERP_LANCZOS;
        const double support = lanczos ? 3.0 : 1.0;
        taps = lanczos ? pillow_lanczos_taps : pillow_bilinear_taps;
        kx = pillow_ksize(support, src_w, dst_w);
        ky = pillow_ksize(support, src_h, dst_h);
        // Pillow 13's ImagingResampleInner: "if height is being scaled down more than twice
        // the amount the width is, run the vertical pass first" (Pillow 12 and older never do).
        plan->vertical_first = src_h - dst_h > 0 && src_h - dst_h > (src_w - dst_w) * 2;
    } else if (src_w >= dst_w && src_h >= dst_h) {
        taps = area_box_taps;
        kx = (int)ceil((double)src_w / dst_w) + 2;
        ky = (int)ceil((double)src_h / dst_h) + 2;
    } else {
        taps = area_linear_taps;
        kx = ky = 2;
    }
    plan->fx = axis_create(taps, kx, src_w, dst_w, roi_x, plan->roi_w);
    plan->fy = axis_create(taps, ky, src_h, dst_h, roi_y, plan->roi_h);
    if (!plan->fx || !plan->fy) {
        vc_filter_plan_free(plan);
        return -1;
    }
    return 0;
}

void vc_filter_plan_free(vc_resize_plan *plan) {
    axis_free(plan->fx);
    axis_free(plan->fy);
    plan->fx = plan->fy = NULL;
}

static inline uint8_t clip8(int32_t v) {
    v >>= VC_FILTER_BITS;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

// Pixels [px0, px0+npix) of one source row through the horizontal filter; `row` holds the
// source columns from `column0` on.
static void filter_row(const vc_filter_axis *fx, const uint8_t *row, int column0, int cn, int px0, int npix,
                       uint8_t *out) {
    for (int p = 0; p < npix; p++) {
        const uint8_t *in = row + (size_t)(fx->start[px0 + p] - column0) * (size_t)cn;
        const int32_t *k = fx->w + (size_t)(px0 + p) * (size_t)fx->ksize;
        const int n = fx->count[px0 + p];
        for (int c = 0; c < cn; c++) {
            int32_t acc = 1 << (VC_FILTER_BITS - 1);
            for (int t = 0; t < n; t++) acc += (int32_t)in[(size_t)t * (size_t)cn + (size_t)c] * k[t];
            out[p * cn + c] = clip8(acc);
        }
    }
}

// Vertical pass first: per output row, the source rows blended over the columns the ROI reads
// (rounded to u8 as Pillow's ImagingResampleVertical_8bpc does), then that row filtered
// horizontally and sent to the sink in column chunks.
static int filter_rows_vertical_first(const vc_resize_plan *plan, const uint8_t *src, size_t src_stride, int cn,
                                      const resize_sink *sink, int row_begin, int row_end) {
    const vc_filter_axis *fx = plan->fx, *fy = plan->fy;
    // Tap windows move right with the output column, so the first and last bound the span.
    const int x_lo = fx->start[0], x_hi = fx->start[plan->roi_w - 1] + fx->count[plan->roi_w - 1];
    const size_t span = (size_t)(x_hi - x_lo) * (size_t)cn, out_bytes = (size_t)plan->roi_w * (size_t)cn;
    uint8_t *blended = malloc(span + out_bytes + VC_GATHER_PAD);
    int32_t *acc = malloc(sizeof(int32_t) * span);
    if (!blended || !acc) {
        free(blended), free(acc);
        return -1;
    }
    uint8_t *row_u8 = blended + span;
    memset(row_u8 + out_bytes, 0, VC_GATHER_PAD);
    const int chunk_pixels = VC_RESIZE_CHUNK_ELEMS / cn;
    for (int y = row_begin; y < row_end; y++) {
        const int first = fy->start[y], taps = fy->count[y];
        const int32_t *k = fy->w + (size_t)y * (size_t)fy->ksize;
        for (size_t j = 0; j < span; j++) acc[j] = 1 << (VC_FILTER_BITS - 1);
        for (int t = 0; t < taps; t++) {
            const uint8_t *in = src + (size_t)(first + t) * src_stride + (size_t)x_lo * (size_t)cn;
            for (size_t j = 0; j < span; j++) acc[j] += (int32_t)in[j] * k[t];
        }
        for (size_t j = 0; j < span; j++) blended[j] = clip8(acc[j]);
        filter_row(fx, blended, x_lo, cn, 0, plan->roi_w, row_u8);
        for (int px0 = 0; px0 < plan->roi_w; px0 += chunk_pixels) {
            const int npix = plan->roi_w - px0 < chunk_pixels ? plan->roi_w - px0 : chunk_pixels;
            vc_resize_sink_row(plan, sink, row_u8 + (size_t)px0 * (size_t)cn, y, px0, npix, cn);
        }
    }
    free(blended);
    free(acc);
    return 0;
}

int vc_filter_rows(const vc_resize_plan *plan, const uint8_t *src, size_t src_stride, int cn,
                   const resize_sink *sink, int row_begin, int row_end) {
    if (plan->vertical_first) return filter_rows_vertical_first(plan, src, src_stride, cn, sink, row_begin, row_end);
    const vc_filter_axis *fx = plan->fx, *fy = plan->fy;
    const int ky = fy->ksize;
    int chunk_pixels = VC_RESIZE_CHUNK_ELEMS / cn;
    if ((size_t)ky * (size_t)chunk_pixels * (size_t)cn > RING_BYTES) {
        chunk_pixels = (int)(RING_BYTES / ((size_t)ky * (size_t)cn));
        if (chunk_pixels < 1) chunk_pixels = 1;
    }
    if (chunk_pixels > plan->roi_w) chunk_pixels = plan->roi_w;
    const size_t n_max = (size_t)chunk_pixels * (size_t)cn;
    uint8_t *ring = malloc((size_t)ky * n_max + n_max + VC_GATHER_PAD);
    int *tags = malloc(sizeof(int) * (size_t)ky);
    if (!ring || !tags) {
        free(ring), free(tags);
        return -1;
    }
    uint8_t *row_u8 = ring + (size_t)ky * n_max;
    memset(row_u8 + n_max, 0, VC_GATHER_PAD);
    int32_t acc[VC_RESIZE_CHUNK_ELEMS];

    for (int px0 = 0; px0 < plan->roi_w; px0 += chunk_pixels) {
        const int npix = plan->roi_w - px0 < chunk_pixels ? plan->roi_w - px0 : chunk_pixels;
        const int n = npix * cn;
        for (int s = 0; s < ky; s++) tags[s] = -1;
        for (int y = row_begin; y < row_end; y++) {
            const int first = fy->start[y], taps = fy->count[y];
            const int32_t *k = fy->w + (size_t)y * (size_t)ky;
            for (int j = 0; j < n; j++) acc[j] = 1 << (VC_FILTER_BITS - 1);
            for (int t = 0; t < taps; t++) {
                const int r = first + t, slot = r % ky;
                uint8_t *filtered = ring + (size_t)slot * n_max;
                if (tags[slot] != r) {
                    filter_row(fx, src + (size_t)r * src_stride, 0, cn, px0, npix, filtered);
                    tags[slot] = r;
                }
                const int32_t weight = k[t];
                for (int j = 0; j < n; j++) acc[j] += (int32_t)filtered[j] * weight;
            }
            for (int j = 0; j < n; j++) row_u8[j] = clip8(acc[j]);
            vc_resize_sink_row(plan, sink, row_u8, y, px0, npix, cn);
        }
    }
    free(ring);
    free(tags);
    return 0;
}
