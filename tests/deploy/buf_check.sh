#!/usr/bin/env bash
# `buf lint` of protos/ and `buf breaking` against the protos of the last
# release (deploy/release/protos-v1, see deploy/release/README.md).
# buf comes from npm (@bufbuild/buf in tests/deploy/package.json); the Buf
# Schema Registry is never contacted: every import is a local path.
# The repository's buf.yaml (lint STANDARD, breaking FILE) describes a module
# rooted at protos/, so buf runs from there with that config, and the release
# snapshot is read with the same config.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
baseline=${BUF_BASELINE:-$root/deploy/release/protos-v1}
if [ ! -x "$here/node_modules/.bin/buf" ]; then
  (cd "$here" && npm install --no-audit --no-fund --silent >/dev/null)
fi
buf="$here/node_modules/.bin/buf"
config="$root/buf.yaml"
if [ ! -f "$config" ]; then
  config=$(mktemp)
  printf 'version: v1\nlint:\n  use: [STANDARD]\nbreaking:\n  use: [FILE]\n' >"$config"
fi
rc=0
cd "$root/protos"
if "$buf" lint --config "$config"; then echo "buf lint: ok ($(find . -name '*.proto' | wc -l) files)"; else echo "buf lint: FAIL"; rc=1; fi
if [ ! -d "$baseline" ]; then
  echo "buf breaking: FAIL: no release baseline at $baseline"
  exit 1
fi
if "$buf" breaking --config "$config" --against "$baseline" --against-config "$config"; then
  echo "buf breaking: ok (against $(realpath --relative-to="$root" "$baseline"))"
else
  echo "buf breaking: FAIL: the changes above break clients of the last release"
  rc=1
fi
exit $rc
