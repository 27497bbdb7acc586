"""Reads a GenLab run folder's TensorBoard event files with TensorBoard's own reader (the event
accumulator `tensorboard --logdir` uses) and checks them against the run's metrics.csv: every
logged metric is a scalar series with the same steps and values (to float32), and the kept sample
grids are PNG images.

    $(scripts/python/env.sh) scripts/python/check_tensorboard.py RUN_FOLDER
"""
import csv
import math
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

folder = sys.argv[1]
acc = EventAccumulator(folder, size_guidance={"scalars": 0, "images": 0})
acc.Reload()
tags = acc.Tags()
rows = list(csv.DictReader(open(f"{folder}/metrics.csv")))
failures = 0
for column in rows[0].keys():
    if column in ("step", "epoch"):
        continue
    expected = [(int(r["step"]), float(r[column])) for r in rows if r[column] not in ("", "nan")]
    if not expected:
        continue
    got = [(e.step, e.value) for e in acc.Scalars(column)] if column in tags["scalars"] else []
    ok = len(got) == len(expected) and all(s1 == s2 and math.isclose(v1, v2, rel_tol=1e-5, abs_tol=1e-6)
                                           for (s1, v1), (s2, v2) in zip(got, expected))
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} scalar {column}: {len(got)} points (metrics.csv: {len(expected)})")
images = acc.Images("samples") if "samples" in tags["images"] else []
ok = len(images) > 0 and all(i.encoded_image_string.startswith(b"\x89PNG") for i in images)
failures += not ok
print(f"{'ok  ' if ok else 'FAIL'} images 'samples': {len(images)} PNG grids at steps {[i.step for i in images]}")
sys.exit(1 if failures else 0)
