#include "../internal/kernels.h"

void vc_u8_resize_hpass__scalar(const uint8_t *src_row, const int32_t *ofs0, const int32_t *ofs1, const int16_t *alpha,
                                int32_t *out, int n, int n_gather_safe) {
    for (int j = 0; j < n; j++) out[j] = src_row[ofs0[j]] * alpha[2 * j] + src_row[ofs1[j]] * alpha[2 * j + 1];
}

// OpenCV's SIMD vertical blend for u8 (VResizeLinearVec_32s8u): 16-bit high products of the
// rows pre-shifted by 4, then a rounding shift by 2. It differs from the exact
// (h0*b0 + h1*b1 + 2^21) >> 22 by one now and then; cv2.resize uses this one for the bulk of a row.
void vc_u8_resize_vblend__scalar(const int32_t *h0, const int32_t *h1, int b0, int b1, uint8_t *out, int n) {
    for (int j = 0; j < n; j++) {
        const int v = ((((h0[j] >> 4) * b0) >> 16) + (((h1[j] >> 4) * b1) >> 16) + 2) >> 2;
        out[j] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
}
