#include "../internal/kernels.h"

void vc_u8_to_f32__scalar(const uint8_t *x, float *y, size_t begin, size_t end) {
    for (size_t i = begin; i < end; i++) y[i] = (float)x[i];
}
