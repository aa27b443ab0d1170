// oneDNN through dlopen: see include/visionc_dnnl.h for why, and what each function promises.
#include "visionc_dnnl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include(<oneapi/dnnl/dnnl.h>)
#include <oneapi/dnnl/dnnl.h>
#if DNNL_VERSION_MAJOR == 2
#define VC_DNNL_V2 1
#endif
#endif
#endif

#ifndef VC_DNNL_V2

// Built without oneDNN 2.x headers: the backend reports itself unavailable and every
// placement falls back to `native`.
int vc_dnnl_load(char *err, size_t err_len) {
#if defined(DNNL_VERSION_MAJOR)
    snprintf(err, err_len, "built against oneDNN %d.x, whose C API this shim does not speak yet (2.x only)",
             DNNL_VERSION_MAJOR);
#else
    snprintf(err, err_len, "built without oneDNN headers (install libdnnl-dev and rebuild)");
#endif
    return -1;
}
const char *vc_dnnl_version(void) { return ""; }
const char *vc_dnnl_isa(void) { return ""; }
int vc_dnnl_has_bf16(void) { return 0; }
void vc_dnnl_set_threads(int threads) { (void)threads; }
int vc_dnnl_conv_create(const vc_dnnl_conv_params *params, vc_dnnl_primitive **out, char *err, size_t err_len) {
    (void)params, (void)out;
    return vc_dnnl_load(err, err_len);
}
int vc_dnnl_pool_create(const vc_dnnl_pool_params *params, vc_dnnl_primitive **out, char *err, size_t err_len) {
    (void)params, (void)out;
    return vc_dnnl_load(err, err_len);
}
size_t vc_dnnl_scratch_bytes(const vc_dnnl_primitive *primitive) { return 0; }
const char *vc_dnnl_implementation(const vc_dnnl_primitive *primitive) { return ""; }
int vc_dnnl_run(vc_dnnl_primitive *primitive, const void *src, void *dst, const float *residual, void *scratch,
                char *err, size_t err_len) {
    return vc_dnnl_load(err, err_len);
}
void vc_dnnl_destroy(vc_dnnl_primitive *primitive) {}

#else

// MARK: - Loading

// Every oneDNN function the shim calls, resolved with dlsym into `api` with the header's own types.
#define VC_DNNL_FUNCTIONS(X)                                                                                   \
    X(dnnl_version) X(dnnl_get_effective_cpu_isa) X(dnnl_engine_create) X(dnnl_stream_create)                  \
    X(dnnl_stream_destroy) X(dnnl_stream_wait) X(dnnl_memory_desc_init_by_tag) X(dnnl_memory_desc_get_size)    \
    X(dnnl_memory_desc_equal) X(dnnl_memory_create) X(dnnl_memory_destroy) X(dnnl_memory_set_data_handle)      \
    X(dnnl_dilated_convolution_forward_desc_init) X(dnnl_dilated_deconvolution_forward_desc_init)                \
    X(dnnl_pooling_v2_forward_desc_init)                         \
    X(dnnl_primitive_attr_create) X(dnnl_primitive_attr_destroy) X(dnnl_primitive_attr_set_scratchpad_mode)    \
    X(dnnl_primitive_attr_set_post_ops) X(dnnl_post_ops_create) X(dnnl_post_ops_destroy)                       \
    X(dnnl_post_ops_append_eltwise) X(dnnl_post_ops_append_binary) X(dnnl_primitive_desc_create)               \
    X(dnnl_primitive_desc_destroy) X(dnnl_primitive_desc_query_md) X(dnnl_primitive_desc_query)                \
    X(dnnl_primitive_create) X(dnnl_primitive_destroy) X(dnnl_primitive_execute)                               \
    X(dnnl_reorder_primitive_desc_create) X(dnnl_matmul_desc_init) X(dnnl_memory_desc_init_by_strides)

static struct {
#define VC_DNNL_FIELD(name) __typeof__(name) *name;
    VC_DNNL_FUNCTIONS(VC_DNNL_FIELD)
#undef VC_DNNL_FIELD
    void (*omp_set_num_threads)(int);
    dnnl_engine_t engine;
    char version[32];
    char isa[32];
    int has_bf16;
    char error[256];
} api;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static const char *isa_name(dnnl_cpu_isa_t isa) {
    switch (isa) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "other";
    }
}

