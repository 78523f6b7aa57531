#!/usr/bin/env bash
# Installs the Debian 12 packages Switchboard needs (packaging/scripts/install-deps.sh, passing
# --test through), then configures and builds it in build/ (override with SWITCHBOARD_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "${1:-}" = "--test" ]; then
  ./packaging/scripts/install-deps.sh --test
else
  ./packaging/scripts/install-deps.sh
fi
build_dir="${SWITCHBOARD_BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}"
cmake --build "$build_dir" --parallel "$(nproc)"
