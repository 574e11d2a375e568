#!/usr/bin/env bash
# Runs every benchmark, each against its baseline in the same run, and
# writes the results with a description of the machine to
# docs/BENCHMARKS.md (and to stdout).
# Environment: BENCH_ROWS (default 1000000), BENCH_SECONDS (default 5).
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ -d "$BUILD" ] || BUILD="$ROOT/$BUILD"
ROWS=${BENCH_ROWS:-1000000}
SECS=${BENCH_SECONDS:-5}
OUT="$ROOT/docs/BENCHMARKS.md"
# Resident memory of each service started as `make run` starts it (empty
# databases, no demo), idle for two seconds after it became healthy.
idle_rss() {
  local var off=4000 pid svc
  var=$(mktemp -d /tmp/eduaid-bench-idle.XXXXXX)
  EDUAID_VAR="$var" EDUAID_PORT_OFFSET=$off EDUAID_NO_DEMO=1 \
    bash "$ROOT/scripts/run.sh" "$1" >"$var/run.out" 2>&1 &
  local suite=$!
  for _ in $(seq 300); do [ -f "$var/ready" ] && break; sleep 0.1; done
  sleep 2
  echo "## Memory of each idle service"
  echo
  echo "Started as \`make run\` starts them (SQLite, Redis, empty databases), idle."
  echo
  echo "| service | RSS MiB | target |"
  echo "|---|---|---|"
  for svc in registry ledger teacher vocational; do
    pid=$(pgrep -f "sqlite://$var/$svc.db" | head -1)
    [ -n "$pid" ] || continue
    awk -v s="$svc" '/^VmRSS:/{printf "| %s | %.1f | under 64 |\n", s, $2/1024}' "/proc/$pid/status"
  done
  echo
  kill -TERM "$suite" 2>/dev/null || true
  wait "$suite" 2>/dev/null || true
  rm -rf "$var"
}

tmp=$(mktemp)
{
  echo "# Benchmarks"
  echo
  echo "Written by \`make bench\` (bench/run.sh) on $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo "Every figure is measured against a baseline in the same run and given as"
  echo "a ratio, because these machines are noisy; the load generator runs on the"
  echo "same machine as the servers."
  echo
  echo "## Machine"
  echo
  echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') ($(nproc) cores)"
  echo "- Memory: $(free -g | awk '/^Mem:/{print $2}') GiB; disk: $(df -h "$ROOT" | awk 'NR==2{print $2}') ($(findmnt -no FSTYPE -T "$ROOT" 2>/dev/null || echo '?'))"
  echo "- OS: $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r)"
  echo "- Toolchain: $(g++ --version | head -1); gRPC $(dpkg-query -W -f='${Version}' libgrpc++-dev 2>/dev/null); SQLite $(sqlite3 --version | cut -d' ' -f1)"
  echo
  "$BUILD/bench/registry_bench" --rows "$ROWS" --seconds "$SECS"
  idle_rss "$BUILD"
  for b in ledger_bench teacher_bench; do
    exe=$(find "$BUILD" -name "$b" -type f -perm -u+x | head -1)
    [ -n "$exe" ] && "$exe"
  done
  [ -f "$ROOT/bench/NOTES.md" ] && cat "$ROOT/bench/NOTES.md"
} | tee "$tmp"
mv "$tmp" "$OUT"
echo "wrote $OUT"
