#include "../internal/kernels.h"
#include "../internal/scalar.h"

// One loop per operator so the operator switch stays out of the inner loop.
#define BINARY_LOOP(expr)                                                           \
    for (size_t i = begin; i < end; i++) {                                          \
        const float va = a[i], vb = b[i];                                           \
        y[i] = vc_activate_scalar(expr, act, lo, hi);                               \
    }

void vc_f32_binary__scalar(vc_binary_op op, const float *a, const float *b, float *y, size_t begin, size_t end,
                           vc_activation act, float lo, float hi) {
    switch (op) {
    case VC_BINARY_ADD: BINARY_LOOP(va + vb) break;
    case VC_BINARY_SUB: BINARY_LOOP(va - vb) break;
    case VC_BINARY_MUL: BINARY_LOOP(va * vb) break;
    case VC_BINARY_DIV: BINARY_LOOP(va / vb) break;
    }
}
