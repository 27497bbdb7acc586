#include "formats_shim.h"
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// A growable text buffer for listings.
typedef struct { char *s; size_t len, cap; } text;
static void append(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void append(text *t, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < t->cap - t->len) { t->len += n; return; }
        t->cap = t->cap * 2 + (n > 0 ? n : 0) + 64;
        t->s = realloc(t->s, t->cap);
    }
}

static void quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

// Appends a string value with backslash, newline, tab and other control bytes escaped (\\, \n, \t,
// \xNN): one attribute stays one line of the listing however many newlines it holds (pandas'
// pickled attributes hold hundreds).
static void append_escaped(text *t, const char *s, size_t n) {
    for (size_t i = 0; i < n && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\') append(t, "\\\\");
        else if (c == '\n') append(t, "\\n");
        else if (c == '\t') append(t, "\\t");
        else if (c < 0x20 || c == 0x7f) append(t, "\\x%02x", c);
        else append(t, "%c", c);
    }
}

int64_t genlab_h5_open(const char *path, int writable, char *error) {
    quiet();
    if (H5Fis_hdf5(path) <= 0) { snprintf(error, 256, "not an HDF5 file (or truncated)"); return -1; }
    hid_t f = H5Fopen(path, writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) snprintf(error, 256, "HDF5 cannot open the file (truncated or corrupt?)");
    return f;
}

int64_t genlab_h5_create(const char *path, char *error) {
    quiet();
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) snprintf(error, 256, "HDF5 cannot create the file");
    return f;
}

void genlab_h5_close(int64_t file) { if (file >= 0) H5Fclose(file); }

int genlab_h5_finish(int64_t file, char *error) {
    // Flush first: a full disk shows here (or at close), not in the writes that only filled caches.
    int rc = H5Fflush(file, H5F_SCOPE_GLOBAL) < 0 ? -1 : 0;
    if (H5Fclose(file) < 0) rc = -1;
    if (rc) snprintf(error, 256, "HDF5 could not finish the file (disk full or write error)");
    return rc;
}

static const char *class_name(hid_t type) {
    switch (H5Tget_class(type)) {
    case H5T_FLOAT: return "float";
    case H5T_INTEGER: return H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int";
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound";
    default: return "other";
    }
}

static herr_t visit(hid_t obj, const char *name, const H5O_info_t *info, void *data) {
    text *t = data;
    if (strcmp(name, ".") == 0) return 0;
    if (info->type == H5O_TYPE_GROUP) { append(t, "/%s\tgroup\n", name); return 0; }
    if (info->type != H5O_TYPE_DATASET) return 0;
    hid_t d = H5Dopen2(obj, name, H5P_DEFAULT);
    if (d < 0) return 0;
    hid_t type = H5Dget_type(d), space = H5Dget_space(d);
    hsize_t dims[32];
    int rank = H5Sget_simple_extent_ndims(space);
    if (rank > 32) rank = 32;
    H5Sget_simple_extent_dims(space, dims, NULL);
    append(t, "/%s\tdataset\t%s\t%zu\t", name, class_name(type), H5Tget_size(type));
    for (int i = 0; i < rank; i++) append(t, i ? ",%llu" : "%llu", (unsigned long long)dims[i]);
    append(t, "\n");
    H5Tclose(type); H5Sclose(space); H5Dclose(d);
    return 0;
}

char *genlab_h5_list(int64_t file, char *error) {
    text t = {malloc(256), 0, 256};
    t.s[0] = 0;
    if (H5Ovisit(file, H5_INDEX_NAME, H5_ITER_INC, visit, &t) < 0) {
        snprintf(error, 256, "cannot walk the file's groups (corrupt?)");
        free(t.s);
        return NULL;
    }
    return t.s;
}

