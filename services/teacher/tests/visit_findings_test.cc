// Visits whose findings act: a teacher records their own visits; findings
// are checked against the registry's household and the ledger's payments;
// each routed finding is delivered exactly once by the outbox, also after
// the registry was away. Real registry_server and ledger_server processes,
// both database backends.
#include <csignal>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "eduaid/ledger/v1/ledger.grpc.pb.h"
#include "eduaid/registry/v1/registry.grpc.pb.h"
#include "eduaid/teacher/v1/teacher.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/status.h"
#include "services/common/term.h"
#include "services/common/testing/harness.h"
#include "services/common/testing/service_fixture.h"
#include "services/common/testing/service_testing.h"
#include "services/common/validate.h"
#include "services/teacher/teacher_service.h"

#ifndef REGISTRY_SERVER
#error "visit_findings_test needs REGISTRY_SERVER"
#endif
#ifndef LEDGER_SERVER
#error "visit_findings_test needs LEDGER_SERVER"
#endif

namespace eduaid::teacher {
namespace {

namespace cpb = ::eduaid::common::v1;
using ::eduaid::testing::ClientContextWith;
using ::eduaid::testing::TestToken;
using ::testing::HasSubstr;

std::string Province() { return TestToken(Role::kProvinceOfficer, ""); }
std::string County() { return TestToken(Role::kCountyOfficer, "411325"); }
std::string Teacher(const std::string& id) {
  return TestToken(Role::kTeacher, "411325", 3600, id);
}

std::string IdNumber(const std::string& birth, int seq) {
  std::string first17 = absl::StrCat("411325", birth,
                                     absl::StrFormat("%03d", seq));
  return first17 + IdCheckCharacter(first17);
}

std::vector<std::string> Fields(const grpc::Status& st) {
  std::vector<std::string> out;
  for (const auto& v : FieldViolationsOf(FromGrpcStatus(st)))
    out.push_back(v.field);
  return out;
}

cpb::Term TermOfToday() {
  const std::string today = TodayCst();
  const int year = std::stoi(today.substr(0, 4));
  const int month = std::stoi(today.substr(5, 2));
  cpb::Term t;
  if (month >= 9) {
    t.set_year(year);
    t.set_season(cpb::SEASON_AUTUMN);
  } else if (month == 1) {
    t.set_year(year - 1);
    t.set_season(cpb::SEASON_AUTUMN);
  } else {
    t.set_year(year);
    t.set_season(cpb::SEASON_SPRING);
  }
  return t;
}

// A server binary on a port with its own SQLite file; restartable on the
// same file.
class Process {
 public:
  Process(std::string binary, std::string name, int port,
          std::vector<std::string> extra = {})
      : binary_(std::move(binary)),
        name_(std::move(name)),
        port_(port),
        extra_(std::move(extra)) {}
  void Start() {
    setenv("EDUAID_DATA_KEY", testing::kTestDataKey, 1);
    setenv("EDUAID_JWT_SECRET", testing::kTestJwtSecret, 1);
    std::vector<std::string> argv = {
        binary_,         "--grpc-port", std::to_string(port_),
        "--metrics-port", "-1",         "--health-port",
        "-1",            "--database",  "sqlite://" + dir_.path() + "/s.db",
        "--redis",       ""};
    argv.insert(argv.end(), extra_.begin(), extra_.end());
    proc_ = std::make_unique<testing::ChildProcess>(
        argv, dir_.path() + "/" + name_ + ".log");
    ASSERT_TRUE(testing::WaitForPort(port_, 15000)) << name_;
  }
  void Kill() {
    proc_->Signal(SIGKILL);
    proc_->Wait(5000);
  }
  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::string binary_, name_;
  int port_;
  std::vector<std::string> extra_;
  testing::TempDir dir_;
  std::unique_ptr<testing::ChildProcess> proc_;
};

struct TeacherTraits {
  using Service = TeacherService;
  using Grpc = pb::TeacherSupportService;
  static constexpr char kName[] = "teacher";
  static constexpr char kGrpcService[] =
      "eduaid.teacher.v1.TeacherSupportService";
  static std::vector<Migration> Migrations() { return teacher::Migrations(); }
};

class VisitFindingsTest : public testing::ServiceFixture<TeacherTraits> {
 protected:
  void SetUp() override {
    registry_port_ = testing::FreePort();
    ledger_port_ = testing::FreePort();
    registry_ = std::make_unique<Process>(REGISTRY_SERVER, "registry",
                                          registry_port_);
    registry_->Start();
    ledger_ = std::make_unique<Process>(
        LEDGER_SERVER, "ledger", ledger_port_,
        // The policy by absolute path: ctest runs from the build tree.
        std::vector<std::string>{"--registry", registry_->target(), "--policy",
                                 LEDGER_POLICY_FILE});
    ledger_->Start();
    rstub_ = rpb::StudentRegistryService::NewStub(grpc::CreateChannel(
        registry_->target(), grpc::InsecureChannelCredentials()));
    ServiceFixture::SetUp();
    SeedRegistry();
    SeedCampaign();
  }

