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
  for b in ledger_bench teacher_bench; do
    exe=$(find "$BUILD" -name "$b" -type f -perm -u+x | head -1)
    [ -n "$exe" ] && "$exe"
  done
  [ -f "$ROOT/bench/NOTES.md" ] && cat "$ROOT/bench/NOTES.md"
} | tee "$tmp"
mv "$tmp" "$OUT"
echo "wrote $OUT"