static void load_dnnl(void) {
    // libgomp's default wait policy (spin a while, then sleep) is kept on purpose: with
    // OMP_WAIT_POLICY=PASSIVE every primitive pays a futex wake-up per worker, measured 1.3-2x
    // slower per request on 2 threads; ACTIVE spins forever and would steal the core from the
    // runtime's own pool between oneDNN steps. A user's own setting is left alone.
    void *lib = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *why = dlerror();
        snprintf(api.error, sizeof api.error, "cannot load libdnnl.so.2: %s", why ? why : "unknown error");
        return;
    }
#define VC_DNNL_RESOLVE(name)                                                                  \
    api.name = (__typeof__(name) *)dlsym(lib, #name);                                          \
    if (!api.name) {                                                                           \
        snprintf(api.error, sizeof api.error, "libdnnl.so.2 lacks %s (not a 2.x build?)", #name); \
        return;                                                                                \
    }
    VC_DNNL_FUNCTIONS(VC_DNNL_RESOLVE)
#undef VC_DNNL_RESOLVE
    // Searched in libdnnl's dependencies too: present when it was built with OpenMP threading.
    api.omp_set_num_threads = (void (*)(int))dlsym(lib, "omp_set_num_threads");
    const dnnl_version_t *v = api.dnnl_version();
    if (v->major != 2) {
        snprintf(api.error, sizeof api.error, "libdnnl.so.2 reports version %d.%d; this shim speaks 2.x", v->major,
                 v->minor);
        return;
    }
    snprintf(api.version, sizeof api.version, "%d.%d.%d", v->major, v->minor, v->patch);
    dnnl_cpu_isa_t isa = api.dnnl_get_effective_cpu_isa();
    snprintf(api.isa, sizeof api.isa, "%s", isa_name(isa));
    // The ISA values are bit sets: bf16 kernels need every bit of avx512_core_bf16 (AMX has them).
    api.has_bf16 = (isa & dnnl_cpu_isa_avx512_core_bf16) == dnnl_cpu_isa_avx512_core_bf16;
    dnnl_engine_t engine;
    if (api.dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) {
        snprintf(api.error, sizeof api.error, "oneDNN has no CPU engine");
        return;
    }
    api.engine = engine;
}

static int loaded(void) {
    pthread_once(&load_once, load_dnnl);
    return api.engine != NULL;
}

int vc_dnnl_load(char *err, size_t err_len) {
    if (loaded()) return 0;
    if (err && err_len > 0) snprintf(err, err_len, "%s", api.error);
    return -1;
}

const char *vc_dnnl_version(void) { return loaded() ? api.version : ""; }
const char *vc_dnnl_isa(void) { return loaded() ? api.isa : ""; }
int vc_dnnl_has_bf16(void) { return loaded() && api.has_bf16; }

void vc_dnnl_set_threads(int threads) {
    if (loaded() && api.omp_set_num_threads) api.omp_set_num_threads(threads < 1 ? 1 : threads);
}

// MARK: - Primitives

struct vc_dnnl_primitive {
    dnnl_primitive_t primitive;
    dnnl_stream_t stream;
    // The source as the caller holds it, and (bf16) the converted copy in scratch with its reorder.
    dnnl_memory_t src, src_converted, dst, residual, scratchpad;
    dnnl_primitive_t src_reorder;
    dnnl_memory_t weights, bias;  // conv only, owning weights_data / bias_data
    void *weights_data, *bias_data;
    int residual_post_op;  // index of the binary add post-op, -1 when none
    // A transposed conv run as matmuls (`matmul_deconvolution`): one per kernel row, each with
    // its weights at weights_data + row * row_weights_bytes, writing dst + row * row_dst_bytes.
    int rows;
    size_t row_weights_bytes, row_dst_bytes;
    size_t scratchpad_bytes, converted_bytes;
    char implementation[96];
};

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

#define VC_CHECK(call)                                                                                         \
    do {                                                                                                       \
        dnnl_status_t status_ = (call);                                                                        \
        if (status_ != dnnl_success) {                                                                         \
            snprintf(err, err_len, "oneDNN %s failed (status %d)", #call, (int)status_);                      \
            goto fail;                                                                                         \
        }                                                                                                      \
    } while (0)

static dnnl_status_t make_md(dnnl_memory_desc_t *md, int n, int c, int h, int w, dnnl_data_type_t type, int nhwc) {
    dnnl_dims_t dims = {n, c, h, w};
    return api.dnnl_memory_desc_init_by_tag(md, 4, dims, type, nhwc ? dnnl_nhwc : dnnl_nchw);
}

/// Scratchpad size and implementation name of a primitive descriptor; creates the primitive.
static dnnl_status_t finish(vc_dnnl_primitive *p, dnnl_primitive_desc_t pd) {
    const dnnl_memory_desc_t *scratch_md = api.dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    p->scratchpad_bytes = scratch_md ? api.dnnl_memory_desc_get_size(scratch_md) : 0;
    const char *impl = NULL;
    if (api.dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl)
        snprintf(p->implementation, sizeof p->implementation, "%s", impl);
    dnnl_status_t status = dnnl_success;
    if (scratch_md && p->scratchpad_bytes > 0)
        status = api.dnnl_memory_create(&p->scratchpad, scratch_md, api.engine, DNNL_MEMORY_NONE);
    if (status == dnnl_success) status = api.dnnl_primitive_create(&p->primitive, pd);
    return status;
}

static dnnl_status_t attributes_with_user_scratchpad(dnnl_primitive_attr_t *attr) {
    dnnl_status_t status = api.dnnl_primitive_attr_create(attr);
    if (status == dnnl_success) status = api.dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user);
    return status;
}

/// Writes `from` (plain, laid out as from_md) into `to` (laid out as to_md, the layout a
/// primitive picked) through a one-off reorder, synchronously: weights are prepared once, when
/// the plan is built.
static dnnl_status_t reorder_into(dnnl_stream_t stream, const dnnl_memory_desc_t *from_md, const void *from,
                                  const dnnl_memory_desc_t *to_md, dnnl_memory_t to) {
    dnnl_memory_t source = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t reorder = NULL;
    dnnl_status_t status = api.dnnl_memory_create(&source, from_md, api.engine, (void *)from);
    if (status == dnnl_success) status = api.dnnl_reorder_primitive_desc_create(&pd, from_md, api.engine, to_md, api.engine, NULL);
    if (status == dnnl_success) status = api.dnnl_primitive_create(&reorder, pd);
    if (status == dnnl_success) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, source}, {DNNL_ARG_TO, to}};
        status = api.dnnl_primitive_execute(reorder, stream, 2, args);
    }
    if (status == dnnl_success) status = api.dnnl_stream_wait(stream);
    if (reorder) api.dnnl_primitive_destroy(reorder);
    if (pd) api.dnnl_primitive_desc_destroy(pd);
    if (source) api.dnnl_memory_destroy(source);
    return status;
}

