// PNG decoding for visionc's decode op and encoding of image outputs, on libpng (Debian
// libpng-dev). libpng reports errors by longjmp, which Swift cannot catch, so the whole read
// or write happens here in C and an error comes back as a status and a message.
#ifndef VISIONC_PNG_SHIM_H
#define VISIONC_PNG_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// What the header (IHDR) says.
typedef struct {
    uint32_t width;
    uint32_t height;
    /// 1, 2, 4, 8 or 16.
    int bit_depth;
    /// libpng's PNG_COLOR_TYPE_*: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA.
    int color_type;
    int interlaced;
} vc_png_info;

/// The decoded pixel layout: 8 bits per channel, interleaved.
typedef enum { VC_PNG_RGB = 0, VC_PNG_BGR = 1, VC_PNG_GRAY = 2 } vc_png_format;

/// True when `data` starts with the 8-byte PNG signature.
int vc_png_is_png(const uint8_t *data, size_t size);

/// Reads the header. Returns 0, or -1 with a message (NUL-terminated, truncated to fit).
int vc_png_read_info(const uint8_t *data, size_t size, vc_png_info *info, char *message, size_t message_size);

/// Decodes the whole image into `out` (height × width × channels bytes, channels 3 for RGB/BGR
/// and 1 for gray): 16-bit samples keep their high byte, palettes and low-depth gray expand,
/// alpha and transparency are dropped (not composited), gray becomes RGB by repetition and RGB
/// becomes gray as L = (19595 R + 38470 G + 7471 B + 32768) >> 16, ITU-R 601 luma, rounded.
/// Width and height above `max_width` / `max_height` are refused before any row is read, and
/// ancillary chunks may allocate at most 8 MiB (compressed text and ICC bombs).
/// Returns 0, or -1 with a message.
int vc_png_decode(const uint8_t *data, size_t size, vc_png_format format, uint8_t *out, size_t out_size,
                  uint32_t max_width, uint32_t max_height, char *message, size_t message_size);

/// An upper bound of the encoded size of a height × width image of 1–4 channels (libpng's
/// PNG_IMAGE_PNG_SIZE_MAX), or 0 when the image is too large for one PNG (or channels is not 1–4).
size_t vc_png_encoded_size_bound(uint32_t width, uint32_t height, int channels);

/// Encodes 8-bit interleaved pixels (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA; rows packed) as a
/// PNG into `out` (`*out_size` bytes, at least vc_png_encoded_size_bound); `*out_size` becomes the
/// encoded size. Returns 0, or -1 with a message.
int vc_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, uint8_t *out, size_t *out_size,
                  char *message, size_t message_size);

#ifdef __cplusplus
}
#endif

#endif
