// Teacher service tests over real gRPC on loopback, with a real
// redis-server, on SQLite files and on PostgreSQL; campaign tests talk to a
// real registry_server process seeded through its own RPCs.
#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
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
#include "tools/gen/synthetic.h"

#ifndef REGISTRY_SERVER
#error "teacher_test needs REGISTRY_SERVER (the registry_server binary)"
#endif

namespace eduaid::teacher {
namespace {

namespace cpb = ::eduaid::common::v1;
namespace lpb = ::eduaid::ledger::v1;
using ::eduaid::testing::ClientContextWith;
using ::eduaid::testing::TestToken;
using ::testing::HasSubstr;

std::string ProvinceToken() { return TestToken(Role::kProvinceOfficer, ""); }
std::string CityToken() { return TestToken(Role::kCityOfficer, "4113"); }
std::string CountyToken(const std::string& region = "411325") {
  return TestToken(Role::kCountyOfficer, region);
}
std::string AgencyToken() { return TestToken(Role::kAgency, "4113"); }

std::string NextId(const std::string& prefix) {
  static int n = 0;
  return absl::StrCat(prefix, "-", ++n);
}

std::vector<std::string> Fields(const grpc::Status& st) {
  std::vector<std::string> out;
  for (const auto& v : FieldViolationsOf(FromGrpcStatus(st)))
    out.push_back(v.field);
  return out;
}

// The term containing today (or, in August, the spring term just ended),
// and a visit date inside it that is not in the future.
struct CurrentTerm {
  cpb::Term term;
  std::string start, end, today;
};

CurrentTerm TermOfToday() {
  CurrentTerm t;
  t.today = TodayCst();
  int year = std::stoi(t.today.substr(0, 4));
  int month = std::stoi(t.today.substr(5, 2));
  if (month >= 9) {
    t.term.set_year(year);
    t.term.set_season(cpb::SEASON_AUTUMN);
  } else if (month == 1) {
    t.term.set_year(year - 1);
    t.term.set_season(cpb::SEASON_AUTUMN);
  } else {
    t.term.set_year(year);
    t.term.set_season(cpb::SEASON_SPRING);
  }
  t.start = TermStart(t.term);
  t.end = TermEnd(t.term);
  return t;
}

pb::TeacherRow TeacherRowOf(const std::string& region, int seq,
                            const std::string& name, const std::string& school,
                            std::vector<std::string> subjects,
                            bool rural = false) {
  pb::TeacherRow r;
  r.set_id_number(synthetic::MakeIdNumber(region, "19850312", seq));
  r.set_name(name);
  r.set_school_code(school);
  r.set_school_name(school + "学校");
  r.set_region_code(region);
  r.set_rural(rural);
  for (auto& s : subjects) r.add_subjects(s);
  r.set_title("一级教师");
  r.set_years_of_service(8);
  return r;
}

// A registry_server process on a free port with its own SQLite file.
class RegistryProcess {
 public:
  explicit RegistryProcess(int port) : port_(port) {}
  void Start() {
    setenv("EDUAID_DATA_KEY", testing::kTestDataKey, 1);
    setenv("EDUAID_JWT_SECRET", testing::kTestJwtSecret, 1);
    proc_ = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{
            REGISTRY_SERVER, "--grpc-port", std::to_string(port_),
            "--metrics-port", "-1", "--health-port", "-1", "--database",
            "sqlite://" + dir_.path() + "/r.db", "--redis", ""},
        dir_.path() + "/registry.log");
    ASSERT_TRUE(testing::WaitForPort(port_, 15000)) << "registry did not start";
    stub_ = rpb::StudentRegistryService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                            grpc::InsecureChannelCredentials()));
  }
  void Kill() {
    proc_->Signal(SIGKILL);
    proc_->Wait(5000);
  }
  rpb::StudentRegistryService::Stub& stub() { return *stub_; }

  // Loads synthetic schools, households and rosters of `regions`.
  void Seed(const std::vector<std::string>& regions, int households) {
    synthetic::Options o;
    o.households = households;
    o.regions = regions;
    o.seed = 2018;
    o.out_of_school_rate = 0.05;
    data_ = synthetic::Generate(o);
    for (const auto& s : data_.schools) {
      rpb::UpsertSchoolRequest req;
      req.set_request_id("school-" + s.code);
      auto* school = req.mutable_school();
      school->set_code(s.code);
      school->set_name(s.name);
      school->set_region_code(s.region_code);
      school->add_stages(StageOf(s.stages));
      school->set_rural(s.rural);
      rpb::UpsertSchoolResponse resp;
      auto ctx = ClientContextWith(ProvinceToken());
      ASSERT_TRUE(stub_->UpsertSchool(ctx.get(), req, &resp).ok());
    }
    rpb::ImportHouseholdsRequest hreq;
    hreq.set_request_id("households");
    hreq.set_skip_identification(true);
    for (const auto& m : data_.members) {
      auto* r = hreq.add_rows();
      r->set_household_id(m.household_id);
      r->set_region_code(m.region_code);
      r->set_registration_year(std::stoi(m.registration_year));
      r->set_household_status(m.household_status == "lifted"
                                  ? cpb::HOUSEHOLD_STATUS_LIFTED
                                  : cpb::HOUSEHOLD_STATUS_POOR);
      r->set_id_number(m.id_number);
      r->set_name(m.name);
      r->set_relation(rpb::RELATION_CHILD);
    }
    rpb::ImportHouseholdsResponse hresp;
    auto hctx = ClientContextWith(ProvinceToken());
    ASSERT_TRUE(stub_->ImportHouseholds(hctx.get(), hreq, &hresp).ok());
    ASSERT_EQ(hresp.rejected_rows(), 0);
    rpb::RecordEnrolmentsRequest ereq;
    ereq.set_request_id("rosters");
    for (const auto& e : data_.enrolments) {
      auto* r = ereq.add_rows();
      r->set_id_number(e.id_number);
      r->set_school_code(e.school_code);
      r->set_stage(StageOf(e.stage));
      r->set_grade(std::stoi(e.grade));
      r->mutable_term()->set_year(2026);
      r->mutable_term()->set_season(cpb::SEASON_AUTUMN);
      r->set_status(e.status == "enrolled" ? rpb::ENROLMENT_STATUS_ENROLLED
                    : e.status == "graduated"
                        ? rpb::ENROLMENT_STATUS_GRADUATED
                        : rpb::ENROLMENT_STATUS_DROPPED_OUT);
    }
    rpb::RecordEnrolmentsResponse eresp;
    auto ectx = ClientContextWith(ProvinceToken());
    ASSERT_TRUE(stub_->RecordEnrolments(ectx.get(), ereq, &eresp).ok());
    ASSERT_EQ(eresp.rejected_rows(), 0) << eresp.DebugString();
  }

  // Household id -> schools of its students (current enrolments), for
  // every registered household of `region` as the registry lists them.
  std::map<std::string, std::set<std::string>> Households(
      const std::string& region) {
    std::map<std::string, std::set<std::string>> out;
    rpb::ListHouseholdsRequest req;
    req.set_region_prefix(region);
    req.set_page_size(50);
    do {
      rpb::ListHouseholdsResponse resp;
      auto ctx = ClientContextWith(ProvinceToken());
      grpc::Status st = stub_->ListHouseholds(ctx.get(), req, &resp);
      EXPECT_TRUE(st.ok()) << st.error_message();
      if (!st.ok()) break;
      for (const auto& h : resp.households()) {
        out[h.household_id()].insert(h.school_codes().begin(),
                                     h.school_codes().end());
      }
      req.set_page_token(resp.next_page_token());
    } while (!req.page_token().empty());
    return out;
  }

 private:
  static cpb::SchoolStage StageOf(const std::string& s) {
    if (s == "preschool") return cpb::SCHOOL_STAGE_PRESCHOOL;
    if (s == "primary") return cpb::SCHOOL_STAGE_PRIMARY;
    if (s == "junior_high") return cpb::SCHOOL_STAGE_JUNIOR_HIGH;
    if (s == "senior_high") return cpb::SCHOOL_STAGE_SENIOR_HIGH;
    return cpb::SCHOOL_STAGE_SECONDARY_VOCATIONAL;
  }
  int port_;
  testing::TempDir dir_;
  std::unique_ptr<testing::ChildProcess> proc_;
  std::unique_ptr<rpb::StudentRegistryService::Stub> stub_;
  synthetic::Data data_;
};

#ifdef LEDGER_SERVER
// A ledger_server process on `port` with its own SQLite file, reading
// households' members from the registry at `registry_port`.
class LedgerProcess {
 public:
  LedgerProcess(int port, int registry_port) {
    proc_ = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{
            LEDGER_SERVER, "--grpc-port", std::to_string(port),
            "--metrics-port", "-1", "--health-port", "-1", "--database",
            "sqlite://" + dir_.path() + "/l.db", "--redis", "", "--policy",
            LEDGER_POLICY_FILE, "--registry",
            "127.0.0.1:" + std::to_string(registry_port)},
        dir_.path() + "/ledger.log");
    started_ = testing::WaitForPort(port, 20000);
  }
  bool started() const { return started_; }

 private:
  testing::TempDir dir_;
  std::unique_ptr<testing::ChildProcess> proc_;
  bool started_ = false;
};
#endif

struct TeacherTraits {
  using Service = TeacherService;
  using Grpc = pb::TeacherSupportService;
  static constexpr char kName[] = "teacher";
  static constexpr char kGrpcService[] =
      "eduaid.teacher.v1.TeacherSupportService";
  static std::vector<Migration> Migrations() { return teacher::Migrations(); }
};

class TeacherTest : public testing::ServiceFixture<TeacherTraits> {
 protected:
  void SetUp() override {
    registry_port_ = testing::FreePort();
    ledger_port_ = testing::FreePort();
    ServiceFixture::SetUp();
  }
  // The findings' delivery thread reads the database: stop it before the
  // fixture drops the host.
  void TearDown() override {
    if (service_) service_->logic().StopFindingDelivery();
    ServiceFixture::TearDown();
  }

