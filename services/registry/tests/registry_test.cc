// Registry service tests over real gRPC on loopback, with a real
// redis-server, on SQLite files and on PostgreSQL.
#include <fstream>
#include <sstream>

#include "eduaid/registry/v1/registry.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/status.h"
#include "services/common/testing/harness.h"
#include "services/common/testing/service_fixture.h"
#include "services/common/testing/service_testing.h"
#include "services/common/validate.h"
#include "services/registry/registry_service.h"
#include "tools/gen/synthetic.h"
#include "services/registry/tests/registry_fixture.h"

namespace eduaid::registry {
namespace {

TEST_P(RegistryTest, ImportThenGetStudentKeepsChineseAndMasksForAgencies) {
  const std::string id = ChildId(10, 101);
  pb::ImportHouseholdsResponse resp;
  ASSERT_TRUE(Import({Member("H1", "411325", ChildId(40, 11), "王建国",
                             pb::RELATION_HEAD),
                      Member("H1", "411325", id, "王小明")},
                     &resp)
                  .ok());
  EXPECT_EQ(resp.accepted_rows(), 2);
  EXPECT_EQ(resp.households_created(), 1);
  EXPECT_EQ(resp.members_created(), 2);
  EXPECT_TRUE(resp.has_identification());

  pb::Student s;
  ASSERT_TRUE(Get(id, &s).ok());
  EXPECT_EQ(s.id_number(), id);
  EXPECT_EQ(s.name(), "王小明");
  EXPECT_EQ(s.household_id(), "H1");
  EXPECT_EQ(s.region_code(), "411325");
  EXPECT_EQ(s.birth_date().substr(5), "01-01");

  ASSERT_TRUE(Get(id, &s, TestToken(Role::kAgency, "4113")).ok());
  EXPECT_EQ(s.id_number(), MaskIdNumber(id));
  EXPECT_EQ(s.id_number().substr(6, 8), "********");
  EXPECT_EQ(s.name(), "王**");
}

TEST_P(RegistryTest, ReimportUpdatesAndNeverDuplicates) {
  std::vector<pb::HouseholdMemberRow> rows = {
      Member("H2", "411325", ChildId(38, 21), "李大山", pb::RELATION_HEAD),
      Member("H2", "411325", ChildId(9, 22), "李小花")};
  pb::ImportHouseholdsResponse first, second;
  ASSERT_TRUE(Import(rows, &first).ok());
  for (auto& r : rows) r.set_household_status(cpb::HOUSEHOLD_STATUS_LIFTED);
  rows[1].set_name("李小华");
  ASSERT_TRUE(Import(rows, &second).ok());
  EXPECT_EQ(second.members_created(), 0);
  EXPECT_EQ(second.members_updated(), 2);
  EXPECT_EQ(second.households_created(), 0);
  EXPECT_EQ(second.households_updated(), 1);
  EXPECT_EQ(second.identification().members(), 2);
  pb::Student s;
  ASSERT_TRUE(Get(ChildId(9, 22), &s).ok());
  EXPECT_EQ(s.name(), "李小华");
  EXPECT_EQ(s.household_status(), cpb::HOUSEHOLD_STATUS_LIFTED);
}

TEST_P(RegistryTest,
       RepeatedRequestIdReturnsFirstAnswerAndRejectsOtherPayload) {
  auto rows = std::vector<pb::HouseholdMemberRow>{
      Member("H3", "411325", ChildId(7, 31), "张三")};
  pb::ImportHouseholdsResponse a, b, c;
  ASSERT_TRUE(Import(rows, &a, ProvinceToken(), "same-id").ok());
  ASSERT_TRUE(Import(rows, &b, ProvinceToken(), "same-id").ok());
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
  EXPECT_EQ(b.members_created(), 1);  // the first answer, not "updated"
  rows[0].set_name("张四");
  grpc::Status st = Import(rows, &c, ProvinceToken(), "same-id");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(st)), "REQUEST_ID_REUSED");
  pb::Student s;
  ASSERT_TRUE(Get(ChildId(7, 31), &s).ok());
  EXPECT_EQ(s.name(), "张三");
}

