#include "../internal/avx2.h"

#define BINARY_LOOP(vop)                                                                        \
    {                                                                                           \
        size_t i = begin;                                                                       \
        for (; i + 8 <= end; i += 8) {                                                          \
            const __m256 v = vop(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));               \
            _mm256_storeu_ps(y + i, vc_activate_avx2(v, act, vlo, vhi));                        \
        }                                                                                       \
        if (i < end) {                                                                          \
            const __m256i mask = vc_tail_mask_avx2(end - i);                                    \
            /* Masked-off lanes load 0: 0/0 there is a NaN nobody stores. */                    \
            const __m256 v = vop(_mm256_maskload_ps(a + i, mask), _mm256_maskload_ps(b + i, mask)); \
            _mm256_maskstore_ps(y + i, mask, vc_activate_avx2(v, act, vlo, vhi));               \
        }                                                                                       \
    }

VC_TARGET_AVX2 void vc_f32_binary__avx2(vc_binary_op op, const float *a, const float *b, float *y, size_t begin,
                                        size_t end, vc_activation act, float lo, float hi) {
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    switch (op) {
    case VC_BINARY_ADD: BINARY_LOOP(_mm256_add_ps) break;
    case VC_BINARY_SUB: BINARY_LOOP(_mm256_sub_ps) break;
    case VC_BINARY_MUL: BINARY_LOOP(_mm256_mul_ps) break;
    case VC_BINARY_DIV: BINARY_LOOP(_mm256_div_ps) break;
    }
}
