#ifndef GENLAB_FORMATS_SHIM_H
#define GENLAB_FORMATS_SHIM_H
#include <stddef.h>
#include <stdint.h>

/// C side of GenLab's image and HDF5 readers/writers. libpng and libjpeg report errors by
/// longjmp, which Swift cannot catch: these functions set up the jump target, so every failure
/// comes back as a non-zero return with a message in `error` (at least 256 bytes), never a crash.

/// A decoded image: height × width × channels floats in [0, 1] (malloc'd; free with genlab_free).
typedef struct {
    int width, height, channels, bit_depth;
    float *pixels;
} genlab_image;

/// Reading fails (with a message) when decoding would take more than max_bytes.
int genlab_png_read(const char *path, genlab_image *out, size_t max_bytes, char *error);
/// data: height × width × channels samples, 8-bit (bit_depth 8) or 16-bit native-endian (16).
int genlab_png_write(const char *path, int width, int height, int channels, int bit_depth, const void *data, char *error);
/// An 8-bit PNG in memory: *out is malloc'd (the caller frees it).
int genlab_png_encode(int width, int height, int channels, const uint8_t *data, uint8_t **out, size_t *out_length,
                      char *error);
int genlab_jpeg_read(const char *path, genlab_image *out, size_t max_bytes, char *error);
int genlab_jpeg_write(const char *path, int width, int height, int channels, const uint8_t *data, int quality, char *error);
void genlab_free(void *p);

/// gunzip / inflate a whole buffer (gzip or zlib header auto-detected when raw == 0; raw deflate
/// when raw == 1), producing at most max_out bytes. Returns a malloc'd buffer and its size, or NULL
/// with a message when the stream is corrupt or would exceed max_out. With partial_ok, returns
/// what it has at max_out (or at a truncation) instead: for reading a header first.
uint8_t *genlab_inflate(const uint8_t *data, size_t size, int raw, size_t max_out, int partial_ok, size_t *out_size,
                        char *error);

/// HDF5. Handles are int64 (hid_t). Functions return < 0 on failure with a message.
int64_t genlab_h5_open(const char *path, int writable, char *error);
int64_t genlab_h5_create(const char *path, char *error);
void genlab_h5_close(int64_t file);
/// Flushes and closes a file being written; < 0 (with a message) when the data did not reach the disk.
int genlab_h5_finish(int64_t file, char *error);
/// A malloc'd text listing, one object a line: "path\tgroup" or
/// "path\tdataset\tclass\tbytes\tdim0,dim1,…" (class: float, int, uint, string, compound, other).
char *genlab_h5_list(int64_t file, char *error);
/// A malloc'd listing of an object's attributes, one a line: "name\tvalue" (arrays comma-separated).
char *genlab_h5_attributes(int64_t file, const char *object, char *error);
/// Rank and dims of a dataset (dims up to 16).
int genlab_h5_shape(int64_t file, const char *dataset, int64_t *dims, char *error);
/// Bytes a dataset occupies in the file (what is really stored, after compression), or < 0.
int64_t genlab_h5_storage_bytes(int64_t file, const char *dataset);
/// Reads rows [start, start + count) along the first axis, converted to float32.
int genlab_h5_read_rows(int64_t file, const char *dataset, int64_t start, int64_t count, float *out, char *error);
/// Strings of a one-dimensional string dataset (fixed or variable length), one a line (control
/// bytes escaped as in attribute listings); NULL with a message when it is not one or holds more
/// than max_items.
char *genlab_h5_read_strings(int64_t file, const char *dataset, int64_t max_items, char *error);
/// A compound dataset's members, one a line: "name\tclass\tcount" (count: elements of an array member).
char *genlab_h5_compound_fields(int64_t file, const char *dataset, char *error);
/// Rows [start, start + count) of one numeric member (scalar when width is 1, else an array of
/// width numbers) of a one-dimensional compound dataset, as float32 [count, width].
int genlab_h5_read_field_rows(int64_t file, const char *dataset, const char *field, int64_t start, int64_t count,
                              int64_t width, float *out, char *error);
/// The filters a dataset needs that libhdf5 cannot load, in words (malloc'd), or NULL when none.
char *genlab_h5_missing_filters(int64_t file, const char *dataset);
/// Writes a float32 dataset, chunked by `chunk_rows` rows and gzip-compressed (level 0 = none).
/// Intermediate groups are created.
int genlab_h5_write(int64_t file, const char *dataset, int rank, const int64_t *dims, const float *data, int64_t chunk_rows,
                    int gzip_level, char *error);
int genlab_h5_write_attribute_string(int64_t file, const char *object, const char *name, const char *value, char *error);
int genlab_h5_write_attribute_double(int64_t file, const char *object, const char *name, double value, char *error);

#endif