static herr_t attribute(hid_t obj, const char *name, const H5A_info_t *info, void *data) {
    (void)info;
    text *t = data;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return 0;
    hid_t type = H5Aget_type(a), space = H5Aget_space(a);
    hssize_t n = H5Sget_simple_extent_npoints(space);
    append(t, "%s\t", name);
    if (H5Tget_class(type) == H5T_STRING && n == 1) {
        if (H5Tis_variable_str(type) > 0) {
            char *s = NULL;
            hid_t mem = H5Tcopy(H5T_C_S1);
            H5Tset_size(mem, H5T_VARIABLE);
            H5Tset_cset(mem, H5Tget_cset(type));
            if (H5Aread(a, mem, &s) >= 0 && s) { append_escaped(t, s, strlen(s)); H5free_memory(s); }
            H5Tclose(mem);
        } else {
            size_t size = H5Tget_size(type);
            char *s = calloc(size + 1, 1);
            if (H5Aread(a, type, s) >= 0) append_escaped(t, s, size);
            free(s);
        }
    } else if ((H5Tget_class(type) == H5T_FLOAT || H5Tget_class(type) == H5T_INTEGER) && n > 0 && n < 4096) {
        double *v = malloc(sizeof(double) * n);
        if (H5Aread(a, H5T_NATIVE_DOUBLE, v) >= 0)
            for (hssize_t i = 0; i < n; i++) append(t, i ? ",%.17g" : "%.17g", v[i]);
        free(v);
    } else {
        append(t, "(%s, %lld values)", class_name(type), (long long)n);
    }
    append(t, "\n");
    H5Tclose(type); H5Sclose(space); H5Aclose(a);
    return 0;
}

char *genlab_h5_attributes(int64_t file, const char *object, char *error) {
    hid_t obj = H5Oopen(file, object, H5P_DEFAULT);
    if (obj < 0) { snprintf(error, 256, "no object %s", object); return NULL; }
    text t = {malloc(256), 0, 256};
    t.s[0] = 0;
    H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, NULL, attribute, &t);
    H5Oclose(obj);
    return t.s;
}

int genlab_h5_shape(int64_t file, const char *dataset, int64_t *dims, char *error) {
    if (H5Lexists(file, dataset, H5P_DEFAULT) <= 0) { snprintf(error, 256, "no dataset %s", dataset); return -1; }
    hid_t d = H5Dopen2(file, dataset, H5P_DEFAULT);
    if (d < 0) { snprintf(error, 256, "%s is not a dataset", dataset); return -1; }
    hid_t space = H5Dget_space(d);
    int rank = H5Sget_simple_extent_ndims(space);
    hsize_t h[32];
    if (rank > 16) { snprintf(error, 256, "%s has rank %d (at most 16)", dataset, rank); rank = -1; }
    else {
        H5Sget_simple_extent_dims(space, h, NULL);
        for (int i = 0; i < rank; i++) dims[i] = (int64_t)h[i];
    }
    H5Sclose(space); H5Dclose(d);
    return rank;
}

int64_t genlab_h5_storage_bytes(int64_t file, const char *dataset) {
    hid_t d = H5Dopen2(file, dataset, H5P_DEFAULT);
    if (d < 0) return -1;
    int64_t n = (int64_t)H5Dget_storage_size(d);
    H5Dclose(d);
    return n;
}

static int missing_filters(hid_t d, char *out, size_t size);

