"""A GenLab jet autoencoder on the way to an FPGA trigger: trained by GenLab, exported to ONNX,
cleaned with qonnx, converted by hls4ml and run in hls4ml's C simulation (no synthesis), whose
reconstruction is compared with GenLab's on the reference inputs.

    $(scripts/python/env.sh) scripts/python/hls4ml_jet_ae.py [--genlab .build/release/genlab]

What converts: the MLP autoencoder (`genlab train ae --arch mlp`): Gemm → MatMul + Add, ReLU,
Flatten, Reshape. What does not: the convolutional one — hls4ml's ONNX front end (1.3) has no
ConvTranspose or Slice handler (its decoder's up-sampling and centre crop).
"""
import argparse
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
try:
    import hls4ml  # noqa: F401
    import qonnx  # noqa: F401
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "hls4ml", "qonnx"], check=True)

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.channels_last import ConvertToChannelsLastAndClean
from qonnx.transformation.gemm_to_matmul import GemmToMatMul
from qonnx.util.cleanup import cleanup_model
from safetensors.numpy import load_file
import hls4ml

ap = argparse.ArgumentParser()
ap.add_argument("--genlab", default=str(ROOT / ".build/release/genlab"))
ap.add_argument("--work", default=str(ROOT / "Outputs/hls4ml_jet_ae"))
a = ap.parse_args()
work = pathlib.Path(a.work)
work.mkdir(parents=True, exist_ok=True)
run = lambda *args: subprocess.run([a.genlab, *map(str, args)], check=True, capture_output=True)
run("train", "ae", "--arch", "mlp", "--hidden", "64", "--data", ROOT / "Datasets/jets/qcd_train.h5", "--out", work / "ae",
    "--epochs", "2", "--batch-size", "256", "--quiet", "--overwrite")
run("export", "--checkpoint", work / "ae/checkpoint.safetensors", "--onnx", work / "ae.onnx", "--part", "autoencoder", "--overwrite")

model = cleanup_model(ModelWrapper(str(work / "ae.onnx")))
model = cleanup_model(model.transform(ConvertToChannelsLastAndClean()).transform(GemmToMatMul()))
config = hls4ml.utils.config_from_onnx_model(model.model, granularity="name", backend="Vitis", default_precision="fixed<24,8>")
hls = hls4ml.converters.convert_from_onnx_model(model.model, output_dir=str(work / "hls"), hls_config=config, backend="Vitis")
hls.compile()
ref = load_file(str(work / "ae.reference.safetensors"))
x = np.ascontiguousarray(ref["images"].transpose(0, 2, 3, 1))
y = np.asarray(hls.predict(x)).reshape(-1)
r = ref["reconstruction"].transpose(0, 2, 3, 1).reshape(-1)
err = float(np.max(np.abs(y - r)))
print(f"hls4ml {hls4ml.__version__}: C simulation of the GenLab jet autoencoder, max |hls4ml − GenLab| = {err:.2e} "
      f"(largest output {float(np.max(np.abs(r))):.3f}; fixed<24,8>)")
sys.exit(0 if err < 1e-3 else 1)
