// Issue 12, registry side: each test shows one hole of the review closed
// (points 1, 2, 4, 5, 6, 10, 13). In-process registry over real gRPC on
// loopback, with a real redis-server, on SQLite files and on PostgreSQL.
#include <set>

#include "eduaid/registry/v1/registry.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/cache.h"
#include "services/common/crypto.h"
#include "services/common/status.h"
#include "services/common/testing/harness.h"
#include "services/common/testing/service_fixture.h"
#include "services/common/testing/service_testing.h"
#include "services/common/validate.h"
#include "services/registry/registry_service.h"
#include "tools/gen/synthetic.h"

namespace eduaid::registry {
namespace {

namespace cpb = ::eduaid::common::v1;
using ::eduaid::testing::ClientContextWith;
using ::eduaid::testing::TestToken;
using ::testing::HasSubstr;

std::string ProvinceToken() { return TestToken(Role::kProvinceOfficer, ""); }
std::string CountyToken(const std::string& region) {
  return TestToken(Role::kCountyOfficer, region);
}
int ThisYear() { return std::stoi(TodayCst().substr(0, 4)); }

// A child of about `age` born on 17 May, so the birth date is not guessable
// from the year alone.
std::string ChildId(int age, int seq, const std::string& region = "411325") {
  return synthetic::MakeIdNumber(
      region, std::to_string(ThisYear() - age) + "0517", seq);
}

pb::HouseholdMemberRow Member(const std::string& household,
                              const std::string& region, const std::string& id,
                              const std::string& name) {
  pb::HouseholdMemberRow r;
  r.set_household_id(household);
  r.set_region_code(region);
  r.set_registration_year(2016);
  r.set_household_status(cpb::HOUSEHOLD_STATUS_POOR);
  r.set_id_number(id);
  r.set_name(name);
  r.set_relation(pb::RELATION_CHILD);
  return r;
}

struct RegistryTraits {
  using Service = RegistryService;
  using Grpc = pb::StudentRegistryService;
  static constexpr char kName[] = "registry";
  static constexpr char kGrpcService[] =
      "eduaid.registry.v1.StudentRegistryService";
  static std::vector<Migration> Migrations() { return registry::Migrations(); }
};

class RegistryPrivacyTest : public testing::ServiceFixture<RegistryTraits> {
 protected:
  // Restarts the service on the same database and Redis with `config_`.
  void StartHost() {
    service_.reset();
    host_.reset();
    auto host = ServiceHost::Create(config_, Migrations());
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = std::move(*host);
    service_ = std::make_unique<RegistryService>(*host_);
    ASSERT_TRUE(host_->Start({service_.get()}).ok());
    stub_ = pb::StudentRegistryService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(host_->grpc_port()),
                            grpc::InsecureChannelCredentials()));
  }

  void AddSchool(const std::string& code, const std::string& region) {
    pb::UpsertSchoolRequest req;
    req.set_request_id("school-" + code);
    auto* s = req.mutable_school();
    s->set_code(code);
    s->set_name("学校" + code);
    s->set_region_code(region);
    s->add_stages(cpb::SCHOOL_STAGE_PRIMARY);
    pb::UpsertSchoolResponse resp;
    auto ctx = ClientContextWith(ProvinceToken());
    ASSERT_TRUE(stub_->UpsertSchool(ctx.get(), req, &resp).ok());
  }

  grpc::Status Import(const std::vector<pb::HouseholdMemberRow>& rows,
                      pb::ImportHouseholdsResponse* resp,
                      const std::string& token = ProvinceToken(),
                      bool skip_identification = false) {
    pb::ImportHouseholdsRequest req;
    req.set_request_id("imp-" + std::to_string(++n_));
    req.set_skip_identification(skip_identification);
    for (const auto& r : rows) *req.add_rows() = r;
    auto ctx = ClientContextWith(token);
    return stub_->ImportHouseholds(ctx.get(), req, resp);
  }

