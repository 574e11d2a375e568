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
# Whatever happens to this script, the suite it started goes with it.
trap 'kill -TERM $RUN 2>/dev/null; wait $RUN 2>/dev/null' EXIT
for _ in $(seq 240); do [ -f "$EDUAID_VAR/ready" ] && break; kill -0 $RUN 2>/dev/null || break; sleep 0.5; done
if [ ! -f "$EDUAID_VAR/ready" ]; then
  echo "FAIL - the suite did not start"; cat "$WORK/run.out"; tail -n 20 "$EDUAID_VAR"/log/*.log; exit 1
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

# Ledger: pay the demo county for a term, two officers.
if [ -x "$BUILD/services/ledger/ledger_server" ]; then
  COUNTY_B=$("$CTL" token --secret-file "$SECRET" --role county_officer --region 411325 --subject officer-b)
  check "ledger: entitlements generated from the registry" \
    ctl --token "$COUNTY" ledger entitlements generate --term 2026-autumn --region 411325
  check "ledger: a batch is created" \
    ctl --token "$COUNTY" ledger batch create --term 2026-autumn --region 411325 --note e2e
  check "ledger: its creator cannot approve it" \
    bash -c "! '$CTL' --ledger $L --token '$COUNTY' ledger batch approve 1"
  check "ledger: a second officer approves" ctl --token "$COUNTY_B" ledger batch approve 1
  check "ledger: the batch executes" ctl --token "$COUNTY" ledger batch execute 1 --wait
  check "ledger: the written notice of payment 1 is Chinese text" \
    bash -c "'$CTL' --ledger $L --token '$COUNTY' ledger notice 1 --out '$WORK/notice.txt' && grep -q '资助' '$WORK/notice.txt'"
  check "ledger: reconciliation" ctl --token "$COUNTY" ledger reconcile --term 2026-autumn --region 411325
  check "ledger: the journal verifies" ctl --token "$AUDITOR" ledger verify-journal
fi

# Teacher: a support-teaching round and a visit campaign.
if [ -x "$BUILD/services/teacher/teacher_server" ]; then
  CITY=$("$CTL" token --secret-file "$SECRET" --role city_officer --region 4113 --subject city-1)
  check "teacher: demo teachers" ctl --token "$PROVINCE" teacher demo
  check "teacher: a round is created" ctl --token "$CITY" teacher round create \
    --name 2027年春季对口交流支教 --region 4113 --term 2027-spring --max-terms 2 --max-per-school 2
  check "teacher: rural demand posted" ctl --token "$CITY" teacher round demand 1 \
    --rural-schools-in 4113 --subjects 数学,英语,语文
  check "teacher: urban teachers nominated" ctl --token "$CITY" teacher round nominate 1 --urban-in 4113
  check "teacher: the round solves" ctl --token "$CITY" teacher round solve 1
  check "teacher: the round publishes" ctl --token "$CITY" teacher round publish 1
  check "teacher: a visit campaign is created" ctl --token "$COUNTY" teacher campaign create \
    --name 2026年秋季万名教师大走访 --region 411325 --term 2026-autumn --cap 12
  check "teacher: every household assigned or listed uncovered" ctl --token "$COUNTY" teacher campaign assign 1
  check "teacher: coverage by teacher" ctl --token "$COUNTY" teacher campaign coverage 1 --by teacher
fi

# Vocational: offers, enrolment with a waitlist, grants in the ledger.
if [ -x "$BUILD/services/vocational/vocational_server" ]; then
  check "vocational: a major with few places" ctl --token "$COUNTY" vocational course add-major \
    --code V411325-2026-QC --name 汽车运用与维修 --region 411325 --school S411325V1 \
    --school-name 内乡县第一职业中专 --intake 2026-autumn --capacity 2
  check "vocational: offers to graduates with no school" \
    ctl --token "$COUNTY" vocational offers run --region 411325 --year 2026
  check "vocational: offer holders apply" ctl --token "$COUNTY" vocational apply-offered \
    V411325-2026-QC --region 411325 --year 2026
  check "vocational: the waitlist explains its order" ctl --token "$COUNTY" vocational waitlist V411325-2026-QC
  check "vocational: grants are delivered to the ledger" bash -c "for i in \$(seq 40); do '$CTL' --vocational $V --token '$COUNTY' vocational grants --region 411325 > '$WORK/grants.txt' 2>&1 && grep -q 'backlog (pending): 0' '$WORK/grants.txt' && grep -q delivered '$WORK/grants.txt' && exit 0; sleep 0.5; done; cat '$WORK/grants.txt'; exit 1"
fi

# The household's path across the four services (issue 13), driven as the
# provincial platform would: Python grpcio with stubs compiled from the
# protos, its own county (411330). Every step is one line of its output.
if [ -x "$BUILD/services/teacher/teacher_server" ] && [ -x "$BUILD/services/ledger/ledger_server" ] \
   && [ -x "$BUILD/services/vocational/vocational_server" ]; then
  /usr/bin/python3 "$ROOT/tests/e2e/household_path.py" --eductl "$CTL" --secret-file "$SECRET" \
    --registry "$R" --ledger "$L" --teacher "$T" --vocational "$V" \
    --people-csv "$WORK/household-people.csv" >"$WORK/household.out" 2>&1
  hp=$?
  sed 's/^/       /' "$WORK/household.out"
  check "household path: identified -> visited -> paid -> followed up -> heard, end to end" test "$hp" -eq 0
fi

# Personal data: no ID number or name of the run's people in any database
# file, WAL, log or Redis value: in clear, or base64/hex/protobuf-encoded
# (tests/e2e/pii_scan.py). The scanner's self-test runs first (it must find
# a name in a base64 protobuf of a throwaway SQLite file), and the scan
# itself refuses needles that are not in the CSV they come from.
SCAN=(/usr/bin/python3 "$ROOT/tests/e2e/pii_scan.py")
check "PII scanner self-test: finds a name in a base64 protobuf in a throwaway SQLite file" \
  "${SCAN[@]}" --self-test
# Calls whose answers carry names, so that what the services keep of them
# (idempotency records, audit, cache) is scanned too: a dropout case for an
# out-of-school child of the demo county, opened and moved. (Carer names:
# the household path sets none; pass them with --needle carer=NAME when it
# does.) The household path's people (members, teachers; its visit, findings
# and outbox) are scanned too.
CHILD=$(ctl --token "$COUNTY" out-of-school --region 411325 2>/dev/null | awk '$1 ~ /^m-/ {print $1; exit}')
check "registry: a dropout case is opened for an out-of-school child ($CHILD)" \
  bash -c "'$CTL' --registry $R --token '$COUNTY' case open '$CHILD' --note 'e2e: home visit planned' > '$WORK/case.json'"
CASE_ID=$(grep -o '"case_id": *"*[0-9]*' "$WORK/case.json" 2>/dev/null | grep -o '[0-9]*$')
check "registry: the dropout case is moved to visited" \
  ctl --token "$COUNTY" case update "${CASE_ID:-0}" visited --note "e2e: visited"
ctl gen --households 300 --regions 411325,411326 --bad-rate 0.01 --dup-rate 0.01 \
  --out-of-school-rate 0.05 --seed 2018 --out-dir "$WORK" >/dev/null
# Redis values, as bytes (the cache holds what the services read).
RP=$((6379 + OFF))
redis-cli -p "$RP" --scan 2>/dev/null | awk '{print "GET " $0}' | redis-cli -p "$RP" --raw >"$WORK/redis-values.bin" 2>/dev/null || true
before=$fail
check "no ID number or name in clear or encoded in any database file, WAL, log or Redis value" \
  "${SCAN[@]}" --min-chars id=18 \
  --csv "$WORK/households.csv:id_number=id,name=name" \
  --csv "$WORK/csv/households.csv:id_number=id,name=name" \
  $([ -s "$WORK/household-people.csv" ] && echo --csv "$WORK/household-people.csv:id_number=id,name=name") \
  "$EDUAID_VAR" "$WORK/redis-values.bin"
if [ "$fail" -gt "$before" ] && [ "$(wc -l <"$WORK/last.out")" -gt 15 ]; then
  echo "       every place found:"; grep -E '^(FOUND|pii_scan)' "$WORK/last.out" | sed 's/^/       /'
fi

# Graceful stop.
kill -TERM $RUN
stopped=0
for _ in $(seq 60); do kill -0 $RUN 2>/dev/null || { stopped=1; break; }; sleep 0.5; done
check "Ctrl-C / SIGTERM stops the whole suite" test $stopped -eq 1
check "no server is left running" bash -c "! pgrep -f -- '[-]-database sqlite://$EDUAID_VAR' >/dev/null"

rm -rf "$WORK"
echo "e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
