#!/usr/bin/env bash
# Makes the physics venv (Pythia 8 + FastJet wheels, pinned) and generates Datasets/dijets/ shards.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.venv-physics"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --only-binary=:all: pythia8mc==8.317.2 fastjet h5py numpy pandas tables
fi
cd "$root"
exec "$venv/bin/python" scripts/python/make_dijets.py "$@"
