#!/usr/bin/env bash
# Installs what is needed, builds, and runs the service in the foreground on the shipped
# etc/switchboard.yaml (embedded SQLite under var/, listening on $SWITCHBOARD_LISTEN or
# 127.0.0.1:8080). Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/../.."

./packaging/scripts/build.sh
build_dir="${SWITCHBOARD_BUILD_DIR:-build}"
export SWITCHBOARD_PLUGIN_DIR="${SWITCHBOARD_PLUGIN_DIR:-$build_dir/plugins}"
exec "$build_dir/core/switchboard" run --config "${SWITCHBOARD_CONFIG:-etc/switchboard.yaml}"
