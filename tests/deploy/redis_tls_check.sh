#!/usr/bin/env bash
# Runs prod's Redis and a service pod's TLS sidecar here, from the rendered
# prod overlay (components/redis-tls), and checks what they promise:
#   - the "auth" init container's script writes the password include file
#     from the Secret, and refuses a password that could inject configuration;
#   - redis-server starts with prod's redis.conf (paths moved here);
#   - no plaintext: a plaintext client gets no answer; a TLS client without
#     a client certificate is refused;
#   - the readiness probe's command (redis-cli over TLS, REDISCLI_AUTH) PONGs;
#   - through the sidecar (stunnel with prod's stunnel.conf) on 127.0.0.1:
#     without the password NOAUTH, with it PONG (what the service does);
#   - the sidecar refuses a Redis whose certificate has another name, and one
#     whose certificate another CA issued (it verifies the server).
# Certificates are made as docs/DEPLOY.md makes them.
#
#   tests/deploy/redis_tls_check.sh        (`make redis-tls-check`; about 5 s)
# Needs kubectl (kustomize), redis-server and redis-cli, stunnel4 (installed
# with apt-get when missing), /usr/bin/python3 with PyYAML.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PY=/usr/bin/python3
log() { echo "redis-tls-check: $*"; }
need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v stunnel4 >/dev/null || need+=(stunnel4)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

w=$(mktemp -d /tmp/eduaid-redis-tls-check.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$w"
}
trap cleanup EXIT
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P_REDIS=$(free_port) P_PROXY=$(free_port) P_EVIL=$(free_port) P_EVIL_PROXY=$(free_port)
P_ROGUE=$(free_port) P_ROGUE_PROXY=$(free_port)

