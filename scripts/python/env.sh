#!/usr/bin/env bash
# Creates (once) the git-ignored virtual environment the Python helpers use, with PyTorch's CPU
# wheel pinned (an unpinned install drags in gigabytes of CUDA), and prints its python path.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.venv-tools/venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet torch==2.13.0+cpu numpy safetensors h5py pillow onnx onnxruntime tensorboard "jax[cpu]" fastjet >&2
fi
# Venvs made before a package joined the list get it now.
"$venv/bin/python" -c "import h5py, PIL, safetensors, onnx, onnxruntime, tensorboard, jax, fastjet" 2>/dev/null || "$venv/bin/pip" install --quiet h5py pillow safetensors onnx onnxruntime tensorboard "jax[cpu]" fastjet >&2
echo "$venv/bin/python"
