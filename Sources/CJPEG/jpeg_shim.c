#include "jpeg_shim.h"

// jpeglib.h needs FILE and size_t declared first.
#include <stdio.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

// libjpeg's error manager, extended with where to jump and where the text goes.
typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int corrupt;
    char *message;
    size_t message_size;
} error_manager;

static void on_error(j_common_ptr cinfo) {
    error_manager *errors = (error_manager *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    if (errors->message && errors->message_size) snprintf(errors->message, errors->message_size, "%s", text);
    longjmp(errors->jump, 1);
}

// Level -1 is a warning (damaged data): stop as TurboJPEG's TJFLAG_STOPONWARNING does. Trace
// messages (level >= 0) are ignored.
static void on_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return;
    ((error_manager *)cinfo->err)->corrupt = 1;
    on_error(cinfo);
}

// A source manager over the caller's chunks, read in order without copying.
typedef struct {
    struct jpeg_source_mgr pub;
    const vc_jpeg_chunk *chunks;
    size_t count;
    size_t next;
} chunk_source;

static const JOCTET end_of_image[2] = {0xFF, JPEG_EOI};

static void init_source(j_decompress_ptr cinfo) { (void)cinfo; }

static boolean fill_input_buffer(j_decompress_ptr cinfo) {
    chunk_source *source = (chunk_source *)cinfo->src;
    while (source->next < source->count && source->chunks[source->next].size == 0) source->next++;
    if (source->next < source->count) {
        source->pub.next_input_byte = source->chunks[source->next].data;
        source->pub.bytes_in_buffer = source->chunks[source->next].size;
        source->next++;
        return TRUE;
    }
    // Out of data: warn (which stops the decode) and, like libjpeg's own sources, feed an EOI.
    WARNMS(cinfo, JWRN_JPEG_EOF);
    source->pub.next_input_byte = end_of_image;
    source->pub.bytes_in_buffer = sizeof end_of_image;
    return TRUE;
}

static void skip_input_data(j_decompress_ptr cinfo, long count) {
    chunk_source *source = (chunk_source *)cinfo->src;
    if (count <= 0) return;
    while ((size_t)count > source->pub.bytes_in_buffer) {
        count -= (long)source->pub.bytes_in_buffer;
        fill_input_buffer(cinfo);
    }
    source->pub.next_input_byte += count;
    source->pub.bytes_in_buffer -= (size_t)count;
}

static void term_source(j_decompress_ptr cinfo) { (void)cinfo; }

static void fail(j_decompress_ptr cinfo, const char *text) {
    error_manager *errors = (error_manager *)cinfo->err;
    if (errors->message && errors->message_size) snprintf(errors->message, errors->message_size, "%s", text);
    longjmp(errors->jump, 1);
}

int vc_jpeg_decode(const vc_jpeg_chunk *chunks, size_t chunk_count, const vc_jpeg_request *request, uint8_t *out,
                   size_t out_size, char *message, size_t message_size) {
    struct jpeg_decompress_struct cinfo;
    error_manager errors;
    chunk_source source;

    memset(&cinfo, 0, sizeof cinfo);
    memset(&errors, 0, sizeof errors);
    cinfo.err = jpeg_std_error(&errors.pub);
    errors.pub.error_exit = on_error;
    errors.pub.emit_message = on_message;
    errors.message = message;
    errors.message_size = message_size;
    if (setjmp(errors.jump)) {
        jpeg_destroy_decompress(&cinfo);
        return errors.corrupt ? VC_JPEG_CORRUPT : VC_JPEG_FAILED;
    }
    jpeg_create_decompress(&cinfo);

    memset(&source, 0, sizeof source);
    source.pub.init_source = init_source;
    source.pub.fill_input_buffer = fill_input_buffer;
    source.pub.skip_input_data = skip_input_data;
    source.pub.resync_to_restart = jpeg_resync_to_restart;
    source.pub.term_source = term_source;
    source.chunks = chunks;
    source.count = chunk_count;
    cinfo.src = &source.pub;

    jpeg_read_header(&cinfo, TRUE);
    // The same choices as tjDecompress2 with no flags: islow IDCT, fancy upsampling.
    switch (request->format) {
    case VC_JPEG_RGB: cinfo.out_color_space = JCS_RGB; break;
    case VC_JPEG_BGR: cinfo.out_color_space = JCS_EXT_BGR; break;
    case VC_JPEG_GRAY: cinfo.out_color_space = JCS_GRAYSCALE; break;
    default: fail(&cinfo, "unknown output format");
    }
    cinfo.scale_num = request->scale_num;
    cinfo.scale_denom = request->scale_denom;
    cinfo.dct_method = JDCT_ISLOW;
    cinfo.do_fancy_upsampling = TRUE;
    cinfo.do_block_smoothing = request->block_smoothing ? TRUE : FALSE;
    jpeg_start_decompress(&cinfo);

    size_t row_bytes = (size_t)cinfo.output_width * (size_t)cinfo.output_components;
    if (cinfo.output_width != request->expected_width || row_bytes > request->stride) {
        fail(&cinfo, "the stream decodes to another width than planned");
    }
    if ((uint64_t)request->skip_rows + request->rows > cinfo.output_height) {
        fail(&cinfo, "the stream decodes to fewer rows than planned");
    }
    if (request->rows > 0 && (size_t)(request->rows - 1) * request->stride + row_bytes > out_size) {
        fail(&cinfo, "the output buffer is smaller than the decoded rows");
    }
    JDIMENSION first_column = 0;
    if (request->crop_width > 0) {
        if ((uint64_t)request->crop_x + request->crop_width > cinfo.output_width) {
            fail(&cinfo, "the crop leaves the decoded image");
        }
        // One iMCU of margin each side, in output columns at this scale.
        JDIMENSION margin = (JDIMENSION)(cinfo.max_h_samp_factor * cinfo.min_DCT_scaled_size);
        JDIMENSION begin = request->crop_x > margin ? request->crop_x - margin : 0;
        JDIMENSION last = request->crop_x + request->crop_width + margin;
        if (last > cinfo.output_width) last = cinfo.output_width;
        JDIMENSION width = last - begin;
        // Only worth it when columns are left out; libjpeg widens the crop to iMCU boundaries.
        if (begin > 0 || last < cinfo.output_width) {
            jpeg_crop_scanline(&cinfo, &begin, &width);
            first_column = begin;
        }
    }
    size_t column_offset = (size_t)first_column * (size_t)cinfo.output_components;
    if (request->skip_rows > 0) jpeg_skip_scanlines(&cinfo, request->skip_rows);
    uint32_t end = request->skip_rows + request->rows;
    while (cinfo.output_scanline < end) {
        JSAMPROW row = out + (size_t)(cinfo.output_scanline - request->skip_rows) * request->stride + column_offset;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    // Rows past `end` are context the caller did not ask for: stop without reading them.
    if (cinfo.output_scanline == cinfo.output_height) {
        jpeg_finish_decompress(&cinfo);
    } else {
        jpeg_abort_decompress(&cinfo);
    }
    jpeg_destroy_decompress(&cinfo);
    return VC_JPEG_OK;
}
