"""A corpus of crafted bad input files for GenLab's readers, written from scratch here (struct, zlib,
h5py, Pillow): nothing in it comes from GenLab's own writers. Small files are committed as test
fixtures (Tests/FormatsTests/Fixtures/bad/); the bigger bombs are made on demand for the CLI check
(scripts/check_bad_inputs.py calls this with --bombs).

    $(scripts/python/env.sh) scripts/python/make_bad_inputs.py [--out DIR] [--bombs]
"""
import argparse
import gzip
import io
import json
import pathlib
import struct
import zlib

import h5py
import numpy as np
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[2]


def png_chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png_with_header(width, height, idat=b"", colour=0, depth=8):
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    raw = zlib.compress(idat or b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", raw) + png_chunk(b"IEND", b"")


def jpeg_bytes(size=(16, 16), mode="L"):
    buf = io.BytesIO()
    Image.new(mode, size, 128).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def jpeg_with_size(width, height):
    data = bytearray(jpeg_bytes())
    i = 2
    while i < len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            data[i + 5:i + 9] = struct.pack(">HH", height, width)
            return bytes(data)
        i += 2 + length
    raise RuntimeError("no SOF marker")


def npy_with_header(header, payload=b""):
    h = header.encode("latin1")
    pad = (64 - (10 + len(h) + 1) % 64) % 64
    h = h + b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + payload


def zip_member(name, data, method=8, declared=None):
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = comp.compress(data) + comp.flush() if method == 8 else data
    size = len(data) if declared is None else declared
    crc = zlib.crc32(data) & 0xFFFFFFFF
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, len(body), size, len(name), 0) + name
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc, len(body), size,
                          len(name), 0, 0, 0, 0, 0, 0) + name
    return local + body, central


def npz(members):
    out, centrals = b"", []
    for name, data, method, declared in members:
        local, central = zip_member(name, data, method, declared)
        offset = len(out)
        central = central[:42] + struct.pack("<I", offset) + central[46:]
        out += local
        centrals.append(central)
    cd = b"".join(centrals)
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(centrals), len(centrals), len(cd), len(out), 0)
    return out + cd + eocd


def idx(shape, payload, kind=0x08):
    return b"\x00\x00" + bytes([kind, len(shape)]) + b"".join(struct.pack(">I", d) for d in shape) + payload


def safetensors(header, payload=b""):
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + payload


def lhco_nan():
    """Four whole events of 20 particles in the LHC Olympics layout, with NaN/Inf in some."""
    rng = np.random.default_rng(5)
    v = np.zeros((4, 61), np.float32)
    v[:, 0:60:3] = rng.uniform(5, 200, (4, 20))
    v[:, 1:60:3] = rng.normal(0, 1, (4, 20))
    v[:, 2:60:3] = rng.uniform(-3, 3, (4, 20))
    v[0, 1], v[1, 2], v[2, 0], v[3, 4] = np.nan, np.inf, np.inf, -np.inf
    v[:, 60] = [0, 1, 0, 1]
    return v


def constituents_nan():
    rng = np.random.default_rng(6)
    c = np.stack([rng.uniform(1, 100, (4, 30)), rng.normal(0, 0.3, (4, 30)), rng.normal(0, 0.3, (4, 30))], axis=-1).astype(np.float32)
    c[3, 0] = [np.inf, 0, 0]
    c[3, 1] = [5, np.nan, 0]
    return c


def odd_images(out):
    """Valid images of awkward shapes and modes (odd for the models, not broken)."""
    odd = out / "odd_images"
    odd.mkdir(exist_ok=True)
    Image.new("L", (2000, 1), 200).save(odd / "line_2000x1.png")
    Image.new("L", (1, 900), 50).save(odd / "column_1x900.png")
    Image.new("LA", (40, 30), (120, 0)).save(odd / "grey_alpha_transparent.png")
    Image.fromarray(np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16).save(odd / "grey16.png")
    Image.new("RGBA", (33, 47), (10, 200, 30, 128)).save(odd / "rgba_odd_size.png")
    Image.new("P", (20, 20), 3).save(odd / "palette.png")
    Image.new("CMYK", (24, 24), (0, 128, 255, 0)).save(odd / "cmyk.jpg")
    Image.new("1", (50, 50), 1).save(odd / "bilevel.png")


