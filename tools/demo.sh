#!/usr/bin/env bash
# Quick start, first command: set up, build, then run the main job on the
# built-in default workload (VGG-16 for CIFAR-10 shapes, pruned at n = 4).
# PCNN_NO_SETUP=1 skips the set-up and build and uses the programs already in
# build/ (the documentation test runs the quick start that way).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ -n "${PCNN_NO_SETUP:-}" ] || "$root/tools/setup.sh"

out="$root/out"
mkdir -p "$out"
"$root/build/pcnn-zoo" vgg16-cifar -o "$out/vgg16-cifar.onnx"
rm -rf "$out/vgg16-cifar-n4"
"$root/build/pcnn-prune" "$out/vgg16-cifar.onnx" -o "$out/vgg16-cifar-n4" --n 4
if [ -x "$root/build/pcnn-sim" ]; then
  "$root/build/pcnn-sim" run "$out/vgg16-cifar-n4" --all --json "$out/vgg16-cifar-n4.sim.json"
  # Last: a trained network whole on the accelerator, on a real image (Fashion-MNIST
  # test image 0, an ankle boot = class 9). Every weight is kept (n = 9): the one-shot
  # n = 4 model needs pattern-aware fine-tuning first (docs/accuracy.md).
  rm -rf "$out/fashion-mnist-vgg-n9" "$out/fashion-mnist-0.pgm"
  "$root/build/pcnn-prune" "$root/workloads/fashion-mnist-vgg.onnx" -o "$out/fashion-mnist-vgg-n9" --n 9
  /usr/bin/python3 "$root/tools/network/fashion_mnist_input.py" "$out/fashion-mnist-0.pgm" --index 0
  "$root/build/pcnn-sim" run "$out/fashion-mnist-vgg-n9" --network --input "$out/fashion-mnist-0.pgm" \
    --act-mode skip --output "$out/fashion-mnist-0.logits.npy"
fi
