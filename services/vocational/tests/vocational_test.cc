// Vocational service tests over real gRPC on loopback, on SQLite files and
// on PostgreSQL, with a real redis-server, and with the REAL registry and
// ledger servers running as child processes (seeded through their RPCs).
#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "eduaid/ledger/v1/ledger.grpc.pb.h"
#include "eduaid/registry/v1/registry.grpc.pb.h"
#include "eduaid/vocational/v1/vocational.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/crypto.h"
#include "services/common/status.h"
#include "services/common/testing/harness.h"
#include "services/common/testing/service_fixture.h"
#include "services/common/testing/service_testing.h"
#include "services/common/validate.h"
#include "services/vocational/vocational_service.h"
#include "tools/gen/synthetic.h"

#if !defined(REGISTRY_SERVER) || !defined(LEDGER_SERVER)
#define REGISTRY_SERVER ""
#define LEDGER_SERVER ""
#define LEDGER_POLICY_FILE ""
#endif

namespace eduaid::vocational {
namespace {

namespace lpb = ::eduaid::ledger::v1;
using ::eduaid::testing::ClientContextWith;
using ::eduaid::testing::TestToken;
using ::testing::HasSubstr;

constexpr int kGradYear = 2026;

std::string ProvinceToken() { return TestToken(Role::kProvinceOfficer, ""); }

bool WaitUntil(const std::function<bool()>& done, int timeout_ms) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

std::vector<std::string> FieldsOf(const grpc::Status& st) {
  std::vector<std::string> out;
  for (const auto& v : FieldViolationsOf(FromGrpcStatus(st))) {
    out.push_back(v.field);
  }
  return out;
}

std::string ReasonOfGrpc(const grpc::Status& st) {
  return ReasonOf(FromGrpcStatus(st));
}

// ---------------------------------------------------------------- peers

// The registry and ledger servers of the whole test binary, started on
// first use with the test keys, on SQLite files and no Redis.
class Peers {
 public:
  static Peers& Get() {
    if (!instance_) instance_.reset(new Peers());
    return *instance_;
  }
  // Stops both servers (from the test environment's TearDown, so that no
  // child outlives the test binary).
  static void Shutdown() { instance_.reset(); }

  int registry_port() const { return registry_port_; }
  int ledger_port() const { return ledger_port_; }
  std::string registry_target() const {
    return "127.0.0.1:" + std::to_string(registry_port_);
  }
  std::string ledger_target() const {
    return "127.0.0.1:" + std::to_string(ledger_port_);
  }

  // SIGKILLs the ledger (no drain, no goodbye).
  void KillLedger() {
    ledger_->Signal(SIGKILL);
    ledger_->Wait(5000);
  }
  // Starts the ledger again on the same port and database.
  bool StartLedger() {
    ledger_ = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{
            LEDGER_SERVER, "--grpc-port", std::to_string(ledger_port_),
            "--metrics-port", "-1", "--health-port", "-1", "--database",
            "sqlite://" + dir_.path() + "/ledger.db", "--redis", "",
            "--registry", registry_target(), "--policy", LEDGER_POLICY_FILE,
            "--drain-seconds", "1"},
        dir_.path() + "/ledger.log");
    return testing::WaitForPort(ledger_port_, 20000);
  }

  std::string LedgerLog() {
    std::ifstream in(dir_.path() + "/ledger.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  bool ok() const { return ok_; }

 private:
  Peers() {
    if (std::string(REGISTRY_SERVER).empty() ||
        std::string(LEDGER_SERVER).empty()) {
      return;
    }
    setenv("EDUAID_DATA_KEY", testing::kTestDataKey, 1);
    setenv("EDUAID_JWT_SECRET", testing::kTestJwtSecret, 1);
    registry_port_ = testing::FreePort();
    ledger_port_ = testing::FreePort();
    registry_ = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{
            REGISTRY_SERVER, "--grpc-port", std::to_string(registry_port_),
            "--metrics-port", "-1", "--health-port", "-1", "--database",
            "sqlite://" + dir_.path() + "/registry.db", "--redis", "",
            "--drain-seconds", "1"},
        dir_.path() + "/registry.log");
    ok_ = testing::WaitForPort(registry_port_, 20000) && StartLedger();
  }

  static inline std::unique_ptr<Peers> instance_;
  testing::TempDir dir_;
  int registry_port_ = 0, ledger_port_ = 0;
  std::unique_ptr<testing::ChildProcess> registry_, ledger_;
  bool ok_ = false;
};

class PeersEnvironment : public ::testing::Environment {
 public:
  virtual void CustomizeOptions(VocationalOptions* options) {}

