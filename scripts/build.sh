#!/usr/bin/env bash
# Installs the Debian 12 packages Switchboard needs (scripts/install-deps.sh), then configures
# and builds it in build/ (override with SWITCHBOARD_BUILD_DIR). Extra arguments go to CMake.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
build_dir="${SWITCHBOARD_BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" "$@"
cmake --build "$build_dir" --parallel "$(nproc)"
