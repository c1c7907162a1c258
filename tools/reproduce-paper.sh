#!/usr/bin/env bash
# One command for the paper's comparison: builds pcnn (tools/setup.sh), prunes
# VGG-16-CIFAR (pcnn-zoo, seed 1) at the settings of Tables I and IV and at
# n = 1..4 for the speedups, simulates those on the paper's architecture, and
# writes OUT/report.md with its figures: every row beside the paper's value and
# the difference, and a list of the rows it could not produce and why.
#
#   tools/reproduce-paper.sh [-o OUT]   # default OUT = out/paper
#   tools/reproduce-paper.sh --docs     # also writes docs/paper-results.md
#
# PCNN_NO_SETUP=1 skips the set-up and build (build/ must hold the programs).
# About three minutes on 2 cores.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="$root/out/paper"
docs=()
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out=$2; shift 2 ;;
    --docs) docs=(--docs "$root/docs"); shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "reproduce-paper.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "${PCNN_NO_SETUP:-}" ] || "$root/tools/setup.sh"
bin="$root/build"
work="$out/work"
mkdir -p "$work"
start=$(date +%s)

"$bin/pcnn-zoo" vgg16-cifar -o "$work/vgg16-cifar.onnx" --seed 1
prune() {  # NAME ARGS...: compression only, so no calibration pass
  local name=$1; shift
  "$bin/pcnn-prune" "$work/vgg16-cifar.onnx" -o "$work/$name" --calib-samples 0 "$@" >/dev/null
}
echo "pruning: Table I and Table IV settings"
prune t1-n4 --n 4 --patterns 32
prune t1-n3 --n 3 --patterns 32
prune t1-n2 --n 2 --patterns 32
prune t1-n1 --n 1 --patterns 8
prune t1-various --n 1 --patterns 8 --layers "$root/workloads/vgg16-cifar-various.layers.json"
for n in 4 2; do
  for v in full 32 16 8 4; do prune "t4-n$n-v$v" --n "$n" --patterns "$v"; done
done

echo "pruning and simulating: n = 1..4 (default pattern budget), every layer, dense twins"
for n in 1 2 3 4; do
  "$bin/pcnn-prune" "$work/vgg16-cifar.onnx" -o "$work/speed-n$n" --n "$n" >/dev/null
  "$bin/pcnn-sim" run "$work/speed-n$n" --all --json "$work/speed-n$n.json" >/dev/null
done

/usr/bin/python3 "$root/tools/paper/paper_report.py" --root "$root" --work "$work" --out "$out" \
    --seconds $(( $(date +%s) - start )) "${docs[@]}"
