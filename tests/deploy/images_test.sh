#!/usr/bin/env bash
# Builds the service images (scripts/images.sh, podman) and runs each one the
# way Kubernetes runs it: as uid 10001, read-only root filesystem, no
# capabilities, no privilege escalation, keys mounted read-only as files,
# writable /var/lib/eduaid and /tmp only (podman's --read-only keeps a tmpfs
# /tmp). Then checks:
#   - the image runs as a non-root user and carries no compiler;
#   - the plaintext health port answers grpc.health.v1 SERVING (what the
#     kubelet's gRPC probes ask), for "" and for the service's name;
#   - the gRPC port answers health, and a call without a token is refused
#     (UNAUTHENTICATED) using the descriptor set shipped in the image;
#   - /metrics answers on the metrics port;
#   - `podman stop` (SIGTERM) drains and the server exits 0 in time.
#
#   tests/deploy/images_test.sh [SERVICE...]   (default: every buildable service)
#   SKIP_BUILD=1 uses images already built. IMAGE_PREFIX / TAG as scripts/images.sh.
#
# Slow (a first build downloads the toolchain into a build stage: a few
# minutes); not part of `make test`: `make images-test`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
IMAGE_PREFIX=${IMAGE_PREFIX:-localhost/eduaid-}
TAG=${TAG:-dev}
IMAGES_WORK=${IMAGES_WORK:-/var/tmp/eduaid-images}
PY=/usr/bin/python3
export CONTAINERS_CONF="$IMAGES_WORK/containers.conf"
log() { echo "images-test: $*"; }