/// The bias, owned by p: `channels` values repeated `repeats` times (a matmul's columns hold
/// several kernel taps of the same channels), described by md.
static dnnl_status_t own_bias(vc_dnnl_primitive *p, const float *bias, size_t channels, size_t repeats,
                              const dnnl_memory_desc_t *md) {
    p->bias_data = aligned_alloc(64, align64(channels * repeats * sizeof(float)));
    if (!p->bias_data) return dnnl_out_of_memory;
    for (size_t r = 0; r < repeats; r++) memcpy((float *)p->bias_data + r * channels, bias, channels * sizeof(float));
    return api.dnnl_memory_create(&p->bias, md, api.engine, p->bias_data);
}

/// The conv's post-ops in order into a new *post_ops; the residual add's index into p.
static dnnl_status_t append_post_ops(const vc_dnnl_conv_params *c, vc_dnnl_primitive *p, const dnnl_memory_desc_t *residual_md,
                                     dnnl_post_ops_t *post_ops, char *err, size_t err_len) {
    dnnl_status_t status = api.dnnl_post_ops_create(post_ops);
    for (int i = 0; i < c->post_op_count && status == dnnl_success; i++) {
        const vc_dnnl_post_op op = c->post_ops[i];
        switch (op.kind) {
        case VC_DNNL_POST_RELU: status = api.dnnl_post_ops_append_eltwise(*post_ops, 1.f, dnnl_eltwise_relu, 0.f, 0.f); break;
        case VC_DNNL_POST_CLIP:
            status = api.dnnl_post_ops_append_eltwise(*post_ops, 1.f, dnnl_eltwise_clip, op.alpha, op.beta);
            break;
        case VC_DNNL_POST_LINEAR:
            status = api.dnnl_post_ops_append_eltwise(*post_ops, 1.f, dnnl_eltwise_linear, op.alpha, op.beta);
            break;
        case VC_DNNL_POST_HARDSWISH:
            // Spelled x * max(0, min(1, alpha * x + beta)) by oneDNN versions that read the
            // parameters; 1/6 and 1/2 are the fixed form's, so either reading gives HardSwish.
            status = api.dnnl_post_ops_append_eltwise(*post_ops, 1.f, dnnl_eltwise_hardswish, 1.f / 6.f, 0.5f);
            break;
        case VC_DNNL_POST_SIGMOID:
            status = api.dnnl_post_ops_append_eltwise(*post_ops, 1.f, dnnl_eltwise_logistic, 0.f, 0.f);
            break;
        case VC_DNNL_POST_ADD:
            if (p->residual_post_op >= 0 || !residual_md) {
                snprintf(err, err_len, residual_md ? "more than one residual add post-op" : "a residual add is not supported here");
                return dnnl_invalid_arguments;
            }
            status = api.dnnl_post_ops_append_binary(*post_ops, dnnl_binary_add, residual_md);
            p->residual_post_op = i;
            break;
        default: snprintf(err, err_len, "unknown post-op kind %d", (int)op.kind); return dnnl_invalid_arguments;
        }
        if (status != dnnl_success) snprintf(err, err_len, "oneDNN rejected post-op %d (kind %d, status %d)", i, (int)op.kind, (int)status);
    }
    return status;
}

