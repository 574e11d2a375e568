// Special groups (issue 13), on both backends: a home visit's report
// creates or flags a record for an officer to confirm, the list filters,
// the plan rate in coverage, and the bulk import (bad rows by row, good
// rows land, school officers held to their school).
#include <string>
#include <vector>

#include "services/registry/tests/registry_fixture.h"

namespace eduaid::registry {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

class SpecialGroupsTest : public RegistryTest {
 protected:
  // H1 (411325): A (10, on S1's roster), B (9, on no roster); H2
  // (411326): C.
  void SetUpChildren() {
    AddSchool("S1", "411325", {cpb::SCHOOL_STAGE_PRIMARY});
    pb::ImportHouseholdsResponse resp;
    ASSERT_TRUE(
        Import({Member("H1", "411325", ChildId(10, 31), "刘小东"),
                Member("H1", "411325", ChildId(9, 33), "刘小西"),
                Member("H2", "411326", ChildId(9, 35, "411326"), "陈小南")},
               &resp)
            .ok());
    pb::RecordEnrolmentsResponse enr;
    ASSERT_TRUE(Enrol(ChildId(10, 31), "S1", cpb::SCHOOL_STAGE_PRIMARY, 4,
                      pb::ENROLMENT_STATUS_ENROLLED, &enr)
                    .ok());
    pb::Student s;
    ASSERT_TRUE(Get(ChildId(10, 31), &s).ok());
    a_ = s.member_id();
    ASSERT_TRUE(Get(ChildId(9, 33), &s).ok());
    b_ = s.member_id();
  }

  grpc::Status Report(const std::string& member, pb::SpecialNeed need,
                      const std::string& note,
                      pb::ReportSpecialNeedResponse* resp) {
    pb::ReportSpecialNeedRequest req;
    static int n = 0;
    req.set_request_id("rsn-" + std::to_string(++n));
    req.set_member_id(member);
    req.set_need(need);
    req.set_note(note);
    req.set_reported_by("teacher visit 12");
    auto ctx = ClientContextWith(TestToken(Role::kService, ""));
    return stub_->ReportSpecialNeed(ctx.get(), req, resp);
  }

  std::vector<std::string> Listed(pb::SpecialGroupFilter filter,
                                  const std::string& token = ProvinceToken()) {
    pb::ListSpecialGroupsRequest req;
    req.set_filter(filter);
    pb::ListSpecialGroupsResponse resp;
    auto ctx = ClientContextWith(token);
    EXPECT_TRUE(stub_->ListSpecialGroups(ctx.get(), req, &resp).ok());
    std::vector<std::string> out;
    for (const auto& e : resp.entries()) out.push_back(e.member_id());
    return out;
  }

  pb::RegionCoverage Coverage() {
    pb::GetCoverageRequest req;
    pb::GetCoverageResponse resp;
    auto ctx = ClientContextWith(ProvinceToken());
    EXPECT_TRUE(stub_->GetCoverage(ctx.get(), req, &resp).ok());
    return resp.total();
  }

  grpc::Status ImportRows(std::vector<pb::SpecialGroupRow> rows,
                          pb::ImportSpecialGroupsResponse* resp,
                          const std::string& token = CountyToken()) {
    pb::ImportSpecialGroupsRequest req;
    static int n = 0;
    req.set_request_id("isg-" + std::to_string(++n));
    for (size_t i = 0; i < rows.size(); ++i) {
      rows[i].set_row_number(static_cast<int64_t>(i + 2));
      *req.add_rows() = rows[i];
    }
    auto ctx = ClientContextWith(token);
    return stub_->ImportSpecialGroups(ctx.get(), req, resp);
  }

  static pb::SpecialGroupRow LeftBehindRow(const std::string& member,
                                           const std::string& id_number = "") {
    pb::SpecialGroupRow r;
    r.set_member_id(member);
    r.set_id_number(id_number);
    r.mutable_left_behind()->set_carer_name("刘奶奶");
    r.mutable_left_behind()->set_carer_relation("祖母");
    r.mutable_left_behind()->set_parents_location("江苏省苏州市");
    return r;
  }

  static pb::SpecialGroupRow PlanRow(const std::string& member,
                                     const std::string& id_number = "") {
    pb::SpecialGroupRow r;
    r.set_member_id(member);
    r.set_id_number(id_number);
    r.mutable_disability_plan()->set_category("肢体");
    r.mutable_disability_plan()->set_placement(pb::PLACEMENT_HOME_TEACHING);
    return r;
  }