  // The delivery thread reads the database: stop it before the host goes.
  void TearDown() override {
    if (service_) service_->logic().StopFindingDelivery();
    ServiceFixture::TearDown();
  }

  std::unique_ptr<TeacherService> MakeService(ServiceHost& host) override {
    TeacherOptions options;
    options.registry_target = registry_->target();
    options.registry_deadline = std::chrono::milliseconds(3000);
    options.ledger_target = ledger_->target();
    options.ledger_deadline = std::chrono::milliseconds(3000);
    options.outbox.start = start_outbox_;
    options.outbox.poll = std::chrono::milliseconds(100);
    options.outbox.retry_initial = std::chrono::milliseconds(100);
    options.outbox.retry_max = std::chrono::milliseconds(1000);
    return std::make_unique<TeacherService>(host, options);
  }

  // Households H1 (张大山 head, 张小明 at school, 张小红 school-age and on
  // no roster: out of school) and H2 (李小华 at school), one school
  // S411325A.
  void SeedRegistry() {
    rpb::UpsertSchoolRequest sreq;
    sreq.set_request_id("school-a");
    auto* s = sreq.mutable_school();
    s->set_code("S411325A");
    s->set_name("内乡县城关小学");
    s->set_region_code("411325");
    s->add_stages(cpb::SCHOOL_STAGE_PRIMARY);
    rpb::UpsertSchoolResponse sresp;
    auto c1 = ClientContextWith(Province());
    ASSERT_TRUE(rstub_->UpsertSchool(c1.get(), sreq, &sresp).ok());
    struct M {
      const char* household;
      std::string id;
      const char* name;
      rpb::Relation rel;
      bool pupil;
    };
    const std::vector<M> members = {
        {"H1", IdNumber("19800101", 11), "张大山", rpb::RELATION_HEAD, false},
        {"H1", IdNumber("20160301", 12), "张小明", rpb::RELATION_CHILD, true},
        {"H1", IdNumber("20170501", 14), "张小红", rpb::RELATION_CHILD, false},
        {"H2", IdNumber("20160701", 21), "李小华", rpb::RELATION_CHILD, true}};
    rpb::ImportHouseholdsRequest hreq;
    hreq.set_request_id("households");
    hreq.set_skip_identification(true);
    rpb::RecordEnrolmentsRequest ereq;
    ereq.set_request_id("rosters");
    int row = 1;
    for (const auto& m : members) {
      auto* r = hreq.add_rows();
      r->set_row_number(row++);
      r->set_household_id(m.household);
      r->set_region_code("411325");
      r->set_registration_year(2016);
      r->set_household_status(cpb::HOUSEHOLD_STATUS_POOR);
      r->set_id_number(m.id);
      r->set_name(m.name);
      r->set_relation(m.rel);
      if (!m.pupil) continue;
      auto* e = ereq.add_rows();
      e->set_row_number(row);
      e->set_id_number(m.id);
      e->set_school_code("S411325A");
      e->set_stage(cpb::SCHOOL_STAGE_PRIMARY);
      e->set_grade(3);
      *e->mutable_term() = TermOfToday();
      e->set_status(rpb::ENROLMENT_STATUS_ENROLLED);
    }
    rpb::ImportHouseholdsResponse hresp;
    auto c2 = ClientContextWith(Province());
    ASSERT_TRUE(rstub_->ImportHouseholds(c2.get(), hreq, &hresp).ok());
    ASSERT_EQ(hresp.rejected_rows(), 0) << hresp.DebugString();
    rpb::RecordEnrolmentsResponse eresp;
    auto c3 = ClientContextWith(Province());
    ASSERT_TRUE(rstub_->RecordEnrolments(c3.get(), ereq, &eresp).ok());
    ASSERT_EQ(eresp.rejected_rows(), 0) << eresp.DebugString();
    for (const auto& m : members) member_[m.name] = MemberId(m.id);
    rpb::RunIdentificationRequest ireq;
    ireq.set_request_id("identification");
    rpb::RunIdentificationResponse iresp;
    auto c4 = ClientContextWith(Province());
    ASSERT_TRUE(rstub_->RunIdentification(c4.get(), ireq, &iresp).ok());
  }

