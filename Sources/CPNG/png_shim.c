#include "png_shim.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Where the reader is in the input, and where an error's text goes.
typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;
    char *message;
    size_t message_size;
} reader;

static void on_error(png_structp png, png_const_charp text) {
    reader *r = (reader *)png_get_error_ptr(png);
    if (r->message && r->message_size) snprintf(r->message, r->message_size, "%s", text);
    png_longjmp(png, 1);
}

// Warnings (a bad ancillary chunk, say) do not stop the decode; the pixels are still right.
static void on_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

static void read_bytes(png_structp png, png_bytep out, png_size_t count) {
    reader *r = (reader *)png_get_io_ptr(png);
    if (count > r->size - r->offset) {
        png_error(png, "the file ends early (truncated)");
    }
    memcpy(out, r->data + r->offset, count);
    r->offset += count;
}

int vc_png_is_png(const uint8_t *data, size_t size) {
    return size >= 8 && png_sig_cmp(data, 0, 8) == 0;
}

// Creates the read structs over `r`; NULL (with a message) when libpng cannot.
static png_structp open_reader(reader *r, png_infop *info) {
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, r, on_error, on_warning);
    if (!png) {
        snprintf(r->message, r->message_size, "cannot create a libpng reader");
        return NULL;
    }
    *info = png_create_info_struct(png);
    if (!*info) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(r->message, r->message_size, "cannot create a libpng info struct");
        return NULL;
    }
    png_set_read_fn(png, r, read_bytes);
    png_set_chunk_malloc_max(png, 8u << 20);
    return png;
}

int vc_png_read_info(const uint8_t *data, size_t size, vc_png_info *out, char *message, size_t message_size) {
    reader r = {data, size, 0, message, message_size};
    png_infop info = NULL;
    png_structp png = open_reader(&r, &info);
    if (!png) return -1;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    // The image is read later; the header alone needs no size limit beyond libpng's own.
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_read_info(png, info);
    out->width = png_get_image_width(png, info);
    out->height = png_get_image_height(png, info);
    out->bit_depth = png_get_bit_depth(png, info);
    out->color_type = png_get_color_type(png, info);
    out->interlaced = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

int vc_png_decode(const uint8_t *data, size_t size, vc_png_format format, uint8_t *out, size_t out_size,
                  uint32_t max_width, uint32_t max_height, char *message, size_t message_size) {
    reader r = {data, size, 0, message, message_size};
    png_infop info = NULL;
    png_structp png = open_reader(&r, &info);
    if (!png) return -1;
    // Everything libpng allocates is freed by png_destroy_read_struct; the rows are ours.
    png_bytep *volatile rows = NULL;
    uint8_t *volatile rgb = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        free(rgb);
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_set_user_limits(png, max_width, max_height);
    png_read_info(png, info);
    uint32_t width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    int color = png_get_color_type(png, info);
    int bit_depth = png_get_bit_depth(png, info);
    int source_gray = (color & PNG_COLOR_MASK_COLOR) == 0;

    if (bit_depth == 16) png_set_strip_16(png);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (source_gray && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    // Alpha is dropped, and so is a palette's transparency, which palette expansion turns
    // into an alpha channel.
    if ((color & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS)) png_set_strip_alpha(png);
    int gray_out = format == VC_PNG_GRAY;
    if (!gray_out && source_gray) png_set_gray_to_rgb(png);
    if (format == VC_PNG_BGR) png_set_bgr(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    size_t decoded_channels = png_get_channels(png, info);
    size_t channels = gray_out ? 1 : 3;
    if ((size_t)width * height * channels > out_size) {
        png_error(png, "the output buffer is smaller than the decoded image");
    }
    // RGB decoded for a gray output goes through a scratch image, converted below.
    uint8_t *target = out;
    if (gray_out && decoded_channels == 3) {
        rgb = malloc((size_t)width * height * 3);
        if (!rgb) png_error(png, "out of memory for the RGB rows of a gray conversion");
        target = rgb;
    } else if (decoded_channels != channels) {
        png_error(png, "unexpected channel count after the transforms");
    }
    rows = malloc(sizeof(png_bytep) * height);
    if (!rows) png_error(png, "out of memory for the row pointers");
    size_t stride = (size_t)width * decoded_channels;
    for (uint32_t y = 0; y < height; y++) rows[y] = target + (size_t)y * stride;
    png_read_image(png, rows);
    if (target == rgb) {
        size_t pixels = (size_t)width * height;
        for (size_t i = 0; i < pixels; i++) {
            const uint8_t *p = rgb + 3 * i;
            out[i] = (uint8_t)((19595u * p[0] + 38470u * p[1] + 7471u * p[2] + 32768u) >> 16);
        }
    }
    free(rows);
    free(rgb);
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

// The simplified write API (libpng 1.6) keeps libpng's longjmp inside the library.
static int image_for(png_image *image, uint32_t width, uint32_t height, int channels) {
    static const png_uint_32 formats[] = {PNG_FORMAT_GRAY, PNG_FORMAT_GA, PNG_FORMAT_RGB, PNG_FORMAT_RGBA};
    if (channels < 1 || channels > 4 || width == 0 || height == 0 || width > PNG_UINT_31_MAX ||
        height > PNG_UINT_31_MAX)
        return -1;
    memset(image, 0, sizeof(*image));
    image->version = PNG_IMAGE_VERSION;
    image->width = width;
    image->height = height;
    image->format = formats[channels - 1];
    return 0;
}

size_t vc_png_encoded_size_bound(uint32_t width, uint32_t height, int channels) {
    png_image image;
    if (image_for(&image, width, height, channels) != 0) return 0;
    // The bound's arithmetic must not wrap: rows of at most 2^31 bytes, 2^40 bytes in all.
    const double raw = (double)width * (double)channels * (double)height;
    if ((double)width * (double)channels > 2147483647.0 || raw > 1099511627776.0) return 0;
    return (size_t)PNG_IMAGE_PNG_SIZE_MAX(image);
}

int vc_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, uint8_t *out, size_t *out_size,
                  char *message, size_t message_size) {
    png_image image;
    if (image_for(&image, width, height, channels) != 0) {
        snprintf(message, message_size, "cannot write a %ux%u image of %d channels as PNG", width, height, channels);
        return -1;
    }
    png_alloc_size_t size = *out_size;
    const int ok = png_image_write_to_memory(&image, out, &size, 0, pixels, 0, NULL);
    if (!ok) {
        snprintf(message, message_size, "%s", image.message[0] ? image.message : "the output buffer is too small");
        png_image_free(&image);
        return -1;
    }
    *out_size = size;
    return 0;
}
