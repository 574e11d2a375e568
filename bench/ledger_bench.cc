// Ledger benchmarks, each with a baseline in the same run:
//   - durable single payments (DisburseEntitlement, 64 in flight, SQLite
//     synchronous=FULL with group commit) vs the disk's fsync rate, measured
//     as raw SQLite single-row transactions at synchronous=FULL;
//   - a batch of N payments (create, approve by a second officer, execute)
//     vs a raw SQLite insert of N rows in 1000-row transactions.
// Usage: ledger_bench [--batch N]
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

#include "bench/load.h"
#include "eduaid/ledger/v1/ledger.grpc.pb.h"
#include "services/common/auth.h"
#include "services/common/testing/harness.h"
#include "services/common/testing/service_testing.h"

namespace lpb = ::eduaid::ledger::v1;
namespace cpb = ::eduaid::common::v1;
using Clock = std::chrono::steady_clock;

namespace {

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string Officer(const char* subject) {
  eduaid::TokenClaims c;
  c.subject = subject;
  c.role = eduaid::Role::kCountyOfficer;
  c.region = "411325";
  c.ttl = std::chrono::seconds(7200);
  return eduaid::MintHs256Token(c, eduaid::testing::kTestJwtSecret);
}

// Raw SQLite: `n` single-row transactions at synchronous=FULL, in seconds.
double RawFsyncRate(const std::string& path, double seconds) {
  sqlite3* db;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
               "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* st;
  sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES('payment')", -1, &st,
                     nullptr);
  int64_t n = 0;
  auto t0 = Clock::now();
  while (Since(t0) < seconds) {
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    ++n;
  }
  double rate = n / Since(t0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t batch_n = 100000;
  int singles = 3000;
  for (int i = 1; i + 1 < argc; ++i) {
    if (!strcmp(argv[i], "--batch")) batch_n = atoll(argv[++i]);
  }
  eduaid::testing::TempDir dir;
  setenv("EDUAID_DATA_KEY", eduaid::testing::kTestDataKey, 1);
  setenv("EDUAID_JWT_SECRET", eduaid::testing::kTestJwtSecret, 1);
  int port = eduaid::testing::FreePort();
  eduaid::testing::ChildProcess ledger(
      {LEDGER_SERVER, "--grpc-port", std::to_string(port), "--metrics-port",
       "-1", "--health-port", "-1", "--bind", "127.0.0.1", "--rate-limit", "0",
       "--redis", "", "--database", "sqlite://" + dir.path() + "/ledger.db",
       "--policy", POLICY_FILE, "--registry",
       "127.0.0.1:" + std::to_string(eduaid::testing::FreePort())},
      dir.path() + "/ledger.log");
  eduaid::testing::WaitForPort(port, 30000);
  auto stub = lpb::SubsidyLedgerService::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  const std::string a = Officer("officer-a"), b = Officer("officer-b");

  // Entitlements: `singles` for single payments, then `batch_n` for the batch.
  std::vector<int64_t> single_ids;
  std::mutex mu;
  auto create = [&](int64_t from, int64_t to, bool keep) {
    auto r = eduaid::bench::RunClosedLoop(
        32, std::chrono::hours(1), [&](int64_t i, auto done) {
          if (from + i >= to) {
            done(grpc::Status(grpc::StatusCode::OUT_OF_RANGE, "end"));
            return;
          }
          auto ctx = std::make_shared<grpc::ClientContext>();
          ctx->AddMetadata("authorization", "Bearer " + a);
          auto req = std::make_shared<lpb::CreateEntitlementRequest>();
          auto resp = std::make_shared<lpb::CreateEntitlementResponse>();
          int64_t k = from + i;
          req->set_request_id("bench-ent-" + std::to_string(k));
          req->set_member_id("m-" + std::to_string(k + 1));
          req->set_programme_code("NUTRITION_MEALS");
          req->mutable_term()->set_year(2026);
          req->mutable_term()->set_season(cpb::SEASON_AUTUMN);
          req->set_region_code("411325");
          req->set_school_code("S411325P1");
          req->set_school_name("内乡县第一小学");
          req->set_stage(cpb::SCHOOL_STAGE_PRIMARY);
          req->set_grade(3);
          req->set_reason("bench");
          req->set_payee_name("王小明");
          stub->async()->CreateEntitlement(
              ctx.get(), req.get(), resp.get(),
              [&, ctx, req, resp, keep, done](grpc::Status s) {
                if (s.ok() && keep) {
                  std::lock_guard<std::mutex> l(mu);
                  single_ids.push_back(resp->entitlement().entitlement_id());
                }
                if (!s.ok())
                  fprintf(stderr, "create: %s\n", s.error_message().c_str());
                done(s);
              });
        });
    (void)r;
  };
  auto t_create = Clock::now();
  create(0, singles, true);
  create(singles, singles + batch_n, false);
  double create_s = Since(t_create);

  // Single payments.
  double fsync_rate = RawFsyncRate(dir.path() + "/raw-fsync.db", 3.0);
  std::atomic<size_t> next{0};
  auto singles_result = eduaid::bench::RunClosedLoop(
      64, std::chrono::seconds(20), [&](int64_t, auto done) {
        size_t k = next++;
        if (k >= single_ids.size()) {
          done(grpc::Status(grpc::StatusCode::OUT_OF_RANGE, "end"));
          return;
        }
        auto ctx = std::make_shared<grpc::ClientContext>();
        ctx->AddMetadata("authorization", "Bearer " + b);
        auto req = std::make_shared<lpb::DisburseEntitlementRequest>();
        auto resp = std::make_shared<lpb::DisburseEntitlementResponse>();
        req->set_request_id("bench-pay-" + std::to_string(k));
        req->set_entitlement_id(single_ids[k]);
        stub->async()->DisburseEntitlement(
            ctx.get(), req.get(), resp.get(),
            [ctx, req, resp, done](grpc::Status s) { done(s); });
      });
  int64_t paid = singles_result.calls - singles_result.errors;
  printf(
      "## Ledger\n\n### Durable single payments (SQLite synchronous=FULL, "
      "group commit)\n\n");
  printf(
      "| what | per second | p50 ms | p99 ms | ratio to fsync rate "
      "|\n|---|---|---|---|---|\n");
  printf(
      "| raw SQLite single-row transactions at FULL: the disk's fsync rate "
      "(baseline) | %.0f | | | 1.00x |\n",
      fsync_rate);
  printf(
      "| DisburseEntitlement, 64 in flight (%lld payments, %lld errors) | %.0f "
      "| %.2f | %.2f | %.2fx |\n\n",
      static_cast<long long>(paid),
      static_cast<long long>(singles_result.errors), singles_result.qps,
      singles_result.p50_ms, singles_result.p99_ms,
      singles_result.qps / fsync_rate);

  // The batch.
  auto call_ctx = [](const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("authorization", "Bearer " + token);
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::minutes(10));
    return ctx;
  };
  lpb::CreateBatchRequest cb;
  cb.set_request_id("bench-batch");
  cb.mutable_term()->set_year(2026);
  cb.mutable_term()->set_season(cpb::SEASON_AUTUMN);
  cb.set_region_prefix("411325");
  lpb::CreateBatchResponse cbr;
  auto c1 = call_ctx(a);
  grpc::Status st = stub->CreateBatch(c1.get(), cb, &cbr);
  if (!st.ok()) {
    fprintf(stderr, "create batch: %s\n", st.error_message().c_str());
    return 1;
  }
  const int64_t id = cbr.batch().batch_id();
  lpb::ApproveBatchRequest ab;
  ab.set_request_id("bench-approve");
  ab.set_batch_id(id);
  lpb::ApproveBatchResponse abr;
  auto c2 = call_ctx(b);
  st = stub->ApproveBatch(c2.get(), ab, &abr);
  lpb::ExecuteBatchRequest eb;
  eb.set_request_id("bench-execute");
  eb.set_batch_id(id);
  lpb::ExecuteBatchResponse ebr;
  auto t_exec = Clock::now();
  auto c3 = call_ctx(a);
  st = stub->ExecuteBatch(c3.get(), eb, &ebr);
  if (!st.ok()) {
    fprintf(stderr, "execute: %s\n", st.error_message().c_str());
    return 1;
  }
  for (;;) {
    lpb::GetBatchRequest gb;
    gb.set_batch_id(id);
    lpb::GetBatchResponse gbr;
    auto c4 = call_ctx(a);
    if (stub->GetBatch(c4.get(), gb, &gbr).ok() &&
        gbr.batch().state() == lpb::BATCH_STATE_EXECUTED)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  double exec_s = Since(t_exec);
  // Baseline: the same number of rows inserted raw, 1000 per transaction.
  double raw_s;
  {
    sqlite3* db;
    std::string path = dir.path() + "/raw-batch.db";
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                 "CREATE TABLE payments(id INTEGER PRIMARY KEY, member TEXT, "
                 "amount INTEGER);",
                 nullptr, nullptr, nullptr);
    sqlite3_stmt* s;
    sqlite3_prepare_v2(db,
                       "INSERT INTO payments(member, amount) VALUES(?, 40000)",
                       -1, &s, nullptr);
    auto t0 = Clock::now();
    for (int64_t i = 0; i < batch_n; ++i) {
      if (i % 1000 == 0) sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
      std::string m = "m-" + std::to_string(i);
      sqlite3_bind_text(s, 1, m.data(), static_cast<int>(m.size()),
                        SQLITE_TRANSIENT);
      sqlite3_step(s);
      sqlite3_reset(s);
      if (i % 1000 == 999 || i == batch_n - 1)
        sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    }
    raw_s = Since(t0);
    sqlite3_finalize(s);
    sqlite3_close(db);
  }
  printf(
      "### A batch of %lld payments (each: payment row, accrual and "
      "disbursement journal entries with hash chain, notice)\n\n",
      static_cast<long long>(cbr.batch().payment_count()));
  printf("| what | seconds | per second | ratio to raw |\n|---|---|---|---|\n");
  printf(
      "| raw SQLite insert of %lld rows, 1000-row transactions, FULL "
      "(baseline) | %.2f | %.0f | 1.00x |\n",
      static_cast<long long>(batch_n), raw_s, batch_n / raw_s);
  printf("| ExecuteBatch until EXECUTED | %.2f | %.0f | %.3fx |\n\n", exec_s,
         batch_n / exec_s, raw_s / exec_s);
  printf(
      "(Setting up %lld entitlements with CreateEntitlement took %.1f s.)\n\n",
      static_cast<long long>(batch_n + singles), create_s);
  return 0;
}
