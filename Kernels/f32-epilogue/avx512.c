#include "../internal/avx512.h"

// Four vectors (64 elements) at a time, held in registers through the whole program: each
// op's switch runs once per four vectors and nothing is stored in between. The last group is
// masked.
#define EPILOGUE_GROUP 4

VC_TARGET_AVX512 void vc_f32_epilogue__avx512(float *y, size_t n, const vc_epilogue_op *ops, int op_count) {
    const __m512 zero = _mm512_setzero_ps();
    for (size_t start = 0; start < n; start += 16 * EPILOGUE_GROUP) {
        __mmask16 mask[EPILOGUE_GROUP];
        __m512 v[EPILOGUE_GROUP], s[EPILOGUE_GROUP];
        for (int j = 0; j < EPILOGUE_GROUP; j++) {
            const size_t at = start + 16 * (size_t)j;
            mask[j] = at >= n ? 0 : (n - at >= 16 ? (__mmask16)0xFFFF : vc_tail_mask_avx512(n - at));
            v[j] = _mm512_maskz_loadu_ps(mask[j], y + (at < n ? at : start));
            s[j] = zero;
        }
        for (int k = 0; k < op_count; k++) {
            const vc_epilogue_op *op = &ops[k];
            const __m512 a = _mm512_set1_ps(op->a), b = _mm512_set1_ps(op->b);
            switch (op->kind) {
            case VC_EPILOGUE_AFFINE:
                for (int j = 0; j < EPILOGUE_GROUP; j++) v[j] = _mm512_add_ps(_mm512_mul_ps(v[j], a), b);
                break;
            case VC_EPILOGUE_ACTIVATE:
                for (int j = 0; j < EPILOGUE_GROUP; j++)
                    v[j] = vc_activate_avx512(_mm512_add_ps(v[j], zero), op->act, a, b);
                break;
            case VC_EPILOGUE_DIV:
                for (int j = 0; j < EPILOGUE_GROUP; j++) v[j] = _mm512_div_ps(v[j], a);
                break;
            case VC_EPILOGUE_SAVE:
                for (int j = 0; j < EPILOGUE_GROUP; j++) s[j] = v[j];
                break;
            case VC_EPILOGUE_MUL_SAVED:
                for (int j = 0; j < EPILOGUE_GROUP; j++) v[j] = _mm512_mul_ps(s[j], v[j]);
                break;
            }
        }
        for (int j = 0; j < EPILOGUE_GROUP; j++) {
            if (mask[j]) _mm512_mask_storeu_ps(y + start + 16 * (size_t)j, mask[j], v[j]);
        }
    }
}
