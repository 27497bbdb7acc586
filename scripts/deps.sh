#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages GenLab needs, when they are missing.
set -euo pipefail
need=()
# OpenBLAS, Open MPI and oneDNN are loaded at run time (see Sources/CBLAS, Sources/CMPI, Sources/CDNNL); the
# -dev packages give pkg-config files and headers; openmpi-bin gives mpirun (data-parallel runs and their tests).
# hdf5-filter-plugin* and hdf5-plugin-lzf: the compression filters h5py and PyTables users write (blosc, lz4,
# bitshuffle, bzip2, lzf); Debian's libhdf5 finds them in its plugin folder.
# chromium + chromium-driver: the explorer page is tested in headless Chromium (scripts/browser_test.sh).
# dataset-fashion-mnist: real images nobody here made (`--data fashion-mnist`, the FID recipe in docs/quality.md).
for pkg in pkg-config openmpi-bin libopenmpi-dev libopenblas-dev libdnnl-dev libpng-dev libjpeg-dev libhdf5-dev zlib1g-dev libplplot-dev plplot-driver-cairo fonts-dejavu-core hdf5-filter-plugin hdf5-filter-plugin-blosc-serial hdf5-plugin-lzf chromium chromium-driver dataset-fashion-mnist; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
echo "genlab: installing missing system packages: ${need[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    echo "genlab: cannot install ${need[*]}: not root and no sudo. Ask an administrator to run:" >&2
    echo "    apt-get install -y ${need[*]}" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null; then
    echo "genlab: no apt-get on this system; install the equivalents of: ${need[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1 || {
    $sudo apt-get update -qq && $sudo apt-get install -y --no-install-recommends "${need[@]}"
}