services=("$@")
if [ ${#services[@]} -eq 0 ]; then mapfile -t services < <(bash scripts/images.sh list); fi
if [ ${#services[@]} -eq 0 ]; then
  log "FAIL: no service has services/<svc>/main.cc yet"
  exit 1
fi
need=()
$PY -c 'import grpc' 2>/dev/null || need+=(python3-grpcio)
[ -f /usr/share/grpc-proto/grpc/health/v1/health.proto ] || need+=(grpc-proto)
command -v grpc_python_plugin >/dev/null || need+=(protobuf-compiler-grpc)
command -v protoc >/dev/null || need+=(protobuf-compiler)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

start_all=$SECONDS
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  bash scripts/images.sh build "${services[@]}"
else
  bash scripts/images.sh base
fi
log "images ready after $((SECONDS - start_all)) s"

declare -A INDEX=([registry]=1 [ledger]=2 [teacher]=3 [vocational]=4)
declare -A GRPC_NAME=(
  [registry]=eduaid.registry.v1.StudentRegistryService
  [ledger]=eduaid.ledger.v1.SubsidyLedgerService
  [teacher]=eduaid.teacher.v1.TeacherSupportService
  [vocational]=eduaid.vocational.v1.VocationalTrainingService
)
# Host-network ports well away from the defaults (a `make run` may be up).
gport() { echo $((41000 + INDEX[$1])); }
mport() { echo $((42000 + INDEX[$1])); }
hport() { echo $((43000 + INDEX[$1])); }

work=$(mktemp -d /tmp/eduaid-images-test.XXXXXX)
containers=()
cleanup() {
  for c in "${containers[@]}"; do podman rm -f "$c" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Keys as the Secrets provide them (docs/DEPLOY.md), readable by uid 10001.
mkdir -p "$work/data-key" "$work/jwt-secret"
openssl rand -hex 32 >"$work/data-key/data.key"
openssl rand -hex 32 >"$work/jwt-secret/secret"
chmod 0755 "$work" "$work/data-key" "$work/jwt-secret"
chmod 0444 "$work/data-key/data.key" "$work/jwt-secret/secret"

fails=0
check() {
  local what=$1
  shift
  local rc=0
  "$@" >"$work/check.out" 2>&1 || rc=$?
  if [ "$rc" -eq 0 ]; then log "ok   $what"; else
    log "FAIL $what"
    fails=$((fails + 1))
  fi
  sed 's/^/       /' "$work/check.out"
  return "$rc"
}

for svc in "${services[@]}"; do
  image="${IMAGE_PREFIX}${svc}:${TAG}"
  name="eduaid-images-test-$svc"
  podman rm -f "$name" >/dev/null 2>&1 || true
  peers=()
  case "$svc" in
    ledger) peers=(--registry "127.0.0.1:$(gport registry)" --policy /usr/share/eduaid/policy/henan-2018.textproto) ;;
    teacher) peers=(--registry "127.0.0.1:$(gport registry)") ;;
    vocational) peers=(--registry "127.0.0.1:$(gport registry)" --ledger "127.0.0.1:$(gport ledger)") ;;
  esac
  check "$svc: image runs as uid 10001" \
    test "$(podman image inspect "$image" --format '{{.Config.User}}')" = "10001:10001" || true
  check "$svc: image carries no compiler or build tool" \
    podman run --rm --entrypoint /bin/sh "$image" -c '! command -v g++ && ! command -v cc && ! command -v cmake && ! command -v make' || true
  log "$svc: image size $(podman image inspect "$image" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}')"
  podman run -d --name "$name" --network host \
    --read-only --mount type=tmpfs,destination=/var/lib/eduaid,chown=true,tmpfs-size=256m \
    --cap-drop ALL --security-opt no-new-privileges \
    -v "$work/data-key:/etc/eduaid/data-key:ro" -v "$work/jwt-secret:/etc/eduaid/jwt-secret:ro" \
    "$image" \
    --bind 127.0.0.1 --grpc-port "$(gport "$svc")" --metrics-port "$(mport "$svc")" \
    --health-port "$(hport "$svc")" --drain-seconds 20 \
    --database "sqlite:///var/lib/eduaid/$svc.db" --redis "" \
    --data-key-file /etc/eduaid/data-key/data.key \
    --jwt-secret-file /etc/eduaid/jwt-secret/secret "${peers[@]}" >/dev/null
  containers+=("$name")
  if ! check "$svc: health port $(hport "$svc") SERVING (kubelet gRPC probe)" \
    $PY "$here/grpc_health.py" --wait 60 "127.0.0.1:$(hport "$svc")"; then
    podman logs "$name" 2>&1 | tail -20 | sed 's/^/       /'
    continue
  fi
  check "$svc: health port SERVING for ${GRPC_NAME[$svc]} (readiness)" \
    $PY "$here/grpc_health.py" --wait 5 --service "${GRPC_NAME[$svc]}" "127.0.0.1:$(hport "$svc")" || true
  check "$svc: gRPC port $(gport "$svc") SERVING" \
    $PY "$here/grpc_health.py" --wait 5 "127.0.0.1:$(gport "$svc")" || true
  podman cp "$name:/usr/share/eduaid/eduaid_descriptor.pb" "$work/$svc.pb"
  check "$svc: a call without a token is UNAUTHENTICATED" \
    $PY "$here/grpc_health.py" --expect-unauthenticated "$work/$svc.pb" "${GRPC_NAME[$svc]}" "127.0.0.1:$(gport "$svc")" || true
  check "$svc: /metrics on port $(mport "$svc") exports grpc_server_handled_total" \
    bash -c "curl -fsS --max-time 5 http://127.0.0.1:$(mport "$svc")/metrics | grep -q '^grpc_server_handled_total'" || true
  check "$svc: the process runs as uid 10001" \
    bash -c "podman top '$name' huser | tail -n +2 | grep -qx 10001" || true
done

# SIGTERM: NOT_SERVING for 2 s, drain (20 s at most), exit 0 within the
# 35 s the Deployment's terminationGracePeriodSeconds gives.
for name in "${containers[@]}"; do
  state=$(podman inspect "$name" --format '{{.State.Status}}' 2>/dev/null || echo gone)
  [ "$state" = running ] || { log "FAIL $name: $state before stop"; fails=$((fails + 1)); continue; }
  t0=$SECONDS
  podman stop -t 35 "$name" >/dev/null
  code=$(podman inspect "$name" --format '{{.State.ExitCode}}')
  if [ "$code" = 0 ] && [ $((SECONDS - t0)) -lt 35 ]; then
    log "ok   $name: SIGTERM -> exit 0 in $((SECONDS - t0)) s"
  else
    log "FAIL $name: SIGTERM -> exit $code in $((SECONDS - t0)) s"
    podman logs "$name" 2>&1 | tail -10 | sed 's/^/       /'
    fails=$((fails + 1))
  fi
done
# The prod pods' Redis TLS sidecar: built from Debian's stunnel4, runs as
# uid 10001 and starts (prints its version) from the image alone.
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  check "redis-tls-proxy image builds" bash scripts/images.sh proxy || true
fi
proxy_image="${IMAGE_PREFIX:-localhost/eduaid-}redis-tls-proxy:${TAG}"
check "redis-tls-proxy runs stunnel as uid 10001" \
  bash -c "podman run --rm --network host --entrypoint /bin/sh '$proxy_image' -c 'test \$(id -u) = 10001 && stunnel4 -version 2>&1 | grep -q \"^stunnel 5\"'" || true
log "total $((SECONDS - start_all)) s"
if [ "$fails" -gt 0 ]; then
  log "$fails check(s) failed"
  exit 1
fi
log "all checks passed (${services[*]})"
