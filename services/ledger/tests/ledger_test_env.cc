#include "services/ledger/tests/ledger_test_env.h"

#include <cstdlib>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/common/status.h"
#include "services/common/testing/service_testing.h"
#include "services/common/validate.h"

namespace eduaid::ledger::testenv {
namespace {

using ::eduaid::testing::ClientContextWith;
using ::eduaid::testing::TestToken;

struct SeedStudent {
  const char* name;
  const char* household;
  const char* region;
  const char* birth;
  cpb::SchoolStage stage;
  int grade;
  bool boarder;
  const char* school;
};

const SeedStudent kStudents[] = {
    {"张小明", "HH-411325-001", "411325", "20100301", cpb::SCHOOL_STAGE_PRIMARY,
     3, true, "S411325A"},
    {"张小红", "HH-411325-001", "411325", "20050611",
     cpb::SCHOOL_STAGE_JUNIOR_HIGH, 2, false, "S411325A"},
    {"张小刚", "HH-411325-001", "411325", "20030122",
     cpb::SCHOOL_STAGE_SENIOR_HIGH, 1, false, "S411325B"},
    {"李小华", "HH-411325-002", "411325", "20080915", cpb::SCHOOL_STAGE_PRIMARY,
     5, true, "S411325A"},
    {"王小军", "HH-411326-001", "411326", "20090418", cpb::SCHOOL_STAGE_PRIMARY,
     4, true, "S411326A"},
};

absl::Status FromGrpc(const grpc::Status& s, const char* what) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(what, ": ", s.error_message()));
}

}  // namespace

std::string MakeIdNumber(const std::string& region, const std::string& birth,
                         int seq) {
  char buf[8];
  snprintf(buf, sizeof buf, "%03d", seq % 1000);
  std::string first17 = region + birth + buf;
  return first17 + IdCheckCharacter(first17);
}

cpb::Term Term(int year, cpb::Season season) {
  cpb::Term t;
  t.set_year(year);
  t.set_season(season);
  return t;
}

std::string OfficerA() {
  return TestToken(Role::kCountyOfficer, "411325", 3600, "officer-a");
}
std::string OfficerB() {
  return TestToken(Role::kCountyOfficer, "411325", 3600, "officer-b");
}
std::string XichuanOfficer() {
  return TestToken(Role::kCountyOfficer, "411326", 3600, "officer-xichuan");
}
std::string ProvinceOfficer() {
  return TestToken(Role::kProvinceOfficer, "", 3600, "officer-province");
}
std::string Auditor() {
  return TestToken(Role::kAuditor, "", 3600, "auditor-1");
}
std::string Agency() {
  return TestToken(Role::kAgency, "41", 3600, "agency-1");
}

void ExportTestKeys() {
  setenv("EDUAID_DATA_KEY", testing::kTestDataKey, 1);
  setenv("EDUAID_JWT_SECRET", testing::kTestJwtSecret, 1);
}

RegistryProcess::RegistryProcess() {
#ifndef REGISTRY_SERVER
  error_ = "registry_server was not built (target missing)";
  return;
#else
  ExportTestKeys();
  port_ = testing::FreePort();
  proc_ = std::make_unique<testing::ChildProcess>(
      std::vector<std::string>{
          REGISTRY_SERVER, "--grpc-port", std::to_string(port_),
          "--metrics-port", "-1", "--health-port", "-1", "--database",
          "sqlite://" + dir_.path() + "/registry.db", "--redis", ""},
      dir_.path() + "/registry.log");
  if (!testing::WaitForPort(port_, 20000)) {
    error_ =
        "registry_server did not start; see " + dir_.path() + "/registry.log";
    return;
  }
  stub_ = rpb::StudentRegistryService::NewStub(
      grpc::CreateChannel(target(), grpc::InsecureChannelCredentials()));
  absl::Status st = Seed();
  if (!st.ok()) {
    error_ = std::string(st.message());
    return;
  }
  ok_ = true;
#endif
}

RegistryProcess::~RegistryProcess() = default;

std::string RegistryProcess::target() const {
  return "127.0.0.1:" + std::to_string(port_);
}

RegistryProcess* RegistryProcess::Shared() {
  static std::once_flag once;
  static RegistryProcess* shared = nullptr;
  std::call_once(once, [] {
    shared = new RegistryProcess();
    // Stops the child and removes its files when the test binary exits.
    std::atexit([] { delete shared; });
  });
  return shared;
}

std::string RegistryProcess::IdOf(const std::string& name) const {
  for (const auto& [n, id] : ids_) {
    if (n == name) return id;
  }
  return "";
}

std::string RegistryProcess::MemberIdOf(const std::string& name) {
  rpb::GetStudentRequest req;
  req.set_id_number(IdOf(name));
  rpb::GetStudentResponse resp;
  auto ctx = ClientContextWith(ProvinceOfficer());
  if (!stub_->GetStudent(ctx.get(), req, &resp).ok()) return "";
  return resp.student().member_id();
}

