#include "formats_shim.h"
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <jpeglib.h>
#include <jerror.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

void genlab_free(void *p) { free(p); }

// MARK: PNG

typedef struct { jmp_buf jump; char *error; } png_guard;

static void png_error_handler(png_structp png, png_const_charp message) {
    png_guard *g = (png_guard *)png_get_error_ptr(png);
    snprintf(g->error, 256, "%s", message);
    longjmp(g->jump, 1);
}
static void png_warning_handler(png_structp png, png_const_charp message) { (void)png; (void)message; }

int genlab_png_read(const char *path, genlab_image *out, size_t max_bytes, char *error) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(error, 256, "cannot open"); return 1; }
    unsigned char sig[8];
    if (fread(sig, 1, 8, f) != 8 || png_sig_cmp(sig, 0, 8)) {
        fclose(f);
        snprintf(error, 256, "not a PNG file (bad signature)");
        return 1;
    }
    png_guard guard;
    guard.error = error;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &guard, png_error_handler, png_warning_handler);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    // Declared volatile: they change between setjmp and a possible longjmp.
    float *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    png_bytep volatile buffer = NULL;
    if (!png || !info) { fclose(f); snprintf(error, 256, "out of memory"); return 1; }
    if (setjmp(guard.jump)) {
        png_destroy_read_struct(&png, &info, NULL);
        free(pixels); free(rows); free(buffer);
        fclose(f);
        return 1;
    }
    png_init_io(png, f);
    png_set_sig_bytes(png, 8);
    // Truncated or damaged image data is an error, not a warning with a half-filled image.
    png_set_benign_errors(png, 0);
    png_set_user_limits(png, 1000000, 1000000);
    png_set_chunk_malloc_max(png, 8 << 20);
    png_read_info(png, info);
    png_set_expand(png);  // palette → RGB, grey < 8 bit → 8 bit, tRNS → alpha
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int w = (int)png_get_image_width(png, info), h = (int)png_get_image_height(png, info);
    int channels = png_get_channels(png, info), depth = png_get_bit_depth(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    // The decoded size is checked against the caller's limit before anything is allocated.
    size_t need = rowbytes * (size_t)h + sizeof(float) * (size_t)w * h * channels;
    // (png_set_user_limits keeps w and h under 10^6, so this cannot overflow.)
    if (w <= 0 || h <= 0 || need > max_bytes) {
        snprintf(error, 256, "image of %dx%d pixels (%d channels) needs %zu MiB to decode, over the input limit of %zu MiB "
                 "(raise it with --max-input-mib if the file is genuine)", w, h, channels, need >> 20, max_bytes >> 20);
        longjmp(guard.jump, 1);
    }
    buffer = malloc(rowbytes * h);
    rows = malloc(sizeof(png_bytep) * h);
    pixels = malloc(sizeof(float) * (size_t)w * h * channels);
    if (!buffer || !rows || !pixels) { snprintf(error, 256, "out of memory"); longjmp(guard.jump, 1); }
    for (int y = 0; y < h; y++) rows[y] = buffer + rowbytes * y;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    size_t n = (size_t)w * h * channels;
    if (depth == 16) {
        for (size_t i = 0; i < n; i++) pixels[i] = ((buffer[2 * i] << 8) | buffer[2 * i + 1]) / 65535.0f;
    } else {
        for (size_t i = 0; i < n; i++) pixels[i] = buffer[i] / 255.0f;
    }
    png_destroy_read_struct(&png, &info, NULL);
    free(rows); free(buffer);
    fclose(f);
    out->width = w; out->height = h; out->channels = channels; out->bit_depth = depth; out->pixels = pixels;
    return 0;
}

