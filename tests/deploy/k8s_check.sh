#!/usr/bin/env bash
# Quick offline checks of the deployment files (no cluster, no running
# services; `make k8s-check`, meant for CI):
#   1. no '--insecure-no-auth' anywhere under k8s/;
#   2. every overlay (and the base) renders with `kubectl kustomize`;
#   3. every rendered object passes schema validation (npm kubernetes-models,
#      @kubernetes-models/prometheus-operator, @kubernetes-models/cloudnative-pg),
#      has no unknown field (type-checked against the models' interfaces), and
#      follows eduaid's rules (tests/deploy/validate.mjs): prod has the four
#      Deployments with gRPC probes, Services, HPA, PDB, NetworkPolicies that
#      make each service reachable only by its callers, ServiceMonitor,
#      PrometheusRule, the CloudNativePG Cluster and a persistent Redis;
#   4. the rules catch known mistakes (mutations of the prod rendering);
#   5. the alert rules pass `promtool check rules` and the unit tests in
#      tests/deploy/alerts_test.yml; deploy/prometheus/prometheus.yml passes
#      `promtool check config`;
#   6. the Grafana dashboard is valid JSON with a query on every panel, and
#      every metric name in the alerts and dashboard is one the services
#      register (services/**: .Name("...")) or one of the contract's names
#      not written yet (tests/deploy/metrics_contract.txt); the running-suite
#      comparison is tests/deploy/suite_check.sh (`make metrics-check`);
#   7. the Envoy configuration names the four services and, when the build's
#      descriptor set exists, every service it names that the build has;
#      every listener is TLS requiring a client certificate, every cluster
#      mTLS (tests/deploy/envoy_check.py, with its own mutation selftest);
#   8. the image's build stage installs every build package scripts/deps.sh
#      lists (so a new dependency cannot break only the image build).
# Tools: kubectl (with kustomize), node/npm (installs tests/deploy/node_modules
# on first use), promtool (from Debian's prometheus package, unpacked into
# tests/deploy/node_modules/.promtool without installing the daemon).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
start=$SECONDS
fails=0
ok() { echo "k8s-check: ok   $*"; }
bad() { echo "k8s-check: FAIL $*"; fails=$((fails + 1)); }

command -v kubectl >/dev/null || { echo "k8s-check: kubectl (with kustomize) is required" >&2; exit 1; }
command -v node >/dev/null || { echo "k8s-check: node and npm are required" >&2; exit 1; }
if [ ! -f "$here/node_modules/.installed" ] || [ "$here/package.json" -nt "$here/node_modules/.installed" ]; then
  (cd "$here" && npm install --no-audit --no-fund --silent >/dev/null) && touch "$here/node_modules/.installed"
fi

# 1. The local-experiments flag never reaches Kubernetes.
if grep -rn -- '--insecure-no-auth' k8s/; then bad "'--insecure-no-auth' appears under k8s/"; else ok "no --insecure-no-auth under k8s/"; fi

# 2-4. Render and validate.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for dir in k8s/base k8s/overlays/*/; do
  name=$(basename "$dir")
  if ! kubectl kustomize "$dir" >"$tmp/$name.yaml" 2>"$tmp/$name.err"; then
    bad "kubectl kustomize $dir"; sed 's/^/       /' "$tmp/$name.err"; continue
  fi
  profile=none
  case "$name" in dev | prod) profile=$name ;; esac
  if node "$here/validate.mjs" --profile "$profile" "$name" "$tmp/$name.yaml" >"$tmp/$name.out"; then
    ok "$(cat "$tmp/$name.out")"
  else
    bad "$name"; sed 's/^/       /' "$tmp/$name.out"
  fi
done
if [ -f "$tmp/prod.yaml" ]; then
  if EDUAID_SELFTEST=1 node "$here/validate.mjs" --profile prod prod "$tmp/prod.yaml" >"$tmp/self.out"; then
    ok "$(cat "$tmp/self.out")"
  else
    bad "selftest"; sed 's/^/       /' "$tmp/self.out"
  fi
fi

# 5. promtool: rule syntax, alert unit tests, the local scrape config.
promtool=$(command -v promtool || true)
if [ -z "$promtool" ]; then
  promtool="$here/node_modules/.promtool/usr/bin/promtool"
  if [ ! -x "$promtool" ]; then
    (cd "$tmp" && { apt-get download prometheus >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null 2>&1 && apt-get download prometheus >/dev/null 2>&1; }; } &&
      dpkg-deb -x prometheus_*.deb "$here/node_modules/.promtool") || true
  fi
fi
if [ -x "$promtool" ] && [ -f "$tmp/prod.yaml" ]; then
  node "$here/extract_rules.mjs" "$tmp/prod.yaml" >"$tmp/eduaid.rules.yml"
  cp "$here"/alerts*_test.yml "$tmp/"
  if "$promtool" check rules "$tmp/eduaid.rules.yml" >"$tmp/p.out" 2>&1; then ok "promtool check rules: $(grep -o '[0-9]* rules found' "$tmp/p.out")"; else
    bad "promtool check rules"; sed 's/^/       /' "$tmp/p.out"; fi
  if (cd "$tmp" && "$promtool" test rules alerts_test.yml alerts_schedule_test.yml) >"$tmp/p.out" 2>&1; then
    ok "promtool test rules: $(grep -c SUCCESS "$tmp/p.out") test files pass"; else
    bad "promtool test rules"; sed 's/^/       /' "$tmp/p.out"; fi
  if "$promtool" check config deploy/prometheus/prometheus.yml >"$tmp/p.out" 2>&1; then ok "promtool check config deploy/prometheus/prometheus.yml"; else
    bad "promtool check config"; sed 's/^/       /' "$tmp/p.out"; fi