/// Whether a transposed conv is a set of independent matmuls: kernel equal to stride (each
/// output pixel comes from exactly one input pixel and one kernel tap), no padding, dilation or
/// groups, NHWC f32. PP-OCR's detector head upsamples with two of these (2x2, stride 2);
/// oneDNN 2.6's deconvolution runs them 3-8x slower than the matmul form on AVX-512 (24
/// channels: 9.6 ms against 1.1 ms at 184x184 on 2 threads), as its direct kernel does not
/// tile so few channels well.
static int matmul_deconvolution_applies(const vc_dnnl_conv_params *c) {
    int has_residual = 0;
    for (int i = 0; i < c->post_op_count; i++) has_residual |= c->post_ops[i].kind == VC_DNNL_POST_ADD;
    return c->transposed && c->groups == 1 && c->nhwc && !c->bf16 && !c->src_bf16 && !c->dst_bf16 && !has_residual &&
           c->kernel_height == c->stride_height && c->kernel_width == c->stride_width && c->dilation_height == 1 &&
           c->dilation_width == 1 && !c->pad_top && !c->pad_left && !c->pad_bottom && !c->pad_right &&
           c->out_height == c->in_height * c->kernel_height && c->out_width == c->in_width * c->kernel_width;
}

/// The transposed conv as one matmul per kernel row i: every input row (n, y) times the taps
/// of row i, [W, C] x [C, KW*M] + bias, is output row (n, y*KH + i), whose pixels x*KW + j hold
/// the KW*M products in (j, m) order: a plain [N*H, W, KW*M] destination with row stride
/// KH*OW*M, starting i*OW*M into the output. Each output element is the same sum of C products
/// as the deconvolution's (exact up to the order of the additions); post-ops as for a conv.
static int matmul_deconvolution_create(const vc_dnnl_conv_params *c, vc_dnnl_primitive **out, char *err, size_t err_len) {
    vc_dnnl_primitive *p = calloc(1, sizeof *p);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t post_ops = NULL;
    dnnl_primitive_desc_t pd = NULL;
    float *row_weights = NULL;
    if (!p) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    p->residual_post_op = -1;
    const dnnl_dim_t rows = (dnnl_dim_t)c->batch * c->in_height, width = c->in_width, channels = c->in_channels;
    const dnnl_dim_t kh = c->kernel_height, kw = c->kernel_width, m = c->out_channels, n = kw * m;
    dnnl_memory_desc_t src_md, weights_md, weights_user_md, bias_md, dst_md;
    dnnl_dims_t src_dims = {rows, width, channels}, weights_dims = {1, channels, n}, bias_dims = {1, 1, n};
    dnnl_dims_t dst_dims = {rows, width, n}, dst_strides = {kh * c->out_width * m, n, 1};
    VC_CHECK(api.dnnl_memory_desc_init_by_tag(&src_md, 3, src_dims, dnnl_f32, dnnl_abc));
    VC_CHECK(api.dnnl_memory_desc_init_by_tag(&weights_md, 3, weights_dims, dnnl_f32, dnnl_format_tag_any));
    VC_CHECK(api.dnnl_memory_desc_init_by_tag(&weights_user_md, 3, weights_dims, dnnl_f32, dnnl_abc));
    VC_CHECK(api.dnnl_memory_desc_init_by_tag(&bias_md, 3, bias_dims, dnnl_f32, dnnl_abc));
    VC_CHECK(api.dnnl_memory_desc_init_by_strides(&dst_md, 3, dst_dims, dnnl_f32, dst_strides));
    dnnl_matmul_desc_t desc;
    VC_CHECK(api.dnnl_matmul_desc_init(&desc, &src_md, &weights_md, c->bias ? &bias_md : NULL, &dst_md));
    VC_CHECK(attributes_with_user_scratchpad(&attr));
    if (append_post_ops(c, p, NULL, &post_ops, err, err_len) != dnnl_success) goto fail;
    VC_CHECK(api.dnnl_primitive_attr_set_post_ops(attr, post_ops));
    VC_CHECK(api.dnnl_primitive_desc_create(&pd, &desc, attr, api.engine, NULL));
    VC_CHECK(finish(p, pd));
    snprintf(p->implementation + strlen(p->implementation), sizeof p->implementation - strlen(p->implementation),
             " (deconvolution as %d matmuls)", (int)kh);
    VC_CHECK(api.dnnl_stream_create(&p->stream, api.engine, dnnl_stream_default_flags));

    // Row i's taps, [C, KW*M] from the user's [C, M, KH, KW], reordered into the picked layout.
    const dnnl_memory_desc_t *weights_picked = api.dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    p->rows = (int)kh;
    p->row_weights_bytes = align64(api.dnnl_memory_desc_get_size(weights_picked));
    p->row_dst_bytes = (size_t)c->out_width * (size_t)m * sizeof(float);
    p->weights_data = aligned_alloc(64, p->row_weights_bytes * (size_t)kh);
    row_weights = malloc((size_t)(channels * n) * sizeof(float));
    if (!p->weights_data || !row_weights) {
        snprintf(err, err_len, "out of memory for the weights");
        goto fail;
    }
    VC_CHECK(api.dnnl_memory_create(&p->weights, weights_picked, api.engine, p->weights_data));
    for (dnnl_dim_t i = 0; i < kh; i++) {
        for (dnnl_dim_t ci = 0; ci < channels; ci++)
            for (dnnl_dim_t j = 0; j < kw; j++)
                for (dnnl_dim_t o = 0; o < m; o++)
                    row_weights[ci * n + j * m + o] = c->weights[((ci * m + o) * kh + i) * kw + j];
        VC_CHECK(api.dnnl_memory_set_data_handle(p->weights, (char *)p->weights_data + (size_t)i * p->row_weights_bytes));
        VC_CHECK(reorder_into(p->stream, &weights_user_md, row_weights, weights_picked, p->weights));
    }
    if (c->bias) VC_CHECK(own_bias(p, c->bias, (size_t)m, (size_t)kw, &bias_md));
    VC_CHECK(api.dnnl_memory_create(&p->src, &src_md, api.engine, DNNL_MEMORY_NONE));
    VC_CHECK(api.dnnl_memory_create(&p->dst, &dst_md, api.engine, DNNL_MEMORY_NONE));
    free(row_weights);
    api.dnnl_primitive_desc_destroy(pd);
    api.dnnl_post_ops_destroy(post_ops);
    api.dnnl_primitive_attr_destroy(attr);
    *out = p;
    return 0;

fail:
    free(row_weights);
    if (pd) api.dnnl_primitive_desc_destroy(pd);
    if (post_ops) api.dnnl_post_ops_destroy(post_ops);
    if (attr) api.dnnl_primitive_attr_destroy(attr);
    vc_dnnl_destroy(p);
    return -1;
}