  std::unique_ptr<TeacherService> MakeService(ServiceHost& host) override {
    TeacherOptions options;
    options.registry_target = "127.0.0.1:" + std::to_string(registry_port_);
    options.registry_deadline = std::chrono::milliseconds(5000);
    // No ledger runs in these tests: ListMyHouseholds must say so.
    options.ledger_target = "127.0.0.1:" + std::to_string(ledger_port_);
    options.ledger_deadline = std::chrono::milliseconds(2000);
    return std::make_unique<TeacherService>(host, options);
  }

  RegistryProcess& StartRegistry() {
    registry_ = std::make_unique<RegistryProcess>(registry_port_);
    registry_->Start();
    return *registry_;
  }

  grpc::Status Import(std::vector<pb::TeacherRow> rows,
                      pb::ImportTeachersResponse* resp,
                      const std::string& token = ProvinceToken()) {
    pb::ImportTeachersRequest req;
    req.set_request_id(NextId("teachers"));
    for (size_t i = 0; i < rows.size(); ++i) {
      rows[i].set_row_number(static_cast<int64_t>(i + 2));
      *req.add_rows() = rows[i];
    }
    auto ctx = ClientContextWith(token);
    return stub_->ImportTeachers(ctx.get(), req, resp);
  }

  // Imports and returns the teacher ids in row order (all rows must land).
  std::vector<std::string> ImportOk(const std::vector<pb::TeacherRow>& rows) {
    pb::ImportTeachersResponse resp;
    grpc::Status st = Import(rows, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(resp.rejected_rows(), 0) << resp.DebugString();
    std::vector<std::string> ids;
    for (const auto& t : resp.teachers()) ids.push_back(t.teacher_id());
    return ids;
  }

  int CountTeachers() {
    pb::ListTeachersRequest req;
    req.set_include_inactive(true);
    req.set_page_size(1000);
    pb::ListTeachersResponse resp;
    auto ctx = ClientContextWith(ProvinceToken());
    EXPECT_TRUE(stub_->ListTeachers(ctx.get(), req, &resp).ok());
    return resp.teachers_size();
  }

  int CountRounds() {
    pb::ListRoundsRequest req;
    pb::ListRoundsResponse resp;
    auto ctx = ClientContextWith(ProvinceToken());
    EXPECT_TRUE(stub_->ListRounds(ctx.get(), req, &resp).ok());
    return resp.rounds_size();
  }
  int CountCampaigns() {
    pb::ListCampaignsRequest req;
    pb::ListCampaignsResponse resp;
    auto ctx = ClientContextWith(ProvinceToken());
    EXPECT_TRUE(stub_->ListCampaigns(ctx.get(), req, &resp).ok());
    return resp.campaigns_size();
  }
  int CountProgrammes() {
    pb::ListTrainingProgrammesRequest req;
    pb::ListTrainingProgrammesResponse resp;
    auto ctx = ClientContextWith(ProvinceToken());
    EXPECT_TRUE(stub_->ListTrainingProgrammes(ctx.get(), req, &resp).ok());
    return resp.programmes_size();
  }

  std::vector<pb::CampaignHousehold> Households(
      int64_t campaign, pb::HouseholdFilter filter,
      const std::string& token = ProvinceToken()) {
    std::vector<pb::CampaignHousehold> out;
    pb::ListCampaignHouseholdsRequest req;
    req.set_campaign_id(campaign);
    req.set_filter(filter);
    req.set_page_size(7);  // several pages
    do {
      pb::ListCampaignHouseholdsResponse resp;
      auto ctx = ClientContextWith(token);
      grpc::Status st = stub_->ListCampaignHouseholds(ctx.get(), req, &resp);
      EXPECT_TRUE(st.ok()) << st.error_message();
      if (!st.ok()) break;
      for (const auto& h : resp.households()) out.push_back(h);
      req.set_page_token(resp.next_page_token());
    } while (!req.page_token().empty());
    return out;
  }

  pb::Round CreateRound(const std::string& region, int year, cpb::Season season,
                        int n, int k) {
    pb::CreateRoundRequest req;
    req.set_request_id(NextId("round"));
    req.set_name("2027年春季对口交流支教");
    req.set_region_prefix(region);
    req.mutable_term()->set_year(year);
    req.mutable_term()->set_season(season);
    req.mutable_rules()->set_max_consecutive_terms(n);
    req.mutable_rules()->set_max_per_source_school(k);
    pb::CreateRoundResponse resp;
    auto ctx = ClientContextWith(CityToken());
    grpc::Status st = stub_->CreateRound(ctx.get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.round();
  }

  grpc::Status Solve(int64_t round, pb::SolveRoundResponse* resp,
                     const std::string& token = CityToken()) {
    pb::SolveRoundRequest req;
    req.set_request_id(NextId("solve"));
    req.set_round_id(round);
    auto ctx = ClientContextWith(token);
    return stub_->SolveRound(ctx.get(), req, resp);
  }

  std::string Metrics() {
    return testing::HttpGet(host_->runner().metrics_port(), "/metrics");
  }

  int registry_port_ = 0;
  int ledger_port_ = 0;
  std::unique_ptr<RegistryProcess> registry_;
};

TEST_P(TeacherTest, ImportKeepsChineseMasksForAgenciesAndReportsBadRows) {
  auto good1 =
      TeacherRowOf("411302", 11, "欧阳明华", "U411302A", {"数学", "物理"});
  auto good2 = TeacherRowOf("411325", 12, "李娟", "S411325P1", {"语文"}, true);
  auto bad_id = TeacherRowOf("411302", 13, "张三", "U411302A", {"英语"});
  bad_id.set_id_number(bad_id.id_number().substr(0, 17) +
                       (bad_id.id_number()[17] == '1' ? "2" : "1"));
  auto no_subject = TeacherRowOf("411302", 14, "王五", "U411302A", {});
  auto bad_years = TeacherRowOf("411302", 15, "赵六", "U411302A", {"数学"});
  bad_years.set_years_of_service(70);
  bad_years.add_subjects("数学");
  pb::ImportTeachersResponse resp;
  ASSERT_TRUE(
      Import({good1, good2, bad_id, no_subject, bad_years}, &resp).ok());
  EXPECT_EQ(resp.accepted_rows(), 2);
  EXPECT_EQ(resp.rejected_rows(), 3);
  EXPECT_EQ(resp.teachers_created(), 2);
  std::set<std::pair<int64_t, std::string>> errs;
  for (const auto& e : resp.errors()) errs.insert({e.row_number(), e.field()});
  EXPECT_TRUE(errs.count({4, "id_number"}));
  EXPECT_TRUE(errs.count({5, "subjects"}));
  EXPECT_TRUE(errs.count({6, "years_of_service"}));
  EXPECT_TRUE(errs.count({6, "subjects[1]"}));
  EXPECT_EQ(CountTeachers(), 2);

  pb::GetTeacherRequest get;
  get.set_id_number(good1.id_number());
  pb::GetTeacherResponse t;
  auto c1 = ClientContextWith(ProvinceToken());
  ASSERT_TRUE(stub_->GetTeacher(c1.get(), get, &t).ok());
  EXPECT_EQ(t.teacher().name(), "欧阳明华");
  EXPECT_EQ(t.teacher().id_number(), good1.id_number());
  EXPECT_THAT(t.teacher().subjects(), ::testing::ElementsAre("数学", "物理"));
  EXPECT_EQ(t.teacher().title(), "一级教师");
  auto c2 = ClientContextWith(AgencyToken());
  ASSERT_TRUE(stub_->GetTeacher(c2.get(), get, &t).ok());
  EXPECT_EQ(t.teacher().name(), "欧***");
  EXPECT_EQ(t.teacher().id_number().substr(6, 8), "********");

  // Warm the in-process tier by id (the non-blocking path reads it).
  pb::GetTeacherRequest by_id;
  by_id.set_teacher_id(resp.teachers(0).teacher_id());
  for (int i = 0; i < 2; ++i) {
    auto ctx = ClientContextWith(ProvinceToken());
    ASSERT_TRUE(stub_->GetTeacher(ctx.get(), by_id, &t).ok());
    EXPECT_EQ(t.teacher().name(), "欧阳明华");
  }

  // A re-import updates by ID number; never duplicates.
  good1.set_name("欧阳明");
  good1.clear_subjects();
  good1.add_subjects("化学");
  pb::ImportTeachersResponse again;
  ASSERT_TRUE(Import({good1}, &again).ok());
  EXPECT_EQ(again.teachers_updated(), 1);
  EXPECT_EQ(again.teachers(0).teacher_id(), resp.teachers(0).teacher_id());
  EXPECT_EQ(CountTeachers(), 2);
  auto c3 = ClientContextWith(ProvinceToken());
  ASSERT_TRUE(stub_->GetTeacher(c3.get(), get, &t).ok());
  EXPECT_EQ(t.teacher().name(), "欧阳明");  // the cache was invalidated
  EXPECT_THAT(t.teacher().subjects(), ::testing::ElementsAre("化学"));
  auto c3b = ClientContextWith(ProvinceToken());
  ASSERT_TRUE(stub_->GetTeacher(c3b.get(), by_id, &t).ok());
  EXPECT_EQ(t.teacher().name(), "欧阳明");  // not the stale in-process copy

  pb::ListTeachersRequest lreq;
  lreq.set_subject("化学");
  pb::ListTeachersResponse list;
  auto c4 = ClientContextWith(CityToken());
  ASSERT_TRUE(stub_->ListTeachers(c4.get(), lreq, &list).ok());
  ASSERT_EQ(list.teachers_size(), 1);
  EXPECT_EQ(list.teachers(0).id_number().substr(6, 8), "********");
}

TEST_P(TeacherTest, BadInputsAreRejectedWithTheFieldNamedAndNothingStored) {
  // Rounds.
  pb::CreateRoundRequest round;
  round.set_request_id("bad-round");
  round.set_name("轮次");
  round.set_region_prefix("4113");
  round.mutable_term()->set_year(2027);
  round.mutable_rules()->set_max_consecutive_terms(40);
  pb::CreateRoundResponse rresp;
  auto c1 = ClientContextWith(CityToken());
  grpc::Status st = stub_->CreateRound(c1.get(), round, &rresp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Fields(st), ::testing::UnorderedElementsAre(
                              "term.season", "rules.max_consecutive_terms"));
  EXPECT_EQ(CountRounds(), 0);
  // Missing request id.
  round.clear_request_id();
  round.mutable_term()->set_season(cpb::SEASON_SPRING);
  auto c1b = ClientContextWith(CityToken());
  st = stub_->CreateRound(c1b.get(), round, &rresp);
  EXPECT_THAT(Fields(st), ::testing::ElementsAre("request_id"));
  EXPECT_EQ(CountRounds(), 0);

  // Campaigns.
  CurrentTerm term = TermOfToday();
  pb::CreateCampaignRequest camp;
  camp.set_request_id("bad-campaign");
  camp.set_name("大走访");
  camp.set_region_prefix("411325");
  *camp.mutable_term() = term.term;
  camp.set_cap_per_teacher(0);
  camp.set_due_date("2001-01-01");
  pb::CreateCampaignResponse cresp;
  auto c2 = ClientContextWith(CountyToken());
  st = stub_->CreateCampaign(c2.get(), camp, &cresp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Fields(st),
              ::testing::UnorderedElementsAre("cap_per_teacher", "due_date"));
  EXPECT_EQ(CountCampaigns(), 0);

  // Training.
  pb::AllocateTrainingQuotaRequest quota;
  quota.set_request_id("bad-quota");
  quota.set_name("国培");
  quota.set_level(pb::TRAINING_LEVEL_NATIONAL);
  quota.set_year(2026);
  quota.set_seats(0);
  quota.set_region_prefix("4113");
  auto* county = quota.add_counties();
  county->set_region_code("411402");
  county->set_rural_teacher_shortage(-3);
  pb::AllocateTrainingQuotaResponse qresp;
  auto c3 = ClientContextWith(CityToken());
  st = stub_->AllocateTrainingQuota(c3.get(), quota, &qresp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Fields(st), ::testing::UnorderedElementsAre(
                              "seats", "counties[0].region_code",
                              "counties[0].rural_teacher_shortage"));
  EXPECT_EQ(CountProgrammes(), 0);

  // Visits.
  pb::RecordVisitRequest visit;
  visit.set_request_id("bad-visit");
  visit.mutable_visit()->set_campaign_id(1);
  visit.mutable_visit()->set_household_id("H1");
  visit.mutable_visit()->set_visit_date("2999-01-01");
  pb::RecordVisitResponse vresp;
  auto c4 = ClientContextWith(CountyToken());
  st = stub_->RecordVisit(c4.get(), visit, &vresp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Fields(st), ::testing::IsSupersetOf(
                              {"visit.visit_date", "visit.met",
                               "visit.dropout_risk", "visit.evidence_ref"}));

  // A whole batch of bad teachers lands nothing.
  auto bad = TeacherRowOf("411325", 21, "", "bad code!", {"数|学"});
  pb::ImportTeachersResponse iresp;
  ASSERT_TRUE(Import({bad}, &iresp).ok());
  EXPECT_EQ(iresp.accepted_rows(), 0);
  std::set<std::string> fields;
  for (const auto& e : iresp.errors()) fields.insert(e.field());
  EXPECT_THAT(fields,
              ::testing::IsSupersetOf({"name", "school_code", "subjects[0]"}));
  EXPECT_EQ(CountTeachers(), 0);
}

TEST_P(TeacherTest, RegionScopeKeepsCountiesApart) {
  auto ids = ImportOk(
      {TeacherRowOf("411326", 31, "周敏", "S411326P1", {"数学"}, true)});
  ASSERT_EQ(ids.size(), 1u);
  // A county officer of 411325 may not import into 411326: nothing lands.
  pb::ImportTeachersResponse resp;
  grpc::Status st =
      Import({TeacherRowOf("411325", 32, "吴刚", "S411325P1", {"数学"}),
              TeacherRowOf("411326", 33, "郑洁", "S411326P1", {"数学"})},
             &resp, CountyToken("411325"));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(CountTeachers(), 1);
  pb::GetTeacherRequest get;
  get.set_teacher_id(ids[0]);
  pb::GetTeacherResponse t;
  auto c1 = ClientContextWith(CountyToken("411325"));
  EXPECT_EQ(stub_->GetTeacher(c1.get(), get, &t).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  auto c2 = ClientContextWith(CountyToken("411326"));
  EXPECT_TRUE(stub_->GetTeacher(c2.get(), get, &t).ok());
  pb::ListTeachersRequest list;
  list.set_region_prefix("411326");
  pb::ListTeachersResponse lresp;
  auto c3 = ClientContextWith(CountyToken("411325"));
  EXPECT_EQ(stub_->ListTeachers(c3.get(), list, &lresp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  pb::DeactivateTeacherRequest deact;
  deact.set_request_id("deact-other-county");
  deact.set_teacher_id(ids[0]);
  deact.set_reason("调离");
  pb::DeactivateTeacherResponse dresp;
  auto c4 = ClientContextWith(CountyToken("411325"));
  EXPECT_EQ(stub_->DeactivateTeacher(c4.get(), deact, &dresp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  CurrentTerm term = TermOfToday();
  pb::CreateCampaignRequest camp;
  camp.set_request_id("camp-other-county");
  camp.set_name("大走访");
  camp.set_region_prefix("411326");
  *camp.mutable_term() = term.term;
  camp.set_cap_per_teacher(20);
  pb::CreateCampaignResponse cresp;
  auto c5 = ClientContextWith(CountyToken("411325"));
  EXPECT_EQ(stub_->CreateCampaign(c5.get(), camp, &cresp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(CountCampaigns(), 0);
  // Agencies read (masked) but never write.
  EXPECT_EQ(Import({TeacherRowOf("411325", 34, "冯静", "S411325P1", {"数学"})},
                   &resp, AgencyToken())
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(CountTeachers(), 1);
}

TEST_P(TeacherTest,
       RepeatedRequestIdReturnsTheFirstAnswerAndRejectsOtherPayloads) {
  pb::ImportTeachersRequest req;
  req.set_request_id("same-id");
  *req.add_rows() = TeacherRowOf("411302", 41, "陈晨", "U411302A", {"英语"});
  pb::ImportTeachersResponse first, second;
  auto c1 = ClientContextWith(ProvinceToken());
  ASSERT_TRUE(stub_->ImportTeachers(c1.get(), req, &first).ok());
  auto c2 = ClientContextWith(ProvinceToken());
  ASSERT_TRUE(stub_->ImportTeachers(c2.get(), req, &second).ok());
  EXPECT_EQ(first.SerializeAsString(), second.SerializeAsString());
  EXPECT_EQ(second.teachers_created(), 1);
  EXPECT_EQ(CountTeachers(), 1);
  req.mutable_rows(0)->set_name("陈晨晨");
  auto c3 = ClientContextWith(ProvinceToken());
  grpc::Status st = stub_->ImportTeachers(c3.get(), req, &second);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(st)), "REQUEST_ID_REUSED");
}

TEST_P(TeacherTest, SupportRoundSolvesExplainsPinsPublishesAndFreezes) {
  auto ids = ImportOk({
      TeacherRowOf("411302", 51, "孙丽", "U411302A", {"数学"}),
      TeacherRowOf("411302", 52, "钱进", "U411302A", {"英语", "数学"}),
      TeacherRowOf("411302", 53, "何平", "U411302B", {"语文"}),
      TeacherRowOf("411302", 54, "高远", "U411302B", {"物理"}),
      TeacherRowOf("411325", 55, "乡村教师", "S411325P2", {"数学"}, true),
  });
  ASSERT_EQ(ids.size(), 5u);
  pb::Round round = CreateRound("4113", 2027, cpb::SEASON_SPRING, 1, 2);
  ASSERT_GT(round.round_id(), 0);
  EXPECT_EQ(round.state(), pb::ROUND_STATE_DRAFT);

  pb::PostDemandRequest demand;
  demand.set_request_id(NextId("demand"));
  demand.set_round_id(round.round_id());
  auto line = [&](const std::string& school, const std::string& region,
                  const std::string& subject, int slots) {
    auto* d = demand.add_demands();
    d->set_row_number(demand.demands_size());
    d->set_school_code(school);
    d->set_school_name(school == "R411325X" ? "内乡县赤眉镇中心小学"
                                            : "内乡县夏馆镇小学");
    d->set_region_code(region);
    d->set_subject(subject);
    d->set_slots(slots);
  };
  line("R411325X", "411325", "数学", 1);
  line("R411325X", "411325", "英语", 1);
  line("R411325Y", "411325", "语文", 1);
  line("R411325Y", "411325", "音乐", 1);
  line("R411402Z", "411402", "数学", 1);   // another city: outside the round
  line("R411325Y", "411325", "体育", 99);  // too many
  pb::PostDemandResponse dresp;
  auto c1 = ClientContextWith(CountyToken("411325"));
  ASSERT_TRUE(stub_->PostDemand(c1.get(), demand, &dresp).ok());
  EXPECT_EQ(dresp.accepted_rows(), 4);
  ASSERT_EQ(dresp.errors_size(), 2);
  EXPECT_EQ(dresp.errors(0).row_number(), 5);
  EXPECT_EQ(dresp.errors(0).field(), "region_code");
  EXPECT_EQ(dresp.errors(1).field(), "slots");
  EXPECT_EQ(dresp.round().demanded_slots(), 4);

  pb::NominateTeachersRequest nom;
  nom.set_request_id(NextId("nominate"));
  nom.set_round_id(round.round_id());
  for (int i = 0; i < 5; ++i) {
    auto* n = nom.add_nominations();
    n->set_row_number(i + 1);
    n->set_teacher_id(ids[i]);
  }
  nom.mutable_nominations(0)->add_preferred_school_codes("R411325X");
  nom.add_nominations()->set_teacher_id("t-9999");
  pb::NominateTeachersResponse nresp;
  auto c2 = ClientContextWith(CityToken());
  ASSERT_TRUE(stub_->NominateTeachers(c2.get(), nom, &nresp).ok());
  EXPECT_EQ(nresp.accepted_rows(), 4);
  ASSERT_EQ(nresp.errors_size(), 2);
  EXPECT_THAT(nresp.errors(0).rule(), HasSubstr("rural"));
  EXPECT_THAT(nresp.errors(1).rule(), HasSubstr("no such teacher"));

  pb::SolveRoundResponse solved;
  ASSERT_TRUE(Solve(round.round_id(), &solved).ok());
  EXPECT_EQ(solved.round().state(), pb::ROUND_STATE_SOLVED);
  const pb::Solution& s = solved.solution();
  EXPECT_EQ(s.demanded_slots(), 4);
  EXPECT_EQ(s.filled_slots(), 3);
  std::map<std::string, std::string> at;  // teacher -> school/subject
  for (const auto& p : s.placements()) {
    at[p.teacher_id()] = p.school_code() + "/" + p.subject();
    EXPECT_FALSE(p.teacher_name().empty());
    EXPECT_GE(p.reasons_size(), 4);
    int64_t sum = 0;
    for (const auto& r : p.reasons()) sum += r.points();
    EXPECT_EQ(sum, p.cost());
  }
  EXPECT_EQ(at[ids[0]], "R411325X/数学");
  EXPECT_EQ(at[ids[1]], "R411325X/英语");
  EXPECT_EQ(at[ids[2]], "R411325Y/语文");
  ASSERT_EQ(s.unfilled_size(), 1);
  EXPECT_EQ(s.unfilled(0).subject(), "音乐");
  EXPECT_EQ(s.unfilled(0).reason(),
            pb::UNFILLED_REASON_NO_TEACHER_WITH_SUBJECT);
  EXPECT_EQ(s.unfilled(0).school_name(), "内乡县夏馆镇小学");
  ASSERT_EQ(s.unplaced_teachers_size(), 1);
  EXPECT_EQ(s.unplaced_teachers(0).teacher_id(), ids[3]);
  EXPECT_THAT(s.unplaced_teachers(0).explanation(), HasSubstr("物理"));
  std::string names;
  for (const auto& p : s.placements()) names += p.teacher_name();
  EXPECT_THAT(names, HasSubstr("孙丽"));

  // Publishing needs a solution for the current inputs: a forbid moves the
  // round back to draft.
  pb::SetPlacementConstraintRequest forbid;
  forbid.set_request_id(NextId("forbid"));
  forbid.set_round_id(round.round_id());
  forbid.set_teacher_id(ids[0]);
  forbid.set_school_code("R411325X");
  forbid.set_kind(pb::CONSTRAINT_KIND_FORBID);
  pb::SetPlacementConstraintResponse fresp;
  auto c3 = ClientContextWith(CityToken());
  ASSERT_TRUE(stub_->SetPlacementConstraint(c3.get(), forbid, &fresp).ok());
  EXPECT_EQ(fresp.round().state(), pb::ROUND_STATE_DRAFT);
  pb::PublishRoundRequest pub;
  pub.set_request_id(NextId("publish"));
  pub.set_round_id(round.round_id());
  pb::PublishRoundResponse presp;
  auto c4 = ClientContextWith(CityToken());
  grpc::Status st = stub_->PublishRound(c4.get(), pub, &presp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(st)), "NOT_SOLVED");

  ASSERT_TRUE(Solve(round.round_id(), &solved).ok());
  at.clear();
  for (const auto& p : solved.solution().placements()) {
    at[p.teacher_id()] = p.school_code() + "/" + p.subject();
  }
  // Only 钱进 may now teach at R411325X: 英语 (main subject) is cheaper than
  // 数学 (second subject), so 数学 stays empty and says why.
  EXPECT_EQ(at.count(ids[0]), 0u);
  EXPECT_EQ(at[ids[1]], "R411325X/英语");
  EXPECT_EQ(solved.solution().filled_slots(), 3 - 1);
  bool maths_unfilled = false;
  for (const auto& u : solved.solution().unfilled()) {
    if (u.subject() == "数学") {
      maths_unfilled = true;
      EXPECT_EQ(u.reason(), pb::UNFILLED_REASON_TEACHERS_PLACED_ELSEWHERE);
      EXPECT_FALSE(u.explanation().empty());
    }
  }
  EXPECT_TRUE(maths_unfilled);

  // A pin overrides the optimum; an impossible pin is refused.
  pb::SetPlacementConstraintRequest pin = forbid;
  pin.set_request_id(NextId("pin"));
  pin.set_teacher_id(ids[1]);
  pin.set_kind(pb::CONSTRAINT_KIND_PIN);
  pin.set_school_code("R411325Y");
  auto c5 = ClientContextWith(CityToken());
  ASSERT_TRUE(stub_->SetPlacementConstraint(c5.get(), pin, &fresp).ok());
  EXPECT_EQ(fresp.constraints_size(), 2);
  st = Solve(round.round_id(), &solved);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(st)), "PIN_INFEASIBLE");
  EXPECT_THAT(st.error_message(), HasSubstr(ids[1]));
  pin.set_request_id(NextId("clear"));
  pin.set_kind(pb::CONSTRAINT_KIND_CLEAR);
  auto c6 = ClientContextWith(CityToken());
  ASSERT_TRUE(stub_->SetPlacementConstraint(c6.get(), pin, &fresp).ok());
  forbid.set_request_id(NextId("unforbid"));
  forbid.set_kind(pb::CONSTRAINT_KIND_CLEAR);
  auto c7 = ClientContextWith(CityToken());
  ASSERT_TRUE(stub_->SetPlacementConstraint(c7.get(), forbid, &fresp).ok());
  ASSERT_TRUE(Solve(round.round_id(), &solved).ok());
  EXPECT_EQ(solved.solution().filled_slots(), 3);

  // Only the organiser's scope solves; a county inside sees its part.
  pb::SolveRoundResponse denied;
  EXPECT_EQ(
      Solve(round.round_id(), &denied, CountyToken("411325")).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  pb::GetRoundRequest get;
  get.set_round_id(round.round_id());
  pb::GetRoundResponse view;
  auto c8 = ClientContextWith(CountyToken("411326"));
  ASSERT_TRUE(stub_->GetRound(c8.get(), get, &view).ok());
  EXPECT_EQ(view.solution().placements_size(), 0);
  EXPECT_EQ(view.demands_size(), 0);
  auto c9 = ClientContextWith(CountyToken("411325"));
  ASSERT_TRUE(stub_->GetRound(c9.get(), get, &view).ok());
  EXPECT_EQ(view.solution().placements_size(), 3);
  EXPECT_EQ(view.demands_size(), 4);

  pub.set_request_id(NextId("publish"));
  auto c10 = ClientContextWith(CityToken());
  ASSERT_TRUE(stub_->PublishRound(c10.get(), pub, &presp).ok());
  EXPECT_EQ(presp.round().state(), pb::ROUND_STATE_PUBLISHED);
  EXPECT_EQ(presp.placements(), 3);

  // Frozen.
  demand.set_request_id(NextId("demand"));
  auto c11 = ClientContextWith(CityToken());
  st = stub_->PostDemand(c11.get(), demand, &dresp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(st)), "ROUND_PUBLISHED");
  st = Solve(round.round_id(), &solved);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(st)), "ROUND_PUBLISHED");
  nom.set_request_id(NextId("nominate"));
  auto c12 = ClientContextWith(CityToken());
  EXPECT_EQ(
      ReasonOf(FromGrpcStatus(stub_->NominateTeachers(c12.get(), nom, &nresp))),
      "ROUND_PUBLISHED");

  // The history feeds the next round's rules: with N = 1, last term's
  // teachers may not serve again; the physics teacher may.
  pb::GetTeacherRequest gt;
  gt.set_teacher_id(ids[0]);
  pb::GetTeacherResponse teacher;
  auto c13 = ClientContextWith(ProvinceToken());
  ASSERT_TRUE(stub_->GetTeacher(c13.get(), gt, &teacher).ok());
  ASSERT_EQ(teacher.teacher().placements_size(), 1);
  EXPECT_EQ(teacher.teacher().placements(0).school_code(), "R411325X");
  EXPECT_EQ(teacher.teacher().placements(0).round_id(), round.round_id());

  pb::Round next = CreateRound("4113", 2027, cpb::SEASON_AUTUMN, 1, 2);
  demand.set_request_id(NextId("demand"));
  demand.set_round_id(next.round_id());
  demand.clear_demands();
  line("R411325X", "411325", "数学", 1);
  line("R411325Y", "411325", "物理", 1);
  auto c14 = ClientContextWith(CityToken());
  ASSERT_TRUE(stub_->PostDemand(c14.get(), demand, &dresp).ok());
  nom.set_request_id(NextId("nominate"));
  nom.set_round_id(next.round_id());
  nom.clear_nominations();
  for (int i : {0, 1, 3}) nom.add_nominations()->set_teacher_id(ids[i]);
  auto c15 = ClientContextWith(CityToken());
  ASSERT_TRUE(stub_->NominateTeachers(c15.get(), nom, &nresp).ok());
  ASSERT_TRUE(Solve(next.round_id(), &solved).ok());
  ASSERT_EQ(solved.solution().placements_size(), 1);
  EXPECT_EQ(solved.solution().placements(0).teacher_id(), ids[3]);
  ASSERT_EQ(solved.solution().unfilled_size(), 1);
  EXPECT_EQ(solved.solution().unfilled(0).reason(),
            pb::UNFILLED_REASON_RULES_BLOCK_ALL);
  EXPECT_THAT(solved.solution().unfilled(0).explanation(),
              HasSubstr("consecutive"));
  EXPECT_NE(Metrics().find("eduaid_teacher_assignment_solve_seconds_count"),
            std::string::npos);
  EXPECT_EQ(
      testing::MetricValue(Metrics(), "eduaid_teacher_unfilled_demand",
                           {absl::StrCat("round=\"", next.round_id(), "\"")}),
      1);
}

TEST_P(TeacherTest, TrainingSeatsFavourPoorCountiesAndTrackCompletion) {
  auto ids = ImportOk({
      TeacherRowOf("411325", 61, "乡村甲", "S411325P2", {"数学"}, true),
      TeacherRowOf("411325", 62, "乡村乙", "S411325P3", {"语文"}, true),
      TeacherRowOf("411326", 63, "乡村丙", "S411326P2", {"英语"}, true),
      TeacherRowOf("411330", 64, "城区丁", "S411330P1", {"英语"}),
  });
  pb::AllocateTrainingQuotaRequest req;
  req.set_request_id("quota-1");
  req.set_name("2026年国培计划乡村教师培训");
  req.set_level(pb::TRAINING_LEVEL_NATIONAL);
  req.set_year(2026);
  req.set_seats(3);
  req.set_region_prefix("4113");
  auto add = [&](const std::string& code, int64_t students, int64_t shortage) {
    auto* c = req.add_counties();
    c->set_region_code(code);
    c->set_registered_students(students);
    c->set_rural_teacher_shortage(shortage);
  };
  add("411325", 900, 40);  // the poorest county
  add("411326", 300, 10);
  add("411302", 100, 0);
  pb::AllocateTrainingQuotaResponse resp;
  auto c1 = ClientContextWith(CityToken());
  ASSERT_TRUE(stub_->AllocateTrainingQuota(c1.get(), req, &resp).ok());
  const auto& prog = resp.programme();
  EXPECT_EQ(prog.name(), "2026年国培计划乡村教师培训");
  std::map<std::string, pb::CountyAllocation> by;
  int total = 0;
  for (const auto& a : prog.allocations()) {
    by[a.region_code()] = a;
    total += a.seats();
    EXPECT_FALSE(a.explanation().empty());
  }
  EXPECT_EQ(total, 3);
  EXPECT_EQ(by["411325"].seats(), 2);  // 900/1300*.5 + 40/50*.5 = 74.6%
  EXPECT_EQ(by["411326"].seats(), 1);
  EXPECT_EQ(by["411302"].seats(), 0);
  EXPECT_THAT(by["411325"].explanation(), HasSubstr("900 of 1300"));

  pb::EnrolTrainingRequest enrol;
  enrol.set_request_id("enrol-1");
  enrol.set_programme_id(prog.programme_id());
  for (const auto& id : ids) enrol.add_teacher_ids(id);
  enrol.add_teacher_ids(ids[0]);
  pb::EnrolTrainingResponse eresp;
  auto c2 = ClientContextWith(CityToken());
  ASSERT_TRUE(stub_->EnrolTraining(c2.get(), enrol, &eresp).ok());
  EXPECT_EQ(eresp.accepted_rows(), 3);
  ASSERT_EQ(eresp.errors_size(), 2);
  EXPECT_EQ(eresp.errors(0).row_number(), 4);
  EXPECT_THAT(eresp.errors(0).rule(), HasSubstr("no seats to county 411330"));
  EXPECT_THAT(eresp.errors(1).rule(), HasSubstr("duplicated"));
  enrol.set_request_id("enrol-2");
  enrol.clear_teacher_ids();
  auto more = ImportOk(
      {TeacherRowOf("411326", 65, "乡村戊", "S411326P3", {"数学"}, true)});
  enrol.add_teacher_ids(more[0]);
  auto c3 = ClientContextWith(CityToken());
  ASSERT_TRUE(stub_->EnrolTraining(c3.get(), enrol, &eresp).ok());
  EXPECT_EQ(eresp.accepted_rows(), 0);
  EXPECT_THAT(eresp.errors(0).rule(), HasSubstr("all taken"));

  pb::CompleteTrainingRequest done;
  done.set_request_id("done-early");
  done.set_programme_id(prog.programme_id());
  done.set_teacher_id(ids[0]);
  done.set_passed(true);
  done.set_hours(60);
  done.set_certificate_ref("GP-2026-0001");
  pb::CompleteTrainingResponse dresp;
  auto c4 = ClientContextWith(CountyToken("411325"));
  grpc::Status st = stub_->CompleteTraining(c4.get(), done, &dresp);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(st)), "NO_ATTENDANCE");

  const std::string session_date = "2026-11-01";
  pb::RecordTrainingAttendanceRequest att;
  att.set_request_id("att-1");
  att.set_programme_id(prog.programme_id());
  att.set_session_date(session_date);
  att.add_present_teacher_ids(ids[0]);
  att.add_absent_teacher_ids(ids[1]);
  pb::RecordTrainingAttendanceResponse aresp;
  auto c5 = ClientContextWith(CountyToken("411325"));
  ASSERT_TRUE(stub_->RecordTrainingAttendance(c5.get(), att, &aresp).ok());
  EXPECT_EQ(aresp.recorded(), 2);
  // Someone not enrolled: nothing recorded at all.
  att.set_request_id("att-2");
  att.add_present_teacher_ids(ids[3]);
  auto c6 = ClientContextWith(CityToken());
  st = stub_->RecordTrainingAttendance(c6.get(), att, &aresp);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(st)), "NOT_ENROLLED");

  done.set_request_id("done-1");
  auto c7 = ClientContextWith(CountyToken("411325"));
  ASSERT_TRUE(stub_->CompleteTraining(c7.get(), done, &dresp).ok());
  EXPECT_TRUE(dresp.enrolment().completed());
  EXPECT_EQ(dresp.enrolment().name(), "乡村甲");
  EXPECT_EQ(dresp.enrolment().sessions_present(), 1);

  pb::GetTrainingProgrammeRequest get;
  get.set_programme_id(prog.programme_id());
  get.set_include_enrolments(true);
  pb::GetTrainingProgrammeResponse gresp;
  auto c8 = ClientContextWith(CountyToken("411325"));
  ASSERT_TRUE(stub_->GetTrainingProgramme(c8.get(), get, &gresp).ok());
  EXPECT_EQ(gresp.enrolments_size(), 2);  // only 411325's
  EXPECT_EQ(gresp.programme().completed(), 1);
  EXPECT_EQ(gresp.programme().enrolled(), 2);
  for (const auto& e : gresp.enrolments()) {
    if (e.teacher_id() == ids[1]) {
      EXPECT_EQ(e.sessions_absent(), 1);
      EXPECT_FALSE(e.completed());
    }
  }
}

