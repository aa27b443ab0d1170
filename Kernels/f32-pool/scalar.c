#include "../internal/kernels.h"
#include "../internal/window.h"

static void pool_interior_scalar(const vc_pool_row *row, int ox_begin, int ox_end, float *out) {
    for (int ox = ox_begin; ox < ox_end; ox++) out[ox] = vc_pool_pixel(row, ox);
}

void vc_f32_max_pool2d__scalar(const float *x, int h, int w, float *y, int oh, int ow, int kh, int kw, int sh,
                               int sw, int pt, int pl, int dh, int dw, int plane_begin, int plane_end) {
    vc_pool_driver(x, h, w, y, oh, ow, kh, kw, sh, sw, pt, pl, 0, 0, dh, dw, 1, 0, plane_begin, plane_end,
                   pool_interior_scalar);
}

void vc_f32_avg_pool2d__scalar(const float *x, int h, int w, float *y, int oh, int ow, int kh, int kw, int sh,
                               int sw, int pt, int pl, int pb, int pr, int dh, int dw,
                               int count_include_pad, int plane_begin, int plane_end) {
    vc_pool_driver(x, h, w, y, oh, ow, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, 0, count_include_pad, plane_begin,
                   plane_end, pool_interior_scalar);
}

// Not dispatched: MaxPool's Indices output is a training-era feature no model here runs hot,
// so the scalar form is the only one. Same window walk as vc_pool_pixel; the first maximum
// wins (strict >), as ONNX's reference keeps it.
void vc_f32_max_pool2d_indices(const float *x, int h, int w, float *y, int64_t *indices, int oh, int ow, int kh,
                               int kw, int sh, int sw, int pt, int pl, int dh, int dw, int column_major,
                               int plane_begin, int plane_end) {
    for (int p = plane_begin; p < plane_end; p++) {
        const float *plane = x + (size_t)p * (size_t)h * (size_t)w;
        const int64_t base = (int64_t)p * h * w;
        for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++) {
                float best = -INFINITY;
                int best_y = -1, best_x = -1;
                for (int ky = 0; ky < kh; ky++) {
                    const int iy = oy * sh - pt + ky * dh;
                    if (iy < 0 || iy >= h) continue;
                    for (int kx = 0; kx < kw; kx++) {
                        const int ix = ox * sw - pl + kx * dw;
                        if (ix < 0 || ix >= w) continue;
                        const float v = plane[(size_t)iy * (size_t)w + (size_t)ix];
                        if (best_y < 0 || v > best) {
                            best = v;
                            best_y = iy;
                            best_x = ix;
                        }
                    }
                }
                const size_t o = ((size_t)p * (size_t)oh + (size_t)oy) * (size_t)ow + (size_t)ox;
                y[o] = best;
                // Flattened over the whole input (N, C, H, W); column-major swaps H and W.
                indices[o] = best_y < 0 ? -1
                             : base + (column_major ? (int64_t)best_x * h + best_y : (int64_t)best_y * w + best_x);
            }
        }
    }
}

void vc_f32_global_avg_pool__scalar(const float *x, size_t plane, float *y, int plane_begin, int plane_end) {
    for (int p = plane_begin; p < plane_end; p++) {
        const float *in = x + (size_t)p * plane;
        float sum = 0.0f;
        for (size_t i = 0; i < plane; i++) sum += in[i];
        y[p] = sum / (float)plane;
    }
}