TEST_P(RegistryTest, BadRowsAreReportedAndGoodRowsLand) {
  const std::string good = ChildId(8, 41);
  std::string wrong_check = ChildId(8, 43);
  wrong_check[17] = wrong_check[17] == '1' ? '2' : '1';
  std::string feb30 = synthetic::MakeIdNumber("411325", "20150230", 45);
  std::string invalid_utf8 = "王\xC3\x28";
  std::vector<pb::HouseholdMemberRow> rows = {
      Member("H4", "411325", good, "赵一"),
      Member("H4", "411325", wrong_check, "赵二"),
      Member("H4", "411325", feb30, "赵三"),
      Member("H4", "411325", ChildId(8, 47), std::string(51 * 3, 'a')),
      Member("H4", "411325", ChildId(8, 49), "赵四",
             static_cast<pb::Relation>(0)),
      Member("H4", "411325", good, "赵一"),
      Member("H4", "411325", ChildId(8, 51), "赵五",
             static_cast<pb::Relation>(99)),
      Member("H 4", "411325", ChildId(8, 53), "赵六"),
  };
  pb::ImportHouseholdsResponse resp;
  ASSERT_TRUE(Import(rows, &resp).ok());
  EXPECT_EQ(resp.accepted_rows(), 1);
  EXPECT_EQ(resp.rejected_rows(), 7);
  std::map<int64_t, std::string> by_row;
  for (const auto& e : resp.errors())
    by_row[e.row_number()] += e.field() + ":" + e.rule() + ";";
  EXPECT_THAT(by_row[3], HasSubstr("id_number:check character"));
  EXPECT_THAT(by_row[4], HasSubstr("id_number:birth date is not a real date"));
  EXPECT_THAT(by_row[5], HasSubstr("name:must be at most 50"));
  EXPECT_THAT(by_row[6], HasSubstr("relation:must be a known relation"));
  EXPECT_THAT(
      by_row[7],
      HasSubstr("id_number:duplicated in this request (first at row 2)"));
  EXPECT_THAT(by_row[8], HasSubstr("relation:"));
  EXPECT_THAT(by_row[9], HasSubstr("household_id:"));
  for (const auto& e : resp.errors()) {
    EXPECT_THAT(e.rule(),
                ::testing::Not(HasSubstr(wrong_check)));  // no PII echo
  }
  pb::Student s;
  EXPECT_TRUE(Get(good, &s).ok());
  EXPECT_EQ(Get(ChildId(8, 47), &s).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Get(ChildId(8, 53), &s).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(resp.identification().members(), 1);

  // Invalid UTF-8 never reaches the service (proto3 refuses to parse it): the
  // whole call is INVALID_ARGUMENT and nothing of it is stored.
  pb::ImportHouseholdsResponse utf8;
  grpc::Status st =
      Import({Member("H4b", "411325", ChildId(8, 55), "钱一"),
              Member("H4b", "411325", ChildId(8, 57), invalid_utf8)},
             &utf8);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(st))[0].field, "request");
  EXPECT_EQ(Get(ChildId(8, 55), &s).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_P(RegistryTest, InvalidCallsNameTheFieldAndStoreNothing) {
  pb::ListStudentsRequest list;
  list.set_page_size(-1);
  pb::ListStudentsResponse lresp;
  auto ctx = ClientContextWith(ProvinceToken());
  grpc::Status st = stub_->ListStudents(ctx.get(), list, &lresp);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  auto v = FieldViolationsOf(FromGrpcStatus(st));
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "page_size");

  list.set_page_size(10);
  list.set_stage(static_cast<cpb::SchoolStage>(42));
  auto ctx2 = ClientContextWith(ProvinceToken());
  st = stub_->ListStudents(ctx2.get(), list, &lresp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(st))[0].field, "stage");

  pb::UpsertSchoolRequest school;
  school.set_request_id("bad-school");
  school.mutable_school()->set_code("S1");
  school.mutable_school()->set_name("\xFF\xFE");
  school.mutable_school()->set_region_code("411325");
  school.mutable_school()->add_stages(static_cast<cpb::SchoolStage>(77));
  pb::UpsertSchoolResponse sresp;
  auto ctx3 = ClientContextWith(ProvinceToken());
  st = stub_->UpsertSchool(ctx3.get(), school, &sresp);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(st))[0].field, "request");
  school.mutable_school()->set_name(std::string(101 * 3, 'x'));
  auto ctx3b = ClientContextWith(ProvinceToken());
  st = stub_->UpsertSchool(ctx3b.get(), school, &sresp);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  std::set<std::string> fields;
  for (const auto& f : FieldViolationsOf(FromGrpcStatus(st)))
    fields.insert(f.field);
  EXPECT_TRUE(fields.count("school.name"));
  EXPECT_TRUE(fields.count("school.stages"));

  pb::ListSchoolsRequest ls;
  pb::ListSchoolsResponse lsr;
  auto ctx4 = ClientContextWith(ProvinceToken());
  ASSERT_TRUE(stub_->ListSchools(ctx4.get(), ls, &lsr).ok());
  EXPECT_EQ(lsr.schools_size(), 0);

  pb::ImportHouseholdsRequest imp;  // no request id
  imp.add_rows()->CopyFrom(Member("H9", "411325", ChildId(9, 91), "钱九"));
  pb::ImportHouseholdsResponse iresp;
  auto ctx5 = ClientContextWith(ProvinceToken());
  st = stub_->ImportHouseholds(ctx5.get(), imp, &iresp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(st))[0].field, "request_id");
  pb::Student s;
  EXPECT_EQ(Get(ChildId(9, 91), &s).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_P(RegistryTest, RegionScopesHoldForReadsListsAndBulkPaths) {
  pb::ImportHouseholdsResponse resp;
  ASSERT_TRUE(
      Import({Member("H5", "411325", ChildId(10, 61), "孙甲"),
              Member("H6", "411326", ChildId(10, 63, "411326"), "孙乙")},
             &resp)
          .ok());
  pb::Student s;
  EXPECT_TRUE(Get(ChildId(10, 61), &s, CountyToken("411325")).ok());
  // A child registered elsewhere is answered as one not registered at all
  // (issue 12, point 13).
  EXPECT_EQ(
      Get(ChildId(10, 63, "411326"), &s, CountyToken("411325")).error_code(),
      grpc::StatusCode::NOT_FOUND);

  pb::ListOutOfSchoolRequest req;
  pb::ListOutOfSchoolResponse list;
  auto ctx = ClientContextWith(CountyToken("411325"));
  ASSERT_TRUE(stub_->ListOutOfSchool(ctx.get(), req, &list).ok());
  ASSERT_EQ(list.children_size(), 1);
  EXPECT_EQ(list.children(0).region_code(), "411325");
  req.set_region_prefix("411326");
  auto ctx2 = ClientContextWith(CountyToken("411325"));
  EXPECT_EQ(stub_->ListOutOfSchool(ctx2.get(), req, &list).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  req.set_region_prefix("4113");
  auto ctx3 = ClientContextWith(CountyToken("411325"));
  EXPECT_EQ(stub_->ListOutOfSchool(ctx3.get(), req, &list).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  pb::ImportHouseholdsResponse denied;
  grpc::Status st =
      Import({Member("H7", "411325", ChildId(11, 71), "周甲"),
              Member("H8", "411326", ChildId(11, 73, "411326"), "周乙")},
             &denied, CountyToken("411325"));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Get(ChildId(11, 71), &s).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_P(RegistryTest, AuthenticationIsRequiredAndReadOnlyRolesCannotWrite) {
  pb::GetCoverageRequest req;
  pb::GetCoverageResponse resp;
  auto none = ClientContextWith("");
  EXPECT_EQ(stub_->GetCoverage(none.get(), req, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  auto expired = ClientContextWith(TestToken(Role::kProvinceOfficer, "", -1));
  EXPECT_EQ(stub_->GetCoverage(expired.get(), req, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  auto forged = ClientContextWith(ProvinceToken() + "x");
  EXPECT_EQ(stub_->GetCoverage(forged.get(), req, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  pb::ImportHouseholdsResponse iresp;
  EXPECT_EQ(Import({Member("H10", "411325", ChildId(9, 81), "吴一")}, &iresp,
                   TestToken(Role::kAuditor, ""))
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Import({Member("H10", "411325", ChildId(9, 81), "吴一")}, &iresp,
                   TestToken(Role::kAgency, "4113"))
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Denials are audited.
  pb::ListAuditEventsRequest areq;
  pb::ListAuditEventsResponse aresp;
  auto actx = ClientContextWith(TestToken(Role::kAuditor, ""));
  ASSERT_TRUE(stub_->ListAuditEvents(actx.get(), areq, &aresp).ok());
  // Unauthenticated calls are counted per peer address in one event.
  int denied = 0, unauthenticated_calls = 0;
  for (const auto& e : aresp.events()) {
    if (e.result() == "PermissionDenied") ++denied;
    if (e.result() == "Unauthenticated") {
      unauthenticated_calls +=
          std::stoi(e.records().substr(e.records().find("calls=") + 6));
    }
  }
  EXPECT_EQ(denied, 2);
  EXPECT_EQ(unauthenticated_calls, 3);
}

TEST_P(RegistryTest,
       IdentificationTracksOutOfSchoolChildrenAndTransfersKeepHistory) {
  AddSchool("SP1", "411325", {cpb::SCHOOL_STAGE_PRIMARY}, "内乡县第一小学");
  AddSchool("SP2", "411325", {cpb::SCHOOL_STAGE_PRIMARY}, "内乡县第二小学");
  const std::string child = ChildId(10, 121), toddler = ChildId(2, 123),
                    teen = ChildId(17, 125);
  pb::ImportHouseholdsResponse resp;
  ASSERT_TRUE(Import({Member("H11", "411325", child, "郑一"),
                      Member("H11", "411325", toddler, "郑二"),
                      Member("H11", "411325", teen, "郑三")},
                     &resp)
                  .ok());
  EXPECT_EQ(resp.identification().school_age(), 1);
  EXPECT_EQ(resp.identification().out_of_school(), 1);
  EXPECT_EQ(resp.identification().newly_out_of_school(), 1);

  pb::ListOutOfSchoolRequest oreq;
  pb::ListOutOfSchoolResponse oos;
  auto ctx = ClientContextWith(ProvinceToken());
  ASSERT_TRUE(stub_->ListOutOfSchool(ctx.get(), oreq, &oos).ok());
  ASSERT_EQ(oos.children_size(), 1);
  EXPECT_EQ(oos.children(0).first_seen(), TodayCst());
  EXPECT_EQ(oos.children(0).age(), 10);
  EXPECT_EQ(oos.children(0).id_number(), MaskIdNumber(child));
  EXPECT_EQ(oos.total(), 1);

  pb::RecordEnrolmentsResponse eresp;
  ASSERT_TRUE(Enrol(child, "SP1", cpb::SCHOOL_STAGE_PRIMARY, 4,
                    pb::ENROLMENT_STATUS_ENROLLED, &eresp)
                  .ok());
  EXPECT_EQ(eresp.accepted_rows(), 1);
  EXPECT_EQ(eresp.identification().out_of_school(), 0);
  EXPECT_EQ(eresp.identification().back_in_school(), 1);
  EXPECT_EQ(eresp.identification().identified(), 1);

  pb::Student s;
  ASSERT_TRUE(Get(child, &s).ok());  // caches it
  EXPECT_EQ(s.current_enrolment().school_code(), "SP1");
  EXPECT_EQ(s.current_enrolment().school_name(), "内乡县第一小学");

  pb::TransferStudentRequest treq;
  treq.set_request_id("transfer-1");
  treq.set_id_number(child);
  treq.set_to_school_code("SP2");
  treq.set_stage(cpb::SCHOOL_STAGE_PRIMARY);
  treq.set_grade(4);
  treq.mutable_term()->set_year(2026);
  treq.mutable_term()->set_season(cpb::SEASON_AUTUMN);
  treq.set_reason("随父母迁居");
  pb::TransferStudentResponse tresp;
  auto tctx = ClientContextWith(CountyToken());
  ASSERT_TRUE(stub_->TransferStudent(tctx.get(), treq, &tresp).ok());
  EXPECT_EQ(tresp.previous().status(), pb::ENROLMENT_STATUS_TRANSFERRED);

  ASSERT_TRUE(Get(child, &s).ok());  // the cache was invalidated
  EXPECT_EQ(s.current_enrolment().school_code(), "SP2");
  ASSERT_EQ(s.enrolment_history_size(), 2);
  EXPECT_EQ(s.enrolment_history(0).school_code(), "SP1");
  EXPECT_EQ(s.enrolment_history(0).status(), pb::ENROLMENT_STATUS_TRANSFERRED);
  EXPECT_FALSE(s.enrolment_history(0).current());
  EXPECT_THAT(s.enrolment_history(1).reason(), HasSubstr("随父母迁居"));

  // A second transfer to the same school is refused with a reason.
  treq.set_request_id("transfer-2");
  pb::TransferStudentResponse again;
  auto tctx2 = ClientContextWith(CountyToken());
  grpc::Status st = stub_->TransferStudent(tctx2.get(), treq, &again);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(st)), "SAME_SCHOOL");

  // Dropping out puts the child back on the list.
  ASSERT_TRUE(Enrol(child, "SP2", cpb::SCHOOL_STAGE_PRIMARY, 4,
                    pb::ENROLMENT_STATUS_DROPPED_OUT, &eresp)
                  .ok());
  EXPECT_EQ(eresp.identification().out_of_school(), 1);

  pb::GetCoverageRequest creq;
  pb::GetCoverageResponse cov;
  auto cctx = ClientContextWith(CountyToken());
  ASSERT_TRUE(stub_->GetCoverage(cctx.get(), creq, &cov).ok());
  ASSERT_EQ(cov.regions_size(), 1);
  EXPECT_EQ(cov.total().members(), 3);
  EXPECT_EQ(cov.total().school_age(), 1);
  EXPECT_EQ(cov.total().out_of_school(), 1);
  EXPECT_EQ(cov.total().identified(), 1);
}

TEST_P(RegistryTest, DropoutCasesFollowTheirStateMachine) {
  const std::string child = ChildId(12, 131);
  pb::ImportHouseholdsResponse resp;
  ASSERT_TRUE(Import({Member("H12", "411325", child, "冯一")}, &resp).ok());
  pb::Student s;
  ASSERT_TRUE(Get(child, &s).ok());

  pb::OpenDropoutCaseRequest open;
  open.set_request_id("case-open-1");
  open.set_member_id(s.member_id());
  open.set_note("家访发现外出务工");
  pb::OpenDropoutCaseResponse opened;
  auto c1 = ClientContextWith(CountyToken());
  ASSERT_TRUE(stub_->OpenDropoutCase(c1.get(), open, &opened).ok());
  const int64_t case_id = opened.dropout_case().case_id();
  EXPECT_EQ(opened.dropout_case().state(), pb::DROPOUT_CASE_STATE_OPEN);

  open.set_request_id("case-open-2");
  auto c2 = ClientContextWith(CountyToken());
  grpc::Status st = stub_->OpenDropoutCase(c2.get(), open, &opened);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(st)), "CASE_ALREADY_OPEN");

  auto move = [&](const std::string& rid, pb::DropoutCaseState to,
                  pb::UpdateDropoutCaseResponse* out) {
    pb::UpdateDropoutCaseRequest u;
    u.set_request_id(rid);
    u.set_case_id(case_id);
    u.set_state(to);
    u.set_note("劝返工作记录");
    auto ctx = ClientContextWith(CountyToken());
    return stub_->UpdateDropoutCase(ctx.get(), u, out);
  };
  pb::UpdateDropoutCaseResponse upd;
  ASSERT_TRUE(move("u1", pb::DROPOUT_CASE_STATE_VISITED, &upd).ok());
  ASSERT_TRUE(move("u2", pb::DROPOUT_CASE_STATE_RETURNED, &upd).ok());
  EXPECT_EQ(upd.dropout_case().history_size(), 3);
  EXPECT_EQ(upd.dropout_case().history(2).actor(),
            "test-county_officer-411325");
  st = move("u3", pb::DROPOUT_CASE_STATE_VISITED, &upd);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(st)), "INVALID_TRANSITION");

  pb::UpdateDropoutCaseRequest other;
  other.set_request_id("u4");
  other.set_case_id(case_id);
  other.set_state(pb::DROPOUT_CASE_STATE_VISITED);
  other.set_note("x");
  auto c3 = ClientContextWith(CountyToken("411326"));
  EXPECT_EQ(stub_->UpdateDropoutCase(c3.get(), other, &upd).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_P(RegistryTest, SpecialGroupsAreRecordedListedAndMasked) {
  AddSchool("SX1", "411325", {cpb::SCHOOL_STAGE_PRIMARY}, "内乡县特殊教育学校");
  const std::string a = ChildId(9, 141), b = ChildId(11, 143);
  pb::ImportHouseholdsResponse resp;
  ASSERT_TRUE(Import({Member("H13", "411325", a, "褚一"),
                      Member("H13", "411325", b, "褚二")},
                     &resp)
                  .ok());
  pb::Student sa, sb;
  ASSERT_TRUE(Get(a, &sa).ok());
  ASSERT_TRUE(Get(b, &sb).ok());
  pb::SetLeftBehindRequest lb;
  lb.set_request_id("lb-1");
  lb.set_member_id(sa.member_id());
  lb.mutable_left_behind()->set_carer_name("褚奶奶");
  lb.mutable_left_behind()->set_carer_relation("祖母");
  lb.mutable_left_behind()->set_parents_location("广东省东莞市");
  pb::SetLeftBehindResponse lresp;
  auto c1 = ClientContextWith(CountyToken());
  ASSERT_TRUE(stub_->SetLeftBehind(c1.get(), lb, &lresp).ok());
  EXPECT_EQ(lresp.student().left_behind().carer_name(), "褚奶奶");

  pb::SetDisabilityPlanRequest dp;
  dp.set_request_id("dp-1");
  dp.set_member_id(sb.member_id());
  dp.mutable_plan()->set_category("肢体");
  dp.mutable_plan()->set_placement(pb::PLACEMENT_REGULAR_CLASS);
  pb::SetDisabilityPlanResponse dresp;
  auto c2 = ClientContextWith(CountyToken());
  grpc::Status st = stub_->SetDisabilityPlan(c2.get(), dp, &dresp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(st))[0].field, "plan.school_code");
  dp.mutable_plan()->set_placement(pb::PLACEMENT_HOME_TEACHING);
  auto c3 = ClientContextWith(CountyToken());
  ASSERT_TRUE(stub_->SetDisabilityPlan(c3.get(), dp, &dresp).ok());

  pb::ListSpecialGroupsRequest req;
  pb::ListSpecialGroupsResponse list;
  auto c4 = ClientContextWith(TestToken(Role::kAgency, "411325"));
  ASSERT_TRUE(stub_->ListSpecialGroups(c4.get(), req, &list).ok());
  EXPECT_EQ(list.left_behind_total(), 1);
  EXPECT_EQ(list.disability_plan_total(), 1);
  ASSERT_EQ(list.entries_size(), 2);
  EXPECT_EQ(list.entries(0).left_behind().carer_name(), "褚**");
  EXPECT_EQ(list.entries(0).name(), "褚*");
  EXPECT_EQ(list.entries(1).disability_plan().placement(),
            pb::PLACEMENT_HOME_TEACHING);
}

TEST_P(RegistryTest, PaginationWalksEveryStudentAndRejectsForgedTokens) {
  synthetic::Options o;
  o.households = 40;
  o.regions = {"411325"};
  o.seed = 7;
  o.out_of_school_rate = 0;
  auto data = synthetic::Generate(o);
  for (const auto& s : data.schools) {
    std::vector<cpb::SchoolStage> stages = {
        cpb::SCHOOL_STAGE_PRESCHOOL, cpb::SCHOOL_STAGE_PRIMARY,
        cpb::SCHOOL_STAGE_JUNIOR_HIGH, cpb::SCHOOL_STAGE_SENIOR_HIGH,
        cpb::SCHOOL_STAGE_SECONDARY_VOCATIONAL};
    AddSchool(s.code, s.region_code, stages, s.name);
  }
  std::vector<pb::HouseholdMemberRow> rows;
  for (const auto& m : data.members) {
    auto r = Member(m.household_id, m.region_code, m.id_number, m.name);
    rows.push_back(r);
  }
  pb::ImportHouseholdsResponse resp;
  ASSERT_TRUE(Import(rows, &resp).ok());
  pb::RecordEnrolmentsRequest ereq;
  ereq.set_request_id("roster-all");
  int enrolled = 0;
  for (const auto& e : data.enrolments) {
    auto* r = ereq.add_rows();
    r->set_id_number(e.id_number);
    r->set_school_code(e.school_code);
    r->set_stage(e.stage == "preschool"     ? cpb::SCHOOL_STAGE_PRESCHOOL
                 : e.stage == "primary"     ? cpb::SCHOOL_STAGE_PRIMARY
                 : e.stage == "junior_high" ? cpb::SCHOOL_STAGE_JUNIOR_HIGH
                 : e.stage == "senior_high"
                     ? cpb::SCHOOL_STAGE_SENIOR_HIGH
                     : cpb::SCHOOL_STAGE_SECONDARY_VOCATIONAL);
    r->set_grade(std::stoi(e.grade));
    r->mutable_term()->set_year(2026);
    r->mutable_term()->set_season(cpb::SEASON_AUTUMN);
    r->set_status(e.status == "enrolled"    ? pb::ENROLMENT_STATUS_ENROLLED
                  : e.status == "graduated" ? pb::ENROLMENT_STATUS_GRADUATED
                                            : pb::ENROLMENT_STATUS_DROPPED_OUT);
    if (e.status == "enrolled") ++enrolled;
  }
  pb::RecordEnrolmentsResponse eresp;
  auto ectx = ClientContextWith(ProvinceToken());
  ASSERT_TRUE(stub_->RecordEnrolments(ectx.get(), ereq, &eresp).ok());
  ASSERT_EQ(eresp.rejected_rows(), 0) << eresp.DebugString();

  pb::ListStudentsRequest req;
  req.set_page_size(7);
  std::set<std::string> seen;
  std::string first_token;
  do {
    pb::ListStudentsResponse page;
    auto ctx = ClientContextWith(ProvinceToken());
    ASSERT_TRUE(stub_->ListStudents(ctx.get(), req, &page).ok());
    EXPECT_LE(page.students_size(), 7);
    for (const auto& s : page.students()) {
      EXPECT_TRUE(seen.insert(s.member_id()).second);
      EXPECT_EQ(s.id_number().substr(6, 8), "********");
      EXPECT_EQ(s.current_enrolment().status(), pb::ENROLMENT_STATUS_ENROLLED);
    }
    if (first_token.empty()) first_token = page.next_page_token();
    req.set_page_token(page.next_page_token());
  } while (!req.page_token().empty());
  EXPECT_EQ(static_cast<int>(seen.size()), enrolled);

  pb::ListStudentsResponse page;
  req.set_page_token(first_token + "A");
  auto c1 = ClientContextWith(ProvinceToken());
  grpc::Status st = stub_->ListStudents(c1.get(), req, &page);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(st))[0].field, "page_token");
  req.set_page_token(first_token);
  req.set_stage(cpb::SCHOOL_STAGE_PRIMARY);  // other filters
  auto c2 = ClientContextWith(ProvinceToken());
  EXPECT_EQ(stub_->ListStudents(c2.get(), req, &page).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_P(RegistryTest, ReadsSurviveRedisGoingAwayAndTheCacheRefillsAfter) {
  // Without the in-process tier, so that every read goes to Redis first.
  host_.reset();
  config_.local_cache_entries = 0;
  auto host = ServiceHost::Create(config_, Migrations());
  ASSERT_TRUE(host.ok()) << host.status();
  host_ = std::move(*host);
  service_ = std::make_unique<RegistryService>(*host_);
  ASSERT_TRUE(host_->Start({service_.get()}).ok());
  stub_ = pb::StudentRegistryService::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(host_->grpc_port()),
                          grpc::InsecureChannelCredentials()));
  const std::string id = ChildId(9, 151);
  pb::ImportHouseholdsResponse resp;
  ASSERT_TRUE(Import({Member("H14", "411325", id, "卫一")}, &resp).ok());
  pb::Student s;
  ASSERT_TRUE(Get(id, &s).ok());
  ASSERT_TRUE(Get(id, &s).ok());
  double hits = testing::MetricValue(Metrics(), "eduaid_cache_requests_total",
                                     {"op=\"get\"", "result=\"hit\""});
  EXPECT_GE(hits, 1);

  redis_->Stop();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(Get(id, &s).ok())
        << "read " << i << " failed while Redis is down";
    EXPECT_EQ(s.name(), "卫一");
  }
  EXPECT_GT(testing::MetricValue(Metrics(), "eduaid_cache_bypass_total", {}),
            0);

  redis_->Start();
  bool refilled = false;
  for (int i = 0; i < 60 && !refilled; ++i) {
    ASSERT_TRUE(Get(id, &s).ok());
    double now_hits =
        testing::MetricValue(Metrics(), "eduaid_cache_requests_total",
                             {"op=\"get\"", "result=\"hit\""});
    refilled = now_hits > hits;
    if (!refilled) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(refilled) << "the cache never served a hit after Redis returned";
}

TEST_P(RegistryTest, TheInProcessTierServesRepeatsAndForgetsOnWrites) {
  AddSchool("SL1", "411325", {cpb::SCHOOL_STAGE_PRIMARY});
  const std::string id = ChildId(9, 171);
  pb::ImportHouseholdsResponse resp;
  ASSERT_TRUE(Import({Member("H16", "411325", id, "韩一")}, &resp).ok());
  pb::Student s;
  ASSERT_TRUE(Get(id, &s).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Get(id, &s).ok());
  EXPECT_GE(testing::MetricValue(Metrics(), "eduaid_cache_local_requests_total",
                                 {"result=\"hit\""}),
            5);
  // Masking and scopes hold on the fast path too.
  ASSERT_TRUE(Get(id, &s, TestToken(Role::kAgency, "411325")).ok());
  EXPECT_EQ(s.name(), "韩*");
  EXPECT_EQ(Get(id, &s, CountyToken("411326")).error_code(),
            grpc::StatusCode::NOT_FOUND);
  pb::RecordEnrolmentsResponse eresp;
  ASSERT_TRUE(Enrol(id, "SL1", cpb::SCHOOL_STAGE_PRIMARY, 3,
                    pb::ENROLMENT_STATUS_ENROLLED, &eresp)
                  .ok());
  ASSERT_TRUE(Get(id, &s).ok());
  EXPECT_EQ(s.current_enrolment().school_code(), "SL1");
}

TEST_P(RegistryTest, HealthMetricsAndNoPlaintextPersonalDataAtRest) {
  EXPECT_EQ(testing::HealthStatus(host_->runner().health_port(),
                                  "eduaid.registry.v1.StudentRegistryService"),
            "SERVING");
  const std::string id = ChildId(13, 161);
  pb::ImportHouseholdsResponse resp;
  ASSERT_TRUE(Import({Member("H15", "411325", id, "蒋明辉")}, &resp).ok());
  pb::Student s;
  ASSERT_TRUE(Get(id, &s).ok());
  std::string metrics = Metrics();
  EXPECT_GT(
      testing::MetricValue(metrics, "grpc_server_handled_total",
                           {"grpc_method=\"GetStudent\"", "grpc_code=\"OK\""}),
      0);
  EXPECT_THAT(metrics, ::testing::Not(HasSubstr(id)));
  if (GetParam() == "sqlite") {
    host_->audit().Flush();
    host_.reset();  // checkpoints the WAL into the file
    for (const char* f : {"/registry.db", "/registry.db-wal"}) {
      std::ifstream in(dir_.path() + f, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      EXPECT_EQ(ss.str().find(id), std::string::npos) << f;
      EXPECT_EQ(ss.str().find("蒋明辉"), std::string::npos) << f;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryTest, testing::Backends());

}  // namespace
TEST(RegistryStart, RefusesBlindIndexesOfAnEarlierBuild) {
  testing::TempDir dir;
  auto db = Database::Open("sqlite://" + dir.path() + "/registry.db", {});
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE((*db)->Migrate(Migrations()).ok());
  EXPECT_TRUE(CheckBlindIndexFormat(**db).ok());
  auto put = [&](const std::string& hash) {
    return (*db)->Transact([&](SqlConnection& c) -> absl::Status {
      auto r = c.Execute(
          "INSERT INTO schools(code, name, region_code, stages, rural, "
          "updated_at) VALUES('S1', 'x', '411325', '2', 1, 0) "
          "ON CONFLICT(code) DO NOTHING");
      if (!r.ok()) return r.status();
      return c
          .Execute(
              "INSERT INTO enrolments(id_hash, school_code, stage, grade, "
              "term_year, term_season, status, boarder, current, "
              "recorded_at, reason) VALUES(?, 'S1', 2, 1, 2026, 2, 1, 0, 0, "
              "0, '')",
              {hash})
          .status();
    });
  };
  // Today's form: the issuing county, then 32 hex characters.
  ASSERT_TRUE(put("411325" + std::string(32, 'a')).ok());
  EXPECT_TRUE(CheckBlindIndexFormat(**db).ok());
  // An earlier build's: 32 hex characters only.
  ASSERT_TRUE(put(std::string(32, 'b')).ok());
  absl::Status st = CheckBlindIndexFormat(**db);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(st.message()), ::testing::HasSubstr("re-create"));
}

}  // namespace eduaid::registry
