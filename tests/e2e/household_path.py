#!/usr/bin/python3
"""The household's path end to end, as the provincial platform would drive it.

A client not written by us: Python grpcio with stubs compiled at run time
from the project's .proto files (protoc + grpc_python_plugin), talking to
the running suite over loopback. It seeds its own county (411330), so it
does not depend on the demo data:

  a registered household with one child on a roster (a boarder, paid this
  term) and one school-age child on no roster, and a second household whose
  only child is out of school -> a campaign assigns both (the second by the
  county rule) -> the first household's teacher, with a teacher token, lists
  it (names, masked ID numbers, what was paid this term) and records a visit
  finding "living subsidy not received" and "child not in school" -> the
  ledger holds one grievance on that payment and the payment shows the
  follow-up, the registry one dropout case -> repeating the visit call changes
  nothing -> another teacher can neither see nor record that household ->
  bad findings are rejected with the field named and nothing stored -> the
  household view of every service shows it -> a child studying elsewhere
  (异地就读) leaves the out-of-school list, is counted apart, and comes back
  when the record ends.

  /usr/bin/python3 tests/e2e/household_path.py --eductl PATH --secret-file F \
      --registry H:P --ledger H:P --teacher H:P --vocational H:P

Prints "ok   - ..." / "FAIL - ..." lines; exit 0 when every check passed.
"""
import argparse
import atexit
import datetime
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

import grpc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COUNTY = "411330"


def compile_stubs():
    out = tempfile.mkdtemp(prefix="eduaid-e2e-py-")
    atexit.register(shutil.rmtree, out, True)
    protos = sorted(glob.glob(os.path.join(ROOT, "protos", "eduaid", "*", "v1", "*.proto")))
    subprocess.run(
        ["protoc", "-I", os.path.join(ROOT, "protos"), "-I", "/usr/include",
         "--python_out", out, "--grpc_python_out", out,
         "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin"] + protos,
        check=True)
    for d, _, _ in os.walk(os.path.join(out, "eduaid")):
        open(os.path.join(d, "__init__.py"), "a").close()
    sys.path.insert(0, out)


def id_number(region, birth, seq):
    """A valid 18-character ID number (GB 11643 check character)."""
    body = "%s%s%03d" % (region, birth, seq)
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(c) * w for c, w in zip(body, weights))
    return body + "10X98765432"[total % 11]


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, what, cond, detail=""):
        if cond:
            self.passed += 1
            print("ok   - " + what)
        else:
            self.failed += 1
            print("FAIL - " + what + (": " + str(detail) if detail else ""))
        return cond