def small_corpus(out):
    """Files of a few KiB at most, each with what a reader must say about it."""
    f = {}
    # Images
    f["png_huge_dims.png"] = png_with_header(65500, 65500)
    f["png_2e28_pixels.png"] = png_with_header(16384, 16384)
    f["png_wide.png"] = png_with_header(2_000_000, 1)
    good_png = png_with_header(8, 8, b"".join(b"\x00" + bytes(range(8)) for _ in range(8)))
    f["png_truncated.png"] = good_png[: len(good_png) // 2]
    f["png_bad_crc.png"] = good_png[:20] + bytes([good_png[20] ^ 0xFF]) + good_png[21:]
    f["png_1x1.png"] = png_with_header(1, 1, b"\x00\x80")
    f["png_empty.png"] = b""
    f["png_zero_width.png"] = png_with_header(0, 8)
    f["jpeg_huge_dims.jpg"] = jpeg_with_size(65500, 65500)
    good_jpeg = jpeg_bytes((64, 64), "RGB")
    f["jpeg_truncated.jpg"] = good_jpeg[: len(good_jpeg) * 2 // 3]
    f["jpeg_header_only.jpg"] = good_jpeg[:200]
    noise = np.random.default_rng(1).integers(0, 256, (96, 96, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, "JPEG", quality=95)
    f["jpeg_truncated_scan.jpg"] = buf.getvalue()[: len(buf.getvalue()) * 4 // 5]  # cut inside the scan data
    f["not_an_image.png"] = b"hello, this is text\n" * 4
    # .npy
    f["npy_overflow_shape.npy"] = npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }")
    f["npy_huge_shape.npy"] = npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100), }", b"\0" * 64)
    f["npy_negative_shape.npy"] = npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 25, 25), }")
    f["npy_unicode.npy"] = npy_with_header("{'descr': '<U10', 'fortran_order': False, 'shape': (2,), }", b"\0" * 80)
    f["npy_object.npy"] = npy_with_header("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", b"\0" * 16)
    f["npy_no_descr.npy"] = npy_with_header("{'fortran_order': False, 'shape': (2,), }", b"\0" * 8)
    f["npy_header_past_end.npy"] = b"\x93NUMPY\x01\x00\xff\xff{'descr'"
    f["npy_nan_images.npy"] = npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4, 4), }",
                                              np.full((2, 4, 4), np.nan, np.float32).tobytes())
    f["npy_rank5.npy"] = npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1), }", b"\0" * 4)
    f["npy_zero_images.npy"] = npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 25, 25), }")
    f["npy_1x1_images.npy"] = npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 1, 1), }", b"\0" * 16)
    # .npz
    member = npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 25, 25), }", b"\0" * 2500)
    f["npz_declared_4gb.npz"] = npz([(b"images.npy", member, 8, 0xFFFFFFF0)])
    f["npz_declared_small.npz"] = npz([(b"images.npy", member + b"\0" * 200_000, 8, len(member))])
    f["npz_truncated.npz"] = npz([(b"images.npy", member, 8, None)])[:-40]
    corrupt = bytearray(npz([(b"images.npy", member, 8, None)]))
    corrupt[40:60] = b"\xff" * 20
    f["npz_corrupt_stream.npz"] = bytes(corrupt)
    f["npz_method_99.npz"] = npz([(b"images.npy", member, 99, None)])
    # IDX
    f["idx_overflow_dims.idx"] = idx([0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF], b"")
    f["idx_huge_dims.idx"] = idx([100000, 10000, 10000], b"\0" * 64)
    f["idx_gzip_small_bomb.idx.gz"] = gzip.compress(idx([1, 25, 25], b"\0" * 625) + b"\0" * 2_000_000, 9)
    f["idx_gzip_corrupt.idx.gz"] = gzip.compress(idx([2, 4, 4], b"\0" * 32))[:-12] + b"\x01" * 12
    f["idx_rank0.idx"] = idx([], b"")
    # safetensors
    f["st_negative_offsets.safetensors"] = safetensors({"w": {"dtype": "F32", "shape": [2], "data_offsets": [-8, 0]}}, b"\0" * 8)
    f["st_overflow_shape.safetensors"] = safetensors(
        {"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 4294967296], "data_offsets": [0, 8]}}, b"\0" * 8)
    f["st_huge_header_length.safetensors"] = struct.pack("<Q", 2 ** 63 + 5) + b"{}"
    f["st_not_json.safetensors"] = struct.pack("<Q", 4) + b"\xff\xfe\x00{"
    f["st_float_offsets.safetensors"] = safetensors({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0.5, 8]}}, b"\0" * 8)
    f["st_metadata_not_strings.safetensors"] = safetensors({"__metadata__": {"genlab.kind": 3}})
    # HDF5
    def h5(name, build):
        with h5py.File(out / name, "w") as h:
            build(h)
    yield_h5 = {
        "h5_sparse_huge.h5": lambda h: h.create_dataset("images", shape=(200000, 100, 100), dtype="f4", chunks=(1, 100, 100)),
        # A time bomb rather than a memory bomb: 10⁸ events of 25×25 declared, none stored.
        "h5_sparse_events.h5": lambda h: (h.create_dataset("images", shape=(100_000_000, 25, 25), dtype="f4", chunks=(64, 25, 25)),
                                          h.attrs.create("image_preprocessing", "centroid")),
        "h5_three_channel.h5": lambda h: (h.create_dataset("images", data=np.ones((4, 3, 25, 25), np.float32)),
                                          h.attrs.create("image_preprocessing", "centroid")),
        "h5_string_images.h5": lambda h: h.create_dataset("images", data=np.array([b"abc", b"def"], dtype="S3")),
        "h5_jets_rank1.h5": lambda h: (h.create_dataset("images", data=np.ones((4, 25, 25), np.float32)),
                                       h.create_dataset("jets", data=np.ones(4, np.float32)),
                                       h.attrs.create("image_preprocessing", "centroid")),
        "h5_jets_two_columns.h5": lambda h: (h.create_dataset("images", data=np.ones((4, 25, 25), np.float32)),
                                             h.create_dataset("jets", data=np.ones((4, 2), np.float32)),
                                             h.attrs.create("image_preprocessing", "centroid")),
        "h5_constituents_4_features.h5": lambda h: h.create_dataset(
            "constituents", data=np.abs(np.random.default_rng(0).normal(size=(4, 20, 4))).astype(np.float32)),
        "h5_labels_nan.h5": lambda h: (h.create_dataset("images", data=np.ones((4, 25, 25), np.float32)),
                                       h.create_dataset("labels", data=np.array([0, np.nan, 1e30, 1], np.float32)),
                                       h.attrs.create("image_preprocessing", "centroid")),
        "h5_labels_three.h5": lambda h: (h.create_dataset("images", data=np.ones((4, 25, 25), np.float32)),
                                         h.create_dataset("labels", data=np.array([0, 1, 2, 7], np.int8)),
                                         h.attrs.create("image_preprocessing", "centroid")),
        "h5_labels_short.h5": lambda h: (h.create_dataset("images", data=np.ones((4, 25, 25), np.float32)),
                                         h.create_dataset("labels", data=np.array([0, 1], np.int8)),
                                         h.attrs.create("image_preprocessing", "centroid")),
        "h5_images_rank1.h5": lambda h: h.create_dataset("images", data=np.ones(10, np.float32)),
        "h5_images_empty.h5": lambda h: h.create_dataset("images", shape=(0, 25, 25), dtype="f4"),
        "h5_no_preprocessing.h5": lambda h: h.create_dataset("images", data=np.ones((4, 25, 25), np.float32)),
        "h5_lhco_bad_width.h5": lambda h: h.create_dataset("df/block0_values", data=np.ones((3, 5), np.float32)),
        # Physics that is not finite: NaN and infinite η, φ, pT and jet axes must not reach a cast.
        "h5_lhco_nan.h5": lambda h: h.create_dataset("df/block0_values", data=lhco_nan()),
        "h5_constituents_nan.h5": lambda h: (h.create_dataset("constituents", data=constituents_nan()),
                                             h.create_dataset("jets", data=np.array([[600, np.nan, 0, 80], [600, 0, np.inf, 80],
                                                                                     [600, 3e38, 0, 80], [600, 0, 0, 80]], np.float32)),
                                             h.create_dataset("labels", data=np.array([0, 0, 1, 1], np.int8))),
        # The field's layouts, lying: a pandas table whose column names are a pickle that calls a
        # function; a fixed frame whose names and values disagree; ATLAS energies of another shape.
        "h5_pandas_evil_pickle.h5": pandas_evil_pickle,
        "h5_pandas_lying_items.h5": lambda h: (h.create_group("table").attrs.update({"pandas_type": np.bytes_(b"frame"),
                                                                                   "nblocks": np.int64(1)}),
                                               h.create_dataset("table/block0_items", data=np.array([b"E_0", b"PX_0"])),
                                               h.create_dataset("table/block0_values", data=np.ones((3, 4)))),
        "h5_atlas_mismatched_energy.h5": lambda h: [h.create_dataset(k, data=np.ones((3, 10), np.float32))
                                                    for k in ("fjet_clus_pt", "fjet_clus_eta", "fjet_clus_phi")]
        + [h.create_dataset("fjet_clus_E", data=np.ones((3, 5), np.float32))],
    }
    for name, build in yield_h5.items():
        h5(name, build)
    for name, data in f.items():
        (out / name).write_bytes(data)
    return sorted(list(f) + list(yield_h5))


