// The crash test: ledger_server runs as a child process and is SIGKILLed
// again and again in the middle of a batch execution (and of a stream of
// single payments), then restarted; afterwards the database must show no
// payment made twice, no acknowledged payment lost, a zero trial balance
// and a journal that verifies. On SQLite and on PostgreSQL.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/sql.h"
#include "services/common/status.h"
#include "services/common/testing/harness.h"
#include "services/common/testing/service_testing.h"
#include "services/ledger/journal.h"
#include "services/ledger/tests/ledger_test_env.h"

namespace eduaid::ledger {
namespace {

namespace te = ::eduaid::ledger::testenv;
namespace cpb = ::eduaid::common::v1;
using ::eduaid::testing::ClientContextWith;
using Stub = pb::SubsidyLedgerService::Stub;

constexpr int kBatchPayments = 120;
constexpr int kSinglePayments = 30;

// A channel that reconnects within tens of milliseconds to a restarted
// server (gRPC's default backoff starts at a second), with its own
// subchannels (the global pool would share a backed-off one).
std::shared_ptr<grpc::Channel> FastReconnectChannel(int port) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 20);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 20);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 100);
  return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port),
                                   grpc::InsecureChannelCredentials(), args);
}

class LedgerCrashTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    te::ExportTestKeys();
    url_ = testing::DatabaseUrlFor(GetParam(), dir_, "ledger");
    ASSERT_FALSE(url_.empty())
        << "PostgreSQL must be installed for these tests";
    port_ = testing::FreePort();
  }

  void TearDown() override { server_.reset(); }

  // Starts ledger_server on the same port and database; waits until it
  // accepts connections.
  void StartServer() {
    server_.reset();
    server_ = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{LEDGER_SERVER,
                                 "--grpc-port",
                                 std::to_string(port_),
                                 "--metrics-port",
                                 "-1",
                                 "--health-port",
                                 "-1",
                                 "--database",
                                 url_,
                                 "--redis",
                                 "",
                                 "--policy",
                                 LEDGER_POLICY_FILE,
                                 "--registry",
                                 "127.0.0.1:1",
                                 "--workers",
                                 "4",
                                 "--execute-chunk-size",
                                 "3",
                                 "--execute-chunk-pause-ms",
                                 "25",
                                 "--drain-seconds",
                                 "1"},
        dir_.path() + "/ledger.log");
    ASSERT_TRUE(testing::WaitForPort(port_, 20000))
        << "ledger_server did not start; see " << dir_.path() << "/ledger.log";
    stub_ = pb::SubsidyLedgerService::NewStub(FastReconnectChannel(port_));
  }

  void Kill() {
    server_->Signal(SIGKILL);
    server_->Wait(10000);
  }

  template <typename Req, typename Resp>
  grpc::Status Call(grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                 const Req&, Resp*),
                    const std::string& token, const Req& req, Resp* resp) {
    auto ctx = ClientContextWith(token);
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(5));
    return (stub_.get()->*method)(ctx.get(), req, resp);
  }

  // Retries a call until the server answers (it may be restarting).
  template <typename Req, typename Resp>
  grpc::Status Retry(grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                  const Req&, Resp*),
                     const std::string& token, const Req& req, Resp* resp) {
    grpc::Status st;
    for (int i = 0; i < 100; ++i) {
      st = Call(method, token, req, resp);
      if (st.error_code() != grpc::StatusCode::UNAVAILABLE &&
          st.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
        return st;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return st;
  }

  int64_t RaiseEntitlement(int n, const std::string& programme) {
    pb::CreateEntitlementRequest req;
    req.set_request_id(absl::StrCat("crash-ent-", programme, "-", n));
    req.set_member_id(
        absl::StrCat("m-", programme == "NUTRITION_MEALS" ? 1 : 2, "0", n));
    req.set_programme_code(programme);
    *req.mutable_term() = te::Autumn2018();
    req.set_region_code("411325");
    req.set_school_code("S411325A");
    req.set_school_name("内乡县城关小学");
    req.set_stage(cpb::SCHOOL_STAGE_PRIMARY);
    req.set_grade(1 + n % 6);
    req.set_boarder(true);
    req.set_reason("crash test");
    req.set_payee_name("学生");
    pb::CreateEntitlementResponse resp;
    grpc::Status st =
        Retry(&Stub::CreateEntitlement, te::OfficerA(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.entitlement().entitlement_id();
  }

  pb::Batch GetBatch(int64_t id) {
    pb::GetBatchRequest req;
    req.set_batch_id(id);
    pb::GetBatchResponse resp;
    grpc::Status st = Retry(&Stub::GetBatch, te::OfficerA(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.batch();
  }

  testing::TempDir dir_;
  std::string url_;
  int port_ = 0;
  std::unique_ptr<testing::ChildProcess> server_;
  std::unique_ptr<Stub> stub_;
};

INSTANTIATE_TEST_SUITE_P(Backends, LedgerCrashTest,
                         ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

TEST_P(LedgerCrashTest, KilledMidBatchAndMidPaymentsItFinishesExactlyOnce) {
  StartServer();
  // The batch: one meals entitlement per student.
  std::vector<int64_t> batch_entitlements;
  for (int i = 0; i < kBatchPayments; ++i) {
    batch_entitlements.push_back(RaiseEntitlement(i, "NUTRITION_MEALS"));
  }
  pb::CreateBatchRequest create;
  create.set_request_id("crash-batch");
  *create.mutable_term() = te::Autumn2018();
  create.set_region_prefix("411325");
  create.set_programme_code("NUTRITION_MEALS");
  pb::CreateBatchResponse created;
  ASSERT_TRUE(Retry(&Stub::CreateBatch, te::OfficerA(), create, &created).ok());
  const int64_t batch_id = created.batch().batch_id();
  ASSERT_EQ(created.batch().payment_count(), kBatchPayments);
  const int64_t batch_total = created.batch().total_fen();
  // Single payments, raised after the batch so they are not in it.
  std::vector<int64_t> singles;
  for (int i = 0; i < kSinglePayments; ++i) {
    singles.push_back(RaiseEntitlement(i, "BOARDING_LIVING"));
  }
  pb::ApproveBatchRequest approve;
  approve.set_request_id("crash-approve");
  approve.set_batch_id(batch_id);
  pb::ApproveBatchResponse approved;
  ASSERT_TRUE(
      Retry(&Stub::ApproveBatch, te::OfficerB(), approve, &approved).ok());
  pb::ExecuteBatchRequest execute;
  execute.set_request_id("crash-execute");
  execute.set_batch_id(batch_id);
  pb::ExecuteBatchResponse executing;
  ASSERT_TRUE(
      Retry(&Stub::ExecuteBatch, te::OfficerA(), execute, &executing).ok());

  // A client paying the singles one by one, through every crash; it keeps
  // the payment id of every acknowledged payment.
  std::map<int64_t, int64_t> acknowledged;  // entitlement -> payment
  std::mutex ack_mu;
  std::atomic<bool> stop{false};
  std::thread payer([&] {
    auto stub = pb::SubsidyLedgerService::NewStub(FastReconnectChannel(port_));
    for (int64_t id : singles) {
      pb::DisburseEntitlementRequest req;
      req.set_request_id(absl::StrCat("crash-single-", id));
      req.set_entitlement_id(id);
      while (!stop) {
        pb::DisburseEntitlementResponse resp;
        auto ctx = ClientContextWith(te::OfficerB());
        ctx->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(3));
        grpc::Status st = stub->DisburseEntitlement(ctx.get(), req, &resp);
        if (st.ok()) {
          std::lock_guard<std::mutex> lock(ack_mu);
          acknowledged[id] = resp.payment().payment_id();
          break;
        }
        ASSERT_TRUE(st.error_code() == grpc::StatusCode::UNAVAILABLE ||
                    st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
                    st.error_code() == grpc::StatusCode::CANCELLED)
            << st.error_message();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(15));
    }
  });

  std::mt19937 rng(20181015);
  std::uniform_int_distribution<int> delay(20, 160);
  int kills = 0, mid_batch_kills = 0;
  std::vector<int64_t> paid_at_kill;
  for (int round = 0; round < 25; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay(rng)));
    // Where the batch stands a moment before the kill.
    pb::Batch before = GetBatch(batch_id);
    Kill();
    ++kills;
    paid_at_kill.push_back(before.paid_count());
    if (before.state() == pb::BATCH_STATE_EXECUTING) ++mid_batch_kills;
    StartServer();
    pb::Batch b = GetBatch(batch_id);
    bool singles_done;
    {
      std::lock_guard<std::mutex> lock(ack_mu);
      singles_done = acknowledged.size() == singles.size();
    }
    if (b.state() == pb::BATCH_STATE_EXECUTED && singles_done && kills >= 6) {
      break;
    }
  }
  std::printf(
      "crash test (%s): %d kills, %d during the batch, paid at each: %s\n",
      GetParam().c_str(), kills, mid_batch_kills,
      ::testing::PrintToString(paid_at_kill).c_str());
  // The last server runs to the end.
  pb::Batch done;
  for (int i = 0; i < 400; ++i) {
    done = GetBatch(batch_id);
    if (done.state() == pb::BATCH_STATE_EXECUTED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (int i = 0; i < 600; ++i) {
    {
      std::lock_guard<std::mutex> lock(ack_mu);
      if (acknowledged.size() == singles.size()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop = true;
  payer.join();
  ASSERT_EQ(done.state(), pb::BATCH_STATE_EXECUTED)
      << "kills: " << kills
      << ", paid at each: " << ::testing::PrintToString(paid_at_kill);
  EXPECT_GE(kills, 6);
  EXPECT_GE(mid_batch_kills, 4)
      << "paid at each kill: " << ::testing::PrintToString(paid_at_kill);
  EXPECT_EQ(done.paid_count(), kBatchPayments);
  EXPECT_EQ(done.paid_fen(), batch_total);
  EXPECT_EQ(done.failed_count(), 0);
  ASSERT_EQ(acknowledged.size(), singles.size());

  // Every acknowledged single payment is there with the acknowledged id;
  // the same request id answers with it again.
  for (const auto& [entitlement, payment] : acknowledged) {
    pb::DisburseEntitlementRequest req;
    req.set_request_id(absl::StrCat("crash-single-", entitlement));
    req.set_entitlement_id(entitlement);
    pb::DisburseEntitlementResponse resp;
    ASSERT_TRUE(
        Retry(&Stub::DisburseEntitlement, te::OfficerB(), req, &resp).ok());
    EXPECT_EQ(resp.payment().payment_id(), payment);
    EXPECT_EQ(resp.payment().state(), pb::PAYMENT_STATE_PAID);
  }

  pb::VerifyJournalRequest vreq;
  pb::VerifyJournalResponse verified;
  ASSERT_TRUE(Retry(&Stub::VerifyJournal, te::Auditor(), vreq, &verified).ok());
  EXPECT_TRUE(verified.ok())
      << verified.first_broken_entry_id() << ": " << verified.problem();
  pb::GetTrialBalanceRequest tbreq;
  pb::GetTrialBalanceResponse tb;
  ASSERT_TRUE(Retry(&Stub::GetTrialBalance, te::Auditor(), tbreq, &tb).ok());
  EXPECT_TRUE(tb.balanced());
  for (const auto& r : tb.regions()) EXPECT_EQ(r.balance_fen(), 0);

  // The database itself: one payment per entitlement, one disbursement
  // entry per paid payment, and the journal pays out what the payments say.
  server_->Signal(SIGTERM);
  server_->Wait(10000);
  auto db = Database::Open(url_);
  ASSERT_TRUE(db.ok()) << db.status();
  absl::Status st = (*db)->Read([&](SqlConnection& c) -> absl::Status {
    auto dup = c.Query(
        "SELECT entitlement_id FROM payments GROUP BY entitlement_id "
        "HAVING COUNT(*) > 1");
    if (!dup.ok()) return dup.status();
    EXPECT_TRUE(dup->empty()) << "an entitlement paid twice";
    auto twice = c.Query(
        "SELECT payment_id FROM journal WHERE kind = ? GROUP BY payment_id "
        "HAVING COUNT(*) <> 1",
        {int64_t{pb::ENTRY_KIND_DISBURSEMENT}});
    if (!twice.ok()) return twice.status();
    EXPECT_TRUE(twice->empty()) << "a payment disbursed twice in the journal";
    auto paid = c.Query(
        "SELECT COUNT(*), COALESCE(SUM(amount_fen), 0) FROM payments WHERE "
        "state = ?",
        {int64_t{pb::PAYMENT_STATE_PAID}});
    auto out = c.Query(
        "SELECT COUNT(*), COALESCE(SUM(amount_fen), 0) FROM journal WHERE "
        "credit_account = ?",
        {std::string(kBankPaidOut)});
    if (!paid.ok()) return paid.status();
    if (!out.ok()) return out.status();
    EXPECT_EQ((*paid)[0].Int(0), kBatchPayments + kSinglePayments);
    EXPECT_EQ((*out)[0].Int(0), (*paid)[0].Int(0));
    EXPECT_EQ((*out)[0].Int(1), (*paid)[0].Int(1));
    EXPECT_EQ((*paid)[0].Int(1), batch_total + kSinglePayments * 50000);
    auto unpaid = c.Query("SELECT COUNT(*) FROM entitlements WHERE state <> ?",
                          {int64_t{pb::ENTITLEMENT_STATE_PAID}});
    if (!unpaid.ok()) return unpaid.status();
    EXPECT_EQ((*unpaid)[0].Int(0), 0) << "an acknowledged batch lost payments";
    return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
}

}  // namespace
}  // namespace eduaid::ledger
