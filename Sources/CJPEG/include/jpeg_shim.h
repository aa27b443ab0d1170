// JPEG decoding through libjpeg-turbo's libjpeg API (Debian libjpeg62-turbo-dev), for what
// TurboJPEG's API cannot do: read a stream given as several byte ranges of a file (a scan-pruned
// or band-cut stream built at the marker level, without copying) and switch block smoothing off.
// libjpeg reports errors by longjmp, which Swift cannot catch, so the whole decode happens here in
// C and an error comes back as a status and a message.
#ifndef VISIONC_JPEG_SHIM_H
#define VISIONC_JPEG_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// One byte range of the stream; the decoder reads the ranges in order as one stream.
typedef struct {
    const uint8_t *data;
    size_t size;
} vc_jpeg_chunk;

/// The decoded pixel layout: 8 bits per channel, interleaved (libjpeg's JCS_RGB, JCS_EXT_BGR,
/// JCS_GRAYSCALE, as TurboJPEG's TJPF_RGB, TJPF_BGR, TJPF_GRAY).
typedef enum { VC_JPEG_RGB = 0, VC_JPEG_BGR = 1, VC_JPEG_GRAY = 2 } vc_jpeg_format;

typedef struct {
    vc_jpeg_format format;
    /// DCT scaling factor scale_num / scale_denom, as TurboJPEG's (1/8 … 2).
    unsigned scale_num, scale_denom;
    /// libjpeg's do_block_smoothing (progressive files whose AC coefficients are incomplete).
    int block_smoothing;
    /// Output rows skipped before the first row written to `out` (libjpeg's jpeg_skip_scanlines:
    /// entropy-decoded, and IDCT'd only where upsampling needs them as context).
    uint32_t skip_rows;
    /// Output rows written to `out`, `stride` bytes apart; the decode stops after them.
    uint32_t rows;
    size_t stride;
    /// The output width the caller planned for; a stream that decodes to another width fails.
    uint32_t expected_width;
    /// Output columns [crop_x, crop_x + crop_width) the caller needs (crop_width 0: all). Each
    /// row is still written at its place in a full-width row of `out`, but only the columns of
    /// the iMCU columns around the crop (libjpeg's jpeg_crop_scanline) are decoded, widened by
    /// one iMCU on each side because fancy upsampling treats the crop's edge as the image's
    /// edge: inside the crop the pixels equal the whole decode's; outside they are unwritten
    /// or differ.
    uint32_t crop_x, crop_width;
} vc_jpeg_request;

/// The decode succeeded.
#define VC_JPEG_OK 0
/// libjpeg failed (bad header, unsupported stream, out of memory); `message` says why.
#define VC_JPEG_FAILED (-1)
/// libjpeg warned (truncated or corrupt data) and the decode stopped there, as TurboJPEG's
/// TJFLAG_STOPONWARNING does; `message` holds the warning.
#define VC_JPEG_CORRUPT (-2)

/// Decodes the stream made of `chunks` as `request` asks, into `out` (`out_size` bytes).
/// A stream that ends early reads as if an EOI followed (a "Premature end" warning).
/// Returns VC_JPEG_OK, VC_JPEG_FAILED or VC_JPEG_CORRUPT (with a NUL-terminated message).
int vc_jpeg_decode(const vc_jpeg_chunk *chunks, size_t chunk_count, const vc_jpeg_request *request, uint8_t *out,
                   size_t out_size, char *message, size_t message_size);

#ifdef __cplusplus
}
#endif

#endif
