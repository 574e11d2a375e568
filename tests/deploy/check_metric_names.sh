#!/usr/bin/env bash
# Every metric name used by the alerts (k8s/) and dashboards (deploy/) must be
# exported by a running eduaid service.
#
#   tests/deploy/check_metric_names.sh [SERVICE=]URL...
#   (SERVICE= says which service answers there; without it the metrics ports
#   9101..9104 name the service.) e.g. tests/deploy/check_metric_names.sh http://127.0.0.1:9101/metrics \
#          http://127.0.0.1:9102/metrics http://127.0.0.1:9103/metrics \
#          http://127.0.0.1:9104/metrics
#
# Names are read from the PromQL expressions (tests/deploy/promql_names.mjs).
# A histogram X is used as X_bucket, X_sum, X_count; recording rules (names
# with ':') must be defined by a rule in the same tree; "up" is Prometheus's
# own. Names owned by one service (eduaid_ledger_*, eduaid_teacher_*,
# eduaid_vocational_*, eduaid_registry_*) can only be checked when that
# service answered: otherwise they are reported as SKIP (a service not built
# yet). prometheus-cpp leaves out a family until it has a sample (a labelled
# counter before its first increment), so a name that a running service does
# not show yet but registers in its source (.Name("...") under services/) is
# reported as DECLARED. SKIP and DECLARED fail only with STRICT=1. Exits 1 on
# any name neither exported nor declared, and when no URL answered at all.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ $# -eq 0 ]; then
  echo "usage: $0 METRICS_URL..." >&2
  exit 2
fi
[ -d "$here/node_modules/js-yaml" ] || (cd "$here" && npm install --no-audit --no-fund --silent >/dev/null)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/exported"
declare -A reachable=()
for arg in "$@"; do
  svc="" url=$arg
  if [[ "$arg" =~ ^(registry|ledger|teacher|vocational)=(.*)$ ]]; then
    svc=${BASH_REMATCH[1]} url=${BASH_REMATCH[2]}
  fi
  if curl -fsS --max-time 5 "$url" -o "$tmp/scrape" 2>/dev/null; then
    # The service that answered: as named, by its metrics port (9101..9104),
    # or by its own eduaid_<svc>_ metrics.
    if [ -z "$svc" ]; then
      case "$(sed -E 's#^[a-z]+://[^/]*:([0-9]+)/.*#\1#' <<<"$url")" in
        9101) svc=registry ;; 9102) svc=ledger ;; 9103) svc=teacher ;; 9104) svc=vocational ;;
      esac
    fi
    [ -n "$svc" ] && reachable[$svc]=1
    for svc in $(grep -oE '^(# TYPE )?eduaid_(registry|ledger|teacher|vocational)_' "$tmp/scrape" |
      sed -E 's/^(# TYPE )?eduaid_//; s/_$//' | sort -u); do
      reachable[$svc]=1
    done
    # "# TYPE name type" and sample names; histogram and summary series too.
    awk '
      /^# TYPE / { print $3; if ($4 == "histogram") { print $3 "_bucket"; print $3 "_sum"; print $3 "_count" }
                   if ($4 == "summary") { print $3 "_sum"; print $3 "_count" } next }
      /^#/ || NF == 0 { next }
      { n = $1; sub(/\{.*/, "", n); print n }' "$tmp/scrape" >>"$tmp/exported"
    echo "scraped $url ($(grep -c '^# TYPE ' "$tmp/scrape" || true) families)"
  else
    echo "unreachable $url (service not running or not built yet)"
  fi
done
if [ ${#reachable[@]} -eq 0 ] && ! [ -s "$tmp/exported" ]; then
  echo "FAIL: no metrics endpoint answered; nothing was checked" >&2
  exit 1
fi
sort -u -o "$tmp/exported" "$tmp/exported"

node "$here/promql_names.mjs" "$root" >"$tmp/used"
grep '^record:' "$tmp/used" | sed 's/^record://' | cut -f1 | sort -u >"$tmp/records" || true
# Names the C++ registers: .Name("...") in services/ (histograms with suffixes).
grep -rhoE '\.Name\("[a-zA-Z_:][a-zA-Z0-9_:]*"\)' "$root/services" 2>/dev/null |
  sed -E 's/^\.Name\("(.*)"\)$/\1/' | sort -u >"$tmp/declared" || true
bad=0 skipped=0 ok=0 declared=0
while IFS=$'\t' read -r name file; do
  case "$name" in record:*) continue ;; esac
  if [[ "$name" == *:* ]]; then
    if grep -qxF "$name" "$tmp/records"; then ok=$((ok + 1)); else
      echo "FAIL $name ($file): recording rule not defined"; bad=$((bad + 1)); fi
    continue
  fi
  if [ "$name" = up ] || grep -qxF "$name" "$tmp/exported"; then
    ok=$((ok + 1))
    continue
  fi
  owner=$(sed -nE 's/^eduaid_(registry|ledger|teacher|vocational)_.*/\1/p' <<<"$name")
  if [ -n "$owner" ] && [ -z "${reachable[$owner]:-}" ]; then
    echo "SKIP $name ($file): $owner did not answer"
    skipped=$((skipped + 1))
    continue
  fi
  base=$(sed -E 's/_(bucket|sum|count)$//' <<<"$name")
  if grep -qxF -e "$name" -e "$base" "$tmp/declared"; then
    echo "DECLARED $name ($file): registered in services/ but no sample yet"
    declared=$((declared + 1))
    continue
  fi
  echo "FAIL $name ($file): not exported by any scraped service"
  bad=$((bad + 1))
done <"$tmp/used"
answering=$(printf '%s ' "${!reachable[@]}")
echo "metric names: $ok exported, $declared declared without samples yet, $skipped unverified, $bad missing (services answering: ${answering:-none})"
if [ "$bad" -gt 0 ]; then exit 1; fi
if [ $((skipped + declared)) -gt 0 ] && [ "${STRICT:-0}" = 1 ]; then exit 1; fi
exit 0