  grpc::Status Enrol(const std::string& id, const std::string& school,
                     pb::EnrolmentStatus status,
                     pb::RecordEnrolmentsResponse* resp,
                     const std::string& token = ProvinceToken()) {
    pb::RecordEnrolmentsRequest req;
    req.set_request_id("enr-" + std::to_string(++n_));
    auto* r = req.add_rows();
    r->set_row_number(2);
    r->set_id_number(id);
    r->set_school_code(school);
    r->set_stage(cpb::SCHOOL_STAGE_PRIMARY);
    r->set_grade(4);
    r->mutable_term()->set_year(2026);
    r->mutable_term()->set_season(cpb::SEASON_AUTUMN);
    r->set_status(status);
    auto ctx = ClientContextWith(token);
    return stub_->RecordEnrolments(ctx.get(), req, resp);
  }

  grpc::Status Get(const std::string& id, pb::Student* out,
                   const std::string& token = ProvinceToken()) {
    pb::GetStudentRequest req;
    req.set_id_number(id);
    pb::GetStudentResponse resp;
    auto ctx = ClientContextWith(token);
    grpc::Status st = stub_->GetStudent(ctx.get(), req, &resp);
    *out = resp.student();
    return st;
  }

  grpc::Status Transfer(const std::string& id, const std::string& to,
                        const std::string& token,
                        pb::TransferStudentResponse* resp) {
    pb::TransferStudentRequest req;
    req.set_request_id("tr-" + std::to_string(++n_));
    req.set_id_number(id);
    req.set_to_school_code(to);
    req.set_stage(cpb::SCHOOL_STAGE_PRIMARY);
    req.set_grade(4);
    req.mutable_term()->set_year(2026);
    req.mutable_term()->set_season(cpb::SEASON_AUTUMN);
    req.set_reason("随父母迁居");
    auto ctx = ClientContextWith(token);
    return stub_->TransferStudent(ctx.get(), req, resp);
  }

  std::vector<pb::OutOfSchoolChild> OutOfSchool(const std::string& token,
                                                const std::string& prefix) {
    pb::ListOutOfSchoolRequest req;
    req.set_region_prefix(prefix);
    pb::ListOutOfSchoolResponse resp;
    auto ctx = ClientContextWith(token);
    EXPECT_TRUE(stub_->ListOutOfSchool(ctx.get(), req, &resp).ok());
    return {resp.children().begin(), resp.children().end()};
  }

  std::vector<pb::AuditEvent> Audit(const std::string& method) {
    host_->audit().Flush();
    pb::ListAuditEventsRequest req;
    req.set_method(method);
    req.set_page_size(100);
    pb::ListAuditEventsResponse resp;
    auto ctx = ClientContextWith(TestToken(Role::kAuditor, ""));
    EXPECT_TRUE(stub_->ListAuditEvents(ctx.get(), req, &resp).ok());
    return {resp.events().begin(), resp.events().end()};
  }

  // The registry's cache key of an ID number (its blind index behind the
  // issuing county, as Registry::IdHash builds it).
  std::string CacheKeyOf(const std::string& id) {
    return CacheKey(
        "registry", "student",
        id.substr(0, 6) + host_->crypto().ShortIndex(id, "registry.id_number"));
  }

  int n_ = 0;
};

