// Shared parts of the ledger tests: a real registry_server child process
// seeded through its RPCs, tokens of the principals the tests play, the
// test fixture (one ledger in-process over real gRPC, on the common
// ServiceFixture) with its call wrappers, and row counts.
#ifndef EDUAID_SERVICES_LEDGER_TESTS_LEDGER_TEST_ENV_H_
#define EDUAID_SERVICES_LEDGER_TESTS_LEDGER_TEST_ENV_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "eduaid/ledger/v1/ledger.grpc.pb.h"
#include "eduaid/registry/v1/registry.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "services/common/sql.h"
#include "services/common/testing/harness.h"
#include "services/common/testing/service_fixture.h"
#include "services/common/testing/service_testing.h"
#include "services/ledger/ledger_service.h"

namespace eduaid::ledger::testenv {

namespace pb = ::eduaid::ledger::v1;
namespace rpb = ::eduaid::registry::v1;
namespace cpb = ::eduaid::common::v1;

// The seed: two households in Neixiang (411325) and one in Xichuan (411326),
// students enrolled for 2018 autumn.
//   411325  S411325A 内乡县城关小学 (primary, junior high)
//           S411325B 内乡县高级中学 (senior high)
//           S411325C 内乡县赤眉小学 (primary; transfers go here)
//   411326  S411326A 淅川县第一小学 (primary)
// Students (name, stage, grade, boarder, school):
//   411325: 张小明 primary 3 boarder A; 张小红 junior 2 day A;
//           张小刚 senior 1 day B;      李小华 primary 5 boarder A
//   411326: 王小军 primary 4 boarder S411326A
// What 2018 autumn generation yields for 411325 (fen):
//   BOARDING_LIVING 50000 x2, NUTRITION_MEALS 40000 x3,
//   SENIOR_HIGH_GRANT 100000 x1, SENIOR_HIGH_FEE_WAIVER x1 (waived)
inline constexpr int kNeixiangEntitlements = 6;  // grants with an amount
inline constexpr int kNeixiangWaivers = 1;
inline constexpr int64_t kNeixiangTotalFen = 320000;
inline constexpr int kNeixiangStudents = 4;

// A valid GB 11643 ID number in `region`, born on `birth` (YYYYMMDD).
std::string MakeIdNumber(const std::string& region, const std::string& birth,
                         int seq);

cpb::Term Term(int year, cpb::Season season);
inline cpb::Term Autumn2018() { return Term(2018, cpb::SEASON_AUTUMN); }

// Tokens (HS256 with the test secret) of the principals the tests play.
std::string OfficerA();         // county officer of 411325, "officer-a"
std::string OfficerB();         // county officer of 411325, "officer-b"
std::string XichuanOfficer();   // county officer of 411326
std::string ProvinceOfficer();  // province officer, all regions
std::string Auditor();          // auditor, all regions
std::string Agency();           // agency (names masked), all of Henan

// A registry_server child process on a free port with its own SQLite file,
// seeded with the data above. The same EDUAID_JWT_SECRET as the ledger.
class RegistryProcess {
 public:
  RegistryProcess();
  ~RegistryProcess();
  // False (with a message in `error()`) when the binary was not built.
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  std::string target() const;
  rpb::StudentRegistryService::Stub& stub() { return *stub_; }
  // The ID number of the seeded student called `name`.
  std::string IdOf(const std::string& name) const;
  // The member id the registry gave `name`.
  std::string MemberIdOf(const std::string& name);

  // One registry for the whole test binary (started on first use, stopped
  // at exit).
  static RegistryProcess* Shared();