  void TearDown() override { Peers::Shutdown(); }
};
::testing::Environment* const kPeersEnvironment =
    ::testing::AddGlobalTestEnvironment(new PeersEnvironment);

// ---------------------------------------------------------------- people

struct Person {
  std::string id_number, name, member_id, household_id;
};

const char* const kSurnames[] = {"王", "李", "张", "刘",
                                 "陈", "杨", "赵", "黄"};
const char* const kDigits[] = {"〇", "一", "二", "三", "四",
                               "五", "六", "七", "八", "九"};

// A unique person number for the whole test binary.
int NextPersonNumber() {
  static std::atomic<int> n{0};
  return n++;
}

std::string ChineseName(int n) {
  std::string name = kSurnames[n % 8];
  name += "小";
  for (char d : std::to_string(n)) name += kDigits[d - '0'];
  return name;
}

// ---------------------------------------------------------------- fixture

struct VocationalTraits {
  using Service = VocationalService;
  using Grpc = pb::VocationalTrainingService;
  static constexpr char kName[] = "vocational";
  static constexpr char kGrpcService[] =
      "eduaid.vocational.v1.VocationalTrainingService";
  static std::vector<Migration> Migrations() {
    return ::eduaid::vocational::Migrations();
  }
};

class VocationalTest : public testing::ServiceFixture<VocationalTraits> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Peers::Get().ok())
        << "registry_server and ledger_server must be built (they are "
           "dependencies of vocational_test) and start";
    static std::atomic<int> regions{0};
    region_ = "41" + std::to_string(7001 + regions++);
    ServiceFixture::SetUp();
    if (HasFatalFailure()) return;
    registry_ = rpb::StudentRegistryService::NewStub(grpc::CreateChannel(
        Peers::Get().registry_target(), grpc::InsecureChannelCredentials()));
    ledger_ = lpb::SubsidyLedgerService::NewStub(grpc::CreateChannel(
        Peers::Get().ledger_target(), grpc::InsecureChannelCredentials()));
    SeedSchools();
  }

  void Configure(ServerConfig& config) override { config.workers = 16; }

  std::unique_ptr<VocationalService> MakeService(ServiceHost& host) override {
    VocationalOptions options;
    options.registry_target = Peers::Get().registry_target();
    options.ledger_target = Peers::Get().ledger_target();
    options.ledger_deadline = std::chrono::milliseconds(3000);
    options.outbox.poll = std::chrono::milliseconds(200);
    options.outbox.retry_initial = std::chrono::milliseconds(100);
    options.outbox.retry_max = std::chrono::milliseconds(1000);
    CustomizeOptions(&options);
    auto service = std::make_unique<VocationalService>(host, options);
    EXPECT_TRUE(service->logic().Start().ok());
    return service;
  }

  virtual void CustomizeOptions(VocationalOptions* options) {}

  void TearDown() override {
    if (service_) service_->logic().StopGrantDelivery();
    ServiceFixture::TearDown();
  }

  std::string CountyToken() { return TestToken(Role::kCountyOfficer, region_); }
  // Unique across the test binary (the registry and ledger are shared).
  std::string NextId() { return absl::StrCat(region_, "-", ++rid_); }

  // ---- registry seeding (through the registry's own RPCs)

  void SeedSchools() {
    for (auto [prefix, stage, name] :
         {std::tuple{"J", cpb::SCHOOL_STAGE_JUNIOR_HIGH, "第一初级中学"},
          std::tuple{"S", cpb::SCHOOL_STAGE_SENIOR_HIGH, "第一高级中学"},
          std::tuple{"V", cpb::SCHOOL_STAGE_SECONDARY_VOCATIONAL,
                     "职业中专"}}) {
      rpb::UpsertSchoolRequest req;
      req.set_request_id("school-" + std::string(prefix) + region_);
      auto* s = req.mutable_school();
      s->set_code(prefix + region_);
      s->set_name(std::string("测试县") + name);
      s->set_region_code(region_);
      s->add_stages(stage);
      rpb::UpsertSchoolResponse resp;
      auto ctx = ClientContextWith(ProvinceToken());
      ASSERT_TRUE(registry_->UpsertSchool(ctx.get(), req, &resp).ok());
    }
  }

  enum class Path {
    kGraduate,
    kWentOn,
    kGraduatedLastYear,
    kAdult,
    kInJuniorHigh
  };

  // Registers one member per household in region_ and records their
  // school path; returns them with the registry's member ids.
  std::vector<Person> Seed(
      int count, Path path,
      cpb::HouseholdStatus status = cpb::HOUSEHOLD_STATUS_POOR) {
    std::vector<Person> people;
    rpb::ImportHouseholdsRequest imp;
    imp.set_request_id("imp-" + NextId());
    imp.set_skip_identification(true);
    const int birth_year = path == Path::kAdult          ? 1990
                           : path == Path::kInJuniorHigh ? 2012
                                                         : 2010;
    for (int i = 0; i < count; ++i) {
      const int n = NextPersonNumber();
      char date[16];
      snprintf(date, sizeof date, "%04d%02d%02d", birth_year, 1 + (n / 28) % 12,
               1 + n % 28);
      Person p{synthetic::MakeIdNumber(region_, date, (n / 336) % 1000),
               ChineseName(n), "", ""};
      auto* row = imp.add_rows();
      row->set_row_number(i + 2);
      row->set_household_id("H" + region_ + "-" + std::to_string(n));
      row->set_region_code(region_);
      row->set_registration_year(2016);
      row->set_household_status(status);
      row->set_id_number(p.id_number);
      row->set_name(p.name);
      row->set_relation(path == Path::kAdult ? rpb::RELATION_HEAD
                                             : rpb::RELATION_CHILD);
      people.push_back(p);
    }
    rpb::ImportHouseholdsResponse imported;
    {
      auto ctx = ClientContextWith(ProvinceToken());
      grpc::Status st = registry_->ImportHouseholds(ctx.get(), imp, &imported);
      EXPECT_TRUE(st.ok()) << st.error_message();
      EXPECT_EQ(imported.accepted_rows(), count);
    }
    auto record = [&](cpb::SchoolStage stage, const std::string& school,
                      int grade, int year, cpb::Season season,
                      rpb::EnrolmentStatus status) {
      rpb::RecordEnrolmentsRequest req;
      req.set_request_id("enr-" + NextId());
      req.set_skip_identification(true);
      for (size_t i = 0; i < people.size(); ++i) {
        auto* r = req.add_rows();
        r->set_row_number(static_cast<int64_t>(i) + 2);
        r->set_id_number(people[i].id_number);
        r->set_school_code(school);
        r->set_stage(stage);
        r->set_grade(grade);
        r->mutable_term()->set_year(year);
        r->mutable_term()->set_season(season);
        r->set_status(status);
      }
      rpb::RecordEnrolmentsResponse resp;
      auto ctx = ClientContextWith(ProvinceToken());
      grpc::Status st = registry_->RecordEnrolments(ctx.get(), req, &resp);
      EXPECT_TRUE(st.ok()) << st.error_message();
      EXPECT_EQ(resp.rejected_rows(), 0);
    };
    switch (path) {
      case Path::kGraduate:
        record(cpb::SCHOOL_STAGE_JUNIOR_HIGH, "J" + region_, 3, kGradYear,
               cpb::SEASON_SPRING, rpb::ENROLMENT_STATUS_GRADUATED);
        break;
      case Path::kGraduatedLastYear:
        record(cpb::SCHOOL_STAGE_JUNIOR_HIGH, "J" + region_, 3, kGradYear - 1,
               cpb::SEASON_SPRING, rpb::ENROLMENT_STATUS_GRADUATED);
        break;
      case Path::kWentOn:
        record(cpb::SCHOOL_STAGE_JUNIOR_HIGH, "J" + region_, 3, kGradYear,
               cpb::SEASON_SPRING, rpb::ENROLMENT_STATUS_GRADUATED);
        record(cpb::SCHOOL_STAGE_SENIOR_HIGH, "S" + region_, 1, kGradYear,
               cpb::SEASON_AUTUMN, rpb::ENROLMENT_STATUS_ENROLLED);
        break;
      case Path::kInJuniorHigh:
        record(cpb::SCHOOL_STAGE_JUNIOR_HIGH, "J" + region_, 2, kGradYear,
               cpb::SEASON_AUTUMN, rpb::ENROLMENT_STATUS_ENROLLED);
        break;
      case Path::kAdult:
        break;
    }
    for (auto& p : people) {
      rpb::GetStudentRequest req;
      req.set_id_number(p.id_number);
      rpb::GetStudentResponse resp;
      auto ctx = ClientContextWith(ProvinceToken());
      grpc::Status st = registry_->GetStudent(ctx.get(), req, &resp);
      EXPECT_TRUE(st.ok()) << st.error_message();
      p.member_id = resp.student().member_id();
      p.household_id = resp.student().household_id();
    }
    return people;
  }

  // Moves registered people to senior high in the registry.
  void EnrolInSeniorHigh(const std::vector<Person>& people) {
    rpb::RecordEnrolmentsRequest req;
    req.set_request_id("enr-" + NextId());
    req.set_skip_identification(true);
    for (size_t i = 0; i < people.size(); ++i) {
      auto* r = req.add_rows();
      r->set_row_number(static_cast<int64_t>(i) + 2);
      r->set_id_number(people[i].id_number);
      r->set_school_code("S" + region_);
      r->set_stage(cpb::SCHOOL_STAGE_SENIOR_HIGH);
      r->set_grade(1);
      r->mutable_term()->set_year(kGradYear);
      r->mutable_term()->set_season(cpb::SEASON_AUTUMN);
      r->set_status(rpb::ENROLMENT_STATUS_ENROLLED);
    }
    rpb::RecordEnrolmentsResponse resp;
    auto ctx = ClientContextWith(ProvinceToken());
    ASSERT_TRUE(registry_->RecordEnrolments(ctx.get(), req, &resp).ok());
  }

  // ---- vocational calls

  grpc::Status UpsertCourse(const pb::Course& course,
                            pb::UpsertCourseResponse* resp = nullptr,
                            const std::string& token = ProvinceToken()) {
    pb::UpsertCourseRequest req;
    req.set_request_id("course-" + NextId());
    *req.mutable_course() = course;
    pb::UpsertCourseResponse local;
    auto ctx = ClientContextWith(token);
    return stub_->UpsertCourse(ctx.get(), req, resp ? resp : &local);
  }

  pb::Course Major(const std::string& code, int capacity) {
    pb::Course c;
    c.set_code(code);
    c.set_kind(pb::COURSE_KIND_MAJOR);
    c.set_name("汽车运用与维修");
    c.set_region_code(region_);
    c.set_capacity(capacity);
    c.set_trade("交通运输类");
    c.set_school_code("V" + region_);
    c.set_school_name("测试县职业中专");
    c.mutable_intake_term()->set_year(kGradYear);
    c.mutable_intake_term()->set_season(cpb::SEASON_AUTUMN);
    return c;
  }

  pb::Course Class(const std::string& code, int capacity) {
    pb::Course c;
    c.set_code(code);
    c.set_kind(pb::COURSE_KIND_TRAINING_CLASS);
    c.set_name("精准脱贫电焊技能培训班");
    c.set_region_code(region_);
    c.set_capacity(capacity);
    c.set_trade("电焊");
    c.set_provider("南阳市职业技能培训中心");
    c.set_location("内乡县城关镇");
    c.set_schedule("周一至周五 8:30-17:00");
    c.set_start_date("2026-10-08");
    c.set_end_date("2026-11-20");
    c.set_total_hours(240);
    return c;
  }

  grpc::Status Apply(const std::string& course, const std::string& member_id,
                     pb::ApplyResponse* resp,
                     const std::string& token = ProvinceToken(),
                     const std::string& request_id = "") {
    pb::ApplyRequest req;
    req.set_request_id(request_id.empty() ? "apply-" + NextId() : request_id);
    req.set_course_code(course);
    req.set_member_id(member_id);
    auto ctx = ClientContextWith(token);
    return stub_->Apply(ctx.get(), req, resp);
  }

  grpc::Status Withdraw(int64_t id, pb::WithdrawResponse* resp,
                        const std::string& reason = "外出务工") {
    pb::WithdrawRequest req;
    req.set_request_id("withdraw-" + NextId());
    req.set_application_id(id);
    req.set_reason(reason);
    auto ctx = ClientContextWith(ProvinceToken());
    return stub_->Withdraw(ctx.get(), req, resp);
  }

  pb::GetWaitlistResponse Waitlist(const std::string& course) {
    pb::GetWaitlistRequest req;
    req.set_course_code(course);
    pb::GetWaitlistResponse resp;
    auto ctx = ClientContextWith(ProvinceToken());
    EXPECT_TRUE(stub_->GetWaitlist(ctx.get(), req, &resp).ok());
    return resp;
  }

  pb::Course GetCourse(const std::string& code) {
    pb::GetCourseRequest req;
    req.set_code(code);
    pb::GetCourseResponse resp;
    auto ctx = ClientContextWith(ProvinceToken());
    EXPECT_TRUE(stub_->GetCourse(ctx.get(), req, &resp).ok());
    return resp.course();
  }

  pb::ListGrantsResponse Grants(int64_t application_id = 0) {
    pb::ListGrantsRequest req;
    req.set_region_prefix(region_);
    req.set_application_id(application_id);
    req.set_page_size(1000);
    pb::ListGrantsResponse resp;
    auto ctx = ClientContextWith(ProvinceToken());
    EXPECT_TRUE(stub_->ListGrants(ctx.get(), req, &resp).ok());
    return resp;
  }

  std::vector<pb::Application> Applications(const std::string& course,
                                            pb::ApplicationState state) {
    std::vector<pb::Application> out;
    pb::ListApplicationsRequest req;
    req.set_course_code(course);
    req.set_state(state);
    req.set_page_size(7);  // several pages
    do {
      pb::ListApplicationsResponse resp;
      auto ctx = ClientContextWith(ProvinceToken());
      EXPECT_TRUE(stub_->ListApplications(ctx.get(), req, &resp).ok());
      for (const auto& a : resp.applications()) out.push_back(a);
      req.set_page_token(resp.next_page_token());
    } while (!req.page_token().empty());
    return out;
  }

  // Entitlements the ledger holds for `member_id`.
  std::vector<lpb::Entitlement> LedgerEntitlements(
      const std::string& member_id) {
    lpb::ListEntitlementsRequest req;
    req.set_member_id(member_id);
    req.set_page_size(100);
    lpb::ListEntitlementsResponse resp;
    auto ctx = ClientContextWith(ProvinceToken());
    grpc::Status st = ledger_->ListEntitlements(ctx.get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return {resp.entitlements().begin(), resp.entitlements().end()};
  }

  int64_t Count(const std::string& table) {
    int64_t n = -1;
    EXPECT_TRUE(host_->db()
                    .Read([&](SqlConnection& c) -> absl::Status {
                      auto r = c.Query("SELECT COUNT(*) FROM " + table);
                      if (!r.ok()) return r.status();
                      n = r->front().Int(0);
                      return absl::OkStatus();
                    })
                    .ok());
    return n;
  }

  std::map<std::string, int64_t> CountAll() {
    std::map<std::string, int64_t> out;
    for (const char* t : {"courses", "offers", "applications", "attendance",
                          "grant_outbox", "request_log"}) {
      out[t] = Count(t);
    }
    return out;
  }

  std::string Metrics() {
    return testing::HttpGet(host_->runner().metrics_port(), "/metrics");
  }

  std::string region_;
  int rid_ = 0;
  std::unique_ptr<rpb::StudentRegistryService::Stub> registry_;
  std::unique_ptr<lpb::SubsidyLedgerService::Stub> ledger_;
};

