#!/usr/bin/env python3
"""Judges a class-conditional Fashion-MNIST model: does a sample drawn for class c look like a c?

A small CNN (two conv blocks, one hidden layer) is trained in PyTorch on Debian's Fashion-MNIST
training split (its accuracy on the test split is printed), then classifies the samples GenLab drew
for each class: `genlab sample --checkpoint RUN/checkpoint.safetensors --class C --count N --out
SAMPLES/C` for C = 0 … 9 (a folder per class index, PNGs as `genlab sample` writes them).

    scripts/python/classify_conditional_samples.py SAMPLES [--epochs 3] [--seed 0] [--json OUT.json]

Prints, per class, the share of its samples classified as that class, and the mean over classes.
Shares no code with GenLab: the classifier, the reading of the IDX files and of the PNGs are its own.
"""
import argparse
import gzip
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

ROOT = "/usr/share/datasets/fashion-mnist"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(shape)


def network():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10))


def train(epochs, seed):
    torch.manual_seed(seed)
    x = torch.tensor(read_idx(f"{ROOT}/train-images-idx3-ubyte.gz"), dtype=torch.float32)[:, None] / 255
    y = torch.tensor(read_idx(f"{ROOT}/train-labels-idx1-ubyte.gz"), dtype=torch.long)
    net = network()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(x))
        for i in range(0, len(x), 128):
            idx = order[i:i + 128]
            loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    tx = torch.tensor(read_idx(f"{ROOT}/t10k-images-idx3-ubyte.gz"), dtype=torch.float32)[:, None] / 255
    ty = torch.tensor(read_idx(f"{ROOT}/t10k-labels-idx1-ubyte.gz"), dtype=torch.long)
    predicted = predict(net, tx)
    accuracy = (predicted == ty).float().mean().item()
    # The same classifier on real test images of each class: the ceiling a perfect generator reaches.
    real = [(predicted[ty == c] == c).float().mean().item() for c in range(10)]
    return net, accuracy, real


def predict(net, x):
    with torch.no_grad():
        return torch.cat([net(x[i:i + 1000]).argmax(1) for i in range(0, len(x), 1000)])


def read_samples(folder):
    files = sorted(f for f in os.listdir(folder) if f.startswith("sample_") and f.endswith(".png"))
    if not files:
        sys.exit(f"{folder}: no sample_*.png files (write them with genlab sample --out {folder})")
    images = [np.asarray(Image.open(os.path.join(folder, f)).convert("L"), dtype=np.float32) / 255 for f in files]
    shapes = {im.shape for im in images}
    if shapes != {(28, 28)}:
        sys.exit(f"{folder}: samples are {sorted(shapes)}, expected 28×28 Fashion-MNIST images")
    return torch.tensor(np.stack(images))[:, None]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("samples", help="folder with one sub-folder per class index (0 … 9)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    net, accuracy, real = train(args.epochs, args.seed)
    print(f"classifier: {accuracy:.4f} accuracy on the Fashion-MNIST test split")
    print("  class            samples called that class (real test images of the class)")
    shares = {}
    for c, name in enumerate(CLASSES):
        folder = os.path.join(args.samples, str(c))
        if not os.path.isdir(folder):
            continue
        predicted = predict(net, read_samples(folder))
        shares[name] = (predicted == c).float().mean().item()
        print(f"  {c} {name:12s}   {shares[name]:.3f} of {len(predicted)} samples   ({real[c]:.3f})")
    if not shares:
        sys.exit(f"{args.samples}: no class folders 0 … 9")
    mean = sum(shares.values()) / len(shares)
    print(f"mean over {len(shares)} classes: {mean:.3f} (real test images: {sum(real) / 10:.3f})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {"classifier_test_accuracy": accuracy, "per_class": shares, "mean": mean,
                 "real_per_class": dict(zip(CLASSES, real))}, f, indent=1)


if __name__ == "__main__":
    main()
