#!/usr/bin/env bash
# CI-sized run of the whole accuracy pipeline: train on 3,000 images for one
# epoch, prune, fine-tune one epoch, re-encode on the same patterns with real
# calibration, score 100 test images with pcnn-sim eval (golden int8 network
# and float interpreter); every accuracy must beat chance (10%) clearly.
# Usage: smoke.sh BUILD_DIR. Exit 77 (skipped) when python3-torch is missing.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:?usage: smoke.sh BUILD_DIR}
py=/usr/bin/python3
if ! "$py" -c 'import torch' 2>/dev/null; then
  echo "SKIPPED: python3-torch is not installed (tools/setup.sh installs it)"
  exit 77
fi
if [ ! -e /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz ]; then
  echo "SKIPPED: dataset-fashion-mnist is not installed (tools/setup.sh installs it)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

above() {  # above NAME VALUE MIN
  if ! "$py" -c "import sys; sys.exit(0 if float('$2') > $3 else 1)"; then
    echo "FAIL: $1 = $2%, not above $3%"
    exit 1
  fi
  echo "ok: $1 = $2% (> $3%)"
}

"$py" "$root/tools/train/train.py" --epochs 1 --train-limit 3000 --test-limit 100 --batch 32 --lr 0.05 \
  -o "$tmp/m.onnx"
dense=$(sed -n 's/^dense float test accuracy: \([0-9.]*\)%.*/\1/p' "$tmp/m.onnx.log")
above "dense float accuracy" "$dense" 40

"$build/pcnn-prune" "$tmp/m.onnx" -o "$tmp/p" --n 4 --patterns 16 > "$tmp/prune.txt"
{ grep -q "^warning: " "$tmp/prune.txt" && grep -q "tools/finetune" "$tmp/prune.txt"; } || { echo "FAIL: no projection warning"; exit 1; }

"$py" "$root/tools/finetune/finetune.py" --weights "$tmp/m.onnx.pt" --report "$tmp/p/report.json" \
  --epochs 1 --train-limit 3000 --test-limit 100 --batch 32 -o "$tmp/ft.onnx"
tuned=$("$py" -c "import json; print(json.load(open('$tmp/ft.onnx.json'))['finetuned_accuracy'])")
above "fine-tuned float accuracy" "$tuned" 40

"$py" "$root/tools/accuracy/calibration_batch.py" "$tmp/calib.npy" --images 200
"$build/pcnn-prune" "$tmp/ft.onnx" -o "$tmp/q" --reuse-patterns "$tmp/p/report.json" \
  --calib "$tmp/calib.npy" > "$tmp/q.txt"
if grep -q "^warning" "$tmp/q.txt"; then echo "FAIL: the fine-tuned model left its patterns"; exit 1; fi
"$py" -c "
import json, sys
a = json.load(open('$tmp/p/report.json')); b = json.load(open('$tmp/q/report.json'))
assert b['totals']['projection_error'] == 0.0, b['totals']['projection_error']
for la, lb in zip(a['layers'], b['layers']):
    assert [p['mask'] for p in la['kept_patterns']] == [p['mask'] for p in lb['kept_patterns']]
print('ok: re-encoded on the same patterns, projection error 0')"

"$build/pcnn-sim" eval "$tmp/q" --dataset fashion-mnist --limit 100 -j 2 \
  --float-model "$tmp/ft.onnx" --json "$tmp/eval.json"
for path in int8_golden float; do
  top1=$("$py" -c "import json; print(json.load(open('$tmp/eval.json'))['$path']['top1_accuracy'])")
  above "fine-tuned $path accuracy (pcnn-sim eval)" "$top1" 40
done
