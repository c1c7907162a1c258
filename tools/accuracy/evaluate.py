#!/usr/bin/python3
"""Float top-1 accuracy of a Fashion-MNIST network of tools/train on the test images.

    /usr/bin/python3 tools/accuracy/evaluate.py workloads/fashion-mnist-vgg.onnx [--limit N]

Reads MODEL.pt (the PyTorch weights tools/train and tools/finetune write next to
the ONNX file) and prints one JSON object with the float accuracy in PyTorch.
The int8 accuracy comes from `pcnn-sim eval` (docs/accuracy.md).
"""
import argparse
import json
import os
import sys

import torch

here = os.path.dirname(os.path.abspath(__file__))
for sub in ("train", "finetune", "accuracy"):
    sys.path.insert(0, os.path.join(here, "..", sub))
import fmnist  # noqa: E402
import models  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", help="ONNX file with MODEL.pt next to it")
    ap.add_argument("--arch", choices=sorted(models.ARCHITECTURES), default="vgg")
    ap.add_argument("--limit", type=int, help="first N test images (default all 10,000)")
    ap.add_argument("--data", default=fmnist.DEFAULT_DIR)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    fmnist.set_threads(args.threads)
    model = models.ARCHITECTURES[args.arch]()
    try:
        model.load_state_dict(torch.load(args.model + ".pt"))
    except (OSError, RuntimeError) as e:
        sys.exit(f"{args.model}.pt: cannot load the {args.arch} weights: {e}")
    x, y = fmnist.load("t10k", args.data, args.limit)
    out = {"model": args.model, "test_images": int(x.shape[0]),
           "float_accuracy": fmnist.accuracy(model, x, y)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
