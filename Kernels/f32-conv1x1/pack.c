#include "../internal/kernels.h"

size_t vc_f32_conv1x1_packed_count(int m, int k) {
    const size_t blocks = ((size_t)m + VC_CONV1X1_ROWS - 1) / VC_CONV1X1_ROWS;
    return blocks * VC_CONV1X1_ROWS * (size_t)k;
}

void vc_f32_conv1x1_pack(const float *w, int m, int k, float *packed) {
    const int blocks = (m + VC_CONV1X1_ROWS - 1) / VC_CONV1X1_ROWS;
    for (int b = 0; b < blocks; b++) {
        float *block = packed + (size_t)b * VC_CONV1X1_ROWS * (size_t)k;
        for (int i = 0; i < k; i++) {
            for (int r = 0; r < VC_CONV1X1_ROWS; r++) {
                const int row = b * VC_CONV1X1_ROWS + r;
                block[(size_t)i * VC_CONV1X1_ROWS + r] = row < m ? w[(size_t)row * (size_t)k + (size_t)i] : 0.0f;
            }
        }
    }
}