 private:
  absl::Status Seed();
  bool ok_ = false;
  std::string error_;
  int port_ = 0;
  testing::TempDir dir_;
  std::unique_ptr<testing::ChildProcess> proc_;
  std::unique_ptr<rpb::StudentRegistryService::Stub> stub_;
  std::vector<std::pair<std::string, std::string>> ids_;  // name -> id
};

// Rows in `table` (tests count before and after a refused call).
int64_t CountRows(Database& db, const std::string& table);

// Sets EDUAID_DATA_KEY and EDUAID_JWT_SECRET for child processes.
void ExportTestKeys();

// "CODE: message" of a failed call, for assertion messages.
std::string Describe(const grpc::Status& s);
// The ErrorInfo reason of a failed call ("" when none).
std::string Reason(const grpc::Status& s);
// The fields named by a failed call's BadRequest violations.
std::vector<std::string> Fields(const grpc::Status& s);

#define ASSERT_OK_CALL(expr)                                           \
  do {                                                                 \
    const grpc::Status _st = (expr);                                   \
    ASSERT_TRUE(_st.ok()) << ::eduaid::ledger::testenv::Describe(_st); \
  } while (0)
#define EXPECT_OK_CALL(expr)                                           \
  do {                                                                 \
    const grpc::Status _st = (expr);                                   \
    EXPECT_TRUE(_st.ok()) << ::eduaid::ledger::testenv::Describe(_st); \
  } while (0)

struct LedgerTraits {
  using Service = LedgerService;
  using Grpc = pb::SubsidyLedgerService;
  static constexpr char kName[] = "ledger";
  static constexpr char kGrpcService[] =
      "eduaid.ledger.v1.SubsidyLedgerService";
  static std::vector<Migration> Migrations() {
    return ::eduaid::ledger::Migrations();
  }
};

// One ledger over real gRPC with the policy file loaded and started, the
// shared registry_server as its peer, and the calls the tests share. Each
// call wrapper uses a fresh request_id.
class LedgerFixture : public ::eduaid::testing::ServiceFixture<LedgerTraits> {
 protected:
  static void SetUpTestSuite() { ExportTestKeys(); }

  void SetUp() override;
  std::unique_ptr<LedgerService> MakeService(ServiceHost& host) override;

  // Stops the ledger (host first: its worker pool runs batches) and starts
  // another on the same database and Redis.
  void StopLedger();
  void StartLedger();

  Ledger& logic() { return service_->logic(); }
  Database& db() { return host_->db(); }
  const std::string& url() const { return config_.database_url; }

  std::string Rid(const std::string& what = "r") {
    return absl::StrCat(what, "-", ++rid_);
  }

  template <typename Req, typename Resp>
  grpc::Status Call(grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                 const Req&, Resp*),
                    const std::string& token, const Req& req, Resp* resp) {
    auto ctx = ::eduaid::testing::ClientContextWith(token);
    return (stub_.get()->*method)(ctx.get(), req, resp);
  }

  // 2018 autumn generation for `region` (expects success).
  pb::GenerateEntitlementsResponse Generate(
      const std::string& token = OfficerA(),
      const std::string& region = "411325",
      std::vector<std::string> programmes = {});
  // A 2018 autumn batch of `region`.
  grpc::Status CreateBatch(const std::string& token, pb::Batch* out,
                           const std::string& region = "411325",
                           const std::string& note = "2018 autumn");
  grpc::Status Approve(const std::string& token, int64_t batch_id);
  grpc::Status Execute(const std::string& token, int64_t batch_id);
  grpc::Status GetBatch(const std::string& token, int64_t batch_id,
                        pb::Batch* out);
  // Polls until the batch is EXECUTED (a failure after 30 s).
  pb::Batch WaitExecuted(int64_t batch_id);
  // Runs the whole two-person flow for 411325's 2018 autumn term.
  pb::Batch PayNeixiang(const std::string& note = "2018 autumn");
  // VerifyJournal as the auditor, with an expected anchor when given.
  pb::VerifyJournalResponse Verify(int64_t entries = 0,
                                   const std::string& hash = "");

  // Redis only (no in-process cache layer) when set before SetUp.
  bool redis_only_ = false;
  RegistryProcess* registry_ = nullptr;
  int rid_ = 0;
  // What the last start's policy load created.
  int64_t standards_created_ = 0;

 private:
  void Configure(ServerConfig& config) override;
};

}  // namespace eduaid::ledger::testenv

#endif  // EDUAID_SERVICES_LEDGER_TESTS_LEDGER_TEST_ENV_H_
