#!/usr/bin/env bash
# The committed Fashion-MNIST workload still has the accuracy docs/accuracy.md
# states, on the golden path: pcnn-prune calibrates the dense model (n = 9) on
# the first 1,000 training images, pcnn-sim eval scores the first 500 test
# images through the golden int8 network and the float interpreter; each
# top-1 must lie within 0.1 points of workloads/fashion-mnist-vgg.accuracy.json
# (on 500 images: the same count of correct images) and above 85%.
# Usage: check_committed.sh BUILD_DIR. Exit 77 (skipped) when numpy or the
# dataset is missing.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:?usage: check_committed.sh BUILD_DIR}
py=/usr/bin/python3
if ! "$py" -c 'import numpy' 2>/dev/null; then
  echo "SKIPPED: python3-numpy is not installed (tools/setup.sh installs it)"
  exit 77
fi
if [ ! -e /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz ]; then
  echo "SKIPPED: dataset-fashion-mnist is not installed (tools/setup.sh installs it)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
model="$root/workloads/fashion-mnist-vgg.onnx"
"$py" "$root/tools/accuracy/calibration_batch.py" "$tmp/calib.npy" --images 1000
"$build/pcnn-prune" "$model" -o "$tmp/dense" --n 9 --patterns full --calib "$tmp/calib.npy" > /dev/null
"$build/pcnn-sim" eval "$tmp/dense" --dataset fashion-mnist --limit 500 -j 2 \
  --float-model "$model" --json "$tmp/eval.json"
"$py" - "$root/workloads/fashion-mnist-vgg.accuracy.json" "$tmp/eval.json" <<'PY'
import json, sys
documented = json.load(open(sys.argv[1]))["first_500_test_images"]
measured = json.load(open(sys.argv[2]))
assert measured["int8_golden"]["images"] == 500, measured["int8_golden"]["images"]
bad = False
for key, got in (("int8_golden", measured["int8_golden"]["top1_accuracy"]),
                 ("float_interpreter", measured["float"]["top1_accuracy"])):
    diff = got - documented[key]
    print(f"{key}: documented {documented[key]:.2f}%, measured {got:.2f}% ({diff:+.2f})")
    bad |= abs(diff) > 0.1 or got < 85.0
sys.exit(1 if bad else 0)
PY