int genlab_h5_read_rows(int64_t file, const char *dataset, int64_t start, int64_t count, float *out, char *error) {
    hid_t d = H5Dopen2(file, dataset, H5P_DEFAULT);
    if (d < 0) { snprintf(error, 256, "no dataset %s", dataset); return -1; }
    hid_t type = H5Dget_type(d);
    H5T_class_t cls = H5Tget_class(type);
    H5Tclose(type);
    if (cls != H5T_FLOAT && cls != H5T_INTEGER) {
        H5Dclose(d);
        snprintf(error, 256, "%s is not numeric", dataset);
        return -1;
    }
    hid_t space = H5Dget_space(d);
    int rank = H5Sget_simple_extent_ndims(space);
    hsize_t dims[32], offset[32] = {0};
    H5Sget_simple_extent_dims(space, dims, NULL);
    int rc = 0;
    if (rank == 0) {
        rc = H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0 ? -1 : 0;
    } else {
        if (start < 0 || count < 0 || (hsize_t)(start + count) > dims[0]) {
            snprintf(error, 256, "rows %lld..<%lld outside %s (%llu rows)", (long long)start, (long long)(start + count), dataset,
                     (unsigned long long)dims[0]);
            H5Sclose(space); H5Dclose(d);
            return -1;
        }
        offset[0] = start;
        dims[0] = count;
        H5Sselect_hyperslab(space, H5S_SELECT_SET, offset, NULL, dims, NULL);
        hid_t mem = H5Screate_simple(rank, dims, NULL);
        rc = H5Dread(d, H5T_NATIVE_FLOAT, mem, space, H5P_DEFAULT, out) < 0 ? -1 : 0;
        H5Sclose(mem);
    }
    if (rc) {
        char missing[224];
        if (missing_filters(d, missing, sizeof missing))
            snprintf(error, 256, "reading %s failed: it is compressed with %s", dataset, missing);
        else
            snprintf(error, 256, "reading %s failed (truncated or corrupt data)", dataset);
    }
    H5Sclose(space); H5Dclose(d);
    return rc;
}

/// The compression filters a dataset's chunks need that this libhdf5 cannot load, in words
/// ("HDF5 filter 32001 (blosc), which is not installed"), into out; 0 when none is missing.
static int missing_filters(hid_t d, char *out, size_t size) {
    hid_t plist = H5Dget_create_plist(d);
    if (plist < 0) return 0;
    int n = H5Pget_nfilters(plist), missing = 0;
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        unsigned flags = 0, config = 0;
        size_t nvalues = 0;
        char name[64] = "";
        H5Z_filter_t id = H5Pget_filter2(plist, (unsigned)i, &flags, &nvalues, NULL, sizeof name, name, &config);
        if (id < 0 || H5Zfilter_avail(id) > 0) continue;
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%sHDF5 filter %d (%s)", missing ? " and " : "", (int)id,
                 name[0] ? name : "unnamed");
        missing++;
    }
    H5Pclose(plist);
    if (missing) {
        size_t used = strlen(out);
        snprintf(out + used, size - used, ", which libhdf5 cannot load here (install Debian's hdf5-filter-plugin packages: make deps; or set HDF5_PLUGIN_PATH)");
    }
    return missing;
}

char *genlab_h5_missing_filters(int64_t file, const char *dataset) {
    hid_t d = H5Dopen2(file, dataset, H5P_DEFAULT);
    if (d < 0) return NULL;
    char text_[224];
    int n = missing_filters(d, text_, sizeof text_);
    H5Dclose(d);
    return n ? strdup(text_) : NULL;
}

