"""Checks that Python's safetensors and PyTorch read a file GenLab wrote
(Tests/NNTests/Fixtures/genlab_written.safetensors): the MLP's keys load into the same PyTorch
architecture with load_state_dict(strict=True).

    GENLAB_WRITE_FIXTURES=1 swift test -c release --filter testWritesTheFilePython  # (re)write it
    $(scripts/python/env.sh) scripts/python/verify_genlab_safetensors.py
"""
import pathlib

import torch.nn as nn
from safetensors import safe_open
from safetensors.torch import load_file

path = pathlib.Path(__file__).resolve().parents[2] / "Tests/NNTests/Fixtures/genlab_written.safetensors"
tensors = load_file(str(path))
with safe_open(str(path), "pt") as f:
    metadata = f.metadata()
assert metadata == {"genlab.note": "written by SafeTensorsTests"}, metadata
assert tensors["extra.scalar"].shape == () and float(tensors["extra.scalar"]) == 2.5
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
state = {k: v for k, v in tensors.items() if not k.startswith("extra.")}
model.load_state_dict(state, strict=True)
print("OK:", {k: tuple(v.shape) for k, v in tensors.items()})
