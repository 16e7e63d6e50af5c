#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>

/*
 * libjpeg reports a fatal error by calling error_exit, which must not return. Swift cannot call
 * setjmp, and a longjmp across Swift frames skips Swift's cleanup (leaks, broken exclusivity), so
 * every libjpeg call and the longjmp that ends a failed one stay inside the static inline C
 * functions below. The Swift compiler emits them from this header, so no separate C target is
 * needed. Nothing here calls back into Swift.
 *
 * Corrupt-data warnings (a truncated file, a bad Huffman code) are made fatal too: libjpeg would
 * otherwise pad the image with grey and succeed, and a half-grey logbook page would be transcribed
 * as if it were real. Harmless warnings (stray bytes between markers, an odd JFIF version) are
 * ignored.
 */

typedef struct logbook_jpeg_error_manager {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    int truncated;
} logbook_jpeg_error_manager;

static inline void logbook_jpeg_fail(j_common_ptr cinfo) {
    logbook_jpeg_error_manager *manager = (logbook_jpeg_error_manager *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, manager->message);
    manager->truncated = (cinfo->err->msg_code == JWRN_JPEG_EOF);
    longjmp(manager->jump, 1);
}

static inline void logbook_jpeg_emit_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return; /* trace output */
    cinfo->err->num_warnings++;
    switch (cinfo->err->msg_code) {
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_ARITH_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_BOGUS_PROGRESSION:
    case JWRN_NOT_SEQUENTIAL:
        logbook_jpeg_fail(cinfo);
        break;
    default:
        break;
    }
}

static inline void logbook_jpeg_output_message(j_common_ptr cinfo) {
    (void)cinfo; /* never print to stderr from a library */
}

static inline void logbook_jpeg_install_error_manager(logbook_jpeg_error_manager *manager) {
    jpeg_std_error(&manager->pub);
    manager->pub.error_exit = logbook_jpeg_fail;
    manager->pub.emit_message = logbook_jpeg_emit_message;
    manager->pub.output_message = logbook_jpeg_output_message;
    manager->message[0] = 0;
    manager->truncated = 0;
}

/* What the file says about itself; filled in as soon as the header has been read. */
typedef struct logbook_jpeg_info {
    int width;
    int height;
    int components;       /* in the file: 1 gray, 3 YCbCr/RGB, 4 CMYK/YCCK */
    int is_cmyk;
    int progressive;
    int density_unit;     /* JFIF: 0 none, 1 per inch, 2 per cm */
    int x_density;
    int y_density;
} logbook_jpeg_info;

enum {
    LOGBOOK_JPEG_OK = 0,
    LOGBOOK_JPEG_ERROR = 1,        /* message filled in */
    LOGBOOK_JPEG_TOO_LARGE = 2,    /* info filled in, nothing allocated */
    LOGBOOK_JPEG_TRUNCATED = 3     /* message filled in */
};

/*
 * Decodes a whole JPEG in memory to 8-bit gray (luminance 0.299 R + 0.587 G + 0.114 B, which is
 * exactly the JPEG Y channel). The image size is checked against max_pixels after the header and
 * before libjpeg allocates anything large. On success *out_pixels is a malloc'd width*height
 * buffer that the caller frees.
 */