absl::Status RegistryProcess::Seed() {
  const std::string token = ProvinceOfficer();
  struct School {
    const char* code;
    const char* name;
    const char* region;
    std::vector<cpb::SchoolStage> stages;
  };
  const School schools[] = {
      {"S411325A",
       "内乡县城关小学",
       "411325",
       {cpb::SCHOOL_STAGE_PRIMARY, cpb::SCHOOL_STAGE_JUNIOR_HIGH}},
      {"S411325B", "内乡县高级中学", "411325", {cpb::SCHOOL_STAGE_SENIOR_HIGH}},
      {"S411325C", "内乡县赤眉小学", "411325", {cpb::SCHOOL_STAGE_PRIMARY}},
      {"S411326A", "淅川县第一小学", "411326", {cpb::SCHOOL_STAGE_PRIMARY}},
  };
  for (const auto& s : schools) {
    rpb::UpsertSchoolRequest req;
    req.set_request_id(absl::StrCat("seed-school-", s.code));
    req.mutable_school()->set_code(s.code);
    req.mutable_school()->set_name(s.name);
    req.mutable_school()->set_region_code(s.region);
    req.mutable_school()->set_rural(true);
    for (auto st : s.stages) req.mutable_school()->add_stages(st);
    rpb::UpsertSchoolResponse resp;
    auto ctx = ClientContextWith(token);
    if (auto st = FromGrpc(stub_->UpsertSchool(ctx.get(), req, &resp),
                           "UpsertSchool");
        !st.ok()) {
      return st;
    }
  }
  rpb::ImportHouseholdsRequest households;
  households.set_request_id("seed-households");
  rpb::RecordEnrolmentsRequest roster;
  roster.set_request_id("seed-roster");
  int seq = 1;
  for (const auto& s : kStudents) {
    const std::string id = MakeIdNumber(s.region, s.birth, seq * 2 + 1);
    ids_.emplace_back(s.name, id);
    auto* row = households.add_rows();
    row->set_row_number(seq + 1);
    row->set_household_id(s.household);
    row->set_region_code(s.region);
    row->set_registration_year(2016);
    row->set_household_status(cpb::HOUSEHOLD_STATUS_POOR);
    row->set_id_number(id);
    row->set_name(s.name);
    row->set_relation(rpb::RELATION_CHILD);
    auto* e = roster.add_rows();
    e->set_row_number(seq + 1);
    e->set_id_number(id);
    e->set_school_code(s.school);
    e->set_stage(s.stage);
    e->set_grade(s.grade);
    *e->mutable_term() = Autumn2018();
    e->set_status(rpb::ENROLMENT_STATUS_ENROLLED);
    e->set_boarder(s.boarder);
    ++seq;
  }
  rpb::ImportHouseholdsResponse imported;
  auto ctx1 = ClientContextWith(token);
  if (auto st =
          FromGrpc(stub_->ImportHouseholds(ctx1.get(), households, &imported),
                   "ImportHouseholds");
      !st.ok()) {
    return st;
  }
  if (imported.rejected_rows() != 0) {
    return absl::InternalError(
        absl::StrCat("seed households rejected: ", imported.DebugString()));
  }
  rpb::RecordEnrolmentsResponse enrolled;
  auto ctx2 = ClientContextWith(token);
  if (auto st = FromGrpc(stub_->RecordEnrolments(ctx2.get(), roster, &enrolled),
                         "RecordEnrolments");
      !st.ok()) {
    return st;
  }
  if (enrolled.rejected_rows() != 0) {
    return absl::InternalError(
        absl::StrCat("seed roster rejected: ", enrolled.DebugString()));
  }
  return absl::OkStatus();
}

int64_t CountRows(Database& db, const std::string& table) {
  int64_t n = -1;
  absl::Status st = db.Read([&](SqlConnection& c) -> absl::Status {
    auto rows = c.Query("SELECT COUNT(*) FROM " + table);
    if (!rows.ok()) return rows.status();
    n = (*rows)[0].Int(0);
    return absl::OkStatus();
  });
  return st.ok() ? n : -1;
}

// ---------------------------------------------------------------- fixture

std::string Describe(const grpc::Status& s) {
  return absl::StrCat(GrpcCodeName(s.error_code()), ": ", s.error_message());
}

std::string Reason(const grpc::Status& s) {
  return ReasonOf(FromGrpcStatus(s));
}

std::vector<std::string> Fields(const grpc::Status& s) {
  std::vector<std::string> out;
  for (const auto& v : FieldViolationsOf(FromGrpcStatus(s))) {
    out.push_back(v.field);
  }
  return out;
}

void LedgerFixture::SetUp() {
  registry_ = RegistryProcess::Shared();
  ASSERT_TRUE(registry_->ok()) << registry_->error();
  ServiceFixture::SetUp();
  ASSERT_EQ(standards_created_, 13);
}

void LedgerFixture::Configure(ServerConfig& config) {
  // Redis alone, so that what a test writes there is what the ledger reads.
  if (redis_only_) config.local_cache_entries = 0;
}