  std::string a_, b_;
};

TEST_P(SpecialGroupsTest, AVisitReportCreatesOrFlagsAndAnOfficerConfirms) {
  SetUpChildren();
  pb::ReportSpecialNeedResponse rep;
  ASSERT_TRUE(
      Report(a_, pb::SPECIAL_NEED_LEFT_BEHIND, "父母均在外务工", &rep).ok());
  EXPECT_TRUE(rep.created());
  EXPECT_TRUE(rep.student().left_behind().unconfirmed());
  EXPECT_EQ(rep.student().left_behind().reported_by(), "teacher visit 12");
  EXPECT_EQ(rep.student().left_behind().report_note(), "父母均在外务工");
  EXPECT_TRUE(rep.student().left_behind().carer_name().empty());
  ASSERT_TRUE(
      Report(b_, pb::SPECIAL_NEED_DISABILITY, "行走困难，未入学", &rep).ok());
  EXPECT_TRUE(rep.created());
  EXPECT_EQ(rep.student().disability_plan().placement(),
            pb::PLACEMENT_UNSPECIFIED);
  EXPECT_TRUE(rep.student().disability_plan().unconfirmed());

  EXPECT_THAT(Listed(pb::SPECIAL_GROUP_FILTER_UNCONFIRMED),
              ElementsAre(a_, b_));
  EXPECT_THAT(Listed(pb::SPECIAL_GROUP_FILTER_LEFT_BEHIND), ElementsAre(a_));
  EXPECT_THAT(Listed(pb::SPECIAL_GROUP_FILTER_DISABLED_WITHOUT_PLAN),
              ElementsAre(b_));
  pb::RegionCoverage cov = Coverage();
  EXPECT_EQ(cov.disabled(), 1);
  EXPECT_EQ(cov.disabled_without_plan(), 1);
  EXPECT_DOUBLE_EQ(cov.disability_plan_rate(), 0.0);

  // Officers confirm.
  pb::SetLeftBehindRequest lb;
  lb.set_request_id("sg-lb-1");
  lb.set_member_id(a_);
  *lb.mutable_left_behind() = LeftBehindRow(a_).left_behind();
  pb::SetLeftBehindResponse lresp;
  auto c1 = ClientContextWith(CountyToken());
  ASSERT_TRUE(stub_->SetLeftBehind(c1.get(), lb, &lresp).ok());
  EXPECT_FALSE(lresp.student().left_behind().unconfirmed());
  pb::SetDisabilityPlanRequest dp;
  dp.set_request_id("sg-dp-1");
  dp.set_member_id(b_);
  *dp.mutable_plan() = PlanRow(b_).disability_plan();
  pb::SetDisabilityPlanResponse dresp;
  auto c2 = ClientContextWith(CountyToken());
  ASSERT_TRUE(stub_->SetDisabilityPlan(c2.get(), dp, &dresp).ok());
  EXPECT_FALSE(dresp.student().disability_plan().unconfirmed());
  EXPECT_TRUE(Listed(pb::SPECIAL_GROUP_FILTER_UNCONFIRMED).empty());
  EXPECT_TRUE(Listed(pb::SPECIAL_GROUP_FILTER_DISABLED_WITHOUT_PLAN).empty());
  cov = Coverage();
  EXPECT_EQ(cov.disabled_without_plan(), 0);
  EXPECT_DOUBLE_EQ(cov.disability_plan_rate(), 1.0);

  // A second report flags the confirmed record and keeps it.
  ASSERT_TRUE(
      Report(a_, pb::SPECIAL_NEED_LEFT_BEHIND, "照料人已更换", &rep).ok());
  EXPECT_FALSE(rep.created());
  EXPECT_TRUE(rep.student().left_behind().unconfirmed());
  EXPECT_EQ(rep.student().left_behind().carer_name(), "刘奶奶");
  EXPECT_THAT(Listed(pb::SPECIAL_GROUP_FILTER_UNCONFIRMED), ElementsAre(a_));

  // Bad reports name the field.
  grpc::Status st = Report(a_, pb::SPECIAL_NEED_UNSPECIFIED, "x", &rep);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(st))[0].field, "need");
  st = Report(a_, pb::SPECIAL_NEED_DISABILITY, "", &rep);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(st))[0].field, "note");
  st = Report(a_, pb::SPECIAL_NEED_DISABILITY, "看见\x07", &rep);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(st))[0].field, "note");
  st = Report(a_, pb::SPECIAL_NEED_DISABILITY, "\xc3\x28", &rep);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Listed(pb::SPECIAL_GROUP_FILTER_DISABLED), ElementsAre(b_));
}

