#include "../internal/kernels.h"
#include "../internal/window.h"

static void pool_interior_scalar(const vc_pool_row *row, int ox_begin, int ox_end, float *out) {
    for (int ox = ox_begin; ox < ox_end; ox++) out[ox] = vc_pool_pixel(row, ox);
}

void vc_f32_max_pool2d__scalar(const float *x, int h, int w, float *y, int oh, int ow, int kh, int kw, int sh,
                               int sw, int pt, int pl, int dh, int dw, int plane_begin, int plane_end) {
    vc_pool_driver(x, h, w, y, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw, 1, 0, plane_begin, plane_end,
                   pool_interior_scalar);
}

void vc_f32_avg_pool2d__scalar(const float *x, int h, int w, float *y, int oh, int ow, int kh, int kw, int sh,
                               int sw, int pt, int pl, int count_include_pad, int plane_begin, int plane_end) {
    vc_pool_driver(x, h, w, y, oh, ow, kh, kw, sh, sw, pt, pl, 1, 1, 0, count_include_pad, plane_begin, plane_end,
                   pool_interior_scalar);
}

void vc_f32_global_avg_pool__scalar(const float *x, size_t plane, float *y, int plane_begin, int plane_end) {
    for (int p = plane_begin; p < plane_end; p++) {
        const float *in = x + (size_t)p * plane;
        float sum = 0.0f;
        for (size_t i = 0; i < plane; i++) sum += in[i];
        y[p] = sum / (float)plane;
    }
}
