#!/usr/bin/env bash
# Builds the eduaid service images from deploy/docker/Dockerfile.
#
#   scripts/images.sh [build] [SERVICE...]   build (default: every service with
#                                            services/<svc>/main.cc)
#   scripts/images.sh base                   only prepare the engine and base image
#   scripts/images.sh list                   print the services that would be built
#
# Environment:
#   ENGINE=podman|docker   (default podman). With podman, works on a machine
#                          without a Docker engine or registry access: the
#                          bookworm-slim base is made from Debian's archive by
#                          debootstrap and tagged as docker.io/library/debian:
#                          bookworm-slim locally (never pulled). With docker,
#                          the real base image is pulled as usual.
#   IMAGE_PREFIX=localhost/eduaid-   TAG=dev   -> localhost/eduaid-registry:dev
#   IMAGES_WORK=/var/tmp/eduaid-images        (containers.conf, rootfs)
set -euo pipefail
cd "$(dirname "$0")/.."

ENGINE=${ENGINE:-podman}
IMAGE_PREFIX=${IMAGE_PREFIX:-localhost/eduaid-}
TAG=${TAG:-dev}
IMAGES_WORK=${IMAGES_WORK:-/var/tmp/eduaid-images}
ALL_SERVICES=(registry ledger teacher vocational)

grpc_port() {
  case "$1" in
    registry) echo 50051 ;; ledger) echo 50052 ;;
    teacher) echo 50053 ;; vocational) echo 50054 ;;
    *) echo "unknown service $1" >&2; return 1 ;;
  esac
}

log() { echo "images: $*" >&2; }

buildable_services() {
  local svc
  for svc in "${ALL_SERVICES[@]}"; do
    if [ -f "services/$svc/CMakeLists.txt" ] && [ -f "services/$svc/main.cc" ]; then
      echo "$svc"
    fi
  done
}

# Podman on these hosts: runc (crun fails on hybrid cgroups), default ulimits
# within the host's hard limit, a local Debian base image.
prepare_podman() {
  local need=()
  local p
  for p in podman buildah debootstrap fuse-overlayfs uidmap runc; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null ||
      { $sudo apt-get update -q >/dev/null &&
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null; }
  fi
  mkdir -p "$IMAGES_WORK"
  local hard
  hard=$(ulimit -Hn)
  [ "$hard" = unlimited ] && hard=1048576
  cat >"$IMAGES_WORK/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=${hard}:${hard}", "nproc=4096:4096"]
[engine]
runtime = "runc"
CONF
  export CONTAINERS_CONF="$IMAGES_WORK/containers.conf"
  if ! podman image exists docker.io/library/debian:bookworm-slim; then
    if ! podman image exists localhost/debian:bookworm-slim; then
      local mirror rootfs="$IMAGES_WORK/rootfs"
      mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
      mirror=${mirror:-http://deb.debian.org/debian}
      log "making the bookworm-slim base with debootstrap from $mirror"
      rm -rf "$rootfs"
      debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$IMAGES_WORK/debootstrap.log" 2>&1 ||
        { tail -20 "$IMAGES_WORK/debootstrap.log" >&2; return 1; }
      # The same apt sources as the host (updates and security included).
      if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/"
        rm -f "$rootfs/etc/apt/sources.list"
      fi
      rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
      tar -C "$rootfs" -c . | podman import -q - localhost/debian:bookworm-slim >/dev/null
      rm -rf "$rootfs"
    fi
    podman tag localhost/debian:bookworm-slim docker.io/library/debian:bookworm-slim
  fi
}

prepare() {
  case "$ENGINE" in
    podman) prepare_podman ;;
    docker) command -v docker >/dev/null || { log "docker not found"; return 1; } ;;
    *) log "ENGINE must be podman or docker"; return 1 ;;
  esac
}

build_one() {
  local svc=$1 port
  port=$(grpc_port "$svc")
  local image="${IMAGE_PREFIX}${svc}:${TAG}"
  local args=(build -f deploy/docker/Dockerfile -t "$image"
    --build-arg "SERVICE=$svc"
    --build-arg "GRPC_PORT=$port"
    --build-arg "METRICS_PORT=$((port - 50051 + 9101))"
    --build-arg "HEALTH_PORT=$((port + 100))")
  if [ "$ENGINE" = podman ]; then
    # (BuildKit finds deploy/docker/Dockerfile.dockerignore by its name.)
    args+=(--pull=never --network host --layers --ignorefile deploy/docker/Dockerfile.dockerignore)
  fi
  log "building $image"
  local start=$SECONDS
  "$ENGINE" "${args[@]}" . >"$IMAGES_WORK/build-$svc.log" 2>&1 ||
    { tail -40 "$IMAGES_WORK/build-$svc.log" >&2; log "build of $svc failed (log: $IMAGES_WORK/build-$svc.log)"; return 1; }
  log "built $image in $((SECONDS - start)) s"
}

# The Redis TLS client sidecar of prod pods (k8s/components/redis-tls):
# Debian's stunnel4, no project code. The build checks stunnel runs.
build_proxy() {
  local image="${IMAGE_PREFIX}redis-tls-proxy:${TAG}"
  local args=(build -f deploy/docker/Dockerfile.redis-tls-proxy -t "$image")
  [ "$ENGINE" = podman ] && args+=(--pull=never --network host --layers)
  log "building $image"
  "$ENGINE" "${args[@]}" deploy/docker >"$IMAGES_WORK/build-redis-tls-proxy.log" 2>&1 ||
    { tail -20 "$IMAGES_WORK/build-redis-tls-proxy.log" >&2; log "build of the Redis TLS proxy failed"; return 1; }
}

cmd=${1:-build}
[ $# -gt 0 ] && shift
case "$cmd" in
  list) buildable_services ;;
  base) prepare ;;
  build)
    mkdir -p "$IMAGES_WORK"
    prepare
    services=("$@")
    if [ ${#services[@]} -eq 0 ]; then
      mapfile -t services < <(buildable_services)
    fi
    if [ ${#services[@]} -eq 0 ]; then
      log "no service has services/<svc>/main.cc yet: nothing to build"
      exit 1
    fi
    for svc in "${services[@]}"; do build_one "$svc"; done
    # With no service named: every image prod needs, the sidecar too.
    # (An `if`, not `[ ] && ...`: as the last command a false test would
    # be this script's exit status.)
    if [ $# -eq 0 ]; then build_proxy; fi
    ;;
  proxy) mkdir -p "$IMAGES_WORK"; prepare; build_proxy ;;
  *) echo "usage: $0 [build [SERVICE...] | proxy | base | list]" >&2; exit 2 ;;
esac
