// The pure parts of eductl: the special-group CSV, the --finding flags and
// the household report.
#include "tools/eductl/row_parsers.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>

#include "eduaid/common/v1/common.pb.h"
#include "tools/eductl/household_report.h"
#include "tools/gen/csv_reader.h"

namespace eductl {
namespace {

namespace rpb = ::eduaid::registry::v1;
namespace lpb = ::eduaid::ledger::v1;
namespace tpb = ::eduaid::teacher::v1;
namespace cpb = ::eduaid::common::v1;

std::vector<std::vector<std::string>> Records(const std::string& csv) {
  std::vector<std::vector<std::string>> out;
  eduaid::synthetic::CsvReader r;
  EXPECT_TRUE(r.Parse("x\n" + csv, [&](std::vector<std::string>& f, int64_t) {
    out.push_back(f);
    return true;
  }));
  return out;
}

TEST(SpecialGroupCsv, ReadsBothKindsByHeaderNameInAnyOrder) {
  auto recs = Records(
      "\xEF\xBB\xBFid_number,kind,carer_name,carer_relation,parents_location,"
      "category,placement,school_code,note,member_id\n"
      ",留守,王桂兰,祖母,\"广东省东莞市, 长安镇\",,,,,m-12\n"
      "411325201001010011,disability,,,,肢体,送教上门,S411325P2,每周两次,\n"
      ",残疾,,,,智力,,,,m-13\n");
  std::string error;
  auto cols = SpecialGroupColumns::FromHeader(recs[0], &error);
  ASSERT_TRUE(cols) << error;
  rpb::SpecialGroupRow row;
  cpb::RowError e;
  ASSERT_TRUE(cols->ToRow(recs[1], 2, &row, &e));
  EXPECT_EQ(row.row_number(), 2);
  EXPECT_EQ(row.member_id(), "m-12");
  EXPECT_TRUE(row.has_left_behind());
  EXPECT_FALSE(row.has_disability_plan());
  EXPECT_EQ(row.left_behind().carer_name(), "王桂兰");
  EXPECT_EQ(row.left_behind().parents_location(), "广东省东莞市, 长安镇");
  ASSERT_TRUE(cols->ToRow(recs[2], 3, &row, &e));
  EXPECT_EQ(row.id_number(), "411325201001010011");
  EXPECT_TRUE(row.has_disability_plan());
  EXPECT_EQ(row.disability_plan().placement(), rpb::PLACEMENT_HOME_TEACHING);
  EXPECT_EQ(row.disability_plan().school_code(), "S411325P2");
  EXPECT_EQ(row.disability_plan().note(), "每周两次");
  // No placement: a disabled child without a plan yet.
  ASSERT_TRUE(cols->ToRow(recs[3], 4, &row, &e));
  EXPECT_EQ(row.disability_plan().placement(), rpb::PLACEMENT_UNSPECIFIED);
  EXPECT_EQ(row.disability_plan().category(), "智力");
}

TEST(SpecialGroupCsv, ChineseHeadersAreAccepted) {
  auto recs = Records("类别,成员编号,监护人姓名\n留守,m-1,张三\n");
  std::string error;
  auto cols = SpecialGroupColumns::FromHeader(recs[0], &error);
  ASSERT_TRUE(cols) << error;
  rpb::SpecialGroupRow row;
  cpb::RowError e;
  ASSERT_TRUE(cols->ToRow(recs[1], 2, &row, &e));
  EXPECT_EQ(row.member_id(), "m-1");
  EXPECT_EQ(row.left_behind().carer_name(), "张三");
}

TEST(SpecialGroupCsv, RefusesAHeaderWithoutKindOrWhoOrWithAnUnknownColumn) {
  std::string error;
  EXPECT_FALSE(
      SpecialGroupColumns::FromHeader({"member_id", "carer_name"}, &error));
  EXPECT_NE(error.find("kind"), std::string::npos);
  EXPECT_FALSE(SpecialGroupColumns::FromHeader({"kind", "carer_name"}, &error));
  EXPECT_NE(error.find("member_id"), std::string::npos);
  EXPECT_FALSE(SpecialGroupColumns::FromHeader(
      {"kind", "member_id", "carer_nmae"}, &error));
  EXPECT_NE(error.find("carer_nmae"), std::string::npos);
  EXPECT_FALSE(
      SpecialGroupColumns::FromHeader({"kind", "member_id", "kind"}, &error));
}

TEST(SpecialGroupCsv, RejectsBadRowsWithLineAndField) {
  std::string error;
  auto cols = SpecialGroupColumns::FromHeader(
      {"kind", "member_id", "placement", "note"}, &error);
  ASSERT_TRUE(cols);
  rpb::SpecialGroupRow row;
  cpb::RowError e;
  EXPECT_FALSE(cols->ToRow({"孤儿", "m-1", "", ""}, 7, &row, &e));
  EXPECT_EQ(e.row_number(), 7);
  EXPECT_EQ(e.field(), "kind");
  EXPECT_FALSE(cols->ToRow({"残疾", "m-1", "在家", ""}, 8, &row, &e));
  EXPECT_EQ(e.row_number(), 8);
  EXPECT_EQ(e.field(), "placement");
  // GBK bytes (a file saved from Excel in the local code page).
  EXPECT_FALSE(
      cols->ToRow({"残疾", "m-1", "", "\xC1\xF4\xCA\xD8"}, 9, &row, &e));
  EXPECT_EQ(e.row_number(), 9);
  EXPECT_EQ(e.field(), "note");
  EXPECT_NE(e.rule().find("UTF-8"), std::string::npos);
}

TEST(FindingFlag, ParsesEveryKind) {
  tpb::VisitFinding f;
  std::string error;
  ASSERT_TRUE(ParseFinding("not-received:m-12:LIVING_SUBSIDY", &f, &error))
      << error;
  EXPECT_EQ(f.kind(), tpb::FINDING_KIND_SUBSIDY_NOT_RECEIVED);
  EXPECT_EQ(f.member_id(), "m-12");
  EXPECT_EQ(f.programme_code(), "LIVING_SUBSIDY");
  ASSERT_TRUE(ParseFinding("not-in-school:m-13", &f, &error));
  EXPECT_EQ(f.kind(), tpb::FINDING_KIND_NOT_IN_SCHOOL);
  EXPECT_EQ(f.member_id(), "m-13");
  EXPECT_TRUE(f.note().empty());
  ASSERT_TRUE(ParseFinding("dropout-risk:m-13:high", &f, &error));
  EXPECT_EQ(f.risk(), tpb::DROPOUT_RISK_HIGH);
  ASSERT_TRUE(ParseFinding("辍学风险:m-13:中", &f, &error));
  EXPECT_EQ(f.risk(), tpb::DROPOUT_RISK_MEDIUM);
  ASSERT_TRUE(
      ParseFinding("left-behind:m-14:父母在东莞: 由奶奶照看", &f, &error));
  EXPECT_EQ(f.kind(), tpb::FINDING_KIND_LEFT_BEHIND);
  EXPECT_EQ(f.note(), "父母在东莞: 由奶奶照看");
  ASSERT_TRUE(ParseFinding("disability:m-15", &f, &error));
  EXPECT_EQ(f.kind(), tpb::FINDING_KIND_DISABILITY_WITHOUT_PLAN);
  ASSERT_TRUE(
      ParseFinding("new-child:411325201501010012:李小花:child", &f, &error));
  EXPECT_EQ(f.kind(), tpb::FINDING_KIND_NEW_CHILD);
  EXPECT_EQ(f.id_number(), "411325201501010012");
  EXPECT_EQ(f.name(), "李小花");
  EXPECT_EQ(f.relation(), "子女");
  EXPECT_TRUE(f.member_id().empty());
}

TEST(FindingFlag, RejectsMalformedSpecsNamingTheRule) {
  tpb::VisitFinding f;
  std::string error;
  EXPECT_FALSE(ParseFinding("lost:m-1", &f, &error));
  EXPECT_NE(error.find("kind"), std::string::npos);
  EXPECT_FALSE(ParseFinding("not-received:m-1", &f, &error));
  EXPECT_NE(error.find("programme_code"), std::string::npos);
  EXPECT_FALSE(ParseFinding("not-in-school:", &f, &error));
  EXPECT_FALSE(ParseFinding("dropout-risk:m-1:very", &f, &error));
  EXPECT_NE(error.find("risk"), std::string::npos);
  EXPECT_FALSE(
      ParseFinding("new-child:411325201501010012:李小花:cousin", &f, &error));
  EXPECT_NE(error.find("relation"), std::string::npos);
}

HouseholdFile SampleFile() {
  HouseholdFile f;
  f.household_id = "HH411325-7";
  auto& h = f.registry.record;
  f.registry.found = true;
  h.set_household_id("HH411325-7");
  h.set_region_code("411325");
  h.set_household_status(cpb::HOUSEHOLD_STATUS_POOR);
  auto* head = h.add_members();
  head->set_member_id("m-1");
  head->set_name("张大山");
  head->set_relation(rpb::RELATION_HEAD);
  auto* kid = h.add_members();
  kid->set_member_id("m-2");
  kid->set_name("张小明");
  kid->set_relation(rpb::RELATION_CHILD);
  kid->mutable_left_behind()->set_carer_name("王桂兰");
  kid->mutable_left_behind()->set_unconfirmed(true);
  kid->mutable_left_behind()->set_reported_by("teacher visit 12");
  kid->set_birth_year(2010);
  kid->set_id_number("411325********0011");
  head->set_birth_year(1979);
  head->set_id_number("411325********0013");
  auto* girl = h.add_members();
  girl->set_member_id("m-3");
  girl->set_name("张小红");
  girl->set_id_number("411325********0026");
  girl->set_relation(rpb::RELATION_CHILD);
  girl->set_birth_year(2012);
  girl->mutable_current_enrolment()->set_school_code("S411325P2");
  girl->mutable_current_enrolment()->set_school_name("城关镇中心小学");
  girl->mutable_current_enrolment()->set_grade(6);
  girl->mutable_current_enrolment()->set_status(rpb::ENROLMENT_STATUS_ENROLLED);
  auto* boy = h.add_members();
  boy->set_member_id("m-4");
  boy->set_name("张小军");
  boy->set_id_number("411325********0035");
  boy->set_relation(rpb::RELATION_CHILD);
  boy->set_birth_year(2014);
  boy->mutable_arrangement()->set_arrangement_id(3);
  boy->mutable_arrangement()->set_kind(rpb::ARRANGEMENT_KIND_HOME_TEACHING);
  boy->mutable_arrangement()->set_school_code("S411325P2");
  boy->mutable_arrangement()->set_start_date("2026-09-01");
  boy->mutable_disability_plan()->set_category("肢体");
  boy->mutable_disability_plan()->set_placement(rpb::PLACEMENT_HOME_TEACHING);
  boy->mutable_disability_plan()->set_school_code("S411325P2");
  h.add_out_of_school_member_ids("m-2");
  auto* c = h.add_dropout_cases();
  c->set_case_id(7);
  c->set_state(rpb::DROPOUT_CASE_STATE_OPEN);
  h.set_registration_year(2016);
  c->set_member_id("m-2");
  c->set_name("张小明");
  c->set_opened_at("2026-10-10T08:00:00Z");
  c->set_updated_at("2026-10-10T08:00:00Z");
  f.ledger.found = true;
  auto* ent = f.ledger.record.add_entitlements();
  ent->set_entitlement_id(21);
  ent->set_member_id("m-3");
  ent->set_programme_name("义务教育家庭经济困难学生生活补助");
  ent->mutable_term()->set_year(2026);
  ent->mutable_term()->set_season(cpb::SEASON_AUTUMN);
  ent->set_amount_fen(62500);
  ent->set_state(lpb::ENTITLEMENT_STATE_PAID);
  auto* notice = f.ledger.record.add_notices();
  notice->set_payment_id(34);
  notice->set_notice_no("411325-2026A-000034");
  notice->set_paid_on("2026-09-20");
  auto* g = f.ledger.record.add_grievances();
  g->set_grievance_id(5);
  g->set_payment_id(34);
  g->set_source(lpb::GRIEVANCE_SOURCE_FOLLOW_UP);
  g->set_state(lpb::GRIEVANCE_STATE_OPEN);
  g->set_opened_at("2026-10-10T08:00:01Z");
  auto* a = f.teacher.record.add_assignments();
  a->set_campaign_id(1);
  a->set_teacher_id("t-12");
  a->set_teacher_name("王老师");
  a->set_assignment_rule(tpb::ASSIGNMENT_RULE_CHILDS_SCHOOL);
  a->set_visited(true);
  a->set_visits(1);
  a->set_first_visit_date("2026-10-10");
  auto* pay = f.ledger.record.add_payments();
  pay->set_member_id("m-3");
  pay->set_programme_name("义务教育家庭经济困难学生生活补助");
  *pay->mutable_term() = ent->term();
  pay->set_payment_id(34);
  pay->set_amount_fen(62500);
  pay->set_state(lpb::PAYMENT_STATE_PAID);
  auto* fu = f.ledger.record.add_follow_ups();
  fu->set_payment_id(34);
  fu->set_visited_on("2026-10-10");
  fu->set_visitor("t-12");
  fu->set_outcome(lpb::FOLLOW_UP_OUTCOME_NOT_RECEIVED);
  fu->set_source_ref("teacher visit 12");
  fu->set_grievance_id(5);
  f.teacher.found = true;
  auto* v = f.teacher.record.add_visits();
  v->set_visit_id(12);
  v->set_visit_date("2026-10-10");
  v->set_teacher_id("t-12");
  v->add_met("户主");
  v->add_met("学生本人");
  v->set_dropout_risk(tpb::DROPOUT_RISK_NONE);
  auto* nr = v->add_findings();
  nr->set_kind(tpb::FINDING_KIND_SUBSIDY_NOT_RECEIVED);
  nr->set_member_id("m-3");
  nr->set_programme_code("LIVING_SUBSIDY");
  nr->set_delivery(tpb::DELIVERY_STATE_DELIVERED);
  nr->set_target("ledger grievance 5");
  auto* pf = v->add_payment_follow_ups();
  pf->set_payment_id(34);
  pf->set_member_id("m-3");
  pf->set_programme_code("LIVING_SUBSIDY");
  pf->set_delivery(tpb::DELIVERY_STATE_DELIVERED);
  pf->set_follow_up_id(9);
  auto* fd = v->add_findings();
  fd->set_kind(tpb::FINDING_KIND_NOT_IN_SCHOOL);
  fd->set_member_id("m-2");
  fd->set_delivery(tpb::DELIVERY_STATE_DELIVERED);
  fd->set_target("registry dropout case 7");
  f.vocational.status =
      grpc::Status(grpc::StatusCode::UNAVAILABLE, "failed to connect");
  return f;
}

TEST(HouseholdReport, PrintsEverySectionAndSaysWhichServiceFailed) {
  HouseholdFile f = SampleFile();
  std::string r = FormatHouseholdReport(f);
  if (std::getenv("EDUCTL_PRINT_SAMPLE")) std::cout << r;  // README's sample
  for (const char* s : {"家庭",
                        "成员",
                        "控辍保学",
                        "留守 / 残疾",
                        "资助",
                        "走访",
                        "职业教育",
                        "张小明",
                        "失学",
                        "待确认",
                        "在读 S411325P2",
                        "送教上门（S411325P2",
                        "告知书 411325-2026A-000034  未签收",
                        "2026-09-20",
                        "处理中",
                        "教师 t-12 王老师",
                        "作为回访 发放 34",
                        "625.00 元",
                        "未收到",
                        "teacher visit 12",
                        "→ 申诉 5",
                        "registry dropout case 7",
                        "案件 7",
                        "Unavailable: failed to connect"}) {
    EXPECT_NE(r.find(s), std::string::npos) << s << " missing in\n" << r;
  }
  EXPECT_EQ(HouseholdExitCode(f), 1);
  f.vocational.status = grpc::Status::OK;
  f.vocational.found = true;
  EXPECT_EQ(HouseholdExitCode(f), 0);
  f.ledger.status =
      grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "not for teachers");
  f.ledger.found = false;
  EXPECT_EQ(HouseholdExitCode(f), 3);
  EXPECT_NE(FormatHouseholdReport(f).find("PermissionDenied: not for teachers"),
            std::string::npos);
}

TEST(HouseholdReport, NotFoundEverywhereIsOneLine) {
  HouseholdFile f;
  f.household_id = "HH-9";
  f.registry.status = grpc::Status(grpc::StatusCode::NOT_FOUND, "no");
  EXPECT_TRUE(NotFoundAnywhere(f));
  EXPECT_EQ(FormatHouseholdReport(f), "no household HH-9 in your scope\n");
  EXPECT_EQ(HouseholdExitCode(f), 1);
  std::string json = HouseholdJson(f);
  EXPECT_NE(json.find("\"registry\": null"), std::string::npos) << json;
}

}  // namespace
}  // namespace eductl
