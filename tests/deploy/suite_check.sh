#!/usr/bin/env bash
# Runs the built servers exactly as a kustomize overlay configures them and
# checks what Kubernetes relies on:
#   - the Deployment's args (with $(VAR) expanded from its ConfigMap, as the
#     kubelet does) are accepted by the real binary, with the Secrets laid
#     out as files the way the pod sees them (created with the openssl
#     commands of docs/DEPLOY.md);
#   - each service is SERVING on its plaintext health port (what the gRPC
#     probes ask), for "" and for its service name;
#   - the gRPC port: plaintext in dev; in prod TLS that requires a client
#     certificate (a call without one is refused, with one it is SERVING);
#   - a call without a token is UNAUTHENTICATED;
#   - every metric name used by the alerts and the dashboard is exported
#     (tests/deploy/check_metric_names.sh against the running services);
#   - SIGTERM drains and exits 0 within the termination grace period;
#   - prod: a server given an HS256 secret ($EDUAID_JWT_SECRET) refuses to
#     start (the overlay's --jwt-allow-hs256=false).
#
#   tests/deploy/suite_check.sh [BUILD_DIR]     (default build)
#   OVERLAY=dev|prod (default: both, one after the other)
#   PORT_OFFSET=10000: ports move by this much (gRPC 60051.., metrics
#   19101.., health 60151..) so that a `make run` on the default ports is not
#   disturbed. A postgres:// database becomes a SQLite file here.
#
# Services whose binary is not built are reported and skipped; the check
# fails when none is built.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
offset=${PORT_OFFSET:-10000}
overlays=${OVERLAY:-dev prod}
PY=/usr/bin/python3

log() { echo "suite-check: $*"; }
need=()
command -v redis-server >/dev/null || need+=(redis-server)
$PY -c 'import grpc' 2>/dev/null || need+=(python3-grpcio)
[ -f /usr/share/grpc-proto/grpc/health/v1/health.proto ] || need+=(grpc-proto)
command -v grpc_python_plugin >/dev/null || need+=(protobuf-compiler-grpc)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi
[ -d "$here/node_modules/js-yaml" ] || (cd "$here" && npm install --no-audit --no-fund --silent >/dev/null)

declare -A GRPC_NAME=(
  [registry]=eduaid.registry.v1.StudentRegistryService
  [ledger]=eduaid.ledger.v1.SubsidyLedgerService
  [teacher]=eduaid.teacher.v1.TeacherSupportService
  [vocational]=eduaid.vocational.v1.VocationalTrainingService
)
built=()
for svc in registry ledger teacher vocational; do
  if [ -x "$build/services/$svc/${svc}_server" ]; then built+=("$svc"); else
    log "SKIP $svc: $build/services/$svc/${svc}_server is not built"; fi
