#include "../internal/avx512.h"

#define BINARY_LOOP(vop)                                                                        \
    {                                                                                           \
        size_t i = begin;                                                                       \
        for (; i + 16 <= end; i += 16) {                                                        \
            const __m512 v = vop(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));               \
            _mm512_storeu_ps(y + i, vc_activate_avx512(v, act, vlo, vhi));                      \
        }                                                                                       \
        if (i < end) {                                                                          \
            const __mmask16 mask = vc_tail_mask_avx512(end - i);                                \
            const __m512 v = vop(_mm512_maskz_loadu_ps(mask, a + i), _mm512_maskz_loadu_ps(mask, b + i)); \
            _mm512_mask_storeu_ps(y + i, mask, vc_activate_avx512(v, act, vlo, vhi));           \
        }                                                                                       \
    }

VC_TARGET_AVX512 void vc_f32_binary__avx512(vc_binary_op op, const float *a, const float *b, float *y,
                                            size_t begin, size_t end, vc_activation act, float lo, float hi) {
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    switch (op) {
    case VC_BINARY_ADD: BINARY_LOOP(_mm512_add_ps) break;
    case VC_BINARY_SUB: BINARY_LOOP(_mm512_sub_ps) break;
    case VC_BINARY_MUL: BINARY_LOOP(_mm512_mul_ps) break;
    case VC_BINARY_DIV: BINARY_LOOP(_mm512_div_ps) break;
    }
}
