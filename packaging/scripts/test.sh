#!/usr/bin/env bash
# Installs what is needed, builds, and runs the whole test suite: Catch2 unit tests, then the
# integration tests that start the real daemon on loopback against the provider emulator, on
# SQLite and on a throwaway PostgreSQL 15 cluster.
set -euo pipefail
cd "$(dirname "$0")/../.."

./packaging/scripts/build.sh --test
build_dir="${SWITCHBOARD_BUILD_DIR:-build}"
ctest --test-dir "$build_dir" --output-on-failure --parallel "$(nproc)" "$@"