int vc_dnnl_conv_create(const vc_dnnl_conv_params *c, vc_dnnl_primitive **out, char *err, size_t err_len) {
    if (vc_dnnl_load(err, err_len) != 0) return -1;
    if (matmul_deconvolution_applies(c) && matmul_deconvolution_create(c, out, err, err_len) == 0) return 0;
    vc_dnnl_primitive *p = calloc(1, sizeof *p);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t post_ops = NULL;
    dnnl_primitive_desc_t pd = NULL;
    if (!p) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    p->residual_post_op = -1;
    const dnnl_data_type_t compute = c->bf16 ? dnnl_bf16 : dnnl_f32;
    const int g = c->groups;
    dnnl_memory_desc_t src_user_md, src_md, dst_md, residual_md, weights_md, weights_user_md, bias_md;
    const dnnl_data_type_t src_type = c->src_bf16 ? dnnl_bf16 : dnnl_f32;
    VC_CHECK(make_md(&src_user_md, c->batch, c->in_channels, c->in_height, c->in_width, src_type, c->nhwc));
    VC_CHECK(make_md(&src_md, c->batch, c->in_channels, c->in_height, c->in_width, compute, c->nhwc));
    VC_CHECK(make_md(&dst_md, c->batch, c->out_channels, c->out_height, c->out_width, c->dst_bf16 ? dnnl_bf16 : dnnl_f32,
                     c->nhwc));
    VC_CHECK(make_md(&residual_md, c->batch, c->out_channels, c->out_height, c->out_width, dnnl_f32, c->nhwc));
    if (g == 1) {
        dnnl_dims_t w = {c->out_channels, c->in_channels, c->kernel_height, c->kernel_width};
        VC_CHECK(api.dnnl_memory_desc_init_by_tag(&weights_md, 4, w, compute, dnnl_format_tag_any));
        VC_CHECK(api.dnnl_memory_desc_init_by_tag(&weights_user_md, 4, w, dnnl_f32, c->transposed ? dnnl_iohw : dnnl_oihw));
    } else {
        dnnl_dims_t w = {g, c->out_channels / g, c->in_channels / g, c->kernel_height, c->kernel_width};
        VC_CHECK(api.dnnl_memory_desc_init_by_tag(&weights_md, 5, w, compute, dnnl_format_tag_any));
        VC_CHECK(api.dnnl_memory_desc_init_by_tag(&weights_user_md, 5, w, dnnl_f32, c->transposed ? dnnl_giohw : dnnl_goihw));
    }
    dnnl_dims_t bias_dims = {c->out_channels};
    VC_CHECK(api.dnnl_memory_desc_init_by_tag(&bias_md, 1, bias_dims, dnnl_f32, dnnl_a));

    dnnl_convolution_desc_t desc;
    dnnl_dims_t strides = {c->stride_height, c->stride_width};
    dnnl_dims_t dilates = {c->dilation_height - 1, c->dilation_width - 1};  // oneDNN counts the gaps
    dnnl_dims_t pad_l = {c->pad_top, c->pad_left}, pad_r = {c->pad_bottom, c->pad_right};
    // dnnl_deconvolution_desc_t is the convolution descriptor type, filled by its own initializer.
    if (c->transposed)
        VC_CHECK(api.dnnl_dilated_deconvolution_forward_desc_init(
            &desc, dnnl_forward_inference, dnnl_deconvolution_direct, &src_md, &weights_md, c->bias ? &bias_md : NULL,
            &dst_md, strides, dilates, pad_l, pad_r));
    else
        VC_CHECK(api.dnnl_dilated_convolution_forward_desc_init(
            &desc, dnnl_forward_inference, dnnl_convolution_direct, &src_md, &weights_md, c->bias ? &bias_md : NULL,
            &dst_md, strides, dilates, pad_l, pad_r));

    VC_CHECK(attributes_with_user_scratchpad(&attr));
    if (append_post_ops(c, p, &residual_md, &post_ops, err, err_len) != dnnl_success) goto fail;
    VC_CHECK(api.dnnl_primitive_attr_set_post_ops(attr, post_ops));
    VC_CHECK(api.dnnl_primitive_desc_create(&pd, &desc, attr, api.engine, NULL));
    VC_CHECK(finish(p, pd));
    VC_CHECK(api.dnnl_stream_create(&p->stream, api.engine, dnnl_stream_default_flags));

    // Weights, reordered once into the layout the kernel chose.
    const dnnl_memory_desc_t *weights_picked = api.dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    size_t weights_bytes = api.dnnl_memory_desc_get_size(weights_picked);
    p->weights_data = aligned_alloc(64, align64(weights_bytes));
    if (!p->weights_data) {
        snprintf(err, err_len, "out of memory for %zu bytes of weights", weights_bytes);
        goto fail;
    }
    VC_CHECK(api.dnnl_memory_create(&p->weights, weights_picked, api.engine, p->weights_data));
    VC_CHECK(reorder_into(p->stream, &weights_user_md, c->weights, weights_picked, p->weights));
    if (c->bias) VC_CHECK(own_bias(p, c->bias, (size_t)c->out_channels, 1, &bias_md));

    // The source as given, and for bf16 its converted copy (in scratch, after the scratchpad).
    VC_CHECK(api.dnnl_memory_create(&p->src, &src_user_md, api.engine, DNNL_MEMORY_NONE));
    if (src_type != compute) {
        dnnl_primitive_desc_t convert_pd = NULL;
        p->converted_bytes = api.dnnl_memory_desc_get_size(&src_md);
        VC_CHECK(api.dnnl_memory_create(&p->src_converted, &src_md, api.engine, DNNL_MEMORY_NONE));
        VC_CHECK(api.dnnl_reorder_primitive_desc_create(&convert_pd, &src_user_md, api.engine, &src_md, api.engine, NULL));
        dnnl_status_t status = api.dnnl_primitive_create(&p->src_reorder, convert_pd);
        api.dnnl_primitive_desc_destroy(convert_pd);
        VC_CHECK(status);
    }
    VC_CHECK(api.dnnl_memory_create(&p->dst, &dst_md, api.engine, DNNL_MEMORY_NONE));
    if (p->residual_post_op >= 0) VC_CHECK(api.dnnl_memory_create(&p->residual, &residual_md, api.engine, DNNL_MEMORY_NONE));

    api.dnnl_primitive_desc_destroy(pd);
    api.dnnl_post_ops_destroy(post_ops);
    api.dnnl_primitive_attr_destroy(attr);
    *out = p;
    return 0;

fail:
    if (pd) api.dnnl_primitive_desc_destroy(pd);
    if (post_ops) api.dnnl_post_ops_destroy(post_ops);
    if (attr) api.dnnl_primitive_attr_destroy(attr);
    vc_dnnl_destroy(p);
    return -1;
}

