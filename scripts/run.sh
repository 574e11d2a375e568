#!/usr/bin/env bash
# Starts the eduaid suite on its embedded default: SQLite files under var/,
# a private redis-server when none is reachable, local keys, the demo county
# on first start. Ctrl-C (or SIGTERM) stops everything.
#
# Environment: EDUAID_VAR (state directory, default ./var), EDUAID_PORT_OFFSET
# (added to every port, default 0), EDUAID_NO_DEMO=1 (skip the demo load).
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/$BUILD"
[ -d "$BIN" ] || BIN="$BUILD"
VAR=${EDUAID_VAR:-$ROOT/var}
OFF=${EDUAID_PORT_OFFSET:-0}
mkdir -p "$VAR/keys" "$VAR/log"
VAR=$(cd "$VAR" && pwd)
umask 077
[ -s "$VAR/keys/data.key" ] || openssl rand -hex 32 > "$VAR/keys/data.key"
[ -s "$VAR/keys/jwt.secret" ] || openssl rand -hex 32 > "$VAR/keys/jwt.secret"
umask 022

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "stopping eduaid..."
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -f "$VAR/ready"
}
trap cleanup INT TERM EXIT

REDIS_PORT=$((6379 + OFF))
if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  echo "redis: using the one on 127.0.0.1:$REDIS_PORT"
else
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$VAR" >"$VAR/log/redis.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  echo "redis: started a private redis-server on 127.0.0.1:$REDIS_PORT"
fi

common=(--bind 127.0.0.1 --redis "redis://127.0.0.1:$REDIS_PORT"
        --data-key-file "$VAR/keys/data.key" --jwt-secret-file "$VAR/keys/jwt.secret"
        --drain-seconds 5)
declare -A GRPC=([registry]=50051 [ledger]=50052 [teacher]=50053 [vocational]=50054)
declare -A METRICS=([registry]=9101 [ledger]=9102 [teacher]=9103 [vocational]=9104)
started=()
for svc in registry ledger teacher vocational; do
  exe="$BIN/services/$svc/${svc}_server"
  [ -x "$exe" ] || continue
  g=$((GRPC[$svc] + OFF)); m=$((METRICS[$svc] + OFF)); h=$((GRPC[$svc] + 100 + OFF))
  extra=()
  case $svc in
    ledger) extra=(--registry "127.0.0.1:$((50051 + OFF))" --policy "$ROOT/policy/henan-2018.textproto") ;;
    teacher) extra=(--registry "127.0.0.1:$((50051 + OFF))" --ledger "127.0.0.1:$((50052 + OFF))") ;;
    vocational) extra=(--registry "127.0.0.1:$((50051 + OFF))" --ledger "127.0.0.1:$((50052 + OFF))") ;;
  esac
  (cd "$ROOT" && exec "$exe" "${common[@]}" --grpc-port "$g" --metrics-port "$m" \
     --health-port "$h" --database "sqlite://$VAR/$svc.db" "${extra[@]}") \
     >"$VAR/log/$svc.log" 2>&1 &
  pids+=($!)
  started+=("$svc")
done
CTL="$BIN/tools/eductl/eductl"
ctl_targets=(--registry "127.0.0.1:$((50051 + OFF))" --ledger "127.0.0.1:$((50052 + OFF))"
             --teacher "127.0.0.1:$((50053 + OFF))" --vocational "127.0.0.1:$((50054 + OFF))")
for svc in "${started[@]}"; do
  h=$((GRPC[$svc] + 100 + OFF))
  ok=0
  for _ in $(seq 100); do
    if "$CTL" health --target "127.0.0.1:$h" >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.1
  done
  if [ $ok -ne 1 ]; then
    echo "$svc did not become healthy; its log:"; tail -20 "$VAR/log/$svc.log"; exit 1
  fi
done

TOKEN=$(EDUAID_JWT_SECRET=$(cat "$VAR/keys/jwt.secret") "$CTL" token --role province_officer --subject demo-loader --ttl 600)
if [ "${EDUAID_NO_DEMO:-0}" != 1 ] && [ ! -f "$VAR/demo-loaded" ]; then
  echo "loading the demo county (内乡县 411325, 淅川县 411326)..."
  "$CTL" "${ctl_targets[@]}" --token "$TOKEN" demo >"$VAR/log/demo.log" 2>&1 \
    && touch "$VAR/demo-loaded" || { echo "demo load failed:"; cat "$VAR/log/demo.log"; }
fi

cat <<MSG

eduaid is running (state in $VAR, logs in $VAR/log):
MSG
for svc in "${started[@]}"; do
  printf '  %-10s gRPC 127.0.0.1:%s  health 127.0.0.1:%s  metrics http://127.0.0.1:%s/metrics\n' \
    "$svc" $((GRPC[$svc] + OFF)) $((GRPC[$svc] + 100 + OFF)) $((METRICS[$svc] + OFF))
done
cat <<MSG

Every call needs a token. Get one (local HS256 key in $VAR/keys/jwt.secret):
  export EDUAID_TOKEN=\$($CTL token --secret-file $VAR/keys/jwt.secret --role county_officer --region 411325 --subject officer-a)
  $CTL coverage
Press Ctrl-C to stop.
MSG
touch "$VAR/ready"
wait -n "${pids[@]}" || true
echo "a process of the suite exited; see $VAR/log"