// Point 1: no clear birth date at rest; lists carry the birth year, never
// the birth date beside a masked ID number.
TEST_P(RegistryPrivacyTest, BirthDateIsNeitherStoredInClearNorListed) {
  AddSchool("P1", "411325");
  const std::string pupil = ChildId(10, 11), out = ChildId(9, 13);
  const std::string pupil_date = std::to_string(ThisYear() - 10) + "-05-17";
  pb::ImportHouseholdsResponse imp;
  ASSERT_TRUE(Import({Member("HB1", "411325", pupil, "钱一"),
                      Member("HB1", "411325", out, "钱二")},
                     &imp)
                  .ok());
  pb::RecordEnrolmentsResponse enr;
  ASSERT_TRUE(Enrol(pupil, "P1", pb::ENROLMENT_STATUS_ENROLLED, &enr).ok());

  // At rest: the birth month, a region-only mask, nothing else of the date.
  auto db = Database::Open(config_.database_url);
  ASSERT_TRUE(db.ok()) << db.status();
  std::vector<SqlRow> rows;
  ASSERT_TRUE((*db)
                  ->Read([&](SqlConnection& c) -> absl::Status {
                    auto r = c.Query("SELECT * FROM members");
                    if (!r.ok()) return r.status();
                    rows = std::move(*r);
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      EXPECT_THAT(row.Str(i), ::testing::Not(HasSubstr("-05-17")));
    }
  }
  ASSERT_TRUE((*db)
                  ->Read([&](SqlConnection& c) -> absl::Status {
                    auto r = c.Query(
                        "SELECT birth_month, id_masked FROM members ORDER BY "
                        "id");
                    if (!r.ok()) return r.status();
                    EXPECT_EQ((*r)[0].Str(0), pupil_date.substr(0, 7));
                    EXPECT_EQ((*r)[0].Str(1), MaskIdNumber(pupil));
                    return absl::OkStatus();
                  })
                  .ok());

  // Lists: birth year (and age), no birth date.
  pb::ListStudentsRequest lreq;
  pb::ListStudentsResponse list;
  auto c1 = ClientContextWith(ProvinceToken());
  ASSERT_TRUE(stub_->ListStudents(c1.get(), lreq, &list).ok());
  ASSERT_EQ(list.students_size(), 1);
  EXPECT_EQ(list.students(0).id_number(), MaskIdNumber(pupil));
  EXPECT_EQ(list.students(0).birth_date(), "");
  EXPECT_EQ(list.students(0).birth_year(), ThisYear() - 10);
  auto oos = OutOfSchool(ProvinceToken(), "");
  ASSERT_EQ(oos.size(), 1u);
  EXPECT_EQ(oos[0].birth_date(), "");
  EXPECT_EQ(oos[0].birth_year(), ThisYear() - 9);
  EXPECT_EQ(oos[0].age(),
            AgeOn(std::to_string(ThisYear() - 9) + "-05-01", TodayCst()));

  // GetStudent: the birth date only beside the full ID number.
  pb::Student s;
  ASSERT_TRUE(Get(pupil, &s).ok());
  EXPECT_EQ(s.id_number(), pupil);
  EXPECT_EQ(s.birth_date(), pupil_date);
  ASSERT_TRUE(Get(pupil, &s, TestToken(Role::kAgency, "4113")).ok());
  EXPECT_EQ(s.id_number(), MaskIdNumber(pupil));
  EXPECT_EQ(s.birth_date(), "");
  EXPECT_EQ(s.birth_year(), ThisYear() - 10);
}

// Point 1: the migration converts rows written by earlier builds.
TEST_P(RegistryPrivacyTest, MigrationKeepsOnlyTheBirthMonthAndRegionMask) {
  host_.reset();
  std::string url = GetParam() == "postgres"
                        ? testing::TestPostgres::Get()->NewDatabaseUrl()
                        : "sqlite://" + dir_.path() + "/old.db";
  auto db = Database::Open(url);
  ASSERT_TRUE(db.ok()) << db.status();
  std::vector<Migration> all = Migrations(), before;
  for (const auto& m : all) {
    if (m.version <= 3) before.push_back(m);
  }
  ASSERT_TRUE((*db)->Migrate(before).ok());
  ASSERT_TRUE((*db)
                  ->Transact([](SqlConnection& c) -> absl::Status {
                    auto h = c.Execute(
                        "INSERT INTO households VALUES('HM', '411325', 2016, "
                        "1, 0)");
                    if (!h.ok()) return h.status();
                    return c
                        .Execute(
                            "INSERT INTO members(id_hash, id_enc, id_masked, "
                            "name_enc, household_id, region_code, birth_date, "
                            "male, relation, updated_at) VALUES('411325x', "
                            "'e', '411325********0012', 'n', 'HM', '411325', "
                            "'2016-05-17', 1, 3, 0)")
                        .status();
                  })
                  .ok());
  ASSERT_TRUE((*db)->Migrate(all).ok());
  ASSERT_TRUE((*db)
                  ->Read([](SqlConnection& c) -> absl::Status {
                    auto r =
                        c.Query("SELECT birth_month, id_masked FROM members");
                    if (!r.ok()) return r.status();
                    EXPECT_EQ((*r)[0].Str(0), "2016-05");
                    EXPECT_EQ((*r)[0].Str(1), "411325************");
                    auto gone = c.Query("SELECT birth_date FROM members");
                    EXPECT_FALSE(gone.ok()) << "birth_date is still a column";
                    return absl::OkStatus();
                  })
                  .ok());
}

// Point 2: a cache value is bound to its key; one copied under another
// student's key in Redis is not served for that student.
TEST_P(RegistryPrivacyTest, ACacheValueUnderAnotherKeyIsAMiss) {
  config_.local_cache_entries = 0;  // every read goes to Redis
  StartHost();
  const std::string a = ChildId(9, 21), b = ChildId(9, 23);
  pb::ImportHouseholdsResponse imp;
  ASSERT_TRUE(Import({Member("HC1", "411325", a, "孙甲"),
                      Member("HC2", "411325", b, "孙乙")},
                     &imp)
                  .ok());
  pb::Student s;
  ASSERT_TRUE(Get(a, &s).ok());
  ASSERT_TRUE(Get(b, &s).ok());
  auto value_a = host_->cache().Get(CacheKeyOf(a));
  ASSERT_TRUE(value_a.has_value()) << "A was not cached under its key";
  EXPECT_EQ(value_a->find("孙甲"), std::string::npos);
  host_->cache().Set(CacheKeyOf(b), *value_a);
  ASSERT_TRUE(Get(b, &s).ok());
  EXPECT_EQ(s.name(), "孙乙");
  EXPECT_EQ(s.id_number(), b);
}

// Point 4: every list returning names or ID numbers writes one audit event
// per call with the count.
TEST_P(RegistryPrivacyTest, BulkReadsAreAuditedOncePerCallWithTheCount) {
  AddSchool("P4", "411325");
  const std::string a = ChildId(10, 31), b = ChildId(11, 33),
                    c = ChildId(9, 35);
  pb::ImportHouseholdsResponse imp;
  ASSERT_TRUE(Import({Member("HD1", "411325", a, "李一"),
                      Member("HD1", "411325", b, "李二"),
                      Member("HD1", "411325", c, "李三")},
                     &imp)
                  .ok());
  pb::RecordEnrolmentsResponse enr;
  ASSERT_TRUE(Enrol(a, "P4", pb::ENROLMENT_STATUS_ENROLLED, &enr).ok());
  ASSERT_TRUE(Enrol(b, "P4", pb::ENROLMENT_STATUS_ENROLLED, &enr).ok());

  pb::ListStudentsRequest lreq;
  pb::ListStudentsResponse list;
  auto c1 = ClientContextWith(CountyToken("411325"));
  ASSERT_TRUE(stub_->ListStudents(c1.get(), lreq, &list).ok());
  ASSERT_EQ(list.students_size(), 2);
  auto events = Audit("ListStudents");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_THAT(events[0].records(), HasSubstr("listed=2"));
  EXPECT_EQ(events[0].subject(), "test-county_officer-411325");

  EXPECT_EQ(OutOfSchool(TestToken(Role::kAgency, "4113"), "").size(), 1u);
  events = Audit("ListOutOfSchool");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_THAT(events[0].records(), HasSubstr("listed=1"));

  pb::ListDropoutCasesRequest dreq;
  pb::ListDropoutCasesResponse dresp;
  auto c2 = ClientContextWith(CountyToken("411325"));
  ASSERT_TRUE(stub_->ListDropoutCases(c2.get(), dreq, &dresp).ok());
  EXPECT_EQ(Audit("ListDropoutCases").size(), 1u);

  pb::ListSpecialGroupsRequest sreq;
  pb::ListSpecialGroupsResponse sresp;
  auto c3 = ClientContextWith(TestToken(Role::kAgency, "4113"));
  ASSERT_TRUE(stub_->ListSpecialGroups(c3.get(), sreq, &sresp).ok());
  EXPECT_EQ(Audit("ListSpecialGroups").size(), 1u);
}

// Point 5: a school officer reaches only records of its own school.
TEST_P(RegistryPrivacyTest, SchoolOfficersAreHeldToTheirSchool) {
  AddSchool("S1", "411325");
  AddSchool("S2", "411325");
  const std::string mine = ChildId(10, 41), theirs = ChildId(10, 43),
                    dropped = ChildId(11, 45), other = ChildId(9, 47);
  pb::ImportHouseholdsResponse imp;
  ASSERT_TRUE(Import({Member("HE1", "411325", mine, "周一"),
                      Member("HE2", "411325", theirs, "周二"),
                      Member("HE3", "411325", dropped, "周三"),
                      Member("HE4", "411325", other, "周四")},
                     &imp)
                  .ok());
  pb::RecordEnrolmentsResponse enr;
  ASSERT_TRUE(Enrol(mine, "S1", pb::ENROLMENT_STATUS_ENROLLED, &enr).ok());
  ASSERT_TRUE(Enrol(theirs, "S2", pb::ENROLMENT_STATUS_ENROLLED, &enr).ok());
  ASSERT_TRUE(Enrol(other, "S2", pb::ENROLMENT_STATUS_ENROLLED, &enr).ok());
  ASSERT_TRUE(
      Enrol(dropped, "S2", pb::ENROLMENT_STATUS_DROPPED_OUT, &enr).ok());
  const std::string s1 = testing::SchoolOfficerToken("S1", "411325");

  pb::Student s;
  EXPECT_TRUE(Get(mine, &s, s1).ok());
  EXPECT_EQ(Get(theirs, &s, s1).error_code(), grpc::StatusCode::NOT_FOUND);

  // Writes naming another school.
  EXPECT_EQ(Enrol(theirs, "S2", pb::ENROLMENT_STATUS_DROPPED_OUT, &enr, s1)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  pb::TransferStudentResponse tr;
  EXPECT_EQ(Transfer(mine, "S2", s1, &tr).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Get(theirs, &s).ok());
  EXPECT_EQ(s.current_enrolment().status(), pb::ENROLMENT_STATUS_ENROLLED);

  pb::Student d, o;
  ASSERT_TRUE(Get(dropped, &d).ok());
  ASSERT_TRUE(Get(other, &o).ok());
  pb::OpenDropoutCaseRequest open;
  open.set_request_id("case-s1");
  open.set_member_id(d.member_id());
  pb::OpenDropoutCaseResponse opened;
  auto c1 = ClientContextWith(s1);
  EXPECT_EQ(stub_->OpenDropoutCase(c1.get(), open, &opened).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  open.set_request_id("case-county");
  auto c2 = ClientContextWith(CountyToken("411325"));
  ASSERT_TRUE(stub_->OpenDropoutCase(c2.get(), open, &opened).ok());
  pb::UpdateDropoutCaseRequest upd;
  upd.set_request_id("case-upd-s1");
  upd.set_case_id(opened.dropout_case().case_id());
  upd.set_state(pb::DROPOUT_CASE_STATE_VISITED);
  upd.set_note("家访");
  pb::UpdateDropoutCaseResponse updated;
  auto c3 = ClientContextWith(s1);
  EXPECT_EQ(stub_->UpdateDropoutCase(c3.get(), upd, &updated).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  pb::ListDropoutCasesRequest dl;
  pb::ListDropoutCasesResponse cases;
  auto c4 = ClientContextWith(s1);
  ASSERT_TRUE(stub_->ListDropoutCases(c4.get(), dl, &cases).ok());
  EXPECT_EQ(cases.cases_size(), 0);
  auto c4b = ClientContextWith(testing::SchoolOfficerToken("S2", "411325"));
  ASSERT_TRUE(stub_->ListDropoutCases(c4b.get(), dl, &cases).ok());
  EXPECT_EQ(cases.cases_size(), 1);

  pb::SetLeftBehindRequest lb;
  lb.set_request_id("lb-s1");
  lb.set_member_id(o.member_id());
  lb.mutable_left_behind()->set_carer_name("周奶奶");
  lb.mutable_left_behind()->set_carer_relation("祖母");
  pb::SetLeftBehindResponse lbr;
  auto c5 = ClientContextWith(s1);
  EXPECT_EQ(stub_->SetLeftBehind(c5.get(), lb, &lbr).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  lb.set_request_id("lb-county");
  auto c6 = ClientContextWith(CountyToken("411325"));
  ASSERT_TRUE(stub_->SetLeftBehind(c6.get(), lb, &lbr).ok());
  pb::SetDisabilityPlanRequest dp;
  dp.set_request_id("dp-s1");
  dp.set_member_id(s.member_id());  // `theirs`, at S2
  dp.mutable_plan()->set_category("肢体");
  dp.mutable_plan()->set_placement(pb::PLACEMENT_HOME_TEACHING);
  pb::SetDisabilityPlanResponse dpr;
  auto c7 = ClientContextWith(s1);
  EXPECT_EQ(stub_->SetDisabilityPlan(c7.get(), dp, &dpr).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  pb::ListSpecialGroupsRequest sg;
  pb::ListSpecialGroupsResponse groups;
  auto c8 = ClientContextWith(s1);
  ASSERT_TRUE(stub_->ListSpecialGroups(c8.get(), sg, &groups).ok());
  EXPECT_EQ(groups.entries_size(), 0);
  EXPECT_EQ(groups.left_behind_total(), 0);

  // Lists and figures: the school's own.
  pb::ListStudentsRequest lreq;
  pb::ListStudentsResponse list;
  auto c9 = ClientContextWith(s1);
  ASSERT_TRUE(stub_->ListStudents(c9.get(), lreq, &list).ok());
  ASSERT_EQ(list.students_size(), 1);
  EXPECT_EQ(list.students(0).current_enrolment().school_code(), "S1");
  EXPECT_TRUE(OutOfSchool(s1, "").empty());
  EXPECT_EQ(OutOfSchool(testing::SchoolOfficerToken("S2", "411325"), "").size(),
            1u);
  pb::GetCoverageRequest creq;
  pb::GetCoverageResponse cov;
  auto c10 = ClientContextWith(s1);
  ASSERT_TRUE(stub_->GetCoverage(c10.get(), creq, &cov).ok());
  EXPECT_EQ(cov.total().members(), 1);
  EXPECT_EQ(cov.total().out_of_school(), 0);
  EXPECT_EQ(cov.total().open_cases(), 0);

  // A school officer without a school claim sees nothing (it is not
  // "unrestricted").
  auto c11 = ClientContextWith(testing::SchoolOfficerToken("", "411325"));
  EXPECT_FALSE(stub_->ListStudents(c11.get(), lreq, &list).ok());
}

// Point 6: a county's write re-identifies only what it touched and answers
// with its own county's figures.
TEST_P(RegistryPrivacyTest, WritesIdentifyOnlyWhatTheyTouchedWithinScope) {
  const std::string elsewhere = ChildId(10, 51, "411326");
  pb::ImportHouseholdsResponse imp;
  ASSERT_TRUE(Import({Member("HF1", "411326", elsewhere, "吴一")}, &imp,
                     ProvinceToken(), /*skip_identification=*/true)
                  .ok());
  EXPECT_TRUE(OutOfSchool(ProvinceToken(), "411326").empty());

  ASSERT_TRUE(Import({Member("HF2", "411325", ChildId(10, 53), "吴二"),
                      Member("HF2", "411325", ChildId(40, 55), "吴三")},
                     &imp, CountyToken("411325"))
                  .ok());
  EXPECT_EQ(imp.identification().members(), 2);
  EXPECT_EQ(imp.identification().school_age(), 1);
  EXPECT_EQ(imp.identification().out_of_school(), 1);
  EXPECT_EQ(imp.identification().newly_out_of_school(), 1);
  EXPECT_TRUE(OutOfSchool(ProvinceToken(), "411326").empty())
      << "a 411325 import changed 411326's list";
  EXPECT_EQ(OutOfSchool(ProvinceToken(), "411325").size(), 1u);

  // The full pass is still the province's.
  pb::RunIdentificationRequest run;
  run.set_request_id("full-run");
  pb::RunIdentificationResponse full;
  auto c1 = ClientContextWith(ProvinceToken());
  ASSERT_TRUE(stub_->RunIdentification(c1.get(), run, &full).ok());
  EXPECT_EQ(full.summary().members(), 3);
  EXPECT_EQ(full.summary().out_of_school(), 2);
  EXPECT_EQ(OutOfSchool(ProvinceToken(), "411326").size(), 1u);

  // A roster write: the county's figures, back in school counted.
  AddSchool("F1", "411325");
  pb::RecordEnrolmentsResponse enr;
  ASSERT_TRUE(Enrol(ChildId(10, 53), "F1", pb::ENROLMENT_STATUS_ENROLLED, &enr,
                    CountyToken("411325"))
                  .ok());
  EXPECT_EQ(enr.identification().members(), 2);
  EXPECT_EQ(enr.identification().out_of_school(), 0);
  EXPECT_EQ(enr.identification().back_in_school(), 1);
  EXPECT_EQ(OutOfSchool(ProvinceToken(), "411326").size(), 1u);
}

// Point 10: a county may enrol a child moving in from elsewhere, but may not
// close or change the other county's record, nor learn its school.
TEST_P(RegistryPrivacyTest, RostersMayMoveAChildInButNotCloseOrReadElsewhere) {
  AddSchool("A25", "411325");
  AddSchool("A26", "411326");
  AddSchool("B25", "411325");
  const std::string x = ChildId(10, 61, "411326"),
                    y = ChildId(10, 63, "411326"), z = ChildId(10, 65);
  pb::ImportHouseholdsResponse imp;
  ASSERT_TRUE(Import({Member("HG1", "411326", x, "郑一"),
                      Member("HG2", "411326", y, "郑二"),
                      Member("HG3", "411325", z, "郑三")},
                     &imp)
                  .ok());
  pb::RecordEnrolmentsResponse enr;
  ASSERT_TRUE(Enrol(x, "A26", pb::ENROLMENT_STATUS_ENROLLED, &enr).ok());
  ASSERT_TRUE(Enrol(y, "A26", pb::ENROLMENT_STATUS_ENROLLED, &enr).ok());
  ASSERT_TRUE(Enrol(z, "A25", pb::ENROLMENT_STATUS_ENROLLED, &enr).ok());
  const std::string county = CountyToken("411325");

  // Closing the other county's enrolment through a roster row is refused.
  ASSERT_TRUE(
      Enrol(x, "A25", pb::ENROLMENT_STATUS_DROPPED_OUT, &enr, county).ok());
  EXPECT_EQ(enr.accepted_rows(), 0);
  ASSERT_EQ(enr.errors_size(), 1);
  EXPECT_EQ(enr.errors(0).field(), "status");
  EXPECT_THAT(enr.errors(0).rule(), ::testing::Not(HasSubstr("A26")));
  pb::Student s;
  ASSERT_TRUE(Get(x, &s).ok());
  EXPECT_EQ(s.current_enrolment().school_code(), "A26");
  EXPECT_EQ(s.current_enrolment().status(), pb::ENROLMENT_STATUS_ENROLLED);
  EXPECT_EQ(Enrol(x, "A26", pb::ENROLMENT_STATUS_DROPPED_OUT, &enr, county)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Moving in is allowed and closes the old enrolment as transferred.
  ASSERT_TRUE(
      Enrol(x, "A25", pb::ENROLMENT_STATUS_ENROLLED, &enr, county).ok());
  EXPECT_EQ(enr.accepted_rows(), 1);
  ASSERT_TRUE(Get(x, &s).ok());
  EXPECT_EQ(s.current_enrolment().school_code(), "A25");
  ASSERT_EQ(s.enrolment_history_size(), 2);
  EXPECT_EQ(s.enrolment_history(0).status(), pb::ENROLMENT_STATUS_TRANSFERRED);

  // A transfer in answers without naming the other county's school.
  pb::TransferStudentResponse tr;
  ASSERT_TRUE(Transfer(y, "B25", county, &tr).ok());
  EXPECT_EQ(tr.previous().status(), pb::ENROLMENT_STATUS_TRANSFERRED);
  EXPECT_EQ(tr.previous().school_code(), "");
  EXPECT_EQ(tr.previous().school_name(), "");
  EXPECT_EQ(tr.previous().school_region_code(), "");
  EXPECT_EQ(tr.previous().reason(), "transferred in from another county");
  EXPECT_EQ(tr.current().school_code(), "B25");
  // Within the caller's scope the previous school is named.
  ASSERT_TRUE(Transfer(y, "A25", county, &tr).ok());
  EXPECT_EQ(tr.previous().school_code(), "B25");

  // Pushing a child into another county's school is that county's to do.
  EXPECT_EQ(Transfer(z, "A26", county, &tr).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Get(z, &s).ok());
  EXPECT_EQ(s.current_enrolment().school_code(), "A25");
}

// Point 13: a child registered elsewhere is answered like no child at all;
// the refusal is still audited.
TEST_P(RegistryPrivacyTest, GetStudentDoesNotTellElsewhereFromNowhere) {
  const std::string elsewhere = ChildId(10, 71, "411326");
  pb::ImportHouseholdsResponse imp;
  ASSERT_TRUE(Import({Member("HH1", "411326", elsewhere, "冯一")}, &imp).ok());
  pb::Student s, found;
  ASSERT_TRUE(Get(elsewhere, &found).ok());
  const std::string county = CountyToken("411325");
  grpc::Status other = Get(elsewhere, &s, county);
  grpc::Status none = Get(ChildId(10, 73, "411326"), &s, county);
  EXPECT_EQ(other.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(none.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(other.error_message(), none.error_message());
  // Twice more: from the cache tiers too.
  EXPECT_EQ(Get(elsewhere, &s, county).error_message(), none.error_message());

  pb::GetStudentRequest by_member;
  by_member.set_member_id(found.member_id());
  pb::GetStudentResponse r1, r2;
  auto c1 = ClientContextWith(county);
  grpc::Status m_other = stub_->GetStudent(c1.get(), by_member, &r1);
  by_member.set_member_id("m-999999");
  auto c2 = ClientContextWith(county);
  grpc::Status m_none = stub_->GetStudent(c2.get(), by_member, &r2);
  EXPECT_EQ(m_other.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(m_other.error_message(), m_none.error_message());

  int refusals = 0;
  for (const auto& e : Audit("GetStudent")) {
    if (e.result() == "NotFound (out of scope)" &&
        e.records().find("out-of-scope:" + found.member_id()) !=
            std::string::npos) {
      ++refusals;
      EXPECT_FALSE(e.personal_data());
    }
  }
  EXPECT_EQ(refusals, 3);
}

// Point 2 (registry part): the answers of special-group writes, kept as
// idempotency records, carry a masked ID number and no birth date.
TEST_P(RegistryPrivacyTest, SpecialGroupWritesAnswerWithTheMaskedIdNumber) {
  const std::string id = ChildId(9, 81);
  pb::ImportHouseholdsResponse imp;
  ASSERT_TRUE(Import({Member("HI1", "411325", id, "陈一")}, &imp).ok());
  pb::Student s;
  ASSERT_TRUE(Get(id, &s).ok());
  pb::SetLeftBehindRequest lb;
  lb.set_request_id("lb-answer");
  lb.set_member_id(s.member_id());
  lb.mutable_left_behind()->set_carer_name("陈奶奶");
  lb.mutable_left_behind()->set_carer_relation("祖母");
  pb::SetLeftBehindResponse lbr;
  auto c1 = ClientContextWith(CountyToken("411325"));
  ASSERT_TRUE(stub_->SetLeftBehind(c1.get(), lb, &lbr).ok());
  EXPECT_EQ(lbr.student().id_number(), MaskIdNumber(id));
  EXPECT_EQ(lbr.student().birth_date(), "");
  EXPECT_EQ(lbr.student().left_behind().carer_relation(), "祖母");
  pb::SetDisabilityPlanRequest dp;
  dp.set_request_id("dp-answer");
  dp.set_member_id(s.member_id());
  dp.mutable_plan()->set_category("听力");
  dp.mutable_plan()->set_placement(pb::PLACEMENT_HOME_TEACHING);
  pb::SetDisabilityPlanResponse dpr;
  auto c2 = ClientContextWith(CountyToken("411325"));
  ASSERT_TRUE(stub_->SetDisabilityPlan(c2.get(), dp, &dpr).ok());
  EXPECT_EQ(dpr.student().id_number(), MaskIdNumber(id));
  EXPECT_EQ(dpr.student().birth_date(), "");
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryPrivacyTest, testing::Backends());

}  // namespace
}  // namespace eduaid::registry
