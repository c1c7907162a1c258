#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of tests/fuzz (docs/fuzzing.md).
#
#   tools/fuzz.sh build                     configure and build ./build-fuzz (clang, ASan+UBSan)
#   tools/fuzz.sh seeds                     write the seed corpora to ./build-fuzz/seeds
#   tools/fuzz.sh run TARGET SECONDS [OUT]  fuzz one target for SECONDS
#   tools/fuzz.sh campaign SECONDS [OUT]    fuzz every target for SECONDS, all at once, at nice 19
#   tools/fuzz.sh replay TARGET FILE...     run a target once on saved inputs (crash reproduction)
#
# OUT (default ./fuzz-out) receives, per target, the growing corpus (corpus/TARGET),
# crash/leak/timeout inputs (artifacts/TARGET/) and the log (TARGET.log). Keep it
# outside the source tree or ignored; nothing under tests/ is modified.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${PCNN_FUZZ_BUILD:-$root/build-fuzz}
targets=(fuzz_onnx_loader fuzz_image_set fuzz_arch_json fuzz_sweep_json fuzz_tensor_file)

usage() {
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

is_target() {
  local t
  for t in "${targets[@]}"; do [ "$t" = "$1" ] && return 0; done
  echo "tools/fuzz.sh: unknown target '$1' (one of ${targets[*]})" >&2
  exit 2
}

need_build() {
  [ -x "$build/tests/fuzz/$1" ] || {
    echo "tools/fuzz.sh: $build/tests/fuzz/$1 missing: run 'tools/fuzz.sh build' first" >&2
    exit 1
  }
}

cmd_build() {
  command -v clang++ >/dev/null || {
    echo "tools/fuzz.sh: clang++ not found (apt-get install clang libfuzzer-14-dev)" >&2
    exit 1
  }
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    -DPCNN_FUZZ=ON -DPCNN_SANITIZE=address,undefined >/dev/null
  cmake --build "$build" -j "${PCNN_JOBS:-2}" --target "${targets[@]}" fuzz_make_seeds
}

cmd_seeds() {
  need_build fuzz_make_seeds
  "$build/tests/fuzz/fuzz_make_seeds" "$build/seeds"
}

# Options common to every run: hangs count as failures after 10 s, one input is
# at most 1 MiB (the seeds are far smaller), memory beyond 2 GiB is a finding.
fuzz_options() {
  echo -timeout=10 -rss_limit_mb=2048 -max_len=1048576 -print_final_stats=1
}

cmd_run() {
  [ $# -ge 2 ] || usage
  local target=$1 seconds=$2 out=${3:-$root/fuzz-out}
  is_target "$target"
  need_build "$target"
  [ -d "$build/seeds/$target" ] || cmd_seeds
  mkdir -p "$out/corpus/$target" "$out/artifacts/$target"
  local dict=()
  [ -f "$build/seeds/$target.dict" ] && dict=(-dict="$build/seeds/$target.dict")
  # The first directory collects new inputs; the seeds are read only.
  # shellcheck disable=SC2046
  "$build/tests/fuzz/$target" $(fuzz_options) "${dict[@]}" -max_total_time="$seconds" \
    -artifact_prefix="$out/artifacts/$target/" \
    "$out/corpus/$target" "$build/seeds/$target" >"$out/$target.log" 2>&1
}

cmd_campaign() {
  [ $# -ge 1 ] || usage
  local seconds=$1 out=${2:-$root/fuzz-out} t pids=() failed=0
  [ -d "$build/seeds" ] || cmd_seeds
  for t in "${targets[@]}"; do
    need_build "$t"
    nice -n 19 "${BASH_SOURCE[0]}" run "$t" "$seconds" "$out" &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
      if [ -n "$(ls -A "$out/artifacts/${targets[$i]}")" ]; then
        echo "tools/fuzz.sh: ${targets[$i]} stopped with a finding in $out/artifacts/${targets[$i]}" >&2
      else
        echo "tools/fuzz.sh: ${targets[$i]} was interrupted: see $out/${targets[$i]}.log" >&2
      fi
      failed=1
    fi
  done
  for t in "${targets[@]}"; do
    grep -h -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|cov: ' "$out/$t.log" |
      tail -n 3 | sed "s|^|$t: |"
  done
  return $failed
}

cmd_replay() {
  [ $# -ge 2 ] || usage
  local target=$1
  shift
  is_target "$target"
  need_build "$target"
  "$build/tests/fuzz/$target" "$@"
}

[ $# -ge 1 ] || usage
command=$1
shift
case "$command" in
  build) cmd_build "$@" ;;
  seeds) cmd_seeds "$@" ;;
  run) cmd_run "$@" ;;
  campaign) cmd_campaign "$@" ;;
  replay) cmd_replay "$@" ;;
  *) usage ;;
esac
