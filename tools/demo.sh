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
fi