int vc_dnnl_pool_create(const vc_dnnl_pool_params *c, vc_dnnl_primitive **out, char *err, size_t err_len) {
    if (vc_dnnl_load(err, err_len) != 0) return -1;
    vc_dnnl_primitive *p = calloc(1, sizeof *p);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    if (!p) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    p->residual_post_op = -1;
    dnnl_memory_desc_t src_md, dst_md;
    VC_CHECK(make_md(&src_md, c->batch, c->channels, c->in_height, c->in_width, dnnl_f32, c->nhwc));
    VC_CHECK(make_md(&dst_md, c->batch, c->channels, c->out_height, c->out_width, dnnl_f32, c->nhwc));
    dnnl_alg_kind_t algorithm = c->kind == VC_DNNL_POOL_MAX              ? dnnl_pooling_max
                                : c->kind == VC_DNNL_POOL_AVG_INCLUDE_PAD ? dnnl_pooling_avg_include_padding
                                                                          : dnnl_pooling_avg_exclude_padding;
    dnnl_pooling_v2_desc_t desc;
    dnnl_dims_t strides = {c->stride_height, c->stride_width}, kernel = {c->kernel_height, c->kernel_width};
    dnnl_dims_t dilation = {0, 0};
    dnnl_dims_t pad_l = {c->pad_top, c->pad_left}, pad_r = {c->pad_bottom, c->pad_right};
    VC_CHECK(api.dnnl_pooling_v2_forward_desc_init(&desc, dnnl_forward_inference, algorithm, &src_md, &dst_md,
                                                   strides, kernel, dilation, pad_l, pad_r));
    VC_CHECK(attributes_with_user_scratchpad(&attr));
    VC_CHECK(api.dnnl_primitive_desc_create(&pd, &desc, attr, api.engine, NULL));
    VC_CHECK(finish(p, pd));
    VC_CHECK(api.dnnl_stream_create(&p->stream, api.engine, dnnl_stream_default_flags));
    VC_CHECK(api.dnnl_memory_create(&p->src, &src_md, api.engine, DNNL_MEMORY_NONE));
    VC_CHECK(api.dnnl_memory_create(&p->dst, &dst_md, api.engine, DNNL_MEMORY_NONE));
    api.dnnl_primitive_desc_destroy(pd);
    api.dnnl_primitive_attr_destroy(attr);
    *out = p;
    return 0;

fail:
    if (pd) api.dnnl_primitive_desc_destroy(pd);
    if (attr) api.dnnl_primitive_attr_destroy(attr);
    vc_dnnl_destroy(p);
    return -1;
}

