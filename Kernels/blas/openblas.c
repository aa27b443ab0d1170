// OpenBLAS through dlopen, so OPENBLAS_CORETYPE can be chosen from our CPU detection before the
// library's constructor reads it (Debian's build otherwise picks its slow Prescott kernels on
// CPUs it does not recognise; see docs / shared FINDINGS).
#include "../internal/kernels.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };

typedef void cblas_sgemm_fn(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                            int lda, const float *b, int ldb, float beta, float *c, int ldc);
typedef char *openblas_string_fn(void);
typedef void openblas_set_num_threads_fn(int n);

static struct {
    cblas_sgemm_fn *sgemm;
    openblas_string_fn *core_name;
    openblas_string_fn *config;
    openblas_set_num_threads_fn *set_num_threads;
    char error[256];
} blas;

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

static void load_openblas(void) {
    switch (vc_cpu_detect()) {
    case VC_ISA_AVX512: setenv("OPENBLAS_CORETYPE", "SkylakeX", 0); break;
    case VC_ISA_AVX2: setenv("OPENBLAS_CORETYPE", "Haswell", 0); break;
    case VC_ISA_SCALAR: break;
    }
    void *lib = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *why = dlerror();
        snprintf(blas.error, sizeof blas.error, "cannot load libopenblas.so.0: %s", why ? why : "unknown error");
        return;
    }
    cblas_sgemm_fn *sgemm = (cblas_sgemm_fn *)dlsym(lib, "cblas_sgemm");
    openblas_string_fn *core_name = (openblas_string_fn *)dlsym(lib, "openblas_get_corename");
    openblas_string_fn *config = (openblas_string_fn *)dlsym(lib, "openblas_get_config");
    openblas_set_num_threads_fn *set_threads = (openblas_set_num_threads_fn *)dlsym(lib, "openblas_set_num_threads");
    if (!sgemm || !core_name || !config || !set_threads) {
        snprintf(blas.error, sizeof blas.error,
                 "libopenblas.so.0 lacks cblas_sgemm / openblas_get_corename / openblas_get_config / "
                 "openblas_set_num_threads");
        dlclose(lib);
        return;
    }
    blas.core_name = core_name, blas.config = config, blas.set_num_threads = set_threads;
    blas.sgemm = sgemm;
}

int vc_blas_load(char *err, size_t err_len) {
    pthread_once(&blas_once, load_openblas);
    if (blas.sgemm) return 0;
    if (err && err_len > 0) snprintf(err, err_len, "%s", blas.error);
    return -1;
}

static int blas_loaded(void) {
    pthread_once(&blas_once, load_openblas);
    return blas.sgemm != NULL;
}

const char *vc_blas_core_name(void) { return blas_loaded() ? blas.core_name() : ""; }

const char *vc_blas_config(void) { return blas_loaded() ? blas.config() : ""; }

void vc_blas_set_threads(int n) {
    if (blas_loaded()) blas.set_num_threads(n);
}

void vc_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
              int ldb, float beta, float *c, int ldc) {
    if (!blas_loaded()) {
        fprintf(stderr, "visionc: vc_sgemm called but OpenBLAS is not available: %s\n", blas.error);
        abort();
    }
    blas.sgemm(CBLAS_ROW_MAJOR, trans_a ? CBLAS_TRANS : CBLAS_NO_TRANS, trans_b ? CBLAS_TRANS : CBLAS_NO_TRANS, m, n,
               k, alpha, a, lda, b, ldb, beta, c, ldc);
}