char *genlab_h5_read_strings(int64_t file, const char *dataset, int64_t max_items, char *error) {
    hid_t d = H5Dopen2(file, dataset, H5P_DEFAULT);
    if (d < 0) { snprintf(error, 256, "no dataset %s", dataset); return NULL; }
    hid_t type = H5Dget_type(d), space = H5Dget_space(d);
    hssize_t n = H5Sget_simple_extent_npoints(space);
    char *result = NULL;
    if (H5Tget_class(type) != H5T_STRING || H5Sget_simple_extent_ndims(space) != 1) {
        snprintf(error, 256, "%s is not a list of strings", dataset);
    } else if (n < 0 || n > max_items) {
        snprintf(error, 256, "%s holds %lld strings (at most %lld are read)", dataset, (long long)n, (long long)max_items);
    } else if (H5Tis_variable_str(type) > 0) {
        char **items = calloc((size_t)n + 1, sizeof(char *));
        hid_t mem = H5Tcopy(H5T_C_S1);
        H5Tset_size(mem, H5T_VARIABLE);
        if (items && H5Dread(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, items) >= 0) {
            text t = {malloc(256), 0, 256};
            t.s[0] = 0;
            for (hssize_t i = 0; i < n; i++) { if (items[i]) append_escaped(&t, items[i], strlen(items[i])); append(&t, "\n"); }
            H5Dvlen_reclaim(mem, space, H5P_DEFAULT, items);
            result = t.s;
        } else snprintf(error, 256, "reading %s failed", dataset);
        H5Tclose(mem);
        free(items);
    } else {
        size_t size = H5Tget_size(type);
        if (size == 0 || size > 4096) { snprintf(error, 256, "%s has strings of %zu bytes", dataset, size); }
        else {
            char *raw = calloc((size_t)n * size + 1, 1);
            if (raw && H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) >= 0) {
                text t = {malloc(256), 0, 256};
                t.s[0] = 0;
                for (hssize_t i = 0; i < n; i++) {
                    const char *item = raw + (size_t)i * size;
                    append_escaped(&t, item, strnlen(item, size));
                    append(&t, "\n");
                }
                result = t.s;
            } else snprintf(error, 256, "reading %s failed", dataset);
            free(raw);
        }
    }
    H5Tclose(type); H5Sclose(space); H5Dclose(d);
    return result;
}

char *genlab_h5_compound_fields(int64_t file, const char *dataset, char *error) {
    hid_t d = H5Dopen2(file, dataset, H5P_DEFAULT);
    if (d < 0) { snprintf(error, 256, "no dataset %s", dataset); return NULL; }
    hid_t type = H5Dget_type(d);
    char *result = NULL;
    if (H5Tget_class(type) != H5T_COMPOUND) {
        snprintf(error, 256, "%s is not a compound (table) dataset", dataset);
    } else {
        text t = {malloc(256), 0, 256};
        t.s[0] = 0;
        int n = H5Tget_nmembers(type);
        for (int i = 0; i < n && i < 4096; i++) {
            char *name = H5Tget_member_name(type, (unsigned)i);
            hid_t m = H5Tget_member_type(type, (unsigned)i);
            long long count = 1;
            hid_t base = m;
            if (H5Tget_class(m) == H5T_ARRAY) {
                int rank = H5Tget_array_ndims(m);
                hsize_t dims[8] = {0};
                if (rank > 0 && rank <= 8) { H5Tget_array_dims2(m, dims); for (int k = 0; k < rank; k++) count *= (long long)dims[k]; }
                base = H5Tget_super(m);
            }
            if (name) { append_escaped(&t, name, strlen(name)); H5free_memory(name); }
            append(&t, "\t%s\t%lld\n", class_name(base), count);
            if (base != m) H5Tclose(base);
            H5Tclose(m);
        }
        result = t.s;
    }
    H5Tclose(type); H5Dclose(d);
    return result;
}

