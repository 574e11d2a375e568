#!/usr/bin/env bash
# Installs the Debian packages eduaid needs to build, test and run.
# Idempotent and quiet when everything is present.
set -euo pipefail
PACKAGES=(
  g++ cmake ninja-build pkg-config make git clang-format ccache openssl curl
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libhiredis-dev redis-server prometheus-cpp-dev
  libsqlite3-dev sqlite3 libpq-dev postgresql libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libcsv-dev liblemon-dev
  golang-github-gogo-googleapis-dev grpc-proto
  python3-grpcio python3-protobuf
  ca-certificates procps
)
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q >/dev/null
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