// ---------------------------------------------------------------- tests

TEST_P(VocationalTest, BadInputsNameTheFieldAndStoreNothing) {
  ASSERT_TRUE(UpsertCourse(Major("M-OK", 5)).ok());
  auto people = Seed(1, Path::kGraduate);
  const auto before = CountAll();

  pb::Course bad = Major("bad code!", 0);
  bad.set_name("");
  bad.set_provider("not for a major");
  grpc::Status st = UpsertCourse(bad);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(FieldsOf(st),
              ::testing::IsSupersetOf({"course.code", "course.capacity",
                                       "course.name", "course.provider"}));

  pb::Course bad_class = Class("C-BAD", 10);
  bad_class.set_end_date("2026-09-30");  // before the start
  bad_class.set_total_hours(0);
  st = UpsertCourse(bad_class);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(FieldsOf(st), ::testing::IsSupersetOf(
                                {"course.end_date", "course.total_hours"}));

  pb::ApplyResponse applied;
  st = Apply("M-OK", "not a member id!", &applied);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(FieldsOf(st), ::testing::Contains("member_id"));
  st = Apply("M-OK", "m-999999999", &applied);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(st.error_message(), HasSubstr("member_id"));
  st = Apply("no such course", people[0].member_id, &applied);
  EXPECT_THAT(FieldsOf(st), ::testing::Contains("course_code"));
  st = Apply("M-OK", people[0].member_id, &applied, ProvinceToken(),
             "bad id with spaces");
  EXPECT_THAT(FieldsOf(st), ::testing::Contains("request_id"));

  pb::RunOffersRequest offers;
  offers.set_request_id("offers-" + NextId());
  offers.set_region_prefix("41");
  offers.set_graduation_year(1999);
  offers.set_expires_on("2020-01-01");
  pb::RunOffersResponse offers_resp;
  {
    auto ctx = ClientContextWith(ProvinceToken());
    st = stub_->RunOffers(ctx.get(), offers, &offers_resp);
  }
  EXPECT_THAT(FieldsOf(st),
              ::testing::IsSupersetOf(
                  {"region_prefix", "graduation_year", "expires_on"}));

  pb::RecordAttendanceRequest att;
  att.set_request_id("att-" + NextId());
  att.set_course_code("M-OK");
  att.set_date("2999-01-01");
  att.add_marks()->set_application_id(5);
  att.add_marks()->set_application_id(5);
  auto* m = att.add_marks();
  m->set_application_id(6);
  m->set_hours(30);
  pb::RecordAttendanceResponse att_resp;
  {
    auto ctx = ClientContextWith(ProvinceToken());
    st = stub_->RecordAttendance(ctx.get(), att, &att_resp);
  }
  EXPECT_THAT(FieldsOf(st),
              ::testing::IsSupersetOf(
                  {"date", "marks[1].application_id", "marks[2].hours"}));

  pb::RecordOutcomeRequest outcome;
  outcome.set_request_id("out-" + NextId());
  outcome.set_application_id(0);
  outcome.set_monthly_income_fen(-5);
  outcome.set_recorded_on("2026-02-30");
  pb::RecordOutcomeResponse outcome_resp;
  {
    auto ctx = ClientContextWith(ProvinceToken());
    st = stub_->RecordOutcome(ctx.get(), outcome, &outcome_resp);
  }
  EXPECT_THAT(FieldsOf(st),
              ::testing::IsSupersetOf({"application_id", "outcome",
                                       "monthly_income_fen", "recorded_on"}));

  EXPECT_EQ(CountAll(), before) << "a rejected call stored something";

  // A request id reused for another payload is refused, not replayed.
  ASSERT_TRUE(Apply("M-OK", people[0].member_id, &applied, ProvinceToken(),
                    "same-id-" + GetParam())
                  .ok());
  pb::ApplyResponse again;
  ASSERT_TRUE(Apply("M-OK", people[0].member_id, &again, ProvinceToken(),
                    "same-id-" + GetParam())
                  .ok());
  EXPECT_EQ(again.application().application_id(),
            applied.application().application_id());
  EXPECT_EQ(again.application().name(), people[0].name);
  st = Apply("M-OTHER", people[0].member_id, &again, ProvinceToken(),
             "same-id-" + GetParam());
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOfGrpc(st), "REQUEST_ID_REUSED");
  EXPECT_EQ(Count("applications"), before.at("applications") + 1);
}

