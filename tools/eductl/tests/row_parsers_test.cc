// The pure parts of eductl: the special-group CSV, the --finding flags and
// the household report.
#include "tools/eductl/row_parsers.h"

#include <gtest/gtest.h>

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
  EXPECT_FALSE(SpecialGroupColumns::FromHeader({"member_id", "carer_name"},
                                               &error));
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
  EXPECT_FALSE(cols->ToRow({"残疾", "m-1", "", "\xC1\xF4\xCA\xD8"}, 9, &row, &e));
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
  ASSERT_TRUE(ParseFinding("left-behind:m-14:父母在东莞: 由奶奶照看", &f, &error));
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
  EXPECT_FALSE(ParseFinding("new-child:411325201501010012:李小花:cousin", &f,
                            &error));
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
  h.add_out_of_school_member_ids("m-2");
  auto* c = h.add_dropout_cases();
  c->set_case_id(7);
  c->set_state(rpb::DROPOUT_CASE_STATE_OPEN);
  f.ledger.found = true;
  auto* pay = f.ledger.record.add_payments();
  pay->set_payment_id(34);
  pay->set_amount_fen(62500);
  pay->set_state(lpb::PAYMENT_STATE_PAID);
  auto* fu = f.ledger.record.add_follow_ups();
  fu->set_payment_id(34);
  fu->set_outcome(lpb::FOLLOW_UP_OUTCOME_NOT_RECEIVED);
  fu->set_source_ref("teacher visit 12");
  fu->set_grievance_id(5);
  f.teacher.found = true;
  auto* v = f.teacher.record.add_visits();
  v->set_visit_id(12);
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
  for (const char* s :
       {"家庭", "成员", "控辍保学", "留守 / 残疾", "资助", "走访", "职业教育",
        "张小明", "失学", "待确认", "625.00 元", "未收到", "teacher visit 12",
        "→ 申诉 5", "registry dropout case 7", "案件 7",
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
