#!/usr/bin/env bash
# clang-format check of the C++ sources and `buf lint` of the protos.
set -euo pipefail
cd "$(dirname "$0")/.."
rc=0
files=$(git ls-files 'services/*.cc' 'services/*.h' 'tools/*.cc' 'tools/*.h' 'bench/*.cc' 'bench/*.h' 'fuzz/*.cc' 2>/dev/null)
if ! clang-format --dry-run --Werror $files 2>/tmp/eduaid-format.txt; then
  echo "clang-format: these files need 'make format':"
  grep -o '^[^:]*\.\(cc\|h\)' /tmp/eduaid-format.txt | sort -u | sed 's/^/  /'
  rc=1
fi
mkdir -p .lint
if [ ! -x .lint/node_modules/.bin/buf ]; then
  (cd .lint && npm install --no-audit --no-fund --silent @bufbuild/buf >/dev/null)
fi
if (cd protos && ../.lint/node_modules/.bin/buf lint --config ../buf.yaml); then
  echo "buf lint: ok"
else
  rc=1
fi
exit $rc