TEST_P(VocationalTest,
       OffersRouteGraduatesWhoDidNotGoOnAndTheReportShowsTheRest) {
  auto graduates = Seed(3, Path::kGraduate);
  auto lifted = Seed(1, Path::kGraduate, cpb::HOUSEHOLD_STATUS_LIFTED);
  auto went_on = Seed(1, Path::kWentOn);
  auto last_year = Seed(1, Path::kGraduatedLastYear);

  pb::RunOffersRequest req;
  req.set_request_id("offers-" + NextId());
  req.set_region_prefix(region_);
  req.set_graduation_year(kGradYear);
  pb::RunOffersResponse resp;
  {
    auto ctx = ClientContextWith(CountyToken());
    grpc::Status st = stub_->RunOffers(ctx.get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  EXPECT_EQ(resp.graduates_seen(), 4);  // not the one who went on, not 2025's
  EXPECT_EQ(resp.offers_created(), 4);
  EXPECT_EQ(resp.expires_on(), AddDays(TodayCst(), 60));

  // Idempotent per graduate: a second run makes no new offers.
  req.set_request_id("offers-" + NextId());
  {
    auto ctx = ClientContextWith(CountyToken());
    ASSERT_TRUE(stub_->RunOffers(ctx.get(), req, &resp).ok());
  }
  EXPECT_EQ(resp.offers_created(), 0);
  EXPECT_EQ(resp.already_offered(), 4);

  // One offered graduate enrols in senior high: the next run closes the
  // offer naming the school.
  EnrolInSeniorHigh({graduates[2]});
  req.set_request_id("offers-" + NextId());
  {
    auto ctx = ClientContextWith(CountyToken());
    ASSERT_TRUE(stub_->RunOffers(ctx.get(), req, &resp).ok());
  }
  EXPECT_EQ(resp.withdrawn_went_on(), 1);

  std::map<std::string, pb::Offer> offers;
  {
    pb::ListOffersRequest list;
    list.set_region_prefix(region_);
    list.set_graduation_year(kGradYear);
    pb::ListOffersResponse listed;
    auto ctx = ClientContextWith(CountyToken());
    ASSERT_TRUE(stub_->ListOffers(ctx.get(), list, &listed).ok());
    for (const auto& o : listed.offers()) offers[o.member_id()] = o;
  }
  ASSERT_EQ(offers.size(), 4u);
  EXPECT_EQ(offers[graduates[0].member_id].state(), pb::OFFER_STATE_OPEN);
  EXPECT_EQ(offers[graduates[0].member_id].name(), graduates[0].name);
  EXPECT_EQ(offers[graduates[0].member_id].junior_high_school_code(),
            "J" + region_);
  EXPECT_EQ(offers[graduates[2].member_id].state(), pb::OFFER_STATE_WITHDRAWN);
  EXPECT_THAT(offers[graduates[2].member_id].note(), HasSubstr("S" + region_));

  // Accepting: an application for a major uses the open offer.
  ASSERT_TRUE(UpsertCourse(Major("M-OFFER", 10)).ok());
  pb::ApplyResponse applied;
  ASSERT_TRUE(Apply("M-OFFER", graduates[0].member_id, &applied).ok());
  EXPECT_EQ(applied.application().offer_id(),
            offers[graduates[0].member_id].offer_id());
  EXPECT_TRUE(applied.application().free_tuition());

  // Declining, and an offer that ran out (its expiry moved into the past as
  // time would).
  pb::DeclineOfferRequest decline;
  decline.set_request_id("decline-" + NextId());
  decline.set_offer_id(offers[graduates[1].member_id].offer_id());
  decline.set_reason("随父母外出务工");
  pb::DeclineOfferResponse declined;
  {
    auto ctx = ClientContextWith(CountyToken());
    ASSERT_TRUE(stub_->DeclineOffer(ctx.get(), decline, &declined).ok());
  }
  EXPECT_EQ(declined.offer().state(), pb::OFFER_STATE_DECLINED);
  EXPECT_EQ(declined.offer().name(), graduates[1].name);
  {
    auto ctx = ClientContextWith(CountyToken());
    grpc::Status st = stub_->DeclineOffer(ctx.get(), decline, &declined);
    EXPECT_TRUE(st.ok()) << "a repeat returns the first answer";
    decline.set_request_id("decline-" + NextId());
    auto ctx2 = ClientContextWith(CountyToken());
    st = stub_->DeclineOffer(ctx2.get(), decline, &declined);
    EXPECT_EQ(ReasonOfGrpc(st), "OFFER_STATE");
  }
  ASSERT_TRUE(host_->db()
                  .Transact([&](SqlConnection& c) -> absl::Status {
                    return c
                        .Execute(
                            "UPDATE offers SET expires_on = '2026-07-01' "
                            "WHERE member_id = ?",
                            {lifted[0].member_id})
                        .status();
                  })
                  .ok());
  auto late = Seed(1, Path::kGraduate);  // graduated, never offered

  pb::ListUnplacedGraduatesRequest unplaced_req;
  unplaced_req.set_region_prefix(region_);
  unplaced_req.set_graduation_year(kGradYear);
  pb::ListUnplacedGraduatesResponse unplaced;
  {
    auto ctx = ClientContextWith(CountyToken());
    ASSERT_TRUE(
        stub_->ListUnplacedGraduates(ctx.get(), unplaced_req, &unplaced).ok());
  }
  std::map<std::string, pb::UnplacedGraduate> by_member;
  for (const auto& u : unplaced.graduates()) by_member[u.member_id()] = u;
  EXPECT_EQ(unplaced.total(), 3);
  EXPECT_EQ(by_member.size(), 3u);
  EXPECT_EQ(by_member[graduates[1].member_id].last_offer_state(),
            pb::OFFER_STATE_DECLINED);
  EXPECT_THAT(by_member[graduates[1].member_id].note(),
              HasSubstr("随父母外出务工"));
  EXPECT_EQ(by_member[lifted[0].member_id].last_offer_state(),
            pb::OFFER_STATE_EXPIRED);
  EXPECT_EQ(by_member[late[0].member_id].last_offer_state(),
            pb::OFFER_STATE_UNSPECIFIED);
  EXPECT_FALSE(by_member.count(graduates[0].member_id)) << "accepted an offer";
  EXPECT_FALSE(by_member.count(went_on[0].member_id)) << "in senior high";
  EXPECT_FALSE(by_member.count(last_year[0].member_id)) << "another year";
  for (const auto& [id, u] : by_member) {
    EXPECT_EQ(u.since().size(), 10u);
    EXPECT_GE(u.days_open(), 0);
  }

  pb::ListOffersRequest expired_req;
  expired_req.set_region_prefix(region_);
  expired_req.set_state(pb::OFFER_STATE_EXPIRED);
  pb::ListOffersResponse expired;
  {
    auto ctx = ClientContextWith(TestToken(Role::kAgency, region_));
    ASSERT_TRUE(stub_->ListOffers(ctx.get(), expired_req, &expired).ok());
  }
  ASSERT_EQ(expired.offers_size(), 1);
  EXPECT_EQ(expired.offers(0).member_id(), lifted[0].member_id);
  EXPECT_EQ(expired.offers(0).name(), MaskName(lifted[0].name))
      << "agencies see masked names";

  // Another county's officer may not run offers here.
  req.set_request_id("offers-" + NextId());
  auto ctx = ClientContextWith(TestToken(Role::kCountyOfficer, "411302"));
  EXPECT_EQ(stub_->RunOffers(ctx.get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_P(VocationalTest, CapacityRaceNeverOverbooksTheLastSeats) {
  ASSERT_TRUE(UpsertCourse(Major("M-RACE", 5)).ok());
  auto people = Seed(34, Path::kGraduate);
  pb::ApplyResponse resp;
  ASSERT_TRUE(Apply("M-RACE", people[0].member_id, &resp).ok());
  ASSERT_TRUE(Apply("M-RACE", people[1].member_id, &resp).ok());
  ASSERT_EQ(GetCourse("M-RACE").enrolled(), 2);

  // 32 applicants at once for the last 3 places.
  std::vector<std::thread> threads;
  std::mutex mu;
  std::vector<pb::Application> results;
  std::vector<grpc::Status> failures;
  for (int i = 2; i < 34; ++i) {
    threads.emplace_back([&, i] {
      pb::ApplyResponse r;
      grpc::Status st = Apply("M-RACE", people[i].member_id, &r);
      std::lock_guard<std::mutex> lock(mu);
      if (st.ok()) {
        results.push_back(r.application());
      } else {
        failures.push_back(st);
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(failures.empty()) << failures[0].error_message();
  ASSERT_EQ(results.size(), 32u);
  int enrolled = 0, waitlisted = 0;
  std::set<int> positions;
  for (const auto& a : results) {
    if (a.state() == pb::APPLICATION_STATE_ENROLLED) ++enrolled;
    if (a.state() == pb::APPLICATION_STATE_WAITLISTED) {
      ++waitlisted;
      EXPECT_GE(a.waitlist_position(), 1);
      EXPECT_FALSE(a.waitlist_reason().empty());
    }
  }
  EXPECT_EQ(enrolled, 3);
  EXPECT_EQ(waitlisted, 29);

  pb::Course course = GetCourse("M-RACE");
  EXPECT_EQ(course.enrolled(), 5);
  EXPECT_EQ(course.waitlisted(), 29);
  EXPECT_EQ(course.fill_rate_bp(), 10000);
  EXPECT_EQ(Applications("M-RACE", pb::APPLICATION_STATE_ENROLLED).size(), 5u);
  auto waitlist = Waitlist("M-RACE");
  ASSERT_EQ(waitlist.entries_size(), 29);
  for (int i = 0; i < 29; ++i) EXPECT_EQ(waitlist.entries(i).position(), i + 1);
  EXPECT_THAT(waitlist.rule(), HasSubstr("贫困户"));

  // Each of the 5 enrolments queued its three grants in the same
  // transaction, and all reach the ledger.
  EXPECT_EQ(Grants().grants_size(), 15);
  ASSERT_TRUE(WaitUntil([&] { return Grants().backlog() == 0; }, 30000))
      << Peers::Get().LedgerLog();
  const auto delivered = Grants();
  for (const auto& g : delivered.grants()) {
    EXPECT_EQ(g.state(), pb::GRANT_STATE_DELIVERED) << g.last_error();
  }
  std::string metrics = Metrics();
  EXPECT_EQ(testing::MetricValue(metrics, "eduaid_vocational_waitlist_length",
                                 {"course=\"M-RACE\""}),
            29);
  EXPECT_EQ(testing::MetricValue(metrics, "eduaid_vocational_fill_ratio",
                                 {"course=\"M-RACE\""}),
            1);
  EXPECT_EQ(
      testing::MetricValue(metrics, "eduaid_vocational_enrolments_total",
                           {"kind=\"major\"", "region=\"" + region_ + "\""}),
      5);
}

TEST_P(VocationalTest,
       WaitlistFollowsTheWrittenRuleAndWithdrawalPromotesTheNext) {
  ASSERT_TRUE(UpsertCourse(Class("C-WELD", 2)).ok());
  auto lifted = Seed(3, Path::kAdult, cpb::HOUSEHOLD_STATUS_LIFTED);
  auto poor = Seed(2, Path::kAdult, cpb::HOUSEHOLD_STATUS_POOR);
  auto child = Seed(1, Path::kInJuniorHigh);

  pb::ApplyResponse a0, a1, c_lifted, d_poor, e_poor;
  ASSERT_TRUE(Apply("C-WELD", lifted[0].member_id, &a0).ok());
  ASSERT_TRUE(Apply("C-WELD", lifted[1].member_id, &a1).ok());
  EXPECT_EQ(a0.application().state(), pb::APPLICATION_STATE_ENROLLED);
  EXPECT_EQ(a1.application().state(), pb::APPLICATION_STATE_ENROLLED);
  ASSERT_TRUE(Apply("C-WELD", lifted[2].member_id, &c_lifted).ok());
  ASSERT_TRUE(Apply("C-WELD", poor[0].member_id, &d_poor).ok());
  ASSERT_TRUE(Apply("C-WELD", poor[1].member_id, &e_poor).ok());
  EXPECT_EQ(c_lifted.application().state(), pb::APPLICATION_STATE_WAITLISTED);
  EXPECT_EQ(c_lifted.application().waitlist_position(), 1);
  EXPECT_EQ(d_poor.application().waitlist_position(), 1)
      << "a poor household goes ahead of one lifted out of poverty";

  auto wl = Waitlist("C-WELD");
  ASSERT_EQ(wl.entries_size(), 3);
  EXPECT_EQ(wl.entries(0).member_id(), poor[0].member_id);
  EXPECT_EQ(wl.entries(1).member_id(), poor[1].member_id);
  EXPECT_EQ(wl.entries(2).member_id(), lifted[2].member_id);
  EXPECT_EQ(wl.entries(0).name(), poor[0].name);
  EXPECT_THAT(wl.entries(1).reason(),
              HasSubstr("1 of the same tier who applied earlier"));
  EXPECT_THAT(wl.entries(2).reason(), HasSubstr("2 in higher tiers"));
  EXPECT_THAT(wl.entries(2).reason(), HasSubstr("已脱贫户"));

  // A seat frees: the first on the waitlist takes it in the same call.
  pb::WithdrawResponse w;
  ASSERT_TRUE(Withdraw(a0.application().application_id(), &w).ok());
  EXPECT_EQ(w.application().state(), pb::APPLICATION_STATE_WITHDRAWN);
  EXPECT_EQ(w.application().withdraw_reason(), "外出务工");
  ASSERT_EQ(w.promoted_size(), 1);
  EXPECT_EQ(w.promoted(0).member_id(), poor[0].member_id);
  EXPECT_EQ(w.promoted(0).state(), pb::APPLICATION_STATE_ENROLLED);
  EXPECT_TRUE(w.promoted(0).promoted());
  EXPECT_EQ(w.promoted(0).name(), poor[0].name);
  wl = Waitlist("C-WELD");
  ASSERT_EQ(wl.entries_size(), 2);
  EXPECT_EQ(wl.entries(0).member_id(), poor[1].member_id);
  EXPECT_EQ(GetCourse("C-WELD").enrolled(), 2);

  // Withdrawing from the waitlist frees no place; a second withdrawal is
  // refused.
  ASSERT_TRUE(Withdraw(c_lifted.application().application_id(), &w).ok());
  EXPECT_EQ(w.promoted_size(), 0);
  EXPECT_EQ(Withdraw(a0.application().application_id(), &w).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // More places promote the waitlist; fewer than taken is refused.
  pb::UpsertCourseResponse grown;
  ASSERT_TRUE(UpsertCourse(Class("C-WELD", 3), &grown).ok());
  ASSERT_EQ(grown.promoted_size(), 1);
  EXPECT_EQ(grown.promoted(0).member_id(), poor[1].member_id);
  grpc::Status st = UpsertCourse(Class("C-WELD", 1));
  EXPECT_EQ(ReasonOfGrpc(st), "CAPACITY_BELOW_ENROLLED");

  // Eligibility from the registry.
  pb::ApplyResponse r;
  st = Apply("C-WELD", child[0].member_id, &r);
  EXPECT_EQ(ReasonOfGrpc(st), "NOT_WORKING_AGE");
  ASSERT_TRUE(UpsertCourse(Major("M-WL", 3)).ok());
  st = Apply("M-WL", child[0].member_id, &r);
  EXPECT_EQ(ReasonOfGrpc(st), "IN_SCHOOL");
  st = Apply("C-WELD", lifted[1].member_id, &r);
  EXPECT_EQ(ReasonOfGrpc(st), "ALREADY_APPLIED");

  // Scope: an agency may read (masked) but not apply; another county may
  // not read the course.
  st = Apply("C-WELD", lifted[2].member_id, &r,
             TestToken(Role::kAgency, region_));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  pb::GetWaitlistRequest wreq;
  wreq.set_course_code("C-WELD");
  pb::GetWaitlistResponse wresp;
  auto ctx = ClientContextWith(TestToken(Role::kCountyOfficer, "411302"));
  EXPECT_EQ(stub_->GetWaitlist(ctx.get(), wreq, &wresp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  auto agency_apps = [&] {
    pb::ListApplicationsRequest req;
    req.set_course_code("C-WELD");
    pb::ListApplicationsResponse resp;
    auto actx = ClientContextWith(TestToken(Role::kAgency, region_));
    EXPECT_TRUE(stub_->ListApplications(actx.get(), req, &resp).ok());
    return resp;
  }();
  ASSERT_GT(agency_apps.applications_size(), 0);
  for (const auto& a : agency_apps.applications()) {
    EXPECT_THAT(a.name(), HasSubstr("*"));
  }
}

TEST_P(VocationalTest, LedgerDownThenBackDeliversEveryGrantExactlyOnce) {
  ASSERT_TRUE(UpsertCourse(Major("M-OUTBOX", 20)).ok());
  auto people = Seed(7, Path::kGraduate);
  std::vector<int64_t> apps;
  for (int i = 0; i < 2; ++i) {
    pb::ApplyResponse r;
    ASSERT_TRUE(Apply("M-OUTBOX", people[i].member_id, &r).ok());
    apps.push_back(r.application().application_id());
  }
  ASSERT_TRUE(WaitUntil([&] { return Grants().backlog() == 0; }, 20000));

  // The ledger dies; enrolments go on and keep their grants.
  Peers::Get().KillLedger();
  std::vector<std::thread> threads;
  std::mutex mu;
  for (int i = 2; i < 7; ++i) {
    threads.emplace_back([&, i] {
      pb::ApplyResponse r;
      grpc::Status st = Apply("M-OUTBOX", people[i].member_id, &r);
      EXPECT_TRUE(st.ok()) << st.error_message();
      std::lock_guard<std::mutex> lock(mu);
      apps.push_back(r.application().application_id());
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(apps.size(), 7u);
  EXPECT_TRUE(WaitUntil(
      [&] {
        const auto listed = Grants();
        for (const auto& g : listed.grants()) {
          if (g.state() == pb::GRANT_STATE_PENDING && g.attempts() > 0 &&
              !g.last_error().empty()) {
            return true;
          }
        }
        return false;
      },
      10000))
      << "delivery should have been attempted and failed while the ledger was "
         "down";
  EXPECT_EQ(Grants().backlog(), 15);
  EXPECT_TRUE(WaitUntil(
      [&] {
        return testing::MetricValue(
                   Metrics(), "eduaid_vocational_outbox_backlog", {}) == 15;
      },
      5000));

  // A withdrawal while the ledger is down: its grants are never sent.
  pb::WithdrawResponse w;
  ASSERT_TRUE(Withdraw(apps.back(), &w).ok());
  for (const auto& g : w.application().grants()) {
    EXPECT_EQ(g.state(), pb::GRANT_STATE_CANCELLED);
  }
  const std::string withdrawn_member = w.application().member_id();

  ASSERT_TRUE(Peers::Get().StartLedger());
  ASSERT_TRUE(WaitUntil([&] { return Grants().backlog() == 0; }, 30000))
      << "backlog never drained after the ledger came back";
  EXPECT_TRUE(WaitUntil(
      [&] {
        return testing::MetricValue(
                   Metrics(), "eduaid_vocational_outbox_backlog", {}) == 0;
      },
      5000));

  const std::set<std::string> programmes = {"VOCATIONAL_TUITION_WAIVER",
                                            "VOCATIONAL_GRANT", "RAIN_AND_DEW"};
  int delivered = 0;
  const auto all = Grants();
  for (const auto& g : all.grants()) {
    if (g.member_id() == withdrawn_member) {
      EXPECT_EQ(g.state(), pb::GRANT_STATE_CANCELLED);
      continue;
    }
    EXPECT_EQ(g.state(), pb::GRANT_STATE_DELIVERED) << g.last_error();
    EXPECT_GT(g.entitlement_id(), 0);
    EXPECT_THAT(g.request_id(), HasSubstr("voc-"));
    ++delivered;
  }
  EXPECT_EQ(delivered, 18);
  for (const auto& p : people) {
    auto ents = LedgerEntitlements(p.member_id);
    if (p.member_id == withdrawn_member) {
      EXPECT_TRUE(ents.empty()) << "a withdrawn enrolment's grants were sent";
      continue;
    }
    std::multiset<std::string> seen;
    for (const auto& e : ents) {
      seen.insert(e.programme_code());
      EXPECT_EQ(e.term().year(), kGradYear);
      EXPECT_EQ(e.term().season(), cpb::SEASON_AUTUMN);
      EXPECT_EQ(e.stage(), cpb::SCHOOL_STAGE_SECONDARY_VOCATIONAL);
      EXPECT_EQ(e.school_code(), "V" + region_);
      EXPECT_EQ(e.payee_name(), p.name);
      if (e.programme_code() == "VOCATIONAL_TUITION_WAIVER") {
        EXPECT_EQ(e.state(), lpb::ENTITLEMENT_STATE_WAIVED);
      } else {
        EXPECT_EQ(e.amount_fen(), 100000) << e.programme_code();
      }
    }
    EXPECT_EQ(seen,
              std::multiset<std::string>(programmes.begin(), programmes.end()))
        << "member " << p.member_id << " must hold each grant exactly once";
  }
}

TEST_P(VocationalTest,
       AttendanceCompletionOutcomesAndReportsPerCourseSchoolRegion) {
  ASSERT_TRUE(UpsertCourse(Class("C-HOME", 3)).ok());
  ASSERT_TRUE(UpsertCourse(Major("M-REP", 2)).ok());
  auto adults = Seed(3, Path::kAdult);
  auto graduates = Seed(2, Path::kGraduate);
  std::vector<int64_t> ids;
  for (const auto& p : adults) {
    pb::ApplyResponse r;
    ASSERT_TRUE(Apply("C-HOME", p.member_id, &r, CountyToken()).ok());
    ids.push_back(r.application().application_id());
  }
  pb::ApplyResponse major;
  ASSERT_TRUE(Apply("M-REP", graduates[0].member_id, &major).ok());

  for (const auto& [date, present] :
       {std::pair{"2026-10-08", std::vector<bool>{true, true, false}},
        std::pair{"2026-10-09", std::vector<bool>{true, false, false}}}) {
    pb::RecordAttendanceRequest req;
    req.set_request_id("att-" + NextId());
    req.set_course_code("C-HOME");
    req.set_date(date);
    for (size_t i = 0; i < ids.size(); ++i) {
      auto* m = req.add_marks();
      m->set_application_id(ids[i]);
      m->set_present(present[i]);
      m->set_hours(present[i] ? 8 : 0);
    }
    pb::RecordAttendanceResponse resp;
    auto ctx = ClientContextWith(CountyToken());
    grpc::Status st = stub_->RecordAttendance(ctx.get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(resp.marks_recorded(), 3);
  }
  // A date outside the class period, and an application of another course.
  {
    pb::RecordAttendanceRequest req;
    req.set_request_id("att-" + NextId());
    req.set_course_code("C-HOME");
    req.set_date("2026-09-01");
    req.add_marks()->set_application_id(ids[0]);
    pb::RecordAttendanceResponse resp;
    auto ctx = ClientContextWith(CountyToken());
    EXPECT_THAT(FieldsOf(stub_->RecordAttendance(ctx.get(), req, &resp)),
                ::testing::Contains("date"));
    req.set_date("2026-10-10");
    req.set_request_id("att-" + NextId());
    req.mutable_marks(0)->set_application_id(
        major.application().application_id());
    auto ctx2 = ClientContextWith(CountyToken());
    EXPECT_THAT(FieldsOf(stub_->RecordAttendance(ctx2.get(), req, &resp)),
                ::testing::Contains("marks[0].application_id"));
  }

  auto complete = [&](int64_t id, const std::string& cert) {
    pb::RecordCompletionRequest req;
    req.set_request_id("done-" + NextId());
    req.set_application_id(id);
    req.set_completed_on(TodayCst());
    if (!cert.empty()) {
      req.set_certificate_no(cert);
      req.set_certificate_name("焊工（初级）职业技能等级证书");
    }
    pb::RecordCompletionResponse resp;
    auto ctx = ClientContextWith(CountyToken());
    grpc::Status st = stub_->RecordCompletion(ctx.get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.application();
  };
  pb::Application done = complete(ids[0], "HG-2026-0001");
  EXPECT_EQ(done.state(), pb::APPLICATION_STATE_COMPLETED);
  EXPECT_EQ(done.certificate_name(), "焊工（初级）职业技能等级证书");
  EXPECT_EQ(done.attendance_days(), 2);
  EXPECT_EQ(done.present_days(), 2);
  EXPECT_EQ(done.present_hours(), 16);
  EXPECT_EQ(done.name(), adults[0].name);
  complete(ids[1], "");

  pb::RecordOutcomeRequest out;
  out.set_request_id("out-" + NextId());
  out.set_application_id(ids[0]);
  out.set_outcome(pb::OUTCOME_EMPLOYED);
  out.set_employer("南阳二机石油装备集团");
  out.set_monthly_income_fen(420000);
  out.set_recorded_on(TodayCst());
  pb::RecordOutcomeResponse out_resp;
  {
    auto ctx = ClientContextWith(CountyToken());
    ASSERT_TRUE(stub_->RecordOutcome(ctx.get(), out, &out_resp).ok());
  }
  EXPECT_EQ(out_resp.application().employer(), "南阳二机石油装备集团");
  out.set_request_id("out-" + NextId());
  out.set_application_id(ids[2]);  // not completed
  {
    auto ctx = ClientContextWith(CountyToken());
    EXPECT_EQ(ReasonOfGrpc(stub_->RecordOutcome(ctx.get(), out, &out_resp)),
              "APPLICATION_STATE");
  }

  auto report = [&](pb::ReportGrouping g) {
    pb::GetReportRequest req;
    req.set_region_prefix(region_);
    req.set_group_by(g);
    pb::GetReportResponse resp;
    auto ctx = ClientContextWith(TestToken(Role::kAgency, region_));
    EXPECT_TRUE(stub_->GetReport(ctx.get(), req, &resp).ok());
    return resp;
  };
  auto by_course = report(pb::REPORT_GROUPING_COURSE);
  ASSERT_EQ(by_course.rows_size(), 2);
  const pb::ReportRow& cls = by_course.rows(0);  // C-HOME sorts first
  EXPECT_EQ(cls.key(), "C-HOME");
  EXPECT_EQ(cls.label(), "精准脱贫电焊技能培训班");
  EXPECT_EQ(cls.capacity(), 3);
  EXPECT_EQ(cls.enrolled(), 1);
  EXPECT_EQ(cls.admitted(), 3);
  EXPECT_EQ(cls.completed(), 2);
  EXPECT_EQ(cls.certified(), 1);
  EXPECT_EQ(cls.employed(), 1);
  EXPECT_EQ(cls.fill_rate_bp(), 10000);
  EXPECT_EQ(cls.completion_rate_bp(), 6666);
  EXPECT_EQ(cls.employment_rate_bp(), 5000);
  EXPECT_EQ(cls.attendance_rate_bp(), 5000);  // 3 present of 6 marks
  auto by_school = report(pb::REPORT_GROUPING_SCHOOL);
  ASSERT_EQ(by_school.rows_size(), 2);
  std::set<std::string> keys;
  for (const auto& r : by_school.rows()) keys.insert(r.key());
  EXPECT_EQ(keys, (std::set<std::string>{"V" + region_,
                                         "provider:南阳市职业技能培训中心"}));
  auto by_region = report(pb::REPORT_GROUPING_REGION);
  ASSERT_EQ(by_region.rows_size(), 1);
  EXPECT_EQ(by_region.rows(0).key(), region_);
  EXPECT_EQ(by_region.rows(0).courses(), 2);
  EXPECT_EQ(by_region.rows(0).capacity(), 5);
  EXPECT_EQ(by_region.rows(0).admitted(), 4);
  EXPECT_EQ(
      by_region.total().grants_pending() + by_region.total().grants_delivered(),
      3);

  // Later terms: the major's student gets the next term's grants once.
  pb::RaiseTermGrantsRequest term;
  term.set_request_id("term-" + NextId());
  term.mutable_term()->set_year(kGradYear + 1);
  term.mutable_term()->set_season(cpb::SEASON_SPRING);
  term.set_region_prefix(region_);
  pb::RaiseTermGrantsResponse term_resp;
  {
    auto ctx = ClientContextWith(CountyToken());
    ASSERT_TRUE(stub_->RaiseTermGrants(ctx.get(), term, &term_resp).ok());
  }
  EXPECT_EQ(term_resp.students_seen(), 1);
  EXPECT_EQ(term_resp.grants_queued(), 3);
  term.set_request_id("term-" + NextId());
  {
    auto ctx = ClientContextWith(CountyToken());
    ASSERT_TRUE(stub_->RaiseTermGrants(ctx.get(), term, &term_resp).ok());
  }
  EXPECT_EQ(term_resp.grants_queued(), 0);
  EXPECT_EQ(term_resp.already_queued(), 3);
  ASSERT_TRUE(WaitUntil([&] { return Grants().backlog() == 0; }, 20000));
  auto ents = LedgerEntitlements(graduates[0].member_id);
  int spring = 0;
  for (const auto& e : ents) {
    if (e.term().season() == cpb::SEASON_SPRING) {
      ++spring;
      EXPECT_EQ(e.grade(), 1);
    }
  }
  EXPECT_EQ(spring, 3);
  term.set_request_id("term-" + NextId());
  term.mutable_term()->set_year(kGradYear + 5);
  {
    auto ctx = ClientContextWith(CountyToken());
    EXPECT_THAT(FieldsOf(stub_->RaiseTermGrants(ctx.get(), term, &term_resp)),
                ::testing::Contains("term.year"));
  }
}

TEST_P(VocationalTest, HealthMetricsAuditAndNoPlaintextNamesAtRest) {
  EXPECT_EQ(
      testing::HealthStatus(host_->runner().health_port(),
                            "eduaid.vocational.v1.VocationalTrainingService"),
      "SERVING");
  ASSERT_TRUE(UpsertCourse(Major("M-REST", 3)).ok());
  auto people = Seed(2, Path::kGraduate);
  pb::RunOffersRequest offers;
  offers.set_request_id("offers-" + NextId());
  offers.set_region_prefix(region_);
  offers.set_graduation_year(kGradYear);
  pb::RunOffersResponse offers_resp;
  {
    auto ctx = ClientContextWith(CountyToken());
    ASSERT_TRUE(stub_->RunOffers(ctx.get(), offers, &offers_resp).ok());
  }
  pb::ApplyResponse r;
  ASSERT_TRUE(Apply("M-REST", people[0].member_id, &r).ok());
  EXPECT_EQ(r.application().name(), people[0].name);
  ASSERT_TRUE(WaitUntil([&] { return Grants().backlog() == 0; }, 20000));

  // Names live only encrypted: in no column, no stored response, no payload.
  std::vector<std::string> texts;
  ASSERT_TRUE(host_->db()
                  .Read([&](SqlConnection& c) -> absl::Status {
                    for (const char* q : {"SELECT name_enc FROM applications",
                                          "SELECT name_enc FROM offers",
                                          "SELECT payload FROM grant_outbox",
                                          "SELECT response FROM request_log"}) {
                      auto rows = c.Query(q);
                      if (!rows.ok()) return rows.status();
                      for (const auto& row : *rows) {
                        texts.push_back(row.Str(0));
                        auto decoded = Base64Decode(row.Str(0));
                        if (decoded.ok()) texts.push_back(*decoded);
                      }
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_GT(texts.size(), 5u);
  for (const auto& t : texts) {
    for (const auto& p : people)
      EXPECT_THAT(t, ::testing::Not(HasSubstr(p.name)));
  }
  if (GetParam() == "sqlite") {
    for (const char* suffix : {"", "-wal"}) {
      std::ifstream in(dir_.path() + "/vocational.db" + suffix,
                       std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      for (const auto& p : people) {
        EXPECT_EQ(ss.str().find(p.name), std::string::npos) << suffix;
      }
    }
  }

  std::string metrics = Metrics();
  EXPECT_GE(
      testing::MetricValue(metrics, "eduaid_vocational_outbox_backlog", {}), 0);
  EXPECT_EQ(
      testing::MetricValue(metrics, "eduaid_vocational_offers_created_total",
                           {"region=\"" + region_ + "\""}),
      2);
  EXPECT_EQ(
      testing::MetricValue(metrics, "eduaid_vocational_grant_deliveries_total",
                           {"result=\"created\""}),
      3);
  EXPECT_GT(testing::MetricValue(metrics, "grpc_server_handled_total",
                                 {"grpc_method=\"Apply\"", "grpc_code=\"OK\""}),
            0);
  EXPECT_EQ(metrics.find(people[0].name), std::string::npos);

  pb::ListAuditEventsRequest audit;
  audit.set_method("Apply");
  pb::ListAuditEventsResponse events;
  auto ctx = ClientContextWith(TestToken(Role::kAuditor, ""));
  ASSERT_TRUE(stub_->ListAuditEvents(ctx.get(), audit, &events).ok());
  ASSERT_GE(events.events_size(), 1);
  EXPECT_THAT(events.events(0).records(), HasSubstr(people[0].member_id));
  EXPECT_EQ(events.events(0).records().find(people[0].name), std::string::npos);
  auto ctx2 = ClientContextWith(CountyToken());
  EXPECT_EQ(stub_->ListAuditEvents(ctx2.get(), audit, &events).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  auto ctx3 = ClientContextWith("");
  pb::GetCourseRequest get;
  get.set_code("M-REST");
  pb::GetCourseResponse got;
  EXPECT_EQ(stub_->GetCourse(ctx3.get(), get, &got).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

// A deployment configured with a programme the ledger does not know: the
// ledger refuses that grant for good, and it waits for an operator.
TEST_P(VocationalTest, AHouseholdsOffersApplicationsAndGrantsAreAllThere) {
  auto graduates = Seed(2, Path::kGraduate);
  auto adults = Seed(1, Path::kAdult);
  pb::RunOffersRequest run;
  run.set_request_id("offers-" + NextId());
  run.set_region_prefix(region_);
  run.set_graduation_year(kGradYear);
  pb::RunOffersResponse ran;
  {
    auto ctx = ClientContextWith(CountyToken());
    ASSERT_TRUE(stub_->RunOffers(ctx.get(), run, &ran).ok());
  }
  ASSERT_TRUE(UpsertCourse(Major("M-HH", 1)).ok());
  ASSERT_TRUE(UpsertCourse(Class("C-HH", 1)).ok());
  pb::ApplyResponse enrolled, waitlisted, trained;
  ASSERT_TRUE(Apply("M-HH", graduates[0].member_id, &enrolled).ok());
  ASSERT_TRUE(Apply("M-HH", graduates[1].member_id, &waitlisted).ok());
  ASSERT_TRUE(Apply("C-HH", adults[0].member_id, &trained).ok());
  ASSERT_EQ(waitlisted.application().state(),
            pb::APPLICATION_STATE_WAITLISTED);
  pb::WithdrawResponse withdrawn;
  ASSERT_TRUE(Withdraw(trained.application().application_id(), &withdrawn).ok());

  auto households = [&](const std::string& token,
                        std::vector<std::string> ids,
                        pb::GetHouseholdsResponse* resp) {
    pb::GetHouseholdsRequest req;
    for (auto& id : ids) req.add_household_ids(id);
    auto ctx = ClientContextWith(token);
    return stub_->GetHouseholds(ctx.get(), req, resp);
  };
  pb::GetHouseholdsResponse resp;
  grpc::Status st = households(
      CountyToken(),
      {graduates[1].household_id, "HNOBODY-1", graduates[0].household_id,
       adults[0].household_id},
      &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_THAT(resp.not_found(), ::testing::ElementsAre("HNOBODY-1"));
  ASSERT_EQ(resp.households_size(), 3);
  const auto& second = resp.households(0);
  const auto& first = resp.households(1);
  const auto& adult = resp.households(2);
  EXPECT_EQ(first.household_id(), graduates[0].household_id);
  EXPECT_EQ(first.region_code(), region_);
  EXPECT_THAT(first.member_ids(),
              ::testing::ElementsAre(graduates[0].member_id));
  ASSERT_EQ(first.offers_size(), 1);
  EXPECT_EQ(first.offers(0).state(), pb::OFFER_STATE_ACCEPTED);
  ASSERT_EQ(first.applications_size(), 1);
  EXPECT_EQ(first.applications(0).state(), pb::APPLICATION_STATE_ENROLLED);
  EXPECT_EQ(first.applications(0).name(), graduates[0].name);
  EXPECT_EQ(first.grants_size(), 3) << "waiver, national grant, Rain and Dew";
  for (const auto& g : first.grants()) {
    EXPECT_EQ(g.member_id(), graduates[0].member_id);
  }
  ASSERT_EQ(second.applications_size(), 1);
  EXPECT_EQ(second.applications(0).state(), pb::APPLICATION_STATE_WAITLISTED);
  EXPECT_EQ(second.applications(0).waitlist_position(), 1);
  EXPECT_EQ(second.grants_size(), 0);
  EXPECT_EQ(second.offers_size(), 1);
  ASSERT_EQ(adult.applications_size(), 1);
  EXPECT_EQ(adult.applications(0).state(), pb::APPLICATION_STATE_WITHDRAWN);
  EXPECT_EQ(adult.offers_size(), 0);

  // An agency reads masked names; another county finds nothing.
  pb::GetHouseholdsResponse agency;
  ASSERT_TRUE(households(TestToken(Role::kAgency, region_),
                         {graduates[0].household_id}, &agency)
                  .ok());
  ASSERT_EQ(agency.households_size(), 1);
  EXPECT_EQ(agency.households(0).applications(0).name(),
            MaskName(graduates[0].name));
  EXPECT_EQ(agency.households(0).offers(0).name(),
            MaskName(graduates[0].name));
  pb::GetHouseholdsResponse other;
  ASSERT_TRUE(households(TestToken(Role::kCountyOfficer, "411302"),
                         {graduates[0].household_id}, &other)
                  .ok());
  EXPECT_EQ(other.households_size(), 0);
  EXPECT_THAT(other.not_found(),
              ::testing::ElementsAre(graduates[0].household_id));

  // Bad ids name the field; a school officer may not ask at all.
  st = households(CountyToken(), {}, &other);
  EXPECT_THAT(FieldsOf(st), ::testing::ElementsAre("household_ids"));
  st = households(CountyToken(),
                  {graduates[0].household_id, graduates[0].household_id},
                  &other);
  EXPECT_THAT(FieldsOf(st), ::testing::ElementsAre("household_ids[1]"));
  st = households(::eduaid::testing::SchoolOfficerToken("V" + region_, region_),
                  {graduates[0].household_id}, &other);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

class VocationalRejectTest : public VocationalTest {
 protected:
  void CustomizeOptions(VocationalOptions* options) override {
    options->grant_programmes = {"VOCATIONAL_GRANT", "NO_SUCH_PROGRAMME"};
  }
};

TEST_P(VocationalRejectTest, RefusedGrantsWaitForAnOperatorAndCanBeRetried) {
  ASSERT_TRUE(UpsertCourse(Major("M-REJ", 2)).ok());
  auto people = Seed(1, Path::kGraduate);
  pb::ApplyResponse r;
  ASSERT_TRUE(Apply("M-REJ", people[0].member_id, &r).ok());
  ASSERT_EQ(r.application().grants_size(), 2);
  auto settled = [&] {
    auto g = Grants();
    return g.backlog() == 0 && g.grants_size() == 2;
  };
  ASSERT_TRUE(WaitUntil(settled, 20000));
  int64_t bad = 0, good = 0;
  {
    const auto listed = Grants();
    for (const auto& g : listed.grants()) {
      if (g.programme_code() == "NO_SUCH_PROGRAMME") {
        EXPECT_EQ(g.state(), pb::GRANT_STATE_REJECTED);
        EXPECT_THAT(g.last_error(), HasSubstr("programme_code"));
        EXPECT_EQ(g.attempts(), 1);
        bad = g.grant_id();
      } else {
        EXPECT_EQ(g.state(), pb::GRANT_STATE_DELIVERED);
        good = g.grant_id();
      }
    }
  }
  ASSERT_GT(bad, 0);
  EXPECT_TRUE(WaitUntil(
      [&] {
        return testing::MetricValue(
                   Metrics(), "eduaid_vocational_outbox_rejected", {}) == 1;
      },
      5000));

  pb::RetryGrantsRequest retry;
  retry.set_request_id("retry-" + NextId());
  retry.add_grant_ids(bad);
  pb::RetryGrantsResponse retried;
  {
    auto ctx = ClientContextWith(CountyToken());
    ASSERT_TRUE(stub_->RetryGrants(ctx.get(), retry, &retried).ok());
  }
  EXPECT_EQ(retried.requeued(), 1);
  EXPECT_TRUE(WaitUntil(
      [&] {
        const auto listed = Grants(r.application().application_id());
        for (const auto& g : listed.grants()) {
          if (g.grant_id() == bad) {
            return g.state() == pb::GRANT_STATE_REJECTED && g.attempts() == 2;
          }
        }
        return false;
      },
      20000))
      << "the retried grant is sent again (and refused again)";

  retry.set_request_id("retry-" + NextId());
  retry.set_grant_ids(0, good);
  auto ctx = ClientContextWith(CountyToken());
  EXPECT_EQ(ReasonOfGrpc(stub_->RetryGrants(ctx.get(), retry, &retried)),
            "GRANT_STATE");
  EXPECT_EQ(LedgerEntitlements(people[0].member_id).size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, VocationalRejectTest, testing::Backends(),
                         [](const auto& info) { return info.param; });

INSTANTIATE_TEST_SUITE_P(Backends, VocationalTest, testing::Backends(),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace eduaid::vocational
