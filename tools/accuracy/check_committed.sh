#!/usr/bin/env bash
# The committed Fashion-MNIST workload still has the accuracy docs/accuracy.md
# states: float and int8-emulation top-1 on all 10,000 test images must lie
# within 0.1 points of workloads/fashion-mnist-vgg.accuracy.json.
# Exit 77 (skipped) when python3-torch or the dataset is missing.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
py=/usr/bin/python3
if ! "$py" -c 'import torch' 2>/dev/null; then
  echo "SKIPPED: python3-torch is not installed (tools/setup.sh installs it)"
  exit 77
fi
if [ ! -e /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz ]; then
  echo "SKIPPED: dataset-fashion-mnist is not installed (tools/setup.sh installs it)"
  exit 77
fi
model="$root/workloads/fashion-mnist-vgg.onnx"
measured=$("$py" "$root/tools/accuracy/evaluate.py" "$model")
echo "measured: $measured"
"$py" - "$root/workloads/fashion-mnist-vgg.accuracy.json" "$measured" <<'PY'
import json, sys
documented = json.load(open(sys.argv[1]))
measured = json.loads(sys.argv[2])
bad = False
for key in ("float_accuracy", "int8_emulation_accuracy"):
    diff = measured[key] - documented[key]
    print(f"{key}: documented {documented[key]:.2f}%, measured {measured[key]:.2f}% ({diff:+.2f})")
    bad |= abs(diff) > 0.1
sys.exit(1 if bad else 0)
PY