done
if [ ${#built[@]} -eq 0 ]; then
  log "FAIL: no server is built under $build"
  exit 1
fi

work=$(mktemp -d /tmp/eduaid-suite-check.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A private Redis on a free port (the cache metrics exist only with a cache).
redis_port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
  --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)

# The Secrets, made as docs/DEPLOY.md makes them, laid out as the pod sees them.
make_secrets() {
  local r=$1 svc
  mkdir -p "$r/etc/eduaid/data-key" "$r/etc/eduaid/jwt" "$r/etc/eduaid/jwt-secret" "$r/var/lib/eduaid" "$r/pki"
  openssl rand -hex 32 >"$r/etc/eduaid/data-key/data.key"
  openssl rand -hex 32 >"$r/etc/eduaid/jwt-secret/secret"
  openssl ecparam -name prime256v1 -genkey -noout -out "$r/pki/idp.key" 2>/dev/null
  openssl ec -in "$r/pki/idp.key" -pubout -out "$r/etc/eduaid/jwt/idp.pem" 2>/dev/null
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=eduaid test CA" -keyout "$r/pki/ca.key" -out "$r/pki/ca.crt" 2>/dev/null
  for svc in registry ledger teacher vocational client; do
    mkdir -p "$r/etc/eduaid/$svc-tls" "$r/etc/eduaid/$svc-service-token"
    echo "service-token-for-$svc" >"$r/etc/eduaid/$svc-service-token/token"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -subj "/CN=eduaid-$svc" -keyout "$r/etc/eduaid/$svc-tls/tls.key" -out "$r/pki/$svc.csr" 2>/dev/null
    openssl x509 -req -in "$r/pki/$svc.csr" -CA "$r/pki/ca.crt" -CAkey "$r/pki/ca.key" -CAcreateserial \
      -days 2 -out "$r/etc/eduaid/$svc-tls/tls.crt" 2>/dev/null -extfile <(printf '%s\n' \
      "subjectAltName=DNS:eduaid-$svc,DNS:eduaid-$svc.eduaid.svc,DNS:localhost,IP:127.0.0.1" \
      "extendedKeyUsage=serverAuth,clientAuth")
    cp "$r/pki/ca.crt" "$r/etc/eduaid/$svc-tls/ca.crt"
  done
}

# jq_ FILE a.b: one field of a JSON file.
jq_() {
  $PY -c 'import json,sys
v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v=v[k]
print(v)' "$1" "$2"
}

fails=0
failed=()
check() { # description, command...
  local what=$1
  shift
  local rc=0
  "$@" >"$work/check.out" 2>&1 || rc=$?
  if [ "$rc" -eq 0 ]; then log "ok   $what"; else
    log "FAIL $what"
    fails=$((fails + 1))
    # Repeated at the end, where a CI log's tail shows it.
    failed+=("$what: $(tail -c 2000 "$work/check.out" | tr '\n' ' ')")
  fi
  sed 's/^/       /' "$work/check.out"
  return "$rc"
}

for overlay in $overlays; do
  log "overlay $overlay: $(printf '%s ' "${built[@]}")"
  rendered="$work/$overlay.yaml"
  kubectl kustomize "$root/k8s/overlays/$overlay" >"$rendered"
  r="$work/$overlay-root"
  make_secrets "$r"
  urls=()
  declare -A spid=() sports=()
  for svc in "${built[@]}"; do
    # Per-service Secret mounts (TLS, service token) at the paths the pod uses.
    sr="$r/$svc"
    mkdir -p "$sr/etc/eduaid" "$sr/var/lib/eduaid"
    cp -r "$r/etc/eduaid/data-key" "$r/etc/eduaid/jwt" "$r/etc/eduaid/jwt-secret" "$sr/etc/eduaid/"
    cp -r "$r/etc/eduaid/$svc-tls" "$sr/etc/eduaid/tls"
    cp -r "$r/etc/eduaid/$svc-service-token" "$sr/etc/eduaid/service-token"
    EDUAID_SHARE_DIR="$root" node "$here/render_args.mjs" "$rendered" "$svc" "$sr" "$offset" "redis://127.0.0.1:$redis_port" >"$work/$svc.json"
    mapfile -d '' -t argv < <($PY -c 'import json,sys; sys.stdout.write("\0".join(json.load(open(sys.argv[1]))["args"]))' "$work/$svc.json")
    ports="$(jq_ "$work/$svc.json" ports.grpc) $(jq_ "$work/$svc.json" ports.metrics) $(jq_ "$work/$svc.json" ports.health)"
    sports[$svc]=$ports
    (cd "$sr" && exec env -u EDUAID_DATA_KEY -u EDUAID_JWT_SECRET "$build/services/$svc/${svc}_server" "${argv[@]}") \
      >"$work/$overlay-$svc.log" 2>&1 &
    spid[$svc]=$!
    pids+=($!)
    read -r _ m _ <<<"$ports"
    urls+=("$svc=http://127.0.0.1:$m/metrics")
  done
  for svc in "${built[@]}"; do
    read -r g m h <<<"${sports[$svc]}"
    if ! check "$overlay/$svc: health port $h SERVING (probe)" \
      $PY "$here/grpc_health.py" --wait 60 "127.0.0.1:$h"; then
      log "$svc log:"; tail -20 "$work/$overlay-$svc.log" | sed 's/^/       /'
      continue
    fi
    check "$overlay/$svc: health port $h SERVING for ${GRPC_NAME[$svc]} (readiness)" \
      $PY "$here/grpc_health.py" --wait 5 --service "${GRPC_NAME[$svc]}" "127.0.0.1:$h" || true
    tls=()
    if [ "$(jq_ "$work/$svc.json" mtls)" = True ]; then
      check "$overlay/$svc: gRPC port $g refuses a client without a certificate (mTLS)" \
        $PY "$here/grpc_health.py" --wait 2 --expect-refused --tls-ca "$r/pki/ca.crt" "127.0.0.1:$g" || true
      tls=(--tls-ca "$r/pki/ca.crt" --tls-cert "$r/etc/eduaid/client-tls/tls.crt" --tls-key "$r/etc/eduaid/client-tls/tls.key")
    fi
    check "$overlay/$svc: gRPC port $g SERVING${tls:+ over mTLS}" \
      $PY "$here/grpc_health.py" --wait 5 "${tls[@]}" "127.0.0.1:$g" || true
    if [ -f "$build/eduaid_descriptor.pb" ] && $PY "$here/grpc_health.py" --help >/dev/null; then
      check "$overlay/$svc: a call without a token is refused" \
        $PY "$here/grpc_health.py" "${tls[@]}" --expect-unauthenticated "$build/eduaid_descriptor.pb" "${GRPC_NAME[$svc]}" "127.0.0.1:$g" || true
    fi
  done
  # prod refuses HS256: the same arguments (other ports) plus an HS256
  # secret in the environment must not start, and must say why (HS256).
  if [ "$overlay" = prod ]; then
    for svc in "${built[@]}"; do
      exe="$build/services/$svc/${svc}_server"
      EDUAID_SHARE_DIR="$root" node "$here/render_args.mjs" "$rendered" "$svc" "$r/$svc" "$((offset + 500))" "redis://127.0.0.1:$redis_port" >"$work/$svc-hs.json"
      mapfile -d '' -t hargv < <($PY -c 'import json,sys; sys.stdout.write("\0".join(json.load(open(sys.argv[1]))["args"]))' "$work/$svc-hs.json")
      check "prod/$svc: refuses to start with an HS256 secret (--jwt-allow-hs256=false)" \
        bash -c 'cd "$0" && EDUAID_JWT_SECRET=$(cat etc/eduaid/jwt-secret/secret) timeout 20 "$@" >out.log 2>&1; rc=$?; tail -3 out.log; echo "exit $rc"; [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -qi hs256 out.log' \
        "$r/$svc" "$exe" "${hargv[@]}" || true
    done
  fi
  check "$overlay: metric names used by alerts and dashboards are exported" \
    bash "$here/check_metric_names.sh" "${urls[@]}" || true
  # Graceful stop: SIGTERM, NOT_SERVING grace, drain, exit 0 within the
  # Deployment's terminationGracePeriodSeconds.
  for svc in "${built[@]}"; do
    p=${spid[$svc]}
    kill -0 "$p" 2>/dev/null || { log "FAIL $overlay/$svc: not running at stop time"; fails=$((fails + 1)); continue; }
    grace=$(jq_ "$work/$svc.json" grace)
    start=$(date +%s%N)
    kill -TERM "$p"
    rc=0
    timeout "$grace" tail --pid="$p" -f /dev/null || rc=$?
    code=0
    wait "$p" 2>/dev/null || code=$?
    took=$(( ($(date +%s%N) - start) / 100000000 ))
    took="$((took / 10)).$((took % 10))"
    if [ "$rc" -eq 0 ] && [ "$code" -eq 0 ]; then
      log "ok   $overlay/$svc: SIGTERM -> exit 0 in ${took} s (grace period ${grace} s)"
    else
      log "FAIL $overlay/$svc: SIGTERM -> exit $code after ${took} s (grace period ${grace} s)"
      fails=$((fails + 1))
      failed+=("$overlay/$svc: SIGTERM -> exit $code after ${took} s")
    fi
  done
  unset spid sports
done
if [ "$fails" -gt 0 ]; then
  for f in "${failed[@]}"; do log "failed: $f"; done
  log "$fails check(s) failed"
  exit 1
fi
log "all checks passed"
