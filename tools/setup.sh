#!/usr/bin/env bash
# Installs the Debian packages pcnn needs (only those missing) and builds it in
# ./build. Sourced by tools/demo.sh and tools/test.sh; safe to run on its own.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

packages=(build-essential cmake pkg-config libsystemc-dev libboost-program-options-dev
          nlohmann-json3-dev catch2 libonnx-dev libprotobuf-dev protobuf-compiler gtkwave zlib1g-dev
          python3-matplotlib python3-numpy libpng-dev xvfb
          python3-torch dataset-fashion-mnist
          slurm-wlm munge)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "pcnn: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build" -j "$jobs"