def main():
    ap = argparse.ArgumentParser()
    for name in ("eductl", "secret-file", "registry", "ledger", "teacher", "vocational"):
        ap.add_argument("--" + name, required=True)
    ap.add_argument("--people-csv", help="write the ID numbers and names this run "
                    "sends (id_number,name) for the personal-data scan")
    a = ap.parse_args()
    compile_stubs()
    from eduaid.common.v1 import common_pb2 as cpb
    from eduaid.registry.v1 import registry_pb2 as rpb, registry_pb2_grpc as rgrpc
    from eduaid.ledger.v1 import ledger_pb2 as lpb, ledger_pb2_grpc as lgrpc
    from eduaid.teacher.v1 import teacher_pb2 as tpb, teacher_pb2_grpc as tgrpc
    from eduaid.vocational.v1 import vocational_pb2 as vpb, vocational_pb2_grpc as vgrpc

    def token(role, subject, region=""):
        argv = [a.eductl, "token", "--secret-file", a.secret_file, "--role", role,
                "--subject", subject]
        if region:
            argv += ["--region", region]
        return subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()

    reg = rgrpc.StudentRegistryServiceStub(grpc.insecure_channel(a.registry))
    led = lgrpc.SubsidyLedgerServiceStub(grpc.insecure_channel(a.ledger))
    tea = tgrpc.TeacherSupportServiceStub(grpc.insecure_channel(a.teacher))
    voc = vgrpc.VocationalTrainingServiceStub(grpc.insecure_channel(a.vocational))

    def call(method, req, tok):
        return method(req, metadata=[("authorization", "Bearer " + tok)], timeout=30)

    def code_of(method, req, tok):
        try:
            call(method, req, tok)
            return grpc.StatusCode.OK, ""
        except grpc.RpcError as e:
            return e.code(), e.details() or ""

    c = Checks()
    province = token("province_officer", "e2e-hh-province")
    officer = token("county_officer", "e2e-hh-officer-a", COUNTY)
    officer_b = token("county_officer", "e2e-hh-officer-b", COUNTY)
    term = cpb.Term(year=2026, season=cpb.SEASON_AUTUMN)
    today = datetime.date.today()
    run = "%d" % int(time.time())

    # ---------------------------------------------------------------- seed
    call(reg.UpsertSchool, rpb.UpsertSchoolRequest(
        request_id="hh-school-1-" + run, school=rpb.School(
            code="S411330P1", name="桐柏县城关镇中心小学", region_code=COUNTY,
            stages=[cpb.SCHOOL_STAGE_PRIMARY], rural=True)), province)
    call(reg.UpsertSchool, rpb.UpsertSchoolRequest(
        request_id="hh-school-2-" + run, school=rpb.School(
            code="S411330P2", name="桐柏县月河镇中心小学", region_code=COUNTY,
            stages=[cpb.SCHOOL_STAGE_PRIMARY], rural=True)), province)
    year = today.year
    paid_child = id_number(COUNTY, "%d0315" % (year - 10), 21)   # on a roster, boarder
    missing_child = id_number(COUNTY, "%d0611" % (year - 9), 32)  # on no roster
    lone_child = id_number(COUNTY, "%d0102" % (year - 11), 41)    # household B, on no roster
    rows = [
        ("HH411330A", id_number(COUNTY, "19850407", 13), "王建国", rpb.RELATION_HEAD),
        ("HH411330A", paid_child, "王小明", rpb.RELATION_CHILD),
        ("HH411330A", missing_child, "王小红", rpb.RELATION_CHILD),
        ("HH411330B", id_number(COUNTY, "19800909", 55), "李秀英", rpb.RELATION_HEAD),
        ("HH411330B", lone_child, "李小刚", rpb.RELATION_CHILD),
    ]
    people = [(idn, name) for _, idn, name, _ in rows]
    imp = call(reg.ImportHouseholds, rpb.ImportHouseholdsRequest(
        request_id="hh-import-" + run, skip_identification=True, rows=[
            rpb.HouseholdMemberRow(row_number=i + 2, household_id=h, region_code=COUNTY,
                                   registration_year=2016,
                                   household_status=cpb.HOUSEHOLD_STATUS_POOR,
                                   id_number=idn, name=name, relation=rel)
            for i, (h, idn, name, rel) in enumerate(rows)]), province)
    c.check("seed: five members of two registered households land", imp.accepted_rows == 5, imp)
    call(reg.RecordEnrolments, rpb.RecordEnrolmentsRequest(
        request_id="hh-enrol-" + run, skip_identification=True, rows=[rpb.EnrolmentRow(
            row_number=2, id_number=paid_child, school_code="S411330P1",
            stage=cpb.SCHOOL_STAGE_PRIMARY, grade=4, term=term,
            status=rpb.ENROLMENT_STATUS_ENROLLED, boarder=True)]), province)
    call(reg.RunIdentification, rpb.RunIdentificationRequest(request_id="hh-ident-" + run), province)

    homes = call(reg.GetHouseholds, rpb.GetHouseholdsRequest(
        household_ids=["HH411330A", "HH411330B"]), officer).households
    members = {m.name: m.member_id for h in homes for m in h.members}
    c.check("registry: the two households, whole", len(homes) == 2 and len(members) == 5, homes)
    oos = set(homes[0].out_of_school_member_ids) if homes else set()
    c.check("registry: the child on no roster is on the out-of-school list",
            members.get("王小红") in oos, oos)

    # ---------------------------------------------------------------- pay
    gen = call(led.GenerateEntitlements, lpb.GenerateEntitlementsRequest(
        request_id="hh-gen-" + run, term=term, region_prefix=COUNTY), officer)
    c.check("ledger: entitlements for the child on the roster", gen.entitlements_created >= 1, gen)
    ents = call(led.ListEntitlements, lpb.ListEntitlementsRequest(
        region_prefix=COUNTY, term=term, member_id=members.get("王小明", "")), officer).entitlements
    payments = {}
    for e in ents:
        if e.amount_fen > 0:
            p = call(led.DisburseEntitlement, lpb.DisburseEntitlementRequest(
                request_id="hh-pay-%d-%s" % (e.entitlement_id, run),
                entitlement_id=e.entitlement_id), officer_b).payment
            payments[p.programme_code] = p
    c.check("ledger: the living subsidy (BOARDING_LIVING) is paid",
            "BOARDING_LIVING" in payments, list(payments))
    living = payments.get("BOARDING_LIVING")

    # ---------------------------------------------------------------- campaign
    imp_t_rows = [
            tpb.TeacherRow(row_number=2, id_number=id_number(COUNTY, "19880808", 71),
                           name="张老师", school_code="S411330P1",
                           school_name="桐柏县城关镇中心小学", region_code=COUNTY, rural=True,
                           stage=cpb.SCHOOL_STAGE_PRIMARY, subjects=["语文"], title="一级教师",
                           years_of_service=10),
            tpb.TeacherRow(row_number=3, id_number=id_number(COUNTY, "19900101", 83),
                           name="赵老师", school_code="S411330P2",
                           school_name="桐柏县月河镇中心小学", region_code=COUNTY, rural=True,
                           stage=cpb.SCHOOL_STAGE_PRIMARY, subjects=["数学"], title="二级教师",
                           years_of_service=5)]
    imp_t = call(tea.ImportTeachers, tpb.ImportTeachersRequest(
        request_id="hh-teachers-" + run, rows=imp_t_rows), province)
    people += [(r.id_number, r.name) for r in imp_t_rows]
    if a.people_csv:
        with open(a.people_csv, "w", encoding="utf-8") as f:
            f.write("id_number,name\n")
            for idn, name in people:
                f.write("%s,%s\n" % (idn, name))
    by_row = {2: "张老师", 3: "赵老师"}
    teacher_ids = {by_row[t.row_number]: t.teacher_id for t in imp_t.teachers}
    c.check("teacher: two teachers of the county", len(teacher_ids) >= 2, teacher_ids)
    camp = call(tea.CreateCampaign, tpb.CreateCampaignRequest(
        request_id="hh-camp-" + run, name="2026年秋季万名教师大走访(桐柏)", region_prefix=COUNTY,
        term=term, cap_per_teacher=10), officer).campaign
    asg = call(tea.AssignCampaign, tpb.AssignCampaignRequest(
        request_id="hh-assign-" + run, campaign_id=camp.campaign_id), officer)
    c.check("campaign: every registered household of the county is in it",
            asg.households == 2 and asg.uncovered == 0, asg)
    hh = {h.household_id: h for h in call(tea.ListCampaignHouseholds, tpb.ListCampaignHouseholdsRequest(
        campaign_id=camp.campaign_id), officer).households}
    b = hh.get("HH411330B")
    c.check("campaign: the household whose only child is out of school gets a teacher",
            b is not None and b.teacher_id != "" and
            b.assignment_rule == tpb.ASSIGNMENT_RULE_COUNTY, b)
    ha = hh.get("HH411330A")
    mine = ha.teacher_id if ha else ""
    c.check("campaign: the household with a pupil goes to a teacher of the pupil's school",
            mine == teacher_ids.get("张老师"), ha)
    other = [t for n, t in teacher_ids.items() if t != mine][0]
    t_mine = token("teacher", mine, COUNTY)
    t_other = token("teacher", other, COUNTY)

    # ---------------------------------------------------------------- the teacher's day
    my = call(tea.ListMyHouseholds, tpb.ListMyHouseholdsRequest(), t_mine).households
    mh = [h for h in my if h.household_id == "HH411330A"]
    c.check("teacher: lists the household assigned to them", len(mh) == 1, my)
    if mh:
        names = {m.name for m in mh[0].members}
        masked = all("*" in m.id_number for m in mh[0].members)
        c.check("teacher: sees members' names and only masked ID numbers",
                "王小明" in names and masked, mh[0].members)
        c.check("teacher: sees the subsidies paid this term with dates",
                any(s.programme_code == "BOARDING_LIVING" and s.paid_on for s in mh[0].paid_this_term),
                mh[0].paid_this_term)
    theirs = call(tea.ListMyHouseholds, tpb.ListMyHouseholdsRequest(), t_other).households
    c.check("teacher: another teacher does not see it",
            all(h.household_id != "HH411330A" for h in theirs), theirs)

    def visit(findings, rid):
        return tpb.RecordVisitRequest(request_id=rid, visit=tpb.Visit(
            campaign_id=camp.campaign_id, household_id="HH411330A",
            visit_date=today.isoformat(), met=["户主"], policies_explained=["寄宿生生活补助"],
            dropout_risk=tpb.DROPOUT_RISK_HIGH, evidence_ref="photo://hh/001",
            notes="走访记录", findings=findings))

    good = [tpb.VisitFinding(kind=tpb.FINDING_KIND_SUBSIDY_NOT_RECEIVED,
                             member_id=members.get("王小明", ""), programme_code="BOARDING_LIVING",
                             note="家长称未收到生活补助"),
            tpb.VisitFinding(kind=tpb.FINDING_KIND_NOT_IN_SCHOOL,
                             member_id=members.get("王小红", ""), note="在家务农")]
    code, msg = code_of(tea.RecordVisit, visit(good, "hh-visit-other-" + run), t_other)
    c.check("teacher: another teacher cannot record a visit to it",
            code == grpc.StatusCode.PERMISSION_DENIED, (code, msg))
    bad_prog = [tpb.VisitFinding(kind=tpb.FINDING_KIND_SUBSIDY_NOT_RECEIVED,
                                 member_id=members.get("王小明", ""), programme_code="NO_SUCH_PROGRAMME")]
    code, msg = code_of(tea.RecordVisit, visit(bad_prog, "hh-visit-bad1-" + run), t_mine)
    c.check("finding: an unknown programme is INVALID_ARGUMENT naming the field",
            code == grpc.StatusCode.INVALID_ARGUMENT and "programme_code" in msg, (code, msg))
    bad_member = [tpb.VisitFinding(kind=tpb.FINDING_KIND_NOT_IN_SCHOOL,
                                   member_id=members.get("李小刚", ""))]
    code, msg = code_of(tea.RecordVisit, visit(bad_member, "hh-visit-bad2-" + run), t_mine)
    c.check("finding: a member of another household is INVALID_ARGUMENT naming the field",
            code == grpc.StatusCode.INVALID_ARGUMENT and "member_id" in msg, (code, msg))
    view = call(tea.GetHouseholds, tpb.GetHouseholdsRequest(household_ids=["HH411330A"]), officer)
    c.check("finding: the rejected visits stored nothing",
            view.households and len(view.households[0].visits) == 0, view)

    first = call(tea.RecordVisit, visit(good, "hh-visit-" + run), t_mine).visit
    c.check("teacher: records the visit with two findings", len(first.findings) == 2, first)

    def delivered():
        v = call(tea.GetHouseholds, tpb.GetHouseholdsRequest(household_ids=["HH411330A"]), officer)
        vs = v.households[0].visits if v.households else []
        done = vs and all(f.delivery == tpb.DELIVERY_STATE_DELIVERED for f in vs[0].findings) and \
            all(p.delivery == tpb.DELIVERY_STATE_DELIVERED for p in vs[0].payment_follow_ups)
        return done, vs
    deadline = time.time() + 30
    done, vs = delivered()
    while not done and time.time() < deadline:
        time.sleep(0.5)
        done, vs = delivered()
    c.check("findings: each delivered where it belongs", done, vs)

    def grievances_on(payment_id):
        chain = call(led.GetPaymentChain, lpb.GetPaymentChainRequest(payment_id=payment_id), officer)
        return chain
    if living:
        chain = grievances_on(living.payment_id)
        c.check("ledger: one grievance on that payment", len(chain.grievances) == 1, chain.grievances)
        c.check("ledger: the payment shows the visit as its follow-up",
                len(chain.follow_ups) == 1 and "visit" in chain.follow_ups[0].source_ref,
                chain.follow_ups)
    cases = [x for x in call(reg.ListDropoutCases, rpb.ListDropoutCasesRequest(
        region_prefix=COUNTY), officer).cases if x.member_id == members.get("王小红")]
    c.check("registry: one dropout case for the child not in school", len(cases) == 1, cases)

    again = call(tea.RecordVisit, visit(good, "hh-visit-" + run), t_mine).visit
    time.sleep(2)
    c.check("teacher: repeating the visit call answers the same visit",
            again.visit_id == first.visit_id, (again.visit_id, first.visit_id))
    if living:
        chain = grievances_on(living.payment_id)
        c.check("repeat: still one grievance and one follow-up",
                len(chain.grievances) == 1 and len(chain.follow_ups) == 1, chain)
    cases = [x for x in call(reg.ListDropoutCases, rpb.ListDropoutCasesRequest(
        region_prefix=COUNTY), officer).cases if x.member_id == members.get("王小红")]
    c.check("repeat: still one dropout case", len(cases) == 1, cases)

    # ---------------------------------------------------------------- the household view
    rv = call(reg.GetHouseholds, rpb.GetHouseholdsRequest(household_ids=["HH411330A"]), officer)
    lv = call(led.GetHouseholds, lpb.GetHouseholdsRequest(household_ids=["HH411330A"]), officer)
    tv = call(tea.GetHouseholds, tpb.GetHouseholdsRequest(household_ids=["HH411330A"]), officer)
    vv = call(voc.GetHouseholds, vpb.GetHouseholdsRequest(household_ids=["HH411330A"]), officer)
    c.check("household view: registry has members and the case",
            rv.households and len(rv.households[0].members) == 3 and
            len(rv.households[0].dropout_cases) == 1, rv)
    c.check("household view: ledger has payments, follow-up and grievance",
            lv.households and len(lv.households[0].payments) >= 1 and
            len(lv.households[0].grievances) == 1 and len(lv.households[0].follow_ups) >= 1, lv)
    c.check("household view: teacher has the assignment and the visit with findings",
            tv.households and len(tv.households[0].assignments) == 1 and
            len(tv.households[0].visits) == 1, tv)
    c.check("household view: vocational answers for it", len(vv.households) == 1, vv)
    other_county = token("county_officer", "e2e-hh-other", "411326")
    ov = call(reg.GetHouseholds, rpb.GetHouseholdsRequest(household_ids=["HH411330A"]), other_county)
    c.check("household view: another county's officer gets not found",
            len(ov.households) == 0 and list(ov.not_found) == ["HH411330A"], ov)
    out = subprocess.run([a.eductl, "--registry", a.registry, "--ledger", a.ledger,
                          "--teacher", a.teacher, "--vocational", a.vocational,
                          "--token", officer, "household", "HH411330A"],
                         capture_output=True, text=True)
    c.check("eductl household: one case file in Chinese",
            out.returncode == 0 and "王小红" in out.stdout and "走访" in out.stdout,
            out.stdout[-800:] + out.stderr[-400:])

    # ---------------------------------------------------------------- 异地就读
    def on_list(member):
        h = call(reg.GetHouseholds, rpb.GetHouseholdsRequest(household_ids=["HH411330B"]), officer)
        return member in h.households[0].out_of_school_member_ids
    lone = members.get("李小刚", "")
    c.check("registry: the lone child is on the out-of-school list", on_list(lone))
    arr = call(reg.RecordSchoolingArrangement, rpb.RecordSchoolingArrangementRequest(
        request_id="hh-arr-" + run, arrangement=rpb.SchoolingArrangement(
            member_id=lone, kind=rpb.ARRANGEMENT_KIND_STUDYING_ELSEWHERE,
            school_name="东莞市长安镇第一小学", place="广东省东莞市长安镇",
            evidence_ref="scan://411330/arr/1", start_date="2026-09-01")), officer)
    c.check("异地就读: the child leaves the out-of-school list",
            arr.left_out_of_school_list and not on_list(lone), arr)
    cov = call(reg.GetCoverage, rpb.GetCoverageRequest(region_prefix=COUNTY), officer).total
    c.check("异地就读: counted apart in coverage", cov.studying_elsewhere == 1, cov)
    end = call(reg.EndSchoolingArrangement, rpb.EndSchoolingArrangementRequest(
        request_id="hh-arr-end-" + run, arrangement_id=arr.arrangement.arrangement_id,
        end_date=today.isoformat(), reason="返乡"), officer)
    c.check("异地就读: when it ends the child is back on the list",
            end.back_on_out_of_school_list and on_list(lone), end)

    print("household path: %d passed, %d failed" % (c.passed, c.failed))
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