std::unique_ptr<LedgerService> LedgerFixture::MakeService(ServiceHost& host) {
  LedgerOptions options;
  options.registry_target = registry_->target();
  options.registry_deadline = std::chrono::milliseconds(5000);
  options.execute_chunk_size = 2;  // several chunks even for small batches
  auto service = std::make_unique<LedgerService>(host, options);
  pb::LoadPolicyResponse loaded;
  absl::Status st =
      service->logic().LoadPolicyFile(LEDGER_POLICY_FILE, &loaded);
  EXPECT_TRUE(st.ok()) << st;
  standards_created_ = loaded.standards_created();
  st = service->logic().Start();
  EXPECT_TRUE(st.ok()) << st;
  return service;
}

void LedgerFixture::StopLedger() {
  stub_.reset();
  host_.reset();  // stops the worker pool before the ledger goes
  service_.reset();
}

void LedgerFixture::StartLedger() {
  auto host = ServiceHost::Create(config_, LedgerTraits::Migrations());
  ASSERT_TRUE(host.ok()) << host.status();
  host_ = std::move(*host);
  service_ = MakeService(*host_);
  ASSERT_TRUE(host_->Start({service_.get()}).ok());
  stub_ = pb::SubsidyLedgerService::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(host_->grpc_port()),
                          grpc::InsecureChannelCredentials()));
}

pb::GenerateEntitlementsResponse LedgerFixture::Generate(
    const std::string& token, const std::string& region,
    std::vector<std::string> programmes) {
  pb::GenerateEntitlementsRequest req;
  req.set_request_id(Rid("gen"));
  *req.mutable_term() = Autumn2018();
  req.set_region_prefix(region);
  for (auto& p : programmes) req.add_programme_codes(p);
  pb::GenerateEntitlementsResponse resp;
  grpc::Status st = Call(&Stub::GenerateEntitlements, token, req, &resp);
  EXPECT_TRUE(st.ok()) << Describe(st);
  return resp;
}

grpc::Status LedgerFixture::CreateBatch(const std::string& token,
                                        pb::Batch* out,
                                        const std::string& region,
                                        const std::string& note) {
  pb::CreateBatchRequest req;
  req.set_request_id(Rid("batch"));
  *req.mutable_term() = Autumn2018();
  req.set_region_prefix(region);
  req.set_note(note);
  pb::CreateBatchResponse resp;
  grpc::Status st = Call(&Stub::CreateBatch, token, req, &resp);
  *out = resp.batch();
  return st;
}

grpc::Status LedgerFixture::Approve(const std::string& token,
                                    int64_t batch_id) {
  pb::ApproveBatchRequest req;
  req.set_request_id(Rid("approve"));
  req.set_batch_id(batch_id);
  pb::ApproveBatchResponse resp;
  return Call(&Stub::ApproveBatch, token, req, &resp);
}

grpc::Status LedgerFixture::Execute(const std::string& token,
                                    int64_t batch_id) {
  pb::ExecuteBatchRequest req;
  req.set_request_id(Rid("execute"));
  req.set_batch_id(batch_id);
  pb::ExecuteBatchResponse resp;
  return Call(&Stub::ExecuteBatch, token, req, &resp);
}

grpc::Status LedgerFixture::GetBatch(const std::string& token, int64_t batch_id,
                                     pb::Batch* out) {
  pb::GetBatchRequest req;
  req.set_batch_id(batch_id);
  pb::GetBatchResponse resp;
  grpc::Status st = Call(&Stub::GetBatch, token, req, &resp);
  *out = resp.batch();
  return st;
}

pb::Batch LedgerFixture::WaitExecuted(int64_t batch_id) {
  pb::Batch batch;
  for (int i = 0; i < 600; ++i) {
    grpc::Status st = GetBatch(OfficerA(), batch_id, &batch);
    EXPECT_TRUE(st.ok()) << Describe(st);
    if (batch.state() == pb::BATCH_STATE_EXECUTED) return batch;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "batch " << batch_id << " did not finish";
  return batch;
}

pb::Batch LedgerFixture::PayNeixiang(const std::string& note) {
  Generate();
  pb::Batch batch;
  grpc::Status st = CreateBatch(OfficerA(), &batch, "411325", note);
  EXPECT_TRUE(st.ok()) << Describe(st);
  EXPECT_TRUE(Approve(OfficerB(), batch.batch_id()).ok());
  EXPECT_TRUE(Execute(OfficerA(), batch.batch_id()).ok());
  return WaitExecuted(batch.batch_id());
}

pb::VerifyJournalResponse LedgerFixture::Verify(int64_t entries,
                                                const std::string& hash) {
  pb::VerifyJournalRequest req;
  req.set_expected_entries(entries);
  req.set_expected_head_hash(hash);
  pb::VerifyJournalResponse resp;
  grpc::Status st = Call(&Stub::VerifyJournal, Auditor(), req, &resp);
  EXPECT_TRUE(st.ok()) << Describe(st);
  return resp;
}

}  // namespace eduaid::ledger::testenv