static inline int logbook_jpeg_decode_gray(const unsigned char *data, unsigned long size,
                                           long long max_pixels, logbook_jpeg_info *info,
                                           unsigned char **out_pixels, char *message,
                                           size_t message_capacity) {
    struct jpeg_decompress_struct cinfo;
    logbook_jpeg_error_manager manager;
    unsigned char *volatile pixels = NULL;
    unsigned char *volatile cmyk_row = NULL;

    *out_pixels = NULL;
    memset(info, 0, sizeof(*info));
    memset(&cinfo, 0, sizeof(cinfo));
    cinfo.err = &manager.pub;
    logbook_jpeg_install_error_manager(&manager);

    if (setjmp(manager.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(cmyk_row);
        snprintf(message, message_capacity, "%s", manager.message);
        return manager.truncated ? LOGBOOK_JPEG_TRUNCATED : LOGBOOK_JPEG_ERROR;
    }

    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, size);
    jpeg_read_header(&cinfo, TRUE);

    info->width = (int)cinfo.image_width;
    info->height = (int)cinfo.image_height;
    info->components = cinfo.num_components;
    info->progressive = cinfo.progressive_mode ? 1 : 0;
    info->is_cmyk = (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK);
    if (cinfo.saw_JFIF_marker) {
        info->density_unit = cinfo.density_unit;
        info->x_density = cinfo.X_density;
        info->y_density = cinfo.Y_density;
    }
    if ((long long)cinfo.image_width * (long long)cinfo.image_height > max_pixels) {
        jpeg_destroy_decompress(&cinfo);
        return LOGBOOK_JPEG_TOO_LARGE;
    }

    cinfo.out_color_space = info->is_cmyk ? JCS_CMYK : JCS_GRAYSCALE;
    jpeg_start_decompress(&cinfo);

    size_t width = cinfo.output_width;
    size_t height = cinfo.output_height;
    pixels = (unsigned char *)malloc(width * height > 0 ? width * height : 1);
    if (info->is_cmyk) cmyk_row = (unsigned char *)malloc(width * 4 > 0 ? width * 4 : 1);
    if (pixels == NULL || (info->is_cmyk && cmyk_row == NULL)) {
        ERREXIT1(&cinfo, JERR_OUT_OF_MEMORY, 0);
    }

    /* Photoshop writes CMYK inverted (255 = no ink) and marks it with an Adobe APP14 segment;
       files without that marker are taken to hold plain ink amounts. */
    int inverted = cinfo.saw_Adobe_marker ? 1 : 0;
    while (cinfo.output_scanline < cinfo.output_height) {
        size_t y = cinfo.output_scanline;
        if (!info->is_cmyk) {
            JSAMPROW row = pixels + y * width;
            jpeg_read_scanlines(&cinfo, &row, 1);
        } else {
            JSAMPROW row = cmyk_row;
            jpeg_read_scanlines(&cinfo, &row, 1);
            for (size_t x = 0; x < width; x++) {
                int c = cmyk_row[4 * x], m = cmyk_row[4 * x + 1];
                int yy = cmyk_row[4 * x + 2], k = cmyk_row[4 * x + 3];
                if (!inverted) { c = 255 - c; m = 255 - m; yy = 255 - yy; k = 255 - k; }
                double r = c * k / 255.0, g = m * k / 255.0, b = yy * k / 255.0;
                double lum = 0.299 * r + 0.587 * g + 0.114 * b;
                pixels[y * width + x] = (unsigned char)(lum + 0.5);
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(cmyk_row);
    info->width = (int)width;
    info->height = (int)height;
    *out_pixels = pixels;
    return LOGBOOK_JPEG_OK;
}

/* A growable in-memory destination that, unlike jpeg_mem_dest, never leaves a dangling buffer
   behind when compression fails halfway. */
typedef struct logbook_jpeg_destination {
    struct jpeg_destination_mgr pub;
    unsigned char *buffer;
    size_t capacity;
    size_t used;
} logbook_jpeg_destination;

static inline void logbook_jpeg_destination_init(j_compress_ptr cinfo) {
    logbook_jpeg_destination *dest = (logbook_jpeg_destination *)cinfo->dest;
    dest->pub.next_output_byte = dest->buffer;
    dest->pub.free_in_buffer = dest->capacity;
}

static inline boolean logbook_jpeg_destination_grow(j_compress_ptr cinfo) {
    logbook_jpeg_destination *dest = (logbook_jpeg_destination *)cinfo->dest;
    size_t new_capacity = dest->capacity * 2;
    unsigned char *grown = (unsigned char *)realloc(dest->buffer, new_capacity);
    if (grown == NULL) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 1);
    /* libjpeg asks for more room only when the buffer is completely full */
    dest->pub.next_output_byte = grown + dest->capacity;
    dest->pub.free_in_buffer = new_capacity - dest->capacity;
    dest->buffer = grown;
    dest->capacity = new_capacity;
    return TRUE;
}

static inline void logbook_jpeg_destination_term(j_compress_ptr cinfo) {
    logbook_jpeg_destination *dest = (logbook_jpeg_destination *)cinfo->dest;
    dest->used = dest->capacity - dest->pub.free_in_buffer;
}

/*
 * Compresses 8-bit samples (components 1 = gray, 3 = RGB, 4 = CMYK) to a JPEG in memory. libjpeg
 * marks CMYK output with an Adobe segment, so CMYK samples should follow Adobe's inverted
 * convention (255 = no ink) to be read back the same way. dpi <= 0 writes no density. On success
 * *out_data is a malloc'd buffer of *out_size bytes that the caller frees.
 */
static inline int logbook_jpeg_encode(const unsigned char *samples, int width, int height,
                                      int components, int quality, int progressive, int dpi,
                                      unsigned char **out_data, unsigned long *out_size,
                                      char *message, size_t message_capacity) {
    struct jpeg_compress_struct cinfo;
    logbook_jpeg_error_manager manager;
    logbook_jpeg_destination destination;

    *out_data = NULL;
    *out_size = 0;
    memset(&cinfo, 0, sizeof(cinfo));
    memset(&destination, 0, sizeof(destination));
    cinfo.err = &manager.pub;
    logbook_jpeg_install_error_manager(&manager);

    if (setjmp(manager.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(destination.buffer);
        snprintf(message, message_capacity, "%s", manager.message);
        return LOGBOOK_JPEG_ERROR;
    }

    jpeg_create_compress(&cinfo);
    destination.capacity = 65536;
    destination.buffer = (unsigned char *)malloc(destination.capacity);
    if (destination.buffer == NULL) ERREXIT1(&cinfo, JERR_OUT_OF_MEMORY, 2);
    destination.pub.init_destination = logbook_jpeg_destination_init;
    destination.pub.empty_output_buffer = logbook_jpeg_destination_grow;
    destination.pub.term_destination = logbook_jpeg_destination_term;
    cinfo.dest = &destination.pub;

    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = components;
    cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : (components == 4 ? JCS_CMYK : JCS_RGB);
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    if (progressive) jpeg_simple_progression(&cinfo);
    if (dpi > 0 && cinfo.write_JFIF_header) {
        cinfo.density_unit = 1;
        cinfo.X_density = (UINT16)dpi;
        cinfo.Y_density = (UINT16)dpi;
    }

    jpeg_start_compress(&cinfo, TRUE);
    size_t stride = (size_t)width * (size_t)components;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(samples + (size_t)cinfo.next_scanline * stride);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out_data = destination.buffer;
    *out_size = destination.used;
    return LOGBOOK_JPEG_OK;
}
