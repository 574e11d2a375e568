// Issue 12 on the vocational service, in-process on SQLite with a real
// redis-server, the REAL registry server as a child process, and a
// recording ledger (it answers CreateEntitlement and keeps each request, to
// see what the outbox sends):
//  3. Apply cannot probe another county's member: "not yours" and "does not
//     exist" answer alike, and nothing is stored;
//  7. a grant records the officer whose call caused it and sends it to the
//     ledger as originator_subject;
//  4. lists of applicants are audited once per call with the count;
//  5. a school officer is held to its school.
#include <stdlib.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eduaid/ledger/v1/ledger.grpc.pb.h"
#include "eduaid/registry/v1/registry.grpc.pb.h"
#include "eduaid/vocational/v1/vocational.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/common/auth.h"
#include "services/common/testing/harness.h"
#include "services/common/testing/service_testing.h"
#include "services/vocational/vocational_service.h"
#include "tools/gen/synthetic.h"

#ifndef REGISTRY_SERVER
#error \
    "vocational_scope_test needs REGISTRY_SERVER (the registry_server binary)"
#endif

namespace eduaid::vocational {
namespace {

namespace lpb = ::eduaid::ledger::v1;
using ::eduaid::testing::ClientContextWith;
using ::eduaid::testing::TestToken;

constexpr char kHome[] = "411325";
constexpr char kOther[] = "411326";
constexpr char kSchoolA[] = "V411325A";
constexpr char kSchoolB[] = "V411325B";

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

// A ledger that creates every entitlement asked for and remembers the
// requests (the real ledger's own rules are the ledger's tests).
class RecordingLedger final : public lpb::SubsidyLedgerService::Service {
 public:
  grpc::Status CreateEntitlement(
      grpc::ServerContext*, const lpb::CreateEntitlementRequest* req,
      lpb::CreateEntitlementResponse* resp) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, fresh] = by_request_.try_emplace(req->request_id(), *req);
    if (fresh) order_.push_back(req->request_id());
    resp->mutable_entitlement()->set_entitlement_id(
        static_cast<int64_t>(order_.size()));
    return grpc::Status::OK;
  }

  std::vector<lpb::CreateEntitlementRequest> Received() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<lpb::CreateEntitlementRequest> out;
    for (const auto& id : order_) out.push_back(by_request_[id]);
    return out;
  }

 private:
  std::mutex mu_;
  std::map<std::string, lpb::CreateEntitlementRequest> by_request_;
  std::vector<std::string> order_;
};

// The registry (a real registry_server) and the recording ledger, shared
// by the whole binary.
class Peers {
 public:
  static Peers& Get() {
    if (!instance_) instance_.reset(new Peers());
    return *instance_;
  }
  // Stops the registry process (from the environment's TearDown, so that
  // no child outlives the test binary).
  static void Shutdown() { instance_.reset(); }
  std::string registry_target() const {
    return "127.0.0.1:" + std::to_string(registry_port_);
  }
  std::string ledger_target() const {
    return "127.0.0.1:" + std::to_string(ledger_port_);
  }
  RecordingLedger& ledger() { return ledger_; }
  bool ok() const { return ok_; }

 private:
  Peers() {
    setenv("EDUAID_DATA_KEY", testing::kTestDataKey, 1);
    setenv("EDUAID_JWT_SECRET", testing::kTestJwtSecret, 1);
    registry_port_ = testing::FreePort();
    registry_ = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{
            REGISTRY_SERVER, "--grpc-port", std::to_string(registry_port_),
            "--metrics-port", "-1", "--health-port", "-1", "--database",
            "sqlite://" + dir_.path() + "/registry.db", "--redis", "",
            "--drain-seconds", "1"},
        dir_.path() + "/registry.log");
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &ledger_port_);
    builder.RegisterService(&ledger_);
    ledger_server_ = builder.BuildAndStart();
    ok_ = ledger_server_ != nullptr && ledger_port_ > 0 &&
          testing::WaitForPort(registry_port_, 20000);
  }

  static inline std::unique_ptr<Peers> instance_;
  testing::TempDir dir_;
  int registry_port_ = 0, ledger_port_ = 0;
  std::unique_ptr<testing::ChildProcess> registry_;
  RecordingLedger ledger_;
  std::unique_ptr<grpc::Server> ledger_server_;
  bool ok_ = false;
};

class PeersEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { Peers::Shutdown(); }
};
::testing::Environment* const kPeersEnvironment =
    ::testing::AddGlobalTestEnvironment(new PeersEnvironment);

class VocationalScopeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Peers::Get().ok()) << "registry_server must build and start";
    redis_ = std::make_unique<testing::TestRedis>();
    config_ = testing::TestServerConfig(
        "vocational", "eduaid.vocational.v1.VocationalTrainingService",
        "sqlite://" + dir_.path() + "/vocational.db", redis_->url());
    auto host = ServiceHost::Create(config_, Migrations());
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = std::move(*host);
    VocationalOptions options;
    options.registry_target = Peers::Get().registry_target();
    options.ledger_target = Peers::Get().ledger_target();
    options.outbox.poll = std::chrono::milliseconds(100);
    service_ = std::make_unique<VocationalService>(*host_, options);
    ASSERT_TRUE(service_->logic().Start().ok());
    ASSERT_TRUE(host_->Start({service_.get()}).ok());
    stub_ = pb::VocationalTrainingService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(host_->grpc_port()),
                            grpc::InsecureChannelCredentials()));
    registry_ = rpb::StudentRegistryService::NewStub(grpc::CreateChannel(
        Peers::Get().registry_target(), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (service_) service_->logic().StopGrantDelivery();
    host_.reset();
    service_.reset();
  }

  // Registers one adult head of a poor household in `region` (no school:
  // eligible for a major) and returns the registry's member id.
  std::string Member(const std::string& region) {
    static int n = 0;
    const int seq = ++n;
    const std::string id = synthetic::MakeIdNumber(region, "19990415", seq);
    rpb::ImportHouseholdsRequest imp;
    imp.set_request_id(absl::StrCat("imp-", region, "-", seq, "-", getpid()));
    imp.set_skip_identification(true);
    auto* row = imp.add_rows();
    row->set_row_number(2);
    row->set_household_id(absl::StrCat("H", region, "-", seq));
    row->set_region_code(region);
    row->set_registration_year(2016);
    row->set_household_status(cpb::HOUSEHOLD_STATUS_POOR);
    row->set_id_number(id);
    row->set_name(absl::StrCat("李小", seq));
    row->set_relation(rpb::RELATION_HEAD);
    rpb::ImportHouseholdsResponse imported;
    {
      auto ctx = ClientContextWith(ProvinceToken());
      grpc::Status st = registry_->ImportHouseholds(ctx.get(), imp, &imported);
      EXPECT_TRUE(st.ok()) << st.error_message();
    }
    rpb::GetStudentRequest get;
    get.set_id_number(id);
    rpb::GetStudentResponse got;
    auto ctx = ClientContextWith(ProvinceToken());
    grpc::Status st = registry_->GetStudent(ctx.get(), get, &got);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return got.student().member_id();
  }

  void Major(const std::string& code, const std::string& region,
             const std::string& school, int capacity = 10) {
    pb::UpsertCourseRequest req;
    req.set_request_id("course-" + code);
    auto* c = req.mutable_course();
    c->set_code(code);
    c->set_kind(pb::COURSE_KIND_MAJOR);
    c->set_name("汽车运用与维修");
    c->set_region_code(region);
    c->set_capacity(capacity);
    c->set_school_code(school);
    c->set_school_name(school + "职业中专");
    c->mutable_intake_term()->set_year(2026);
    c->mutable_intake_term()->set_season(cpb::SEASON_AUTUMN);
    pb::UpsertCourseResponse resp;
    auto ctx = ClientContextWith(ProvinceToken());
    grpc::Status st = stub_->UpsertCourse(ctx.get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  grpc::Status Apply(const std::string& course, const std::string& member,
                     const std::string& token, pb::ApplyResponse* resp) {
    pb::ApplyRequest req;
    req.set_request_id(absl::StrCat("apply-", ++seq_));
    req.set_course_code(course);
    req.set_member_id(member);
    auto ctx = ClientContextWith(token);
    return stub_->Apply(ctx.get(), req, resp);
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

  std::vector<int64_t> Stored() {
    return {Count("applications"), Count("grant_outbox"), Count("request_log")};
  }

  std::vector<AuditEvent> AuditOf(const std::string& method) {
    host_->audit().Flush();
    auto events = host_->audit().Query("", method, 0, 100);
    EXPECT_TRUE(events.ok()) << events.status();
    std::vector<AuditEvent> out;
    if (events.ok()) {
      for (auto& [id, e] : *events) out.push_back(e);
    }
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::TestRedis> redis_;
  ServerConfig config_;
  std::unique_ptr<ServiceHost> host_;
  std::unique_ptr<VocationalService> service_;
  std::unique_ptr<pb::VocationalTrainingService::Stub> stub_;
  std::unique_ptr<rpb::StudentRegistryService::Stub> registry_;
  int seq_ = 0;
};

TEST_F(VocationalScopeTest, ApplyAnswersAnotherCountysMemberAsNonexistent) {
  Major("M-HOME", kHome, kSchoolA);
  const std::string theirs = Member(kOther);
  const std::string officer = TestToken(Role::kCountyOfficer, kHome);
  const auto before = Stored();

  pb::ApplyResponse a, b;
  grpc::Status not_mine = Apply("M-HOME", theirs, officer, &a);
  grpc::Status unknown = Apply("M-HOME", "m-987654321", officer, &b);
  EXPECT_EQ(not_mine.error_code(), grpc::StatusCode::NOT_FOUND)
      << not_mine.error_message();
  EXPECT_EQ(not_mine.error_code(), unknown.error_code());
  EXPECT_EQ(not_mine.error_message(), unknown.error_message());
  EXPECT_EQ(not_mine.error_details(), unknown.error_details());
  EXPECT_FALSE(a.has_application());
  EXPECT_EQ(Stored(), before) << "no application, grant or request record";

  // The same member is the business of its own county, which may enrol it
  // in a course taught in another county.
  const std::string own = TestToken(Role::kCountyOfficer, kOther);
  grpc::Status st = Apply("M-HOME", theirs, own, &a);
  EXPECT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(a.application().member_region_code(), kOther);
}

TEST_F(VocationalScopeTest, CityOfficerEnrolsAcrossCountiesOfItsCity) {
  Major("M-CITY", kHome, kSchoolA);
  pb::ApplyResponse a;
  grpc::Status st = Apply("M-CITY", Member(kOther),
                          TestToken(Role::kCityOfficer, "4113"), &a);
  EXPECT_TRUE(st.ok()) << st.error_message();
  // Outside the city, the member does not exist for this officer.
  const std::string far = Member("410102");
  st = Apply("M-CITY", far, TestToken(Role::kCityOfficer, "4113"), &a);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(VocationalScopeTest, GrantNamesTheOfficerWhoseCallCausedIt) {
  Major("M-ORIG", kHome, kSchoolA);
  const std::string member = Member(kHome);
  const std::string officer =
      TestToken(Role::kCountyOfficer, kHome, 3600, "officer-zhang");
  pb::ApplyResponse applied;
  grpc::Status st = Apply("M-ORIG", member, officer, &applied);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_GT(applied.application().grants_size(), 0);

  // The outbox row records the caller...
  int64_t rows = 0;
  ASSERT_TRUE(host_->db()
                  .Read([&](SqlConnection& c) -> absl::Status {
                    auto r = c.Query(
                        "SELECT originator_subject FROM grant_outbox WHERE "
                        "application_id = ?",
                        {applied.application().application_id()});
                    if (!r.ok()) return r.status();
                    for (const auto& row : *r) {
                      EXPECT_EQ(row.Str(0), "officer-zhang");
                      ++rows;
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(rows, applied.application().grants_size());
  for (const auto& g : applied.application().grants()) {
    EXPECT_EQ(g.originator_subject(), "officer-zhang");
  }

  // ...and the ledger receives it with every entitlement of that member.
  auto mine = [&] {
    std::vector<lpb::CreateEntitlementRequest> out;
    for (auto& r : Peers::Get().ledger().Received()) {
      if (r.member_id() == member) out.push_back(r);
    }
    return out;
  };
  ASSERT_TRUE(WaitUntil(
      [&] {
        return static_cast<int>(mine().size()) ==
               applied.application().grants_size();
      },
      15000));
  for (const auto& r : mine()) {
    EXPECT_EQ(r.originator_subject(), "officer-zhang") << r.programme_code();
  }
}

TEST_F(VocationalScopeTest, ApplicantListsAreAuditedOncePerCallWithTheCount) {
  Major("M-LIST", kHome, kSchoolA);
  pb::ApplyResponse a;
  ASSERT_TRUE(Apply("M-LIST", Member(kHome), ProvinceToken(), &a).ok());
  ASSERT_TRUE(Apply("M-LIST", Member(kHome), ProvinceToken(), &a).ok());

  pb::ListApplicationsRequest req;
  req.set_course_code("M-LIST");
  for (const std::string& token : {TestToken(Role::kCountyOfficer, kHome),
                                   TestToken(Role::kAgency, kHome)}) {
    pb::ListApplicationsResponse resp;
    auto ctx = ClientContextWith(token);
    ASSERT_TRUE(stub_->ListApplications(ctx.get(), req, &resp).ok());
    ASSERT_EQ(resp.applications_size(), 2);
  }
  const auto events = AuditOf("ListApplications");
  ASSERT_EQ(events.size(), 2u) << "one audit event per list call";
  for (const auto& e : events) {
    EXPECT_NE(e.records.find("listed=2"), std::string::npos) << e.records;
  }
  EXPECT_EQ(events[0].role, "agency");
  EXPECT_EQ(events[1].role, "county_officer");
  EXPECT_TRUE(events[1].personal_data);

  pb::GetWaitlistRequest wreq;
  wreq.set_course_code("M-LIST");
  pb::GetWaitlistResponse wresp;
  auto ctx = ClientContextWith(TestToken(Role::kAgency, kHome));
  ASSERT_TRUE(stub_->GetWaitlist(ctx.get(), wreq, &wresp).ok());
  const auto waitlist = AuditOf("GetWaitlist");
  ASSERT_EQ(waitlist.size(), 1u);
  EXPECT_NE(waitlist[0].records.find("listed=0"), std::string::npos)
      << waitlist[0].records;
}

TEST_F(VocationalScopeTest, SchoolOfficerIsHeldToItsSchool) {
  Major("M-A", kHome, kSchoolA);
  Major("M-B", kHome, kSchoolB);
  pb::ApplyResponse in_a, in_b;
  ASSERT_TRUE(Apply("M-A", Member(kHome), ProvinceToken(), &in_a).ok());
  ASSERT_TRUE(Apply("M-B", Member(kHome), ProvinceToken(), &in_b).ok());
  const std::string token = testing::SchoolOfficerToken(kSchoolA, kHome);

  // Reads: only its own school's applications and courses.
  pb::ListApplicationsRequest list;
  pb::ListApplicationsResponse listed;
  {
    auto ctx = ClientContextWith(token);
    ASSERT_TRUE(stub_->ListApplications(ctx.get(), list, &listed).ok());
  }
  ASSERT_EQ(listed.applications_size(), 1);
  EXPECT_EQ(listed.applications(0).course_code(), "M-A");
  auto get = [&](int64_t id) {
    pb::GetApplicationRequest req;
    req.set_application_id(id);
    pb::GetApplicationResponse resp;
    auto ctx = ClientContextWith(token);
    return stub_->GetApplication(ctx.get(), req, &resp).error_code();
  };
  EXPECT_EQ(get(in_a.application().application_id()), grpc::StatusCode::OK);
  EXPECT_EQ(get(in_b.application().application_id()),
            grpc::StatusCode::PERMISSION_DENIED);
  pb::GetWaitlistRequest wreq;
  wreq.set_course_code("M-B");
  pb::GetWaitlistResponse wresp;
  {
    auto ctx = ClientContextWith(token);
    EXPECT_EQ(stub_->GetWaitlist(ctx.get(), wreq, &wresp).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }

  // Writes: attendance in the other school's major is refused, and
  // nothing is stored.
  auto attend = [&](const std::string& course, int64_t id) {
    pb::RecordAttendanceRequest req;
    req.set_request_id(absl::StrCat("att-", course, "-", id));
    req.set_course_code(course);
    req.set_date("2025-09-08");
    auto* m = req.add_marks();
    m->set_application_id(id);
    m->set_present(true);
    m->set_hours(6);
    pb::RecordAttendanceResponse resp;
    auto ctx = ClientContextWith(token);
    return stub_->RecordAttendance(ctx.get(), req, &resp).error_code();
  };
  EXPECT_EQ(attend("M-B", in_b.application().application_id()),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Count("attendance"), 0);
  EXPECT_EQ(attend("M-A", in_a.application().application_id()),
            grpc::StatusCode::OK);

  // Applying into the other school's major is refused before the registry
  // is asked.
  pb::ApplyResponse a;
  EXPECT_EQ(Apply("M-B", Member(kHome), token, &a).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace eduaid::vocational