int genlab_h5_read_field_rows(int64_t file, const char *dataset, const char *field, int64_t start, int64_t count,
                              int64_t width, float *out, char *error) {
    hid_t d = H5Dopen2(file, dataset, H5P_DEFAULT);
    if (d < 0) { snprintf(error, 256, "no dataset %s", dataset); return -1; }
    hid_t space = H5Dget_space(d);
    hsize_t dims[1] = {0};
    int rc = -1;
    if (H5Sget_simple_extent_ndims(space) != 1) {
        snprintf(error, 256, "%s is not a one-dimensional table", dataset);
    } else {
        H5Sget_simple_extent_dims(space, dims, NULL);
        if (start < 0 || count < 0 || width < 1 || (hsize_t)(start + count) > dims[0]) {
            snprintf(error, 256, "rows %lld..<%lld outside %s (%llu rows)", (long long)start, (long long)(start + count),
                     dataset, (unsigned long long)dims[0]);
        } else {
            // A memory type holding only the wanted member: libhdf5 matches members by name and
            // converts the stored numbers (any width, either byte order) to float.
            hsize_t adims[1] = {(hsize_t)width};
            hid_t member = width > 1 ? H5Tarray_create2(H5T_NATIVE_FLOAT, 1, adims) : H5Tcopy(H5T_NATIVE_FLOAT);
            hid_t mem = H5Tcreate(H5T_COMPOUND, sizeof(float) * (size_t)width);
            H5Tinsert(mem, field, 0, member);
            hsize_t offset[1] = {(hsize_t)start}, n[1] = {(hsize_t)count};
            H5Sselect_hyperslab(space, H5S_SELECT_SET, offset, NULL, n, NULL);
            hid_t mspace = H5Screate_simple(1, n, NULL);
            rc = H5Dread(d, mem, mspace, space, H5P_DEFAULT, out) < 0 ? -1 : 0;
            if (rc) {
                char missing[224];
                if (missing_filters(d, missing, sizeof missing))
                    snprintf(error, 256, "reading %s failed: it is compressed with %s", dataset, missing);
                else
                    snprintf(error, 256, "reading field %s of %s failed (a field of another width, or corrupt data)", field,
                             dataset);
            }
            H5Sclose(mspace); H5Tclose(mem); H5Tclose(member);
        }
    }
    H5Sclose(space); H5Dclose(d);
    return rc;
}

static hid_t ensure_parents(void) {
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    return lcpl;
}

int genlab_h5_write(int64_t file, const char *dataset, int rank, const int64_t *dims, const float *data, int64_t chunk_rows,
                    int gzip_level, char *error) {
    hsize_t h[32], chunk[32];
    for (int i = 0; i < rank; i++) { h[i] = dims[i]; chunk[i] = dims[i] ? dims[i] : 1; }
    hid_t space = H5Screate_simple(rank, h, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (rank > 0 && dims[0] > 0 && (gzip_level > 0 || chunk_rows > 0)) {
        chunk[0] = chunk_rows > 0 && chunk_rows < dims[0] ? chunk_rows : dims[0];
        H5Pset_chunk(dcpl, rank, chunk);
        if (gzip_level > 0) { H5Pset_shuffle(dcpl); H5Pset_deflate(dcpl, gzip_level); }
    }
    hid_t lcpl = ensure_parents();
    hid_t d = H5Dcreate2(file, dataset, H5T_IEEE_F32LE, space, lcpl, dcpl, H5P_DEFAULT);
    int rc = -1;
    if (d < 0) snprintf(error, 256, "cannot create dataset %s (exists already?)", dataset);
    else if (H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) snprintf(error, 256, "writing %s failed", dataset);
    else rc = 0;
    if (d >= 0) H5Dclose(d);
    H5Pclose(lcpl); H5Pclose(dcpl); H5Sclose(space);
    return rc;
}

static int write_attribute(int64_t file, const char *object, const char *name, hid_t type, const void *value, char *error) {
    hid_t obj = H5Oopen(file, object, H5P_DEFAULT);
    if (obj < 0) { snprintf(error, 256, "no object %s", object); return -1; }
    if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    int rc = (a >= 0 && H5Awrite(a, type, value) >= 0) ? 0 : -1;
    if (rc) snprintf(error, 256, "cannot write attribute %s on %s", name, object);
    if (a >= 0) H5Aclose(a);
    H5Sclose(space); H5Oclose(obj);
    return rc;
}

int genlab_h5_write_attribute_string(int64_t file, const char *object, const char *name, const char *value, char *error) {
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    int rc = write_attribute(file, object, name, type, &value, error);
    H5Tclose(type);
    return rc;
}

int genlab_h5_write_attribute_double(int64_t file, const char *object, const char *name, double value, char *error) {
    return write_attribute(file, object, name, H5T_NATIVE_DOUBLE, &value, error);
}