TEST_P(TeacherTest, CampaignCoversEveryHouseholdFromARealRegistry) {
  RegistryProcess& registry = StartRegistry();
  registry.Seed({"411325", "411326"}, 120);
  ASSERT_FALSE(HasFailure());
  const auto expected = registry.Households("411325");
  ASSERT_GT(expected.size(), 20u);

  // Teachers at some of 411325's schools only; the others leave households
  // uncovered for want of a teacher, and a low cap leaves some for want of
  // room.
  std::map<std::string, std::vector<std::string>> staff;  // school -> ids
  std::vector<pb::TeacherRow> rows;
  int seq = 100;
  for (const std::string school :
       {"S411325P1", "S411325P2", "S411325J1", "S411325K1"}) {
    for (int k = 0; k < 2; ++k) {
      ++seq;
      rows.push_back(TeacherRowOf("411325", seq, absl::StrCat("教师", seq),
                                  school, {"语文"}, school != "S411325P1"));
    }
  }
  auto ids = ImportOk(rows);
  for (size_t i = 0; i < ids.size(); ++i)
    staff[rows[i].school_code()].push_back(ids[i]);
  std::map<std::string, std::string> school_of;
  for (const auto& [school, list] : staff) {
    for (const auto& id : list) school_of[id] = school;
  }

  CurrentTerm term = TermOfToday();
  pb::CreateCampaignRequest camp;
  camp.set_request_id("campaign-411325");
  camp.set_name("2026年秋季万名教师大走访");
  camp.set_region_prefix("411325");
  *camp.mutable_term() = term.term;
  camp.set_cap_per_teacher(3);
  camp.set_due_date(term.start);
  pb::CreateCampaignResponse cresp;
  auto c1 = ClientContextWith(CountyToken("411325"));
  ASSERT_TRUE(stub_->CreateCampaign(c1.get(), camp, &cresp).ok());
  const int64_t campaign = cresp.campaign().campaign_id();
  // Overlapping campaigns of one term would assign households twice.
  camp.set_request_id("campaign-4113");
  camp.set_region_prefix("4113");
  auto c1b = ClientContextWith(CityToken());
  grpc::Status st = stub_->CreateCampaign(c1b.get(), camp, &cresp);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(st)), "CAMPAIGN_OVERLAPS");

  pb::AssignCampaignRequest assign;
  assign.set_request_id("assign-1");
  assign.set_campaign_id(campaign);
  pb::AssignCampaignResponse aresp;
  auto c2 = ClientContextWith(CountyToken("411325"));
  st = stub_->AssignCampaign(c2.get(), assign, &aresp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(aresp.campaign().state(), pb::CAMPAIGN_STATE_ACTIVE);
  EXPECT_EQ(aresp.campaign().households(),
            static_cast<int64_t>(expected.size()));
  EXPECT_EQ(aresp.newly_assigned() + aresp.uncovered(),
            static_cast<int64_t>(expected.size()));
  EXPECT_LE(aresp.max_load(), 3);

  // Every household is covered by a teacher of one of its students' schools,
  // or listed uncovered with the reason.
  auto all = Households(campaign, pb::HOUSEHOLD_FILTER_UNSPECIFIED);
  ASSERT_EQ(all.size(), expected.size());
  std::map<std::string, int> load;
  int uncovered = 0, by_county = 0;
  for (const auto& h : all) {
    ASSERT_TRUE(expected.count(h.household_id())) << h.household_id();
    std::set<std::string> schools(h.school_codes().begin(),
                                  h.school_codes().end());
    EXPECT_EQ(schools, expected.at(h.household_id()));
    EXPECT_EQ(h.campaign_id(), campaign);
    if (!h.teacher_id().empty()) {
      ++load[h.teacher_id()];
      // A teacher of a child's school, or else of the household's county.
      if (h.assignment_rule() == pb::ASSIGNMENT_RULE_COUNTY) {
        ++by_county;
        EXPECT_TRUE(school_of.count(h.teacher_id())) << h.DebugString();
      } else {
        EXPECT_EQ(h.assignment_rule(), pb::ASSIGNMENT_RULE_CHILDS_SCHOOL);
        EXPECT_TRUE(schools.count(school_of[h.teacher_id()]))
            << h.DebugString();
      }
      EXPECT_FALSE(h.teacher_name().empty());
      continue;
    }
    ++uncovered;
    EXPECT_FALSE(h.uncovered_explanation().empty());
    bool staffed = false;
    for (const auto& s : schools) staffed |= staff.count(s) > 0;
    if (schools.empty()) {
      EXPECT_EQ(h.uncovered_reason(),
                pb::UNCOVERED_REASON_NO_TEACHER_IN_COUNTY);
    } else if (staffed) {
      EXPECT_EQ(h.uncovered_reason(),
                pb::UNCOVERED_REASON_TEACHERS_AT_CAPACITY);
    } else {
      EXPECT_EQ(h.uncovered_reason(),
                pb::UNCOVERED_REASON_NO_TEACHER_AT_SCHOOL);
    }
  }
  EXPECT_GT(uncovered, 0);
  EXPECT_EQ(uncovered, aresp.uncovered());
  // The county rule fills every teacher of the county up to the cap before
  // a household is left uncovered.
  EXPECT_EQ(by_county, aresp.assigned_by_county_rule());
  for (const auto& [id, school] : school_of) EXPECT_EQ(load[id], 3) << id;
  EXPECT_EQ(aresp.households(), static_cast<int64_t>(expected.size()));

  // Capacity-uncovered households: every teacher of their schools is full.
  int at_capacity = 0;
  for (const auto& h : all) {
    if (h.uncovered_reason() != pb::UNCOVERED_REASON_TEACHERS_AT_CAPACITY)
      continue;
    ++at_capacity;
    for (const auto& s : h.school_codes()) {
      for (const auto& t : staff[s]) EXPECT_EQ(load[t], 3) << t;
    }
  }
  EXPECT_GT(at_capacity, 0);
  EXPECT_GT(uncovered, at_capacity);  // some for want of a teacher at all
  // Balanced: within a school, loads differ by at most one.
  for (const auto& [school, list] : staff) {
    int lo = 1 << 20, hi = 0;
    for (const auto& t : list) {
      lo = std::min(lo, load[t]);
      hi = std::max(hi, load[t]);
    }
    EXPECT_LE(hi - lo, 1) << school;
    EXPECT_LE(hi, 3);
  }

  // Visits: findings and evidence; coverage moves; overdue shrinks.
  std::vector<pb::CampaignHousehold> covered;
  for (const auto& h : all) {
    if (!h.teacher_id().empty()) covered.push_back(h);
  }
  ASSERT_GE(covered.size(), 4u);
  const std::string visit_date = std::min(term.today, term.end);
  for (int i = 0; i < 3; ++i) {
    pb::RecordVisitRequest v;
    v.set_request_id(NextId("visit"));
    auto* visit = v.mutable_visit();
    visit->set_campaign_id(campaign);
    visit->set_household_id(covered[i].household_id());
    visit->set_visit_date(visit_date);
    visit->add_met("户主");
    visit->add_met("学生本人");
    visit->add_policies_explained("义务教育阶段寄宿生生活补助");
    auto* sub = visit->add_subsidies();
    sub->set_programme("营养改善计划");
    sub->set_arrived(i != 1);
    visit->set_dropout_risk(i == 2 ? pb::DROPOUT_RISK_HIGH
                                   : pb::DROPOUT_RISK_NONE);
    visit->set_evidence_ref(
        absl::StrCat("photo/2026/", covered[i].household_id(), ".jpg"));
    visit->set_notes("家长在外务工，祖母照看");
    pb::RecordVisitResponse vresp;
    auto ctx = ClientContextWith(CountyToken("411325"));
    st = stub_->RecordVisit(ctx.get(), v, &vresp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(vresp.visit().teacher_id(), covered[i].teacher_id());
    EXPECT_EQ(vresp.visit().notes(), "家长在外务工，祖母照看");
    EXPECT_TRUE(vresp.household().visited());
  }
  // A visit outside the term is refused and stores nothing.
  pb::RecordVisitRequest late;
  late.set_request_id(NextId("visit"));
  *late.mutable_visit() = pb::Visit();
  late.mutable_visit()->set_campaign_id(campaign);
  late.mutable_visit()->set_household_id(covered[3].household_id());
  late.mutable_visit()->set_visit_date("2020-03-01");
  late.mutable_visit()->add_met("户主");
  late.mutable_visit()->set_dropout_risk(pb::DROPOUT_RISK_LOW);
  late.mutable_visit()->set_evidence_ref("form-1");
  pb::RecordVisitResponse lresp;
  auto c3 = ClientContextWith(CountyToken("411325"));
  st = stub_->RecordVisit(c3.get(), late, &lresp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Fields(st), ::testing::ElementsAre("visit.visit_date"));
  // 411326's officer may not record visits in 411325.
  late.mutable_visit()->set_visit_date(visit_date);
  auto c3b = ClientContextWith(CountyToken("411326"));
  EXPECT_EQ(stub_->RecordVisit(c3b.get(), late, &lresp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  pb::GetCampaignCoverageRequest cov;
  cov.set_campaign_id(campaign);
  pb::GetCampaignCoverageResponse coverage;
  auto c4 = ClientContextWith(CountyToken("411325"));
  ASSERT_TRUE(stub_->GetCampaignCoverage(c4.get(), cov, &coverage).ok());
  EXPECT_EQ(coverage.total().households(),
            static_cast<int64_t>(expected.size()));
  EXPECT_EQ(coverage.total().visited(), 3);
  EXPECT_EQ(coverage.total().high_risk(), 1);
  EXPECT_EQ(coverage.total().uncovered(), uncovered);
  ASSERT_EQ(coverage.rows_size(), 1);
  EXPECT_EQ(coverage.rows(0).key(), "411325");
  const bool past_due = term.today > term.start;
  if (past_due) {
    EXPECT_EQ(coverage.total().overdue(),
              static_cast<int64_t>(expected.size()) - 3);
    EXPECT_EQ(Households(campaign, pb::HOUSEHOLD_FILTER_OVERDUE).size(),
              expected.size() - 3);
  }
  cov.set_group_by(pb::COVERAGE_GROUPING_TEACHER);
  auto c5 = ClientContextWith(CountyToken("411325"));
  ASSERT_TRUE(stub_->GetCampaignCoverage(c5.get(), cov, &coverage).ok());
  int64_t by_teacher = 0, visited = 0;
  for (const auto& r : coverage.rows()) {
    by_teacher += r.households();
    visited += r.visited();
    if (!r.key().empty()) {
      EXPECT_THAT(r.label(), HasSubstr("教师"));
    }
  }
  EXPECT_EQ(by_teacher, static_cast<int64_t>(expected.size()));
  EXPECT_EQ(visited, 3);
  cov.set_group_by(pb::COVERAGE_GROUPING_SCHOOL);
  auto c6 = ClientContextWith(CountyToken("411325"));
  ASSERT_TRUE(stub_->GetCampaignCoverage(c6.get(), cov, &coverage).ok());
  int64_t by_school = 0;
  for (const auto& r : coverage.rows()) by_school += r.households();
  EXPECT_EQ(by_school, static_cast<int64_t>(expected.size()));
  const double ratio = testing::MetricValue(
      Metrics(), "eduaid_teacher_visit_coverage_ratio", {"region=\"411325\""});
  EXPECT_NEAR(ratio, 3.0 / expected.size(), 1e-9);

  // A teacher leaves: their unvisited households move to colleagues with
  // room (or are listed uncovered); visited ones stay; none is dropped.
  std::string leaving;
  for (const auto& h : covered) {
    if (h.household_id() != covered[0].household_id() &&
        h.household_id() != covered[1].household_id() &&
        h.household_id() != covered[2].household_id()) {
      leaving = h.teacher_id();
      break;
    }
  }
  ASSERT_FALSE(leaving.empty());
  int theirs_unvisited = 0;
  for (const auto& h : Households(campaign, pb::HOUSEHOLD_FILTER_UNVISITED)) {
    theirs_unvisited += h.teacher_id() == leaving;
  }
  ASSERT_GT(theirs_unvisited, 0);
  // Make room first: a new colleague at the same school.
  pb::TeacherRow fresh =
      TeacherRowOf("411325", 300, "新来的老师", school_of[leaving], {"数学"});
  auto fresh_id = ImportOk({fresh});
  pb::DeactivateTeacherRequest deact;
  deact.set_request_id("leave-1");
  deact.set_teacher_id(leaving);
  deact.set_reason("调往县城学校");
  pb::DeactivateTeacherResponse dresp;
  auto c7 = ClientContextWith(CountyToken("411325"));
  ASSERT_TRUE(stub_->DeactivateTeacher(c7.get(), deact, &dresp).ok());
  EXPECT_FALSE(dresp.teacher().active());
  ASSERT_EQ(dresp.campaigns_size(), 1);
  EXPECT_EQ(dresp.campaigns(0).reassigned() + dresp.campaigns(0).uncovered(),
            theirs_unvisited);
  EXPECT_GT(dresp.campaigns(0).reassigned(), 0);

  auto after = Households(campaign, pb::HOUSEHOLD_FILTER_UNSPECIFIED);
  ASSERT_EQ(after.size(), expected.size());
  bool fresh_used = false;
  for (const auto& h : after) {
    if (h.visits() == 0) {
      EXPECT_NE(h.teacher_id(), leaving);
    }
    if (h.teacher_id().empty()) {
      EXPECT_NE(h.uncovered_reason(), pb::UNCOVERED_REASON_UNSPECIFIED);
    }
    fresh_used |= h.teacher_id() == fresh_id[0];
  }
  EXPECT_TRUE(fresh_used);
  deact.set_request_id("leave-2");
  auto c8 = ClientContextWith(CountyToken("411325"));
  EXPECT_EQ(ReasonOf(FromGrpcStatus(
                stub_->DeactivateTeacher(c8.get(), deact, &dresp))),
            "ALREADY_INACTIVE");

  // Re-running the assignment keeps assigned households and retries the rest.
  assign.set_request_id("assign-2");
  auto c9 = ClientContextWith(CountyToken("411325"));
  ASSERT_TRUE(stub_->AssignCampaign(c9.get(), assign, &aresp).ok());
  EXPECT_EQ(aresp.campaign().households(),
            static_cast<int64_t>(expected.size()));
  EXPECT_EQ(aresp.kept() + aresp.newly_assigned() + aresp.uncovered(),
            static_cast<int64_t>(expected.size()));

  // Training seats weighted by the registry's registered students.
  pb::AllocateTrainingQuotaRequest quota;
  quota.set_request_id("quota-registry");
  quota.set_name("2026年省培计划");
  quota.set_level(pb::TRAINING_LEVEL_PROVINCIAL);
  quota.set_year(2026);
  quota.set_seats(20);
  quota.set_region_prefix("4113");
  quota.set_students_from_registry(true);
  auto* shortage = quota.add_counties();
  shortage->set_region_code("411325");
  shortage->set_rural_teacher_shortage(12);
  pb::AllocateTrainingQuotaResponse qresp;
  auto c10 = ClientContextWith(CityToken());
  ASSERT_TRUE(stub_->AllocateTrainingQuota(c10.get(), quota, &qresp).ok());
  int seats = 0;
  std::set<std::string> counties;
  for (const auto& a : qresp.programme().allocations()) {
    seats += a.seats();
    counties.insert(a.region_code());
    EXPECT_GT(a.registered_students(), 0) << a.region_code();
  }
  EXPECT_EQ(seats, 20);
  EXPECT_EQ(counties, (std::set<std::string>{"411325", "411326"}));

  // The registry goes away: a new campaign fails fast with UNAVAILABLE and
  // stores nothing.
  camp.set_request_id("campaign-411326");
  camp.set_region_prefix("411326");
  pb::CreateCampaignResponse c2resp;
  auto c11 = ClientContextWith(CountyToken("411326"));
  ASSERT_TRUE(stub_->CreateCampaign(c11.get(), camp, &c2resp).ok());
  registry.Kill();
  assign.set_request_id("assign-down");
  assign.set_campaign_id(c2resp.campaign().campaign_id());
  const auto start = std::chrono::steady_clock::now();
  auto c12 = ClientContextWith(CountyToken("411326"));
  st = stub_->AssignCampaign(c12.get(), assign, &aresp);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(st.error_message(), HasSubstr("registry"));
  EXPECT_LT(seconds, 6.0);
  EXPECT_TRUE(Households(c2resp.campaign().campaign_id(),
                         pb::HOUSEHOLD_FILTER_UNSPECIFIED,
                         CountyToken("411326"))
                  .empty());
  pb::ListCampaignsRequest lc;
  lc.set_region_prefix("411326");
  pb::ListCampaignsResponse lcr;
  auto c13 = ClientContextWith(CountyToken("411326"));
  ASSERT_TRUE(stub_->ListCampaigns(c13.get(), lc, &lcr).ok());
  ASSERT_EQ(lcr.campaigns_size(), 1);
  EXPECT_EQ(lcr.campaigns(0).state(), pb::CAMPAIGN_STATE_DRAFT);
}

TEST_P(TeacherTest, HealthMetricsAndNoPlaintextPersonalDataAtRest) {
  EXPECT_EQ(testing::HealthStatus(host_->runner().health_port(),
                                  "eduaid.teacher.v1.TeacherSupportService"),
            "SERVING");
  auto row = TeacherRowOf("411302", 71, "诸葛明远", "U411302A", {"数学"});
  auto ids = ImportOk({row});
  pb::GetTeacherRequest get;
  get.set_teacher_id(ids[0]);
  pb::GetTeacherResponse t;
  auto c1 = ClientContextWith(ProvinceToken());
  ASSERT_TRUE(stub_->GetTeacher(c1.get(), get, &t).ok());
  auto c2 = ClientContextWith(ProvinceToken());
  ASSERT_TRUE(stub_->GetTeacher(c2.get(), get, &t).ok());  // from Redis
  EXPECT_EQ(t.teacher().name(), "诸葛明远");
  std::string metrics = Metrics();
  EXPECT_GT(
      testing::MetricValue(metrics, "grpc_server_handled_total",
                           {"grpc_method=\"GetTeacher\"", "grpc_code=\"OK\""}),
      0);
  // The second read is a hit, in the in-process tier or in Redis.
  const double redis_hits = testing::MetricValue(
      metrics, "eduaid_cache_requests_total", {"result=\"hit\""});
  const double local_hits = testing::MetricValue(
      metrics, "eduaid_cache_local_requests_total", {"result=\"hit\""});
  EXPECT_GE(std::max(redis_hits, 0.0) + std::max(local_hits, 0.0), 1);
  EXPECT_THAT(metrics, ::testing::Not(HasSubstr(row.id_number())));
  if (GetParam() == "sqlite") {
    host_->audit().Flush();
    service_->logic().StopFindingDelivery();
    host_.reset();
    for (const char* f : {"/teacher.db", "/teacher.db-wal"}) {
      std::ifstream in(dir_.path() + f, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      EXPECT_EQ(ss.str().find(row.id_number()), std::string::npos) << f;
      EXPECT_EQ(ss.str().find("诸葛明远"), std::string::npos) << f;
    }
  }
}

// Issue 13: a household whose only child is out of school (school age, on
// no roster) is in the campaign, gets a teacher of its county, and is
// counted; the teacher's own list is for that teacher only.
TEST_P(TeacherTest, HouseholdWithOnlyAnOutOfSchoolChildGetsACountyTeacher) {
  RegistryProcess& registry = StartRegistry();
  {
    rpb::UpsertSchoolRequest req;
    req.set_request_id("school-P1");
    auto* school = req.mutable_school();
    school->set_code("S411325P1");
    school->set_name("城关镇第一小学");
    school->set_region_code("411325");
    school->add_stages(cpb::SCHOOL_STAGE_PRIMARY);
    rpb::UpsertSchoolResponse resp;
    auto ctx = ClientContextWith(ProvinceToken());
    ASSERT_TRUE(registry.stub().UpsertSchool(ctx.get(), req, &resp).ok());
  }
  const std::string in_child =
      synthetic::MakeIdNumber("411325", "20160304", 11);
  rpb::ImportHouseholdsRequest hreq;
  hreq.set_request_id("households-out");
  hreq.set_skip_identification(true);
  auto member = [&](const std::string& household, const std::string& id,
                    const std::string& name, rpb::Relation relation) {
    auto* r = hreq.add_rows();
    r->set_row_number(hreq.rows_size() + 1);
    r->set_household_id(household);
    r->set_region_code("411325");
    r->set_registration_year(2016);
    r->set_household_status(cpb::HOUSEHOLD_STATUS_POOR);
    r->set_id_number(id);
    r->set_name(name);
    r->set_relation(relation);
  };
  member("H411325IN", synthetic::MakeIdNumber("411325", "19820101", 21),
         "王建国", rpb::RELATION_HEAD);
  member("H411325IN", in_child, "王小明", rpb::RELATION_CHILD);
  member("H411325OUT", synthetic::MakeIdNumber("411325", "19800505", 31),
         "李秀英", rpb::RELATION_HEAD);
  member("H411325OUT", synthetic::MakeIdNumber("411325", "20150909", 41),
         "李小红", rpb::RELATION_CHILD);
  rpb::ImportHouseholdsResponse hresp;
  auto hctx = ClientContextWith(ProvinceToken());
  ASSERT_TRUE(registry.stub().ImportHouseholds(hctx.get(), hreq, &hresp).ok());
  ASSERT_EQ(hresp.rejected_rows(), 0) << hresp.DebugString();
  rpb::RecordEnrolmentsRequest ereq;
  ereq.set_request_id("roster-in");
  auto* e = ereq.add_rows();
  e->set_id_number(in_child);
  e->set_school_code("S411325P1");
  e->set_stage(cpb::SCHOOL_STAGE_PRIMARY);
  e->set_grade(5);
  *e->mutable_term() = TermOfToday().term;
  e->set_boarder(true);  // 寄宿生生活补助 in the ledger
  e->set_status(rpb::ENROLMENT_STATUS_ENROLLED);
  rpb::RecordEnrolmentsResponse eresp;
  auto ectx = ClientContextWith(ProvinceToken());
  ASSERT_TRUE(registry.stub().RecordEnrolments(ectx.get(), ereq, &eresp).ok());
  ASSERT_EQ(eresp.rejected_rows(), 0) << eresp.DebugString();
  rpb::RunIdentificationRequest ireq;
  ireq.set_request_id("identify-1");
  rpb::RunIdentificationResponse iresp;
  auto ictx = ClientContextWith(ProvinceToken());
  ASSERT_TRUE(registry.stub().RunIdentification(ictx.get(), ireq, &iresp).ok());

  // t1 teaches the enrolled child's school; t2 another school of the county;
  // t3 a school of the next county; t4 has left.
  auto ids = ImportOk(
      {TeacherRowOf("411325", 501, "张老师", "S411325P1", {"语文"}),
       TeacherRowOf("411325", 502, "赵老师", "S411325X9", {"数学"}),
       TeacherRowOf("411326", 503, "钱老师", "S411326P1", {"数学"}),
       TeacherRowOf("411325", 504, "孙老师", "S411325P1", {"英语"})});
  ASSERT_EQ(ids.size(), 4u);
  pb::DeactivateTeacherRequest deact;
  deact.set_request_id("leave-t4");
  deact.set_teacher_id(ids[3]);
  deact.set_reason("退休");
  pb::DeactivateTeacherResponse dresp;
  auto dctx = ClientContextWith(CountyToken("411325"));
  ASSERT_TRUE(stub_->DeactivateTeacher(dctx.get(), deact, &dresp).ok());

  CurrentTerm term = TermOfToday();
  pb::CreateCampaignRequest camp;
  camp.set_request_id("campaign-out");
  camp.set_name("走访");
  camp.set_region_prefix("411325");
  *camp.mutable_term() = term.term;
  camp.set_cap_per_teacher(1);
  pb::CreateCampaignResponse cresp;
  auto c1 = ClientContextWith(CountyToken("411325"));
  ASSERT_TRUE(stub_->CreateCampaign(c1.get(), camp, &cresp).ok());
  const int64_t campaign = cresp.campaign().campaign_id();
  pb::AssignCampaignRequest assign;
  assign.set_request_id("assign-out");
  assign.set_campaign_id(campaign);
  pb::AssignCampaignResponse aresp;
  auto c2 = ClientContextWith(CountyToken("411325"));
  grpc::Status st = stub_->AssignCampaign(c2.get(), assign, &aresp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(aresp.households(), 2);
  EXPECT_EQ(aresp.households_without_students(), 1);
  EXPECT_EQ(aresp.students(), 1);
  EXPECT_EQ(aresp.assigned_by_county_rule(), 1);
  EXPECT_EQ(aresp.newly_assigned(), 2);
  EXPECT_EQ(aresp.uncovered(), 0);

  std::map<std::string, pb::CampaignHousehold> by_id;
  for (const auto& h : Households(campaign, pb::HOUSEHOLD_FILTER_UNSPECIFIED))
    by_id[h.household_id()] = h;
  ASSERT_EQ(by_id.size(), 2u);
  const pb::CampaignHousehold& in = by_id["H411325IN"];
  EXPECT_EQ(in.teacher_id(), ids[0]);
  EXPECT_EQ(in.assignment_rule(), pb::ASSIGNMENT_RULE_CHILDS_SCHOOL);
  EXPECT_EQ(in.students(), 1);
  const pb::CampaignHousehold& out = by_id["H411325OUT"];
  EXPECT_EQ(out.teacher_id(), ids[1]);  // t1 is at the cap of 1
  EXPECT_EQ(out.assignment_rule(), pb::ASSIGNMENT_RULE_COUNTY);
  EXPECT_EQ(out.students(), 0);
  EXPECT_EQ(out.out_of_school(), 1);
  EXPECT_EQ(out.campaign_id(), campaign);
  EXPECT_TRUE(out.school_codes().empty());

  pb::GetCampaignCoverageRequest cov;
  cov.set_campaign_id(campaign);
  pb::GetCampaignCoverageResponse coverage;
  auto c3 = ClientContextWith(CountyToken("411325"));
  ASSERT_TRUE(stub_->GetCampaignCoverage(c3.get(), cov, &coverage).ok());
  EXPECT_EQ(coverage.total().households(), 2);
  EXPECT_EQ(coverage.total().assigned(), 2);

  // The teacher's own list. No ledger runs here: the answer says so, after
  // the registry was read (its failure would name the registry).
  auto mine = [&](const std::string& teacher, const std::string& region,
                  pb::ListMyHouseholdsRequest req,
                  pb::ListMyHouseholdsResponse* resp) {
    auto ctx = ClientContextWith(TestToken(Role::kTeacher, region, 3600,
                                           teacher));
    return stub_->ListMyHouseholds(ctx.get(), req, resp);
  };
  pb::ListMyHouseholdsRequest req;
  pb::ListMyHouseholdsResponse resp;
  st = mine(ids[1], "411325", req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE)
      << st.error_message();
  EXPECT_THAT(st.error_message(), HasSubstr("ledger"));
  EXPECT_EQ(resp.households_size(), 0);  // no partial list
  // Another teacher sees none of them (and needs no peer for that).
  resp.Clear();
  st = mine(ids[2], "411326", req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.households_size(), 0);
  EXPECT_EQ(resp.total(), 0);
  req.set_campaign_id(campaign);
  st = mine(ids[2], "411326", req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.total(), 0);
  // t1's visited list is empty (nothing visited yet): no peer call either.
  req.set_filter(pb::HOUSEHOLD_FILTER_VISITED);
  st = mine(ids[0], "411325", req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.total(), 0);
  // A teacher who left and an unknown teacher: FAILED_PRECONDITION
  // (TEACHER_INACTIVE); a token of the wrong county: refused.
  req.Clear();
  EXPECT_EQ(mine(ids[3], "411325", req, &resp).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(mine(ids[1], "411326", req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(mine("t-9999", "411325", req, &resp).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // Officers have no list of their own.
  auto octx = ClientContextWith(CountyToken("411325"));
  EXPECT_EQ(stub_->ListMyHouseholds(octx.get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Bad input names the field.
  req.set_page_size(-1);  // above 50 is clamped (AIP-158)
  st = mine(ids[1], "411325", req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Fields(st), ::testing::ElementsAre("page_size"));

#ifdef LEDGER_SERVER
  // With a real ledger (no payments yet): the household whole, as a visit
  // needs it, and nothing more.
  LedgerProcess ledger(ledger_port_, registry_port_);
  ASSERT_TRUE(ledger.started()) << "ledger_server did not start";
  req.Clear();
  resp.Clear();
  grpc::Status got;
  for (int attempt = 0; attempt < 50; ++attempt) {  // the channel reconnects
    resp.Clear();
    got = mine(ids[1], "411325", req, &resp);
    if (got.error_code() != grpc::StatusCode::UNAVAILABLE) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(got.ok()) << got.error_message();
  EXPECT_EQ(resp.total(), 1);
  ASSERT_EQ(resp.households_size(), 1);
  const pb::AssignedHousehold& h = resp.households(0);
  EXPECT_EQ(h.household_id(), "H411325OUT");
  EXPECT_EQ(h.campaign_id(), campaign);
  EXPECT_FALSE(h.visited());
  EXPECT_TRUE(h.paid_this_term().empty());
  ASSERT_EQ(h.members_size(), 2);
  std::map<std::string, pb::VisitMember> by_name;
  for (const auto& m : h.members()) by_name[m.name()] = m;
  ASSERT_TRUE(by_name.count("李秀英"));
  ASSERT_TRUE(by_name.count("李小红"));
  EXPECT_EQ(by_name["李秀英"].relation(), "户主");
  EXPECT_EQ(by_name["李小红"].relation(), "子女");
  EXPECT_EQ(by_name["李小红"].birth_year(), 2015);
  EXPECT_TRUE(by_name["李小红"].out_of_school());
  EXPECT_TRUE(by_name["李小红"].school_code().empty());
  for (const auto& m : h.members()) {
    EXPECT_EQ(m.id_number().substr(0, 6), "411325");
    EXPECT_NE(m.id_number().find('*'), std::string::npos) << m.id_number();
  }
  // A payment of this term to t1's household: its boarder's living
  // subsidy, generated from the registry and paid by a second officer.
  auto ledger_stub = lpb::SubsidyLedgerService::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(ledger_port_),
      grpc::InsecureChannelCredentials()));
  lpb::GenerateEntitlementsRequest gen;
  gen.set_request_id("generate-1");
  *gen.mutable_term() = term.term;
  gen.set_region_prefix("411325");
  lpb::GenerateEntitlementsResponse gresp;
  auto gctx = ClientContextWith(
      TestToken(Role::kCountyOfficer, "411325", 3600, "officer-a"));
  got = ledger_stub->GenerateEntitlements(gctx.get(), gen, &gresp);
  ASSERT_TRUE(got.ok()) << got.error_message();
  lpb::ListEntitlementsRequest lreq;
  lreq.set_region_prefix("411325");
  lreq.set_programme_code("BOARDING_LIVING");
  lpb::ListEntitlementsResponse lresp;
  auto lctx = ClientContextWith(
      TestToken(Role::kCountyOfficer, "411325", 3600, "officer-a"));
  ASSERT_TRUE(ledger_stub->ListEntitlements(lctx.get(), lreq, &lresp).ok());
  ASSERT_EQ(lresp.entitlements_size(), 1) << gresp.DebugString();
  lpb::DisburseEntitlementRequest pay;
  pay.set_request_id("pay-1");
  pay.set_entitlement_id(lresp.entitlements(0).entitlement_id());
  lpb::DisburseEntitlementResponse presp;
  auto pctx = ClientContextWith(
      TestToken(Role::kCountyOfficer, "411325", 3600, "officer-b"));
  got = ledger_stub->DisburseEntitlement(pctx.get(), pay, &presp);
  ASSERT_TRUE(got.ok()) << got.error_message();
  ASSERT_EQ(presp.payment().state(), lpb::PAYMENT_STATE_PAID);

  // t1 sees only its own household, with the child's school and what was
  // paid this term.
  resp.Clear();
  got = mine(ids[0], "411325", req, &resp);
  ASSERT_TRUE(got.ok()) << got.error_message();
  ASSERT_EQ(resp.households_size(), 1);
  EXPECT_EQ(resp.households(0).household_id(), "H411325IN");
  for (const auto& m : resp.households(0).members()) {
    if (m.name() == "王小明") {
      EXPECT_EQ(m.school_code(), "S411325P1");
      EXPECT_EQ(m.school_name(), "城关镇第一小学");
      EXPECT_FALSE(m.out_of_school());
    }
  }
  ASSERT_EQ(resp.households(0).paid_this_term_size(), 1);
  const pb::PaidSubsidy& paid = resp.households(0).paid_this_term(0);
  EXPECT_EQ(paid.payment_id(), presp.payment().payment_id());
  EXPECT_EQ(paid.programme_code(), "BOARDING_LIVING");
  EXPECT_EQ(paid.programme_name(), presp.payment().programme_name());
  EXPECT_EQ(paid.amount_fen(), presp.payment().amount_fen());
  EXPECT_GT(paid.amount_fen(), 0);
  EXPECT_EQ(paid.paid_on(), TodayCst());
  EXPECT_FALSE(paid.followed_up());
#endif
}

INSTANTIATE_TEST_SUITE_P(Backends, TeacherTest, testing::Backends());

}  // namespace
}  // namespace eduaid::teacher
