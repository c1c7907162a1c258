#!/usr/bin/env bash
# Renders every pcnn-plot figure from the fixtures in tests/data/plot and checks
# that each PNG and SVG is a real, non-trivial image; then checks that a bad input
# fails with one line and writes nothing. Skipped (exit 77) without matplotlib.
# Usage: test_plots.sh SOURCE_DIR
set -euo pipefail
src=$1
python=/usr/bin/python3
if ! "$python" -c 'import matplotlib, numpy' 2>/dev/null; then
  echo "SKIPPED: python3-matplotlib or python3-numpy is not installed (tools/setup.sh installs them)"
  exit 77
fi
plot="$src/tools/plot/pcnn-plot"
data="$src/tests/data/plot"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$plot" --version | grep -Eq '^pcnn-plot [0-9]+\.[0-9]+\.[0-9]+ \(commit ([0-9a-f]+|unknown)\)$' ||
  { echo "pcnn-plot --version: unexpected output"; exit 1; }
"$plot" patterns "$data/report.json" -o "$tmp/patterns"
"$plot" patterns "$data/report.json" --layer conv3_1 -o "$tmp/patterns-conv3_1.png" >/dev/null
"$plot" run "$data/run.json" -o "$tmp/run-json"
"$plot" run "$data/run.csv" -o "$tmp/run-csv"
"$plot" traffic "$data/run.json" -o "$tmp/traffic"
"$plot" sweep "$data/sweep.csv" --x cycles --y weight_sram_bytes --group pe_count -o "$tmp/sweep"
"$plot" sweep "$data/sweep.csv" --x pe_count --y speedup_vs_dense --group act_mode \
    --where act_mode=skip -o "$tmp/sweep-where"
"$plot" accuracy "$data/accuracy.csv" -o "$tmp/accuracy"

for stem in patterns patterns-conv3_1 run-json run-csv traffic sweep sweep-where accuracy; do
  png="$tmp/$stem.png"
  svg="$tmp/$stem.svg"
  [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || { echo "$png: not a PNG"; exit 1; }
  [ "$(stat -c %s "$png")" -gt 20000 ] || { echo "$png: suspiciously small"; exit 1; }
  grep -q '<svg' "$svg" || { echo "$svg: not an SVG"; exit 1; }
done
# The same input gives the same figure (the SVG is deterministic).
cmp "$tmp/run-json.svg" "$tmp/run-csv.svg" || { echo "run.json and run.csv plots differ"; exit 1; }
# Traffic given as read and write columns (pcnn-sim run --csv) draws the same figure.
"$python" - "$data/run.csv" "$tmp/run-split.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
out = []
for r in rows:
    s = {}
    for k, v in r.items():
        if k.endswith("_bytes"):
            s[k[:-6] + "_read_bytes"], s[k[:-6] + "_write_bytes"] = v, "0"
        else:
            s[k] = v
    out.append(s)
w = csv.DictWriter(open(sys.argv[2], "w", newline=""), fieldnames=list(out[0]))
w.writeheader()
w.writerows(out)
PY
"$plot" traffic "$data/run.csv" -o "$tmp/traffic-csv" >/dev/null
"$plot" traffic "$tmp/run-split.csv" -o "$tmp/traffic-split" >/dev/null
cmp "$tmp/traffic-csv.svg" "$tmp/traffic-split.svg" || { echo "split traffic columns plot differently"; exit 1; }
# Labels with units reach the figure.
grep -q 'speedup over dense (x)' "$tmp/run-json.svg"
grep -q 'traffic, read + written (KiB)' "$tmp/traffic.svg"
grep -q 'top-1 accuracy (%)' "$tmp/accuracy.svg"
grep -q 'Pareto front' "$tmp/sweep.svg"

# Bad input: one line on stderr, exit status 1 (or 2 for usage), nothing written.
expect_failure() {
  local want=$1; shift
  set +e
  "$plot" "$@" 2>"$tmp/err" >/dev/null
  local status=$?
  set -e
  [ "$status" -eq "$want" ] || { echo "pcnn-plot $*: status $status, expected $want"; cat "$tmp/err"; exit 1; }
  [ "$want" -eq 2 ] || [ "$(wc -l <"$tmp/err")" -eq 1 ] || { echo "pcnn-plot $*: not one line"; cat "$tmp/err"; exit 1; }
}
expect_failure 1 run "$data/report.json" -o "$tmp/bad"
expect_failure 1 run "$tmp/missing.json" -o "$tmp/bad"
expect_failure 1 patterns "$data/report.json" --layer nope -o "$tmp/bad"
expect_failure 1 sweep "$data/sweep.csv" --x cycles --y nope -o "$tmp/bad"
expect_failure 1 run "$data/run.json" -o "$tmp/no/such/dir/bad"
expect_failure 2 sweep "$data/sweep.csv" -o "$tmp/bad"
expect_failure 2 frobnicate
if ls "$tmp"/bad* 2>/dev/null; then echo "a failed plot left files behind"; exit 1; fi
echo "all plots rendered"