def pandas_evil_pickle(h):
    """pandas' table layout whose column-name pickle calls os.system (a reader that unpickles runs it)."""
    h.create_group("table").attrs["pandas_type"] = np.bytes_(b"frame_table")
    rows = np.zeros(3, dtype=[("index", "<i8"), ("values_block_0", "<f8", (2,))])
    t = h.create_dataset("table/table", data=rows)
    t.attrs["values_block_0_kind"] = np.bytes_(b"cos\nsystem\n(S'touch /tmp/genlab-pwned'\ntR.")


def deflate_stream(head, zeros, wbits):
    """head followed by `zeros` zero bytes, deflated in pieces (the bomb never sits in memory)."""
    c = zlib.compressobj(6, zlib.DEFLATED, wbits)
    parts = [c.compress(head)]
    block = b"\0" * (1 << 24)
    while zeros > 0:
        parts.append(c.compress(block[:min(zeros, len(block))]))
        zeros -= len(block)
    parts.append(c.flush())
    return b"".join(parts)


def bombs(out):
    """Larger files for the CLI check only (not committed): ~1.5 GB from ~1.5 MB."""
    (out / "bomb_idx_gzip.idx.gz").write_bytes(deflate_stream(idx([1, 25, 25], b"\0" * 625), 1_500_000_000, 31))
    member = npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 25, 25), }", b"\0" * 2500)
    body = deflate_stream(member, 1_500_000_000, -15)
    name = b"images.npy"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, 0, len(body), len(member), len(name), 0) + name
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, 0, len(body), len(member),
                          len(name), 0, 0, 0, 0, 0, 0) + name
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(body), 0)
    (out / "bomb_npz.npz").write_bytes(local + body + central + eocd)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", default=str(ROOT / "Tests/FormatsTests/Fixtures/bad"))
    p.add_argument("--bombs", action="store_true")
    a = p.parse_args()
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    names = small_corpus(out)
    if a.bombs:
        bombs(out)
        odd_images(out)
    print(f"wrote {len(names)} files to {out}")


if __name__ == "__main__":
    main()