// Writes the image to an open stream; the caller closes it.
static int png_write_stream(FILE *f, int width, int height, int channels, int bit_depth, const void *data,
                            char *error) {
    static const int types[] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    png_guard guard;
    guard.error = error;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &guard, png_error_handler, png_warning_handler);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) { snprintf(error, 256, "out of memory"); return 1; }
    if (setjmp(guard.jump)) { png_destroy_write_struct(&png, &info); return 1; }
    png_init_io(png, f);
    png_set_IHDR(png, info, width, height, bit_depth, types[channels], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    if (bit_depth == 16) png_set_swap(png);  // our samples are little-endian
    size_t rowbytes = (size_t)width * channels * (bit_depth / 8);
    for (int y = 0; y < height; y++) png_write_row(png, (png_const_bytep)data + rowbytes * y);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

static int png_arguments_ok(int channels, int bit_depth, char *error) {
    if (channels < 1 || channels > 4 || (bit_depth != 8 && bit_depth != 16)) {
        snprintf(error, 256, "cannot write %d channels at %d bits", channels, bit_depth);
        return 0;
    }
    return 1;
}

int genlab_png_write(const char *path, int width, int height, int channels, int bit_depth, const void *data, char *error) {
    if (!png_arguments_ok(channels, bit_depth, error)) return 1;
    FILE *f = fopen(path, "wb");
    if (!f) { snprintf(error, 256, "cannot create file: %s", strerror(errno)); return 1; }
    int status = png_write_stream(f, width, height, channels, bit_depth, data, error);
    if (fclose(f) != 0 && status == 0) { snprintf(error, 256, "write failed"); return 1; }
    return status;
}

int genlab_png_encode(int width, int height, int channels, const uint8_t *data, uint8_t **out, size_t *out_length,
                      char *error) {
    *out = NULL; *out_length = 0;
    if (!png_arguments_ok(channels, 8, error)) return 1;
    char *buffer = NULL;
    size_t length = 0;
    FILE *f = open_memstream(&buffer, &length);
    if (!f) { snprintf(error, 256, "cannot open a memory stream: %s", strerror(errno)); return 1; }
    int status = png_write_stream(f, width, height, channels, 8, data, error);
    if (fclose(f) != 0 && status == 0) { snprintf(error, 256, "memory stream failed"); status = 1; }
    if (status != 0) { free(buffer); return 1; }
    *out = (uint8_t *)buffer; *out_length = length;
    return 0;
}

// MARK: JPEG

typedef struct { struct jpeg_error_mgr base; jmp_buf jump; char *error; int damaged; } jpeg_guard;

static void jpeg_error_exit(j_common_ptr cinfo) {
    jpeg_guard *g = (jpeg_guard *)cinfo->err;
    char message[JMSG_LENGTH_MAX];
    cinfo->err->format_message(cinfo, message);
    snprintf(g->error, 256, "%s", message);
    longjmp(g->jump, 1);
}
static void jpeg_silent(j_common_ptr cinfo) { (void)cinfo; }

// libjpeg reports a truncated or damaged stream as a warning and fills the rest grey: GenLab
// treats those warnings as errors so a broken file is never read as a plausible image.
static void jpeg_warning(j_common_ptr cinfo, int level) {
    jpeg_guard *g = (jpeg_guard *)cinfo->err;
    if (level >= 0) return;
    int code = cinfo->err->msg_code;
    if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER || code == JWRN_MUST_RESYNC || code == JWRN_HUFF_BAD_CODE ||
        code == JWRN_NOT_SEQUENTIAL || code == JWRN_BOGUS_PROGRESSION) {
        char message[JMSG_LENGTH_MAX];
        cinfo->err->format_message(cinfo, message);
        if (!g->damaged) snprintf(g->error, 256, "%s", message);
        g->damaged = 1;
    }
}

// A progressive JPEG may hold thousands of tiny scans, each a pass over the whole image: a file of
// a few KiB could then decode for minutes. Real encoders write at most a few dozen.
static void jpeg_scan_limit(j_common_ptr cinfo) {
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (cinfo->is_decompressor && d->input_scan_number > 1000) {
        jpeg_guard *g = (jpeg_guard *)cinfo->err;
        snprintf(g->error, 256, "more than 1000 progressive scans: a decompression bomb or a corrupt file");
        longjmp(g->jump, 1);
    }
}

