#include "../internal/kernels.h"

// The runtime lowers pointwise convs to OpenBLAS below AVX-512 (its Haswell kernels beat a
// plain loop), so the AVX2 row of the table is the scalar reference.
VC_TARGET_AVX2 void vc_f32_conv1x1__avx2(const float *packed, const float *x, float *y, int m, int n, int k,
                                         const float *bias, vc_activation act, float lo, float hi,
                                         const vc_epilogue_op *ops, int op_count, int p_begin, int p_end) {
    vc_f32_conv1x1__scalar(packed, x, y, m, n, k, bias, act, lo, hi, ops, op_count, p_begin, p_end);
}
