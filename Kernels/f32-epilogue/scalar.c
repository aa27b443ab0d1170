#include "../internal/kernels.h"
#include "../internal/scalar.h"

void vc_f32_epilogue__scalar(float *y, size_t n, const vc_epilogue_op *ops, int op_count) {
    for (size_t i = 0; i < n; i++) y[i] = vc_epilogue_scalar(y[i], ops, op_count);
}
