#!/usr/bin/env bash
# End to end: starts the suite the way `make run` does (scripts/run.sh, on
# its own ports and state directory), then drives it with eductl as a
# newcomer would, and checks what the README promises.
set -uo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
[ -d "$BUILD" ] || BUILD="$ROOT/$BUILD"
BUILD=$(cd "$BUILD" && pwd)
CTL="$BUILD/tools/eductl/eductl"
WORK=$(mktemp -d /tmp/eduaid-e2e-XXXXXX)
OFF=${E2E_PORT_OFFSET:-3000}
export EDUAID_VAR="$WORK/var" EDUAID_PORT_OFFSET=$OFF
pass=0; fail=0
check() {  # check "what" command...
  local what=$1; shift
  if "$@" >"$WORK/last.out" 2>&1; then
    pass=$((pass + 1)); echo "ok   - $what"
  else
    fail=$((fail + 1)); echo "FAIL - $what"; sed 's/^/       /' "$WORK/last.out" | tail -15
  fi
}
expect_code() {  # expect_code N command...
  local want=$1; shift
  "$@"; local got=$?
  [ "$got" -eq "$want" ] || { echo "exit code $got, want $want"; return 1; }
}

bash "$ROOT/scripts/run.sh" "$BUILD" >"$WORK/run.out" 2>&1 &
RUN=$!
for _ in $(seq 240); do [ -f "$EDUAID_VAR/ready" ] && break; kill -0 $RUN 2>/dev/null || break; sleep 0.5; done
if [ ! -f "$EDUAID_VAR/ready" ]; then
  echo "FAIL - the suite did not start"; cat "$WORK/run.out"; tail -20 "$EDUAID_VAR"/log/*.log; exit 1
fi
SECRET="$EDUAID_VAR/keys/jwt.secret"
R=127.0.0.1:$((50051 + OFF)); L=127.0.0.1:$((50052 + OFF)); T=127.0.0.1:$((50053 + OFF)); V=127.0.0.1:$((50054 + OFF))
ctl() { "$CTL" --registry "$R" --ledger "$L" --teacher "$T" --vocational "$V" "$@"; }
PROVINCE=$("$CTL" token --secret-file "$SECRET" --role province_officer --subject e2e-province)
COUNTY=$("$CTL" token --secret-file "$SECRET" --role county_officer --region 411325 --subject officer-a)
AUDITOR=$("$CTL" token --secret-file "$SECRET" --role auditor --subject e2e-auditor)

declare -A NAMES=([registry]=eduaid.registry.v1.StudentRegistryService
                  [ledger]=eduaid.ledger.v1.SubsidyLedgerService
                  [teacher]=eduaid.teacher.v1.TeacherSupportService
                  [vocational]=eduaid.vocational.v1.VocationalTrainingService)
declare -A PORT=([registry]=50051 [ledger]=50052 [teacher]=50053 [vocational]=50054)
declare -A MPORT=([registry]=9101 [ledger]=9102 [teacher]=9103 [vocational]=9104)
for svc in registry ledger teacher vocational; do
  [ -x "$BUILD/services/$svc/${svc}_server" ] || continue
  g=$((PORT[$svc] + OFF)); h=$((g + 100)); m=$((MPORT[$svc] + OFF))
  check "$svc: health SERVING on the plaintext health port" \
    bash -c "'$CTL' health --target 127.0.0.1:$h --service ${NAMES[$svc]} | grep -qx SERVING"
  check "$svc: reflection lists ${NAMES[$svc]}" \
    bash -c "'$CTL' services --target 127.0.0.1:$g | grep -qx ${NAMES[$svc]}"
  check "$svc: health port carries nothing but health" \
    bash -c "! '$CTL' services --target 127.0.0.1:$h"
  check "$svc: grpc_server_handled_total on :$m/metrics" \
    bash -c "'$CTL' health --target 127.0.0.1:$g >/dev/null; curl -sf http://127.0.0.1:$m/metrics | grep -q '^grpc_server_handled_total'"
done

# Registry: the README's five commands.
check "registry: a call without a token is UNAUTHENTICATED" expect_code 3 ctl coverage
check "registry: demo county coverage for a county officer" \
  bash -c "'$CTL' --registry $R --token '$COUNTY' coverage | grep -q '411325 *内乡县'"
check "registry: a county officer cannot read another county" \
  expect_code 3 ctl --token "$COUNTY" coverage --region 411326
check "registry: the out-of-school list of 内乡县 is not empty" \
  bash -c "'$CTL' --registry $R --token '$COUNTY' out-of-school | grep -q 'total out of school: [1-9]'"
mkdir -p "$WORK/csv"
check "eductl gen writes synthetic CSV files" \
  ctl gen --households 200 --regions 411327 --bad-rate 0.02 --dup-rate 0.01 --seed 5 --out-dir "$WORK/csv"
check "CSV import: schools" ctl --token "$PROVINCE" import schools "$WORK/csv/schools.csv"
check "CSV import: households land, bad rows are reported with row, field and rule" \
  bash -c "'$CTL' --registry $R --token '$PROVINCE' import --errors-file '$WORK/errors.csv' households '$WORK/csv/households.csv' | tee '$WORK/imp.out' | grep -q 'rejected [1-9]' && grep -q '^[0-9]*,id_number,' '$WORK/errors.csv'"
check "CSV import: re-import updates and never duplicates" \
  bash -c "before=\$('$CTL' --registry $R --token '$PROVINCE' --json coverage --region 411327 | grep -m1 '\"members\"'); '$CTL' --registry $R --token '$PROVINCE' import households '$WORK/csv/households.csv' >/dev/null && after=\$('$CTL' --registry $R --token '$PROVINCE' --json coverage --region 411327 | grep -m1 '\"members\"'); [ \"\$before\" = \"\$after\" ]"
printf 'household_id,region_code,registration_year,household_status,id_number,name,relation\nHU1,411327,2016,poor,411327201003010015,\377\376,child\nHU1,411327,2016,poor,411327198001010017,王五,head\n' > "$WORK/utf8.csv"
check "CSV import: a field that is not UTF-8 is rejected at the edge, naming row and field" \
  bash -c "'$CTL' --registry $R --token '$PROVINCE' import households '$WORK/utf8.csv' | grep -q 'row 2: name: must be valid UTF-8'"
check "CSV import: rosters" ctl --token "$PROVINCE" import enrolments "$WORK/csv/enrolments.csv"
check "registry: an auditor reads the audit log" \
  bash -c "'$CTL' --registry $R --token '$AUDITOR' audit | grep -q ImportHouseholds"

# Personal data: no plaintext ID number of the demo data in any database
# file, WAL or log.
ctl gen --households 300 --regions 411325,411326 --bad-rate 0.01 --dup-rate 0.01 \
  --out-of-school-rate 0.05 --seed 2018 --out-dir "$WORK" >/dev/null
tail -n +2 "$WORK/households.csv" | cut -d, -f5 | sort -u | grep -E '^[0-9]{17}[0-9X]$' > "$WORK/ids.txt"
check "the demo data has ID numbers to look for" test -s "$WORK/ids.txt"
check "no plaintext ID number in any database file or log" \
  bash -c "! grep -a -F -l -f '$WORK/ids.txt' '$EDUAID_VAR'/*.db* '$EDUAID_VAR'/log/*.log"

# Graceful stop.
kill -TERM $RUN
stopped=0
for _ in $(seq 60); do kill -0 $RUN 2>/dev/null || { stopped=1; break; }; sleep 0.5; done
check "Ctrl-C / SIGTERM stops the whole suite" test $stopped -eq 1
check "no server is left running" bash -c "! pgrep -f -- '[-]-database sqlite://$EDUAID_VAR' >/dev/null"

rm -rf "$WORK"
echo "e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