int genlab_jpeg_read(const char *path, genlab_image *out, size_t max_bytes, char *error) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(error, 256, "cannot open"); return 1; }
    struct jpeg_decompress_struct cinfo;
    jpeg_guard guard;
    guard.error = error;
    guard.damaged = 0;
    cinfo.err = jpeg_std_error(&guard.base);
    guard.base.error_exit = jpeg_error_exit;
    guard.base.output_message = jpeg_silent;
    guard.base.emit_message = jpeg_warning;
    unsigned char *volatile row = NULL;
    float *volatile pixels = NULL;
    if (setjmp(guard.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(row); free(pixels);
        fclose(f);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    struct jpeg_progress_mgr progress;
    memset(&progress, 0, sizeof progress);
    progress.progress_monitor = jpeg_scan_limit;
    cinfo.progress = &progress;
    jpeg_stdio_src(&cinfo, f);
    jpeg_read_header(&cinfo, TRUE);
    // libjpeg cannot turn CMYK into RGB itself: it is decoded as CMYK and converted below.
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    if (cmyk) cinfo.out_color_space = JCS_CMYK;
    {
        // The declared size is checked before libjpeg allocates its buffers for it.
        size_t comps = cinfo.num_components > 0 ? (size_t)cinfo.num_components : 1;
        size_t need = (size_t)cinfo.image_width * cinfo.image_height * comps * (sizeof(float) + 1);
        if (need > max_bytes) {
            snprintf(error, 256, "image of %ux%u pixels needs %zu MiB to decode, over the input limit of %zu MiB "
                     "(raise it with --max-input-mib if the file is genuine)", cinfo.image_width, cinfo.image_height,
                     need >> 20, max_bytes >> 20);
            longjmp(guard.jump, 1);
        }
        cinfo.mem->max_memory_to_use = (long)(max_bytes < 0x7fffffff ? max_bytes : 0x7fffffff);
    }
    jpeg_start_decompress(&cinfo);
    int w = cinfo.output_width, h = cinfo.output_height, c = cinfo.output_components;
    // CMYK comes out as 4 samples a pixel and is stored as RGB; grey and RGB as they are.
    int as_rgb = cmyk && c == 4, inverted = cinfo.saw_Adobe_marker;  // Adobe writes CMYK inverted (0 = full ink)
    if (c != 1 && c != 3 && !as_rgb) { snprintf(error, 256, "unsupported JPEG with %d components", c); longjmp(guard.jump, 1); }
    int out_c = as_rgb ? 3 : c;
    row = malloc((size_t)w * c);
    pixels = malloc(sizeof(float) * (size_t)w * h * out_c);
    if (!row || !pixels) { snprintf(error, 256, "out of memory"); longjmp(guard.jump, 1); }
    while (cinfo.output_scanline < cinfo.output_height) {
        int y = cinfo.output_scanline;
        JSAMPROW rp = row;
        jpeg_read_scanlines(&cinfo, &rp, 1);
        if (guard.damaged) longjmp(guard.jump, 1);
        float *dst = pixels + (size_t)y * w * out_c;
        if (!as_rgb) {
            for (int i = 0; i < w * c; i++) dst[i] = row[i] / 255.0f;
            continue;
        }
        for (int x = 0; x < w; x++) {  // RGB = (1 − C)(1 − K) and so on
            float k = (inverted ? row[4 * x + 3] : 255 - row[4 * x + 3]) / 255.0f;
            for (int ch = 0; ch < 3; ch++) dst[x * 3 + ch] = (inverted ? row[4 * x + ch] : 255 - row[4 * x + ch]) / 255.0f * k;
        }
    }
    c = out_c;
    jpeg_finish_decompress(&cinfo);
    if (guard.damaged) longjmp(guard.jump, 1);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    fclose(f);
    out->width = w; out->height = h; out->channels = c; out->bit_depth = 8; out->pixels = pixels;
    return 0;
}

int genlab_jpeg_write(const char *path, int width, int height, int channels, const uint8_t *data, int quality, char *error) {
    if (channels != 1 && channels != 3) { snprintf(error, 256, "JPEG needs 1 or 3 channels, not %d", channels); return 1; }
    FILE *f = fopen(path, "wb");
    if (!f) { snprintf(error, 256, "cannot create file: %s", strerror(errno)); return 1; }
    struct jpeg_compress_struct cinfo;
    jpeg_guard guard;
    guard.error = error;
    cinfo.err = jpeg_std_error(&guard.base);
    guard.base.error_exit = jpeg_error_exit;
    if (setjmp(guard.jump)) { jpeg_destroy_compress(&cinfo); fclose(f); return 1; }
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, f);
    cinfo.image_width = width; cinfo.image_height = height; cinfo.input_components = channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW rp = (JSAMPROW)(data + (size_t)cinfo.next_scanline * width * channels);
        jpeg_write_scanlines(&cinfo, &rp, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    if (fclose(f) != 0) { snprintf(error, 256, "write failed"); return 1; }
    return 0;
}

// MARK: zlib

uint8_t *genlab_inflate(const uint8_t *data, size_t size, int raw, size_t max_out, int partial_ok, size_t *out_size,
                        char *error) {
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit2(&s, raw ? -15 : 15 + 32) != Z_OK) { snprintf(error, 256, "zlib init failed"); return NULL; }
    // Grow the output as it fills, never past max_out: a small bomb cannot take more than that.
    size_t cap = size * 4 + 1024, len = 0;
    if (cap > max_out) cap = max_out ? max_out : 1;
    uint8_t *out = malloc(cap);
    if (!out) { inflateEnd(&s); snprintf(error, 256, "out of memory"); return NULL; }
    s.next_in = (Bytef *)data;
    s.avail_in = (uInt)size;
    int rc, over = 0;
    do {
        if (len == cap) {
            if (cap >= max_out) { over = 1; break; }
            size_t next = cap * 2 > max_out ? max_out : cap * 2;
            uint8_t *grown = realloc(out, next);
            if (!grown) { free(out); inflateEnd(&s); snprintf(error, 256, "out of memory"); return NULL; }
            out = grown;
            cap = next;
        }
        s.next_out = out + len;
        s.avail_out = (uInt)(cap - len);
        rc = inflate(&s, Z_NO_FLUSH);
        len = cap - s.avail_out;
        if (rc == Z_STREAM_END && !raw && s.avail_in > 0) {
            // Concatenated gzip members: continue with the next one.
            inflateReset(&s);
            rc = Z_OK;
        }
    } while (rc == Z_OK || (rc == Z_BUF_ERROR && s.avail_out == 0));
    inflateEnd(&s);
    if (over && partial_ok) { *out_size = len; return out; }
    if (over) {
        free(out);
        snprintf(error, 256, "decompresses to more than %zu bytes (what its header declares, or the input limit): "
                 "a decompression bomb or a corrupt file", max_out);
        return NULL;
    }
    if (rc != Z_STREAM_END) {
        free(out);
        snprintf(error, 256, "compressed data is corrupt or truncated (zlib: %s)", s.msg ? s.msg : "unexpected end");
        return NULL;
    }
    *out_size = len;
    return out;
}