  std::string MemberId(const std::string& id_number) {
    rpb::GetStudentRequest req;
    req.set_id_number(id_number);
    rpb::GetStudentResponse resp;
    auto ctx = ClientContextWith(Province());
    EXPECT_TRUE(rstub_->GetStudent(ctx.get(), req, &resp).ok());
    return resp.student().member_id();
  }

  // Two teachers of S411325A, a campaign with one household each.
  void SeedCampaign() {
    pb::ImportTeachersRequest treq;
    treq.set_request_id("teachers");
    for (int k = 0; k < 2; ++k) {
      auto* r = treq.add_rows();
      r->set_row_number(k + 2);
      r->set_id_number(IdNumber("19850312", 31 + k));
      r->set_name(k == 0 ? "王老师" : "赵老师");
      r->set_school_code("S411325A");
      r->set_school_name("内乡县城关小学");
      r->set_region_code("411325");
      r->add_subjects("语文");
      r->set_title("一级教师");
      r->set_years_of_service(8);
    }
    pb::ImportTeachersResponse tresp;
    auto c1 = ClientContextWith(Province());
    ASSERT_TRUE(stub_->ImportTeachers(c1.get(), treq, &tresp).ok());
    ASSERT_EQ(tresp.accepted_rows(), 2) << tresp.DebugString();
    pb::CreateCampaignRequest creq;
    creq.set_request_id("campaign");
    creq.set_name("万名教师大走访");
    creq.set_region_prefix("411325");
    *creq.mutable_term() = TermOfToday();
    creq.set_cap_per_teacher(1);
    pb::CreateCampaignResponse cresp;
    auto c2 = ClientContextWith(County());
    ASSERT_TRUE(stub_->CreateCampaign(c2.get(), creq, &cresp).ok());
    campaign_ = cresp.campaign().campaign_id();
    pb::AssignCampaignRequest areq;
    areq.set_request_id("assign");
    areq.set_campaign_id(campaign_);
    pb::AssignCampaignResponse aresp;
    auto c3 = ClientContextWith(County());
    grpc::Status st = stub_->AssignCampaign(c3.get(), areq, &aresp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    auto households = Households();
    for (const auto& h : households.households()) {
      ASSERT_EQ(h.assignments_size(), 1);
      teacher_of_[h.household_id()] = h.assignments(0).teacher_id();
    }
    ASSERT_FALSE(teacher_of_["H1"].empty());
    ASSERT_FALSE(teacher_of_["H2"].empty());
    ASSERT_NE(teacher_of_["H1"], teacher_of_["H2"]);
  }

  pb::GetHouseholdsResponse Households(const std::string& token = County()) {
    pb::GetHouseholdsRequest req;
    req.add_household_ids("H1");
    req.add_household_ids("H2");
    pb::GetHouseholdsResponse resp;
    auto ctx = ClientContextWith(token);
    grpc::Status st = stub_->GetHouseholds(ctx.get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp;
  }

  pb::RecordVisitRequest Visit(const std::string& household) {
    pb::RecordVisitRequest req;
    req.set_request_id(absl::StrCat("visit-", household, "-", ++seq_));
    auto* v = req.mutable_visit();
    v->set_campaign_id(campaign_);
    v->set_household_id(household);
    v->set_visit_date(TodayCst());
    v->add_met("户主");
    v->set_dropout_risk(pb::DROPOUT_RISK_LOW);
    v->set_evidence_ref("photo/1.jpg");
    v->set_notes("祖母照看");
    return req;
  }

  grpc::Status Record(const pb::RecordVisitRequest& req,
                      pb::RecordVisitResponse* resp,
                      const std::string& token) {
    auto ctx = ClientContextWith(token);
    return stub_->RecordVisit(ctx.get(), req, resp);
  }

  int OpenCases(const std::string& member) {
    rpb::ListDropoutCasesRequest req;
    req.set_region_prefix("411325");
    req.set_page_size(100);
    rpb::ListDropoutCasesResponse resp;
    auto ctx = ClientContextWith(Province());
    EXPECT_TRUE(rstub_->ListDropoutCases(ctx.get(), req, &resp).ok());
    int n = 0;
    for (const auto& c : resp.cases()) n += c.member_id() == member ? 1 : 0;
    return n;
  }

  // The first finding of H1's newest visit once its delivery left PENDING
  // (or PENDING after `seconds`).
  pb::VisitFinding SettledFinding(int seconds = 20) {
    pb::VisitFinding f;
    for (int i = 0;; ++i) {
      auto h = Households();
      if (h.households_size() > 0 && h.households(0).visits_size() > 0 &&
          h.households(0).visits(0).findings_size() > 0) {
        f = h.households(0).visits(0).findings(0);
        if (f.delivery() != pb::DELIVERY_STATE_PENDING) return f;
      }
      if (i >= seconds * 10) return f;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  bool start_outbox_ = true;
  int registry_port_ = 0, ledger_port_ = 0, seq_ = 0;
  int64_t campaign_ = 0;
  std::unique_ptr<Process> registry_, ledger_;
  std::unique_ptr<rpb::StudentRegistryService::Stub> rstub_;
  std::map<std::string, std::string> member_;      // name -> member id
  std::map<std::string, std::string> teacher_of_;  // household -> teacher
};

TEST_P(VisitFindingsTest, ATeacherRecordsOnlyTheirOwnHouseholds) {
  const std::string mine = teacher_of_["H1"];
  const std::string other = teacher_of_["H2"];
  pb::RecordVisitResponse resp;
  // Another teacher's household, and one that does not exist: one answer.
  grpc::Status st = Record(Visit("H2"), &resp, Teacher(mine));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status none = Record(Visit("H9"), &resp, Teacher(mine));
  EXPECT_EQ(none.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(st.error_message(), none.error_message());
  // Not as another teacher either.
  auto as_other = Visit("H1");
  as_other.mutable_visit()->set_teacher_id(other);
  st = Record(as_other, &resp, Teacher(mine));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Households().households(1).visits_size(), 0);
  // Their own: recorded as them.
  st = Record(Visit("H1"), &resp, Teacher(mine));
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.visit().teacher_id(), mine);
  EXPECT_EQ(resp.visit().recorded_by(), mine);
  EXPECT_EQ(resp.visit().notes(), "祖母照看");
  auto h = Households();
  ASSERT_EQ(h.households(0).visits_size(), 1);
  EXPECT_EQ(h.households(0).visits(0).notes(), "祖母照看");
  // Agencies read no notes.
  auto agency = Households(TestToken(Role::kAgency, "4113"));
  ASSERT_EQ(agency.households(0).visits_size(), 1);
  EXPECT_EQ(agency.households(0).visits(0).notes(), "");
}

TEST_P(VisitFindingsTest, BadFindingsAreRejectedWithTheFieldAndNothingStored) {
  const std::string mine = teacher_of_["H1"];
  auto req = Visit("H1");
  auto* f = req.mutable_visit()->add_findings();
  f->set_kind(pb::FINDING_KIND_NOT_IN_SCHOOL);
  f->set_member_id(member_["李小华"]);  // of H2
  auto* g = req.mutable_visit()->add_findings();
  g->set_kind(pb::FINDING_KIND_SUBSIDY_NOT_RECEIVED);
  g->set_member_id(member_["张小明"]);
  g->set_programme_code("NO_SUCH_PROGRAMME");
  pb::RecordVisitResponse resp;
  grpc::Status st = Record(req, &resp, Teacher(mine));
  ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << st.error_message();
  EXPECT_THAT(Fields(st), ::testing::UnorderedElementsAre(
                              "visit.findings[0].member_id",
                              "visit.findings[1].programme_code"));
  EXPECT_THAT(st.error_message(), HasSubstr("is not a member of household H1"));
  // Shape: a new child with a bad ID number and relation, a risk unset.
  auto bad = Visit("H1");
  auto* c = bad.mutable_visit()->add_findings();
  c->set_kind(pb::FINDING_KIND_NEW_CHILD);
  c->set_id_number("411325201901010000");
  c->set_name("张小小");
  c->set_relation("邻居");
  auto* r = bad.mutable_visit()->add_findings();
  r->set_kind(pb::FINDING_KIND_DROPOUT_RISK);
  r->set_member_id(member_["张小红"]);
  st = Record(bad, &resp, Teacher(mine));
  ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Fields(st), ::testing::UnorderedElementsAre(
                              "visit.findings[0].id_number",
                              "visit.findings[0].relation",
                              "visit.findings[1].risk"));
  // Nothing stored; the same request id then goes through once fixed.
  EXPECT_EQ(Households().households(0).visits_size(), 0);
  EXPECT_EQ(OpenCases(member_["李小华"]), 0);
}

TEST_P(VisitFindingsTest, NotInSchoolOpensOneDropoutCaseEvenWhenRepeated) {
  const std::string mine = teacher_of_["H1"];
  auto req = Visit("H1");
  auto* f = req.mutable_visit()->add_findings();
  f->set_kind(pb::FINDING_KIND_NOT_IN_SCHOOL);
  f->set_member_id(member_["张小红"]);
  f->set_note("在外地打工的父母带走");
  auto* low = req.mutable_visit()->add_findings();
  low->set_kind(pb::FINDING_KIND_DROPOUT_RISK);
  low->set_member_id(member_["张小明"]);
  low->set_risk(pb::DROPOUT_RISK_LOW);
  pb::RecordVisitResponse first, again;
  grpc::Status st = Record(req, &first, Teacher(mine));
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(first.visit().findings_size(), 2);
  EXPECT_EQ(first.visit().findings(1).delivery(),
            pb::DELIVERY_STATE_NOT_ROUTED);
  EXPECT_EQ(first.visit().findings(0).note(), "在外地打工的父母带走");
  const pb::VisitFinding done = SettledFinding();
  EXPECT_EQ(done.delivery(), pb::DELIVERY_STATE_DELIVERED)
      << done.DebugString();
  EXPECT_THAT(done.target(), HasSubstr("registry dropout case"));
  EXPECT_EQ(done.note(), "在外地打工的父母带走");
  st = Record(req, &again, Teacher(mine));
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(again.visit().visit_id(), first.visit().visit_id());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(Households().households(0).visits_size(), 1);
  EXPECT_EQ(OpenCases(member_["张小红"]), 1);
  EXPECT_EQ(OpenCases(member_["张小明"]), 0);
  // A second visit finding the same: the open case is that case.
  auto second = Visit("H1");
  *second.mutable_visit()->add_findings() = req.visit().findings(0);
  st = Record(second, &again, Teacher(mine));
  ASSERT_TRUE(st.ok()) << st.error_message();
  const pb::VisitFinding same = SettledFinding();
  EXPECT_EQ(same.delivery(), pb::DELIVERY_STATE_DELIVERED)
      << same.DebugString();
  EXPECT_EQ(OpenCases(member_["张小红"]), 1);
  // A child the roster lists as enrolled: the registry refuses for good;
  // FAILED with its reason until an officer fixes it and retries.
  auto enrolled = Visit("H1");
  auto* e = enrolled.mutable_visit()->add_findings();
  e->set_kind(pb::FINDING_KIND_NOT_IN_SCHOOL);
  e->set_member_id(member_["张小明"]);
  st = Record(enrolled, &again, Teacher(mine));
  ASSERT_TRUE(st.ok()) << st.error_message();
  const pb::VisitFinding refused = SettledFinding();
  EXPECT_EQ(refused.delivery(), pb::DELIVERY_STATE_FAILED);
  EXPECT_THAT(refused.delivery_error(), HasSubstr("not on the out-of-school"));
  pb::RetryFindingsRequest retry;
  retry.set_request_id("retry-1");
  retry.set_visit_id(again.visit().visit_id());
  pb::RetryFindingsResponse rresp;
  auto ctx = ClientContextWith(County());
  st = stub_->RetryFindings(ctx.get(), retry, &rresp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(rresp.requeued(), 1);
  // Out of the caller's county: refused.
  auto other = ClientContextWith(TestToken(Role::kCountyOfficer, "411326"));
  retry.set_request_id("retry-2");
  st = stub_->RetryFindings(other.get(), retry, &rresp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_P(VisitFindingsTest, ANewChildBecomesAMemberOfTheHouseholdMasked) {
  const std::string mine = teacher_of_["H1"];
  const std::string id = IdNumber("20190901", 15);
  auto req = Visit("H1");
  auto* f = req.mutable_visit()->add_findings();
  f->set_kind(pb::FINDING_KIND_NEW_CHILD);
  f->set_id_number(id);
  f->set_name("张小小");
  f->set_relation("子女");
  pb::RecordVisitResponse resp;
  grpc::Status st = Record(req, &resp, Teacher(mine));
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.visit().findings(0).id_number(), MaskIdNumber(id));
  EXPECT_EQ(resp.visit().findings(0).name(), "张小小");
  const pb::VisitFinding done = SettledFinding();
  EXPECT_EQ(done.delivery(), pb::DELIVERY_STATE_DELIVERED)
      << done.DebugString();
  EXPECT_THAT(done.target(), HasSubstr("household H1 (new)"));
  EXPECT_EQ(done.id_number(), MaskIdNumber(id));
  EXPECT_EQ(done.name(), "张小小");
  EXPECT_EQ(Households(TestToken(Role::kAgency, "4113"))
                .households(0).visits(0).findings(0).name(),
            "张**");
  rpb::GetStudentRequest get;
  get.set_id_number(id);
  rpb::GetStudentResponse student;
  auto ctx = ClientContextWith(Province());
  ASSERT_TRUE(rstub_->GetStudent(ctx.get(), get, &student).ok());
  EXPECT_EQ(student.student().household_id(), "H1");
  EXPECT_EQ(student.student().name(), "张小小");
  EXPECT_EQ(student.student().relation(), rpb::RELATION_CHILD);
}

class StoppedRegistryTest : public VisitFindingsTest {
 protected:
  void SetUp() override {
    start_outbox_ = false;
    VisitFindingsTest::SetUp();
  }
};

TEST_P(StoppedRegistryTest, AFindingWaitsForTheRegistryAndIsDeliveredOnce) {
  auto req = Visit("H1");
  auto* f = req.mutable_visit()->add_findings();
  f->set_kind(pb::FINDING_KIND_NOT_IN_SCHOOL);
  f->set_member_id(member_["张小红"]);
  pb::RecordVisitResponse resp;
  grpc::Status st = Record(req, &resp, County());
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.visit().findings(0).delivery(), pb::DELIVERY_STATE_PENDING);
  registry_->Kill();
  service_->logic().StartFindingDelivery();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  pb::VisitFinding waiting = SettledFinding(0);
  EXPECT_EQ(waiting.delivery(), pb::DELIVERY_STATE_PENDING);
  EXPECT_THAT(waiting.delivery_error(), HasSubstr("Unavailable"));
  registry_->Start();
  const pb::VisitFinding done = SettledFinding(30);
  EXPECT_EQ(done.delivery(), pb::DELIVERY_STATE_DELIVERED)
      << done.DebugString();
  EXPECT_THAT(done.target(), HasSubstr("registry dropout case"));
  EXPECT_EQ(OpenCases(member_["张小红"]), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, VisitFindingsTest, testing::Backends());
INSTANTIATE_TEST_SUITE_P(Backends, StoppedRegistryTest, testing::Backends());

}  // namespace
}  // namespace eduaid::teacher