else
  bad "promtool unavailable (install Debian's prometheus package): alert rules not checked"
fi

# 6. Dashboard shape and metric names against the code and the contract.
if node --input-type=module -e '
  import { readFileSync } from "node:fs";
  const d = JSON.parse(readFileSync(process.argv[1], "utf8"));
  const ids = new Set(); let n = 0;
  for (const p of d.panels) {
    if (p.type === "row") continue;
    n++;
    if (ids.has(p.id)) throw new Error(`duplicate panel id ${p.id}`);
    ids.add(p.id);
    if (!p.gridPos || !p.datasource) throw new Error(`panel ${p.title}: no gridPos or datasource`);
    if (!(p.targets || []).length || p.targets.some((t) => !t.expr)) throw new Error(`panel ${p.title}: a target without expr`);
  }
  if (!d.uid || !d.title) throw new Error("no uid/title");
  console.log(`${n} panels`);' deploy/grafana/eduaid-dashboard.json >"$tmp/d.out" 2>&1; then
  ok "Grafana dashboard: $(cat "$tmp/d.out")"
else
  bad "Grafana dashboard"; sed 's/^/       /' "$tmp/d.out"
fi
grep -rhoE '\.Name\("[a-zA-Z_:][a-zA-Z0-9_:]*"\)' services 2>/dev/null | sed -E 's/^\.Name\("(.*)"\)$/\1/' >"$tmp/known" || true
grep -vE '^\s*(#|$)' "$here/metrics_contract.txt" | awk '{print $1}' >>"$tmp/known"
echo up >>"$tmp/known"
sort -u -o "$tmp/known" "$tmp/known"
node "$here/promql_names.mjs" "$root" >"$tmp/used"
grep '^record:' "$tmp/used" | sed 's/^record://' | cut -f1 | sort -u >"$tmp/records" || true
unknown=0
while IFS=$'\t' read -r name file; do
  case "$name" in record:*) continue ;; esac
  if [[ "$name" == *:* ]]; then grep -qxF "$name" "$tmp/records" && continue; else
    base=$(sed -E 's/_(bucket|sum|count)$//' <<<"$name")
    grep -qxF -e "$name" -e "$base" "$tmp/known" && continue
  fi
  bad "metric $name ($file) is neither registered in services/ nor in the contract"
  unknown=$((unknown + 1))
done <"$tmp/used"
[ "$unknown" -eq 0 ] && ok "metric names: $(grep -vc '^record:' "$tmp/used") uses, all registered or in the contract"

# 7. Envoy: the four services (and the descriptor set's), TLS with a
# required client certificate on every listener, mTLS to every cluster;
# then the same rules against known mistakes (tests/deploy/envoy_check.py).
descriptor=""
for b in build build-*; do [ -f "$b/eduaid_descriptor.pb" ] && { descriptor="$b/eduaid_descriptor.pb"; break; }; done
# Reading the descriptor set needs Debian's python3-protobuf.
if [ -n "$descriptor" ] && ! /usr/bin/python3 -c 'import google.protobuf' 2>/dev/null; then
  echo "k8s-check: installing python3-protobuf (to read $descriptor)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-protobuf >/dev/null || true
fi
if /usr/bin/python3 "$here/envoy_check.py" deploy/envoy/envoy.yaml "$descriptor" >"$tmp/e.out" 2>&1; then
  ok "Envoy: $(cat "$tmp/e.out")"; else bad "Envoy"; sed 's/^/       /' "$tmp/e.out"; fi
if /usr/bin/python3 "$here/envoy_check.py" --selftest deploy/envoy/envoy.yaml >"$tmp/e.out" 2>&1; then
  ok "$(tail -1 "$tmp/e.out")"; else bad "Envoy selftest"; sed 's/^/       /' "$tmp/e.out"; fi

# 8. The image build stage keeps up with scripts/deps.sh (run/test-only
# tools excepted).
mapfile -t deps < <(sed -n '/^PACKAGES=(/,/^)/p' scripts/deps.sh | sed '1d;$d' | tr ' ' '\n' | grep -v '^$')
stage=$(sed -n '/^FROM .* AS deps/,/^FROM /p' deploy/docker/Dockerfile)
missing=()
for p in "${deps[@]}"; do
  # Needed to run, test or speed up builds here, not to build an image.
  case "$p" in git | clang-format | ccache | openssl | curl | redis-server | sqlite3 | postgresql | procps | python3-grpcio | python3-protobuf) continue ;; esac
  grep -qE "(^|[[:space:]])$(sed 's/[+.]/\\&/g' <<<"$p")([[:space:]]|\\|$)" <<<"$stage" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then ok "Dockerfile build stage has every build package of scripts/deps.sh (${#deps[@]} listed)"; else
  bad "deploy/docker/Dockerfile build stage lacks: ${missing[*]} (scripts/deps.sh installs them: add them to the deps stage, or, if only running or testing needs them, to the list above in tests/deploy/k8s_check.sh)"; fi

echo "k8s-check: $((SECONDS - start)) s, $fails failure(s)"
[ "$fails" -eq 0 ]
