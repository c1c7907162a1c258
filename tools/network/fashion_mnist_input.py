#!/usr/bin/python3
"""Writes one Fashion-MNIST test image (Debian package dataset-fashion-mnist) as a
network input for pcnn-sim: a 28x28 grey PGM, or with --cifar a float32 .npy of shape
[1,3,32,32] (the image centred on a black 32x32 canvas, pixel / 255, the grey value in
all three channels) for the CIFAR-shaped models. Prints the image's label."""
import argparse
import gzip
import os
import sys

import numpy as np

DATA = "/usr/share/datasets/fashion-mnist"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
           "Sneaker", "Bag", "Ankle boot"]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("output", help="FILE.pgm, or FILE.npy with --cifar")
    p.add_argument("--index", type=int, default=0, help="test image number (0..9999)")
    p.add_argument("--cifar", action="store_true", help="[1,3,32,32] float32 .npy")
    a = p.parse_args()
    if not 0 <= a.index < 10000:
        sys.exit(f"--index: {a.index} is outside 0..9999")
    if os.path.exists(a.output):
        sys.exit(f"{a.output}: exists; not replaced")
    with gzip.open(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")) as f:
        f.seek(16 + 784 * a.index)
        img = np.frombuffer(f.read(784), dtype=np.uint8).reshape(28, 28)
    with gzip.open(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz")) as f:
        f.seek(8 + a.index)
        label = f.read(1)[0]
    if a.cifar:
        x = np.zeros((1, 3, 32, 32), dtype=np.float32)
        x[0, :, 2:30, 2:30] = img.astype(np.float32) / 255.0
        np.save(a.output, x)
    else:
        with open(a.output, "wb") as f:
            f.write(b"P5\n28 28\n255\n" + img.tobytes())
    print(f"test image {a.index}: label {label} ({CLASSES[label]})")


if __name__ == "__main__":
    main()
