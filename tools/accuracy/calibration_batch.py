#!/usr/bin/python3
"""The first N Fashion-MNIST training images as one uint8 .npy batch [N, 1, 28, 28].

    /usr/bin/python3 tools/accuracy/calibration_batch.py OUT.npy [--images 1000]

pcnn-prune --calib OUT.npy then takes every tensor's int8 range from real
images (uint8 is read as pixel / 255, the input the networks of tools/train
expect). Needs numpy only, not torch.
"""
import argparse
import gzip
import os
import sys

import numpy as np

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"


def read_images(directory, split="train"):
    stem = os.path.join(directory, f"{split}-images-idx3-ubyte")
    path = stem + ".gz" if os.path.exists(stem + ".gz") else stem
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise SystemExit(f"{path}: cannot read: {e.strerror or e}")
    if len(data) < 16 or data[:4] != b"\x00\x00\x08\x03":
        raise SystemExit(f"{path}: not an unsigned-byte idx image file [N][H][W]")
    n, h, w = (int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(3))
    if len(data) != 16 + n * h * w:
        raise SystemExit(f"{path}: size does not match its header {n}x{h}x{w}")
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(n, 1, h, w)


def write_batch(path, count, directory=DEFAULT_DIR):
    images = read_images(directory)[:count]
    tmp = path + ".tmp.npy"
    np.save(tmp, np.ascontiguousarray(images))
    os.replace(tmp, path)
    return images.shape[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("output", help=".npy file to write")
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--data", default=DEFAULT_DIR)
    args = ap.parse_args()
    if args.images < 1:
        sys.exit("--images: must be at least 1")
    n = write_batch(args.output, args.images, args.data)
    print(f"{args.output}: {n} training images")


if __name__ == "__main__":
    main()
