#!/usr/bin/env bash
# Installs the Debian 12 packages Switchboard needs to build and run it; with --test, also what
# the test suite needs (a PostgreSQL 15 server for the integration tests, Catch2, Python 3, and
# Node.js with the npm packages of the independent verifiers under tests/verifiers/).
# Idempotent: packages already present are left as they are.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libboost-filesystem1.81-dev libboost-system1.81-dev
  libssl-dev libcurl4-openssl-dev ca-certificates
  libsoci-dev libsqlite3-dev libpq-dev
  libyaml-cpp-dev libspdlog-dev libfmt-dev libhowardhinnant-date-dev tzdata libcsv-dev
  libsystemd-dev
  catch2
)
if [ "${1:-}" = "--test" ]; then
  packages+=(postgresql-15 postgresql-client-15 python3 curl procps sqlite3 nodejs)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -q
  $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ "${1:-}" = "--test" ]; then
  # Debian's nodejs comes without npm; a nodejs that bundles it (NodeSource) conflicts with the npm package.
  if ! command -v npm >/dev/null; then
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends npm
  fi
  # The independent verifiers the integration tests use (standardwebhooks), pinned in package.json.
  here=$(cd "$(dirname "$0")/../.." && pwd)
  npm install --prefix "$here/tests/verifiers" --no-audit --no-fund --loglevel=error
fi
