#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <tiffio.h>

/*
 * Swift cannot call C variadic functions (TIFFGetField, TIFFSetField) nor implement a handler that
 * takes a va_list portably, so the typed wrappers and message handlers live here as static inline
 * functions that the Swift compiler emits from this header.
 */

/* Messages libtiff reported for one open file. Only the first of each kind is kept: later ones
   are usually consequences of it. */
typedef struct logbook_tiff_messages {
    char error[512];
    char warning[512];
    int error_count;
    int warning_count;
} logbook_tiff_messages;

static inline void logbook_tiff_format(char *buffer, size_t capacity, const char *module,
                                       const char *fmt, va_list ap) {
    char detail[448];
    vsnprintf(detail, sizeof(detail), fmt, ap);
    if (module != NULL && module[0] != 0) {
        snprintf(buffer, capacity, "%s: %s", module, detail);
    } else {
        snprintf(buffer, capacity, "%s", detail);
    }
}

static inline int logbook_tiff_error_handler(TIFF *tif, void *user_data, const char *module,
                                             const char *fmt, va_list ap) {
    (void)tif;
    logbook_tiff_messages *messages = (logbook_tiff_messages *)user_data;
    if (messages == NULL) return 1;
    if (messages->error_count == 0) {
        logbook_tiff_format(messages->error, sizeof(messages->error), module, fmt, ap);
    }
    messages->error_count++;
    return 1; /* handled: keep libtiff from printing it */
}

static inline int logbook_tiff_warning_handler(TIFF *tif, void *user_data, const char *module,
                                               const char *fmt, va_list ap) {
    (void)tif;
    logbook_tiff_messages *messages = (logbook_tiff_messages *)user_data;
    if (messages == NULL) return 1;
    if (messages->warning_count == 0) {
        logbook_tiff_format(messages->warning, sizeof(messages->warning), module, fmt, ap);
    }
    messages->warning_count++;
    return 1;
}

/* Opens a TIFF whose errors and warnings go to *messages instead of stderr. *messages must
   outlive the returned handle. */
static inline TIFF *logbook_tiff_open(const char *path, const char *mode,
                                      logbook_tiff_messages *messages) {
    TIFFOpenOptions *options = TIFFOpenOptionsAlloc();
    if (options == NULL) return NULL;
    TIFFOpenOptionsSetErrorHandlerExtR(options, logbook_tiff_error_handler, messages);
    TIFFOpenOptionsSetWarningHandlerExtR(options, logbook_tiff_warning_handler, messages);
    TIFF *tif = TIFFOpenExt(path, mode, options);
    TIFFOpenOptionsFree(options);
    return tif;
}

/* A few codecs still report through the process-wide handlers; silence those once, since every
   failure is also visible through a return code. */
static inline void logbook_tiff_silence_global_handlers(void) {
    TIFFSetErrorHandler(NULL);
    TIFFSetWarningHandler(NULL);
}

static inline int logbook_tiff_get_uint32(TIFF *tif, uint32_t tag, uint32_t *value) {
    return TIFFGetField(tif, tag, value);
}

static inline int logbook_tiff_get_uint16(TIFF *tif, uint32_t tag, uint16_t *value) {
    return TIFFGetField(tif, tag, value);
}

static inline int logbook_tiff_get_uint16_defaulted(TIFF *tif, uint32_t tag, uint16_t *value) {
    return TIFFGetFieldDefaulted(tif, tag, value);
}

static inline int logbook_tiff_get_float(TIFF *tif, uint32_t tag, float *value) {
    return TIFFGetField(tif, tag, value);
}

static inline int logbook_tiff_set_uint32(TIFF *tif, uint32_t tag, uint32_t value) {
    return TIFFSetField(tif, tag, value);
}

/* 16-bit tags and pseudo-tags such as TIFFTAG_JPEGQUALITY take an int through varargs. */
static inline int logbook_tiff_set_int(TIFF *tif, uint32_t tag, int value) {
    return TIFFSetField(tif, tag, value);
}

static inline int logbook_tiff_set_double(TIFF *tif, uint32_t tag, double value) {
    return TIFFSetField(tif, tag, value);
}

static inline int logbook_tiff_set_colormap(TIFF *tif, uint16_t *red, uint16_t *green,
                                            uint16_t *blue) {
    return TIFFSetField(tif, TIFFTAG_COLORMAP, red, green, blue);
}

static inline int logbook_tiff_set_extra_samples(TIFF *tif, int count, uint16_t *kinds) {
    return TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, (uint16_t)count, kinds);
}

static inline int logbook_tiff_set_int_pair(TIFF *tif, uint32_t tag, int first, int second) {
    return TIFFSetField(tif, tag, first, second);
}
