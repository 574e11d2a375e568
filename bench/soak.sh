#!/usr/bin/env bash
# The soak (`make soak`, not in CI): starts the suite as `make run` does in
# a fresh state directory on shifted ports, runs build/bench/soak against it
# (capacity first, then half of it for SOAK_SECONDS), stops the suite and
# writes the report to docs/SOAK.md.
# Environment: SOAK_SECONDS (default 600), SOAK_WARMUP (default 60),
# SOAK_PORT_OFFSET (default 3000).
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ -d "$BUILD" ] || BUILD="$ROOT/$BUILD"
SECS=${SOAK_SECONDS:-600}
WARM=${SOAK_WARMUP:-60}
OFF=${SOAK_PORT_OFFSET:-3000}
VAR=$(mktemp -d /tmp/eduaid-soak.XXXXXX)
OUT="$ROOT/docs/SOAK.md"

EDUAID_VAR="$VAR" EDUAID_PORT_OFFSET="$OFF" bash "$ROOT/scripts/run.sh" "$BUILD" \
  >"$VAR/run.out" 2>&1 &
suite=$!
stop() {
  kill -TERM "$suite" 2>/dev/null || true
  wait "$suite" 2>/dev/null || true
  rm -rf "$VAR"
}
trap stop EXIT
for _ in $(seq 600); do [ -f "$VAR/ready" ] && break; sleep 0.2; done
[ -f "$VAR/ready" ] || { echo "the suite did not start:"; cat "$VAR/run.out"; exit 1; }
[ -f "$VAR/demo-loaded" ] || { echo "the demo did not load:"; cat "$VAR/run.out"; exit 1; }

pids=()
for svc in registry ledger teacher vocational; do
  pid=$(pgrep -f "sqlite://$VAR/$svc.db" | head -1)
  [ -n "$pid" ] || { echo "$svc is not running"; exit 1; }
  pids+=("$svc=$pid")
done
pidlist=$(IFS=,; echo "${pids[*]}")

tmp=$(mktemp)
set +e
"$BUILD/bench/soak" \
  --registry "127.0.0.1:$((50051 + OFF))" --ledger "127.0.0.1:$((50052 + OFF))" \
  --teacher "127.0.0.1:$((50053 + OFF))" --vocational "127.0.0.1:$((50054 + OFF))" \
  --jwt-secret-file "$VAR/keys/jwt.secret" --pids "$pidlist" \
  --seconds "$SECS" --warmup "$WARM" ${SOAK_ARGS:-} | tee "$tmp"
rc=${PIPESTATUS[0]}
set -e
{
  cat "$tmp"
  echo "## Machine"
  echo
  echo "Run on $(date -u '+%Y-%m-%d %H:%M UTC'): $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') ($(nproc) cores), $(free -g | awk '/^Mem:/{print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r)."
  echo "Command: \`make soak\` (SOAK_SECONDS=$SECS, SOAK_WARMUP=$WARM)."
  [ -f "$ROOT/bench/SOAK_NOTES.md" ] && { echo; cat "$ROOT/bench/SOAK_NOTES.md"; }
} >"$OUT"
rm -f "$tmp"
echo "wrote $OUT"
exit "$rc"