kubectl kustomize "$root/k8s/overlays/prod" >"$w/prod.yaml"
# Pieces of the rendered prod overlay, with the pod paths moved under $w.
$PY - "$w" <<'PY'
import json, sys, yaml
w = sys.argv[1]
docs = [d for d in yaml.safe_load_all(open(f"{w}/prod.yaml")) if d]
find = lambda kind, name: next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)
sts = find("StatefulSet", "eduaid-redis")["spec"]["template"]["spec"]
redis = next(c for c in sts["containers"] if c["name"] == "redis")
auth = next(c for c in sts.get("initContainers", []) if c["name"] == "auth")
dep = find("Deployment", "eduaid-registry")["spec"]["template"]["spec"]
proxy = next(c for c in dep.get("initContainers", []) if c["name"] == "redis-tls-proxy")
out = {
    "redis_conf": find("ConfigMap", "eduaid-redis-config")["data"]["redis.conf"],
    "stunnel_conf": find("ConfigMap", "eduaid-redis-tls-proxy")["data"]["stunnel.conf"],
    "auth_script": auth["command"][-1],
    "probe": redis["readinessProbe"]["exec"]["command"],
    "proxy_args": proxy.get("args", []),
    "service_env": [e["name"] for e in dep["containers"][0].get("env", [])],
}
json.dump(out, open(f"{w}/pieces.json", "w"))
PY
piece() { $PY -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(v if isinstance(v,str) else "\n".join(v))' "$w/pieces.json" "$1"; }
moved() {  # the pod's paths, here
  sed -e "s#/etc/redis-tls/#$w/redis-tls/#g" -e "s#/etc/redis-auth-secret/#$w/auth-secret/#g" \
      -e "s#/run/redis-auth/#$w/run-redis-auth/#g" -e "s#^dir /data\$#dir $w/data#" \
      -e "s#/etc/eduaid/tls/#$w/svc-tls/#g"
}

# Certificates as docs/DEPLOY.md issues them (Redis: "Redis (prod)"; the pod:
# "Secrets" step 4).
mkdir -p "$w/redis-tls" "$w/evil-tls" "$w/rogue-tls" "$w/svc-tls" "$w/auth-secret" "$w/run-redis-auth" "$w/data" "$w/pki"
ca() { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=$1" -keyout "$w/pki/$1.key" -out "$w/pki/$1.crt" 2>/dev/null; }
cert() {  # cert CA DIR CN SANS
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$3" \
    -keyout "$w/$2/tls.key" -out "$w/pki/$2.csr" 2>/dev/null
  openssl x509 -req -in "$w/pki/$2.csr" -CA "$w/pki/$1.crt" -CAkey "$w/pki/$1.key" -CAcreateserial -days 2 \
    -out "$w/$2/tls.crt" 2>/dev/null -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$4")
  cp "$w/pki/$1.crt" "$w/$2/ca.crt"
}
ca eduaid-ca
ca other-ca
cert eduaid-ca redis-tls eduaid-redis "DNS:eduaid-redis,DNS:eduaid-redis.eduaid.svc,DNS:eduaid-redis.eduaid.svc.cluster.local"
cert eduaid-ca evil-tls eduaid-evil "DNS:eduaid-evil,DNS:localhost,IP:127.0.0.1"
cert other-ca rogue-tls eduaid-redis "DNS:eduaid-redis"
cert eduaid-ca svc-tls eduaid-registry "DNS:eduaid-registry,DNS:eduaid-registry.eduaid.svc"
cp "$w/pki/eduaid-ca.crt" "$w/rogue-tls/ca.crt"  # the rogue server trusts our clients
password=$(openssl rand -hex 32)

fails=0
check() {
  local what=$1
  shift
  if "$@" >"$w/check.out" 2>&1; then log "ok   $what"; else
    log "FAIL $what"
    sed 's/^/       /' "$w/check.out" | tail -15
    fails=$((fails + 1))
  fi
}

# The init container's script: refuses what could inject configuration.
piece auth_script | moved >"$w/auth.sh"
printf 'x\nrename-command CONFIG ""' >"$w/auth-secret/password"
check "init container refuses a password that is not a plain token" bash -c "! sh -e '$w/auth.sh'"
printf '%s' "$password" >"$w/auth-secret/password"
check "init container writes requirepass from the Secret" \
  bash -c "sh -e '$w/auth.sh' && grep -qx 'requirepass $password' '$w/run-redis-auth/auth.conf'"

start_redis() {  # start_redis NAME PORT TLSDIR
  piece redis_conf | moved | sed -e "s#^tls-port 6379\$#tls-port $2#" -e "s#$w/redis-tls/#$w/$3/#g" \
    -e 's#^bind 0.0.0.0$#bind 127.0.0.1#' -e '/^appendonly /s/yes/no/' -e '/^save /d' \
    -e "s#^dir .*#dir $w/data#" -e "s#^maxmemory .*#maxmemory 64mb#" >"$w/$1.conf"
  redis-server "$w/$1.conf" >"$w/$1.log" 2>&1 &
  pids+=($!)
}
start_proxy() {  # start_proxy NAME ACCEPT_PORT REDIS_PORT
  piece stunnel_conf | moved | sed -e "s#^accept = 127.0.0.1:6379\$#accept = 127.0.0.1:$2#" \
    -e "s#^connect = eduaid-redis:6379\$#connect = 127.0.0.1:$3#" >"$w/$1.conf"
  stunnel4 "$w/$1.conf" >"$w/$1.log" 2>&1 &
  pids+=($!)
}
wait_port() { for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

has() { $PY -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; v=v.splitlines() if isinstance(v,str) else v; sys.exit(0 if sys.argv[3] in v else 1)' "$w/pieces.json" "$1" "$2"; }
check "prod redis.conf: no plaintext port" has redis_conf "port 0"
check "prod redis.conf: includes the password file" has redis_conf "include /run/redis-auth/auth.conf"
start_redis redis "$P_REDIS" redis-tls
check "redis-server starts with prod's redis.conf (TLS on $P_REDIS)" wait_port "$P_REDIS"
check "a plaintext client gets no PONG" \
  bash -c "! timeout 3 redis-cli -p $P_REDIS -a '$password' --no-auth-warning ping | grep -q PONG"
check "a TLS client without a client certificate is refused" \
  bash -c "! timeout 3 redis-cli --tls --cacert '$w/pki/eduaid-ca.crt' -p $P_REDIS -a '$password' --no-auth-warning ping 2>&1 | grep -q PONG"
mapfile -t probe < <(piece probe | moved | sed "s#^6379\$#$P_REDIS#")
check "the readiness probe's command answers PONG (${probe[0]} ${probe[1]} ...)" \
  bash -c 'REDISCLI_AUTH="$0" timeout 5 "$@" | grep -qx PONG' "$password" "${probe[@]}"

mapfile -t pargs < <(piece proxy_args)
check "the sidecar is started with the ConfigMap's stunnel.conf" test "${pargs[*]}" = /etc/eduaid/redis-tls-proxy/stunnel.conf
check "the service container gets EDUAID_REDIS_PASSWORD" has service_env EDUAID_REDIS_PASSWORD
start_proxy proxy "$P_PROXY" "$P_REDIS"
check "the sidecar listens on 127.0.0.1:$P_PROXY" wait_port "$P_PROXY"
check "through the sidecar without the password: NOAUTH" \
  bash -c "timeout 5 redis-cli -p $P_PROXY ping 2>&1 | grep -q NOAUTH"
check "through the sidecar with the password: PONG (as the service: redis://127.0.0.1 + AUTH)" \
  bash -c "timeout 5 redis-cli -p $P_PROXY -a '$password' --no-auth-warning set eduaid:check 1 | grep -qx OK && timeout 5 redis-cli -p $P_PROXY -a '$password' --no-auth-warning get eduaid:check | grep -qx 1"

# A Redis the sidecar must not trust: same CA but another name; right name
# but another CA.
start_redis evil "$P_EVIL" evil-tls
start_proxy evil-proxy "$P_EVIL_PROXY" "$P_EVIL"
start_redis rogue "$P_ROGUE" rogue-tls
start_proxy rogue-proxy "$P_ROGUE_PROXY" "$P_ROGUE"
wait_port "$P_EVIL" && wait_port "$P_EVIL_PROXY" && wait_port "$P_ROGUE" && wait_port "$P_ROGUE_PROXY" || true
check "the sidecar refuses a Redis certificate for another name (checkHost)" \
  bash -c "! timeout 5 redis-cli -p $P_EVIL_PROXY -a '$password' --no-auth-warning ping 2>&1 | grep -q PONG && grep -qi 'check\|verif\|certificate' '$w/evil-proxy.log'"
check "the sidecar refuses a Redis certificate from another CA (verifyChain)" \
  bash -c "! timeout 5 redis-cli -p $P_ROGUE_PROXY -a '$password' --no-auth-warning ping 2>&1 | grep -q PONG && grep -qi 'verif\|certificate' '$w/rogue-proxy.log'"

if [ "$fails" -gt 0 ]; then
  log "$fails check(s) failed"
  for f in redis proxy evil-proxy rogue-proxy; do log "$f log:"; tail -5 "$w/$f.log" | sed 's/^/       /'; done
  exit 1
fi
log "all checks passed"