TEST_P(SpecialGroupsTest, ARepeatedReportChangesNothing) {
  SetUpChildren();
  pb::ReportSpecialNeedRequest req;
  req.set_request_id("visit-12-finding-3");
  req.set_member_id(b_);
  req.set_need(pb::SPECIAL_NEED_DISABILITY);
  req.set_note("听力障碍，未制定方案");
  req.set_reported_by("teacher visit 12");
  pb::ReportSpecialNeedResponse first, again;
  auto c1 = ClientContextWith(TestToken(Role::kService, ""));
  ASSERT_TRUE(stub_->ReportSpecialNeed(c1.get(), req, &first).ok());
  auto c2 = ClientContextWith(TestToken(Role::kService, ""));
  ASSERT_TRUE(stub_->ReportSpecialNeed(c2.get(), req, &again).ok());
  EXPECT_TRUE(again.created());
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  EXPECT_THAT(Listed(pb::SPECIAL_GROUP_FILTER_DISABLED), ElementsAre(b_));
  // The same request id with another payload is refused.
  req.set_need(pb::SPECIAL_NEED_LEFT_BEHIND);
  auto c3 = ClientContextWith(TestToken(Role::kService, ""));
  grpc::Status st = stub_->ReportSpecialNeed(c3.get(), req, &again);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(Listed(pb::SPECIAL_GROUP_FILTER_LEFT_BEHIND).empty());
}

TEST_P(SpecialGroupsTest, TheImportLandsGoodRowsAndReportsBadOnesByRow) {
  SetUpChildren();
  std::vector<pb::SpecialGroupRow> rows;
  rows.push_back(LeftBehindRow(a_));                     // 2: ok
  rows.push_back(PlanRow("", ChildId(9, 33)));           // 3: ok (by ID)
  rows.push_back(LeftBehindRow(a_, ChildId(10, 31)));    // 4: both keys
  pb::SpecialGroupRow none;                              // 5: no record
  none.set_member_id(b_);
  rows.push_back(none);
  pb::SpecialGroupRow both = PlanRow(b_);                // 6: two records
  *both.mutable_left_behind() = LeftBehindRow(b_).left_behind();
  rows.push_back(both);
  rows.push_back(LeftBehindRow("", ChildId(9, 35, "411326")));  // 7: scope
  rows.push_back(LeftBehindRow(a_));                     // 8: duplicate
  rows.push_back(LeftBehindRow("", ChildId(9, 99)));     // 9: unknown
  pb::SpecialGroupRow school = PlanRow(a_);              // 10: no school
  school.mutable_disability_plan()->set_placement(
      pb::PLACEMENT_SPECIAL_SCHOOL);
  school.mutable_disability_plan()->set_school_code("S9");
  rows.push_back(school);
  pb::SpecialGroupRow carer = LeftBehindRow(b_);         // 11: no carer
  carer.mutable_left_behind()->clear_carer_name();
  rows.push_back(carer);

  pb::ImportSpecialGroupsResponse resp;
  ASSERT_TRUE(ImportRows(rows, &resp).ok());
  EXPECT_EQ(resp.accepted_rows(), 2);
  EXPECT_EQ(resp.rejected_rows(), 8);
  EXPECT_EQ(resp.left_behind_set(), 1);
  EXPECT_EQ(resp.disability_plans_set(), 1);
  std::vector<std::pair<int64_t, std::string>> errors;
  for (const auto& e : resp.errors()) {
    errors.emplace_back(e.row_number(), e.field());
  }
  EXPECT_THAT(errors,
              ElementsAre(Pair(4, "id_number"), Pair(5, "left_behind"),
                          Pair(6, "left_behind"), Pair(7, "id_number"),
                          Pair(8, "member_id"), Pair(9, "id_number"),
                          Pair(10, "disability_plan.school_code"),
                          Pair(11, "left_behind.carer_name")));
  // The unknown and the out-of-scope child are answered alike.
  EXPECT_EQ(resp.errors(3).rule(), resp.errors(5).rule());
  pb::Student s;
  ASSERT_TRUE(Get(ChildId(10, 31), &s).ok());
  EXPECT_EQ(s.left_behind().carer_name(), "刘奶奶");
  ASSERT_TRUE(Get(ChildId(9, 33), &s).ok());
  EXPECT_EQ(s.disability_plan().category(), "肢体");

  // A school officer: only children enrolled at its school.
  const std::string officer = testing::SchoolOfficerToken("S1", "411325");
  ASSERT_TRUE(
      ImportRows({PlanRow(a_), LeftBehindRow(b_)}, &resp, officer).ok());
  EXPECT_EQ(resp.accepted_rows(), 1);
  ASSERT_EQ(resp.errors_size(), 1);
  EXPECT_EQ(resp.errors(0).row_number(), 3);
  EXPECT_EQ(resp.errors(0).field(), "member_id");

  grpc::Status st = ImportRows({}, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(st))[0].field, "rows");
}

INSTANTIATE_TEST_SUITE_P(Backends, SpecialGroupsTest, testing::Backends());

}  // namespace
}  // namespace eduaid::registry