size_t vc_dnnl_scratch_bytes(const vc_dnnl_primitive *p) { return align64(p->scratchpad_bytes) + p->converted_bytes; }

const char *vc_dnnl_implementation(const vc_dnnl_primitive *p) { return p->implementation; }

int vc_dnnl_run(vc_dnnl_primitive *p, const void *src, void *dst, const float *residual, void *scratch, char *err,
                size_t err_len) {
    dnnl_exec_arg_t args[8];
    int n = 0;
    VC_CHECK(api.dnnl_memory_set_data_handle(p->src, (void *)src));
    if (p->src_reorder) {
        VC_CHECK(api.dnnl_memory_set_data_handle(p->src_converted, (char *)scratch + align64(p->scratchpad_bytes)));
        dnnl_exec_arg_t convert[2] = {{DNNL_ARG_FROM, p->src}, {DNNL_ARG_TO, p->src_converted}};
        VC_CHECK(api.dnnl_primitive_execute(p->src_reorder, p->stream, 2, convert));
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, p->src_converted};
    } else {
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, p->src};
    }
    VC_CHECK(api.dnnl_memory_set_data_handle(p->dst, dst));
    args[n++] = (dnnl_exec_arg_t){DNNL_ARG_DST, p->dst};
    if (p->weights) args[n++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, p->weights};
    if (p->bias) args[n++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, p->bias};
    if (p->scratchpad) {
        VC_CHECK(api.dnnl_memory_set_data_handle(p->scratchpad, scratch));
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, p->scratchpad};
    }
    if (p->residual) {
        VC_CHECK(api.dnnl_memory_set_data_handle(p->residual, (void *)residual));
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_ATTR_MULTIPLE_POST_OP(p->residual_post_op) | DNNL_ARG_SRC_1, p->residual};
    }
    if (p->rows > 0) {
        // One matmul per kernel row: its taps and its rows of the output (matmul_deconvolution_create).
        for (int row = 0; row < p->rows; row++) {
            VC_CHECK(api.dnnl_memory_set_data_handle(p->weights, (char *)p->weights_data + (size_t)row * p->row_weights_bytes));
            VC_CHECK(api.dnnl_memory_set_data_handle(p->dst, (char *)dst + (size_t)row * p->row_dst_bytes));
            VC_CHECK(api.dnnl_primitive_execute(p->primitive, p->stream, n, args));
        }
    } else {
        VC_CHECK(api.dnnl_primitive_execute(p->primitive, p->stream, n, args));
    }
    VC_CHECK(api.dnnl_stream_wait(p->stream));
    return 0;
fail:
    return -1;
}

void vc_dnnl_destroy(vc_dnnl_primitive *p) {
    if (!p) return;
    if (p->primitive) api.dnnl_primitive_destroy(p->primitive);
    if (p->src_reorder) api.dnnl_primitive_destroy(p->src_reorder);
    dnnl_memory_t memories[] = {p->src, p->src_converted, p->dst, p->residual, p->scratchpad, p->weights, p->bias};
    for (size_t i = 0; i < sizeof memories / sizeof memories[0]; i++)
        if (memories[i]) api.dnnl_memory_destroy(memories[i]);
    if (p->stream) api.dnnl_stream_destroy(p->stream);
    free(p->weights_data);
    free(p->bias_data);
    free(p);
}

#endif
