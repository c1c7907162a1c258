#!/usr/bin/env bash
# Installs the build tree into a temporary prefix and builds the example consumer
# (examples/consumer) against it twice: with find_package(pcnn) and with
# pkg-config. Both builds must run and report a bit-exact layer.
# Usage: install_consumer.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
source=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
for f in bin/pcnn-sim bin/pcnn-prune bin/pcnn-zoo include/pcnn/pcnn/sim/simulate.hpp \
         include/pcnn/models/accelerator/accelerator.hpp share/doc/pcnn/README.md \
         share/doc/pcnn/examples/consumer/CMakeLists.txt share/pcnn/workloads/arch-default.json; do
  [ -e "$tmp/prefix/$f" ] || { echo "not installed: $f"; exit 1; }
done
"$tmp/prefix/bin/pcnn-sim" --version

# CMake package, from the installed copy of the example.
cmake -S "$tmp/prefix/share/doc/pcnn/examples/consumer" -B "$tmp/cmake-build" \
      -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/cmake-build" >/dev/null
"$tmp/cmake-build/pattern_layer" | tee "$tmp/cmake.out"
grep -q "bit-exact" "$tmp/cmake.out"

# pkg-config: the same source with the flags of pcnn.pc only.
pcfile=$(find "$tmp/prefix" -name pcnn.pc)
export PKG_CONFIG_PATH=$(dirname "$pcfile")
${CXX:-c++} -O1 -o "$tmp/pattern_layer_pc" "$source/examples/consumer/pattern_layer.cpp" \
    $(pkg-config --cflags --libs pcnn)
"$tmp/pattern_layer_pc" | tee "$tmp/pc.out"
cmp "$tmp/cmake.out" "$tmp/pc.out"
