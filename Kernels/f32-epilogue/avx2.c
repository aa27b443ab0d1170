#include "../internal/avx2.h"
#include "../internal/scalar.h"

// Four vectors (32 elements) at a time, held in registers through the whole program: each
// op's switch runs once per four vectors and nothing is stored in between. The last partial
// group goes through a zero-padded copy.
#define EPILOGUE_GROUP 4

static inline VC_TARGET_AVX2 void epilogue_group_avx2(float *p, const vc_epilogue_op *ops, int op_count) {
    const __m256 zero = _mm256_setzero_ps();
    __m256 v[EPILOGUE_GROUP], s[EPILOGUE_GROUP];
    for (int j = 0; j < EPILOGUE_GROUP; j++) {
        v[j] = _mm256_loadu_ps(p + 8 * j);
        s[j] = zero;
    }
    for (int k = 0; k < op_count; k++) {
        const vc_epilogue_op *op = &ops[k];
        const __m256 a = _mm256_set1_ps(op->a), b = _mm256_set1_ps(op->b);
        switch (op->kind) {
        case VC_EPILOGUE_AFFINE:
            for (int j = 0; j < EPILOGUE_GROUP; j++) v[j] = _mm256_add_ps(_mm256_mul_ps(v[j], a), b);
            break;
        case VC_EPILOGUE_ACTIVATE:
            for (int j = 0; j < EPILOGUE_GROUP; j++) v[j] = vc_activate_avx2(_mm256_add_ps(v[j], zero), op->act, a, b);
            break;
        case VC_EPILOGUE_DIV:
            for (int j = 0; j < EPILOGUE_GROUP; j++) v[j] = _mm256_div_ps(v[j], a);
            break;
        case VC_EPILOGUE_SAVE:
            for (int j = 0; j < EPILOGUE_GROUP; j++) s[j] = v[j];
            break;
        case VC_EPILOGUE_MUL_SAVED:
            for (int j = 0; j < EPILOGUE_GROUP; j++) v[j] = _mm256_mul_ps(s[j], v[j]);
            break;
        }
    }
    for (int j = 0; j < EPILOGUE_GROUP; j++) _mm256_storeu_ps(p + 8 * j, v[j]);
}

VC_TARGET_AVX2 void vc_f32_epilogue__avx2(float *y, size_t n, const vc_epilogue_op *ops, int op_count) {
    const size_t group = 8 * EPILOGUE_GROUP;
    size_t start = 0;
    for (; start + group <= n; start += group) epilogue_group_avx2(y + start, ops, op_count);
    if (start < n) {
        float tail[8 * EPILOGUE_GROUP] = {0};
        for (size_t i = start; i < n; i++) tail[i - start] = y[i];
        epilogue_group_avx2(tail, ops, op_count);
        for (size_t i = start; i < n; i++) y[i] = tail[i - start];
    }
}
