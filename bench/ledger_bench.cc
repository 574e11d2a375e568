// Ledger benchmarks, each with a baseline in the same run:
//   - durable single payments (DisburseEntitlement, 64 in flight, SQLite
//     synchronous=FULL with group commit) vs the disk's fsync rate, measured
//     as raw SQLite single-row transactions at synchronous=FULL;
//   - a batch of N payments (create, approve by a second officer, execute)
//     vs a raw SQLite insert of N rows in 1000-row transactions.
// Setup: one entitlement per school through CreateEntitlement, the rest
// cloned from it in SQL (same columns, own member ids), because setting up
// 100,000 through the RPC one durable transaction each takes half a minute
// and measures nothing of interest here.
// Usage: ledger_bench [--batch N] [--singles N] [--singles-seconds S]
//                     [--server PATH] [--server-flag ARG]...
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

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

// Clones entitlement `template_id` `count` times in the ledger database,
// with member ids `<prefix><n>`, in one transaction (the server keeps
// running: its writer waits on the lock). Returns the clones' ids.
std::vector<int64_t> CloneEntitlement(const std::string& path,
                                      int64_t template_id,
                                      const std::string& prefix,
                                      int64_t count) {
  std::vector<int64_t> ids;
  sqlite3* db;
  sqlite3_open(path.c_str(), &db);
  sqlite3_busy_timeout(db, 60000);
  sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  sqlite3_stmt* st;
  sqlite3_prepare_v2(
      db,
      "INSERT INTO entitlements (member_id, programme_code, term, "
      "standard_id, exclusive_group, region_code, school_code, school_name, "
      "stage, grade, boarder, amount_fen, state, reason, payee_name, "
      "due_date, created_by, created_at, updated_at) "
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
      "WHERE i < ?1) SELECT ?2 || n.i, programme_code, term, standard_id, "
      "exclusive_group, region_code, school_code, school_name, stage, grade, "
      "boarder, amount_fen, state, reason, payee_name, due_date, created_by, "
      "created_at, updated_at FROM n, entitlements t WHERE t.id = ?3 "
      "RETURNING id",
      -1, &st, nullptr);
  sqlite3_bind_int64(st, 1, count);
  sqlite3_bind_text(st, 2, prefix.data(), static_cast<int>(prefix.size()),
                    SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 3, template_id);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    ids.push_back(sqlite3_column_int64(st, 0));
  }
  if (rc != SQLITE_DONE) {
    fprintf(stderr, "clone entitlements: %s\n", sqlite3_errmsg(db));
    exit(1);
  }
  sqlite3_finalize(st);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  std::sort(ids.begin(), ids.end());
  return ids;
}

// Mean of a histogram's observations between two scrapes of /metrics.
double HistogramMean(const std::string& before, const std::string& after,
                     const std::string& name) {
  auto value = [](const std::string& text, const std::string& metric) {
    double v = eduaid::testing::MetricValue(text, metric, {});
    return v < 0 ? 0 : v;
  };
  const double n =
      value(after, name + "_count") - value(before, name + "_count");
  const double sum = value(after, name + "_sum") - value(before, name + "_sum");
  return n > 0 ? sum / n : 0;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t batch_n = 100000;
  int64_t singles = 30000;
  int singles_seconds = 30;
  std::string server = LEDGER_SERVER;
  std::vector<std::string> extra;
  for (int i = 1; i + 1 < argc; ++i) {
    if (!strcmp(argv[i], "--server")) server = argv[++i];
    if (!strcmp(argv[i], "--server-flag")) extra.push_back(argv[++i]);
    if (!strcmp(argv[i], "--batch")) batch_n = atoll(argv[++i]);
    if (!strcmp(argv[i], "--singles")) singles = atoll(argv[++i]);
    if (!strcmp(argv[i], "--singles-seconds"))
      singles_seconds = atoi(argv[++i]);
  }
  eduaid::testing::TempDir dir;
  setenv("EDUAID_DATA_KEY", eduaid::testing::kTestDataKey, 1);
  setenv("EDUAID_JWT_SECRET", eduaid::testing::kTestJwtSecret, 1);
  const std::string db_path = dir.path() + "/ledger.db";
  int port = eduaid::testing::FreePort();
  int metrics_port = eduaid::testing::FreePort();
  std::vector<std::string> server_argv = {
      server,
      "--grpc-port",
      std::to_string(port),
      "--metrics-port",
      std::to_string(metrics_port),
      "--health-port",
      "-1",
      "--bind",
      "127.0.0.1",
      "--rate-limit",
      "0",
      "--redis",
      "",
      "--database",
      "sqlite://" + db_path,
      "--policy",
      POLICY_FILE,
      "--registry",
      "127.0.0.1:" + std::to_string(eduaid::testing::FreePort())};
  server_argv.insert(server_argv.end(), extra.begin(), extra.end());
  eduaid::testing::ChildProcess ledger(server_argv, dir.path() + "/ledger.log");
  eduaid::testing::WaitForPort(port, 30000);
  fprintf(stderr, "ledger_server pid %d\n", static_cast<int>(ledger.pid()));
  auto stub = lpb::SubsidyLedgerService::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  const std::string a = Officer("officer-a"), b = Officer("officer-b");
  auto call_ctx = [](const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("authorization", "Bearer " + token);
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::minutes(10));
    return ctx;
  };

  // Entitlements: one per school through the RPC (single payments at one
  // school, the batch at another), then cloned.
  auto t_create = Clock::now();
  auto create_template = [&](const std::string& school) -> int64_t {
    lpb::CreateEntitlementRequest req;
    req.set_request_id("bench-ent-" + school);
    req.set_member_id("template-" + school);
    req.set_programme_code("NUTRITION_MEALS");
    req.mutable_term()->set_year(2026);
    req.mutable_term()->set_season(cpb::SEASON_AUTUMN);
    req.set_region_code("411325");
    req.set_school_code(school);
    req.set_school_name("内乡县第一小学");
    req.set_stage(cpb::SCHOOL_STAGE_PRIMARY);
    req.set_grade(3);
    req.set_reason("bench");
    req.set_payee_name("王小明");
    lpb::CreateEntitlementResponse resp;
    auto ctx = call_ctx(a);
    grpc::Status s = stub->CreateEntitlement(ctx.get(), req, &resp);
    if (!s.ok()) {
      fprintf(stderr, "create: %s\n", s.error_message().c_str());
      exit(1);
    }
    return resp.entitlement().entitlement_id();
  };
  const int64_t single_template = create_template("S411325P2");
  const int64_t batch_template = create_template("S411325P1");
  std::vector<int64_t> single_ids =
      CloneEntitlement(db_path, single_template, "s-", singles - 1);
  single_ids.insert(single_ids.begin(), single_template);
  CloneEntitlement(db_path, batch_template, "b-", batch_n - 1);
  double create_s = Since(t_create);

  // Single payments.
  double fsync_rate = RawFsyncRate(dir.path() + "/raw-fsync.db", 3.0);
  const std::string metrics_before =
      eduaid::testing::HttpGet(metrics_port, "/metrics");
  fprintf(stderr, "single payments\n");
  std::atomic<size_t> next{0};
  auto singles_result = eduaid::bench::RunClosedLoop(
      64, std::chrono::seconds(singles_seconds), [&](int64_t, auto done) {
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
  const double group_mean = HistogramMean(
      metrics_before, eduaid::testing::HttpGet(metrics_port, "/metrics"),
      "eduaid_ledger_group_commit_size");
  int64_t paid = singles_result.calls - singles_result.errors;
  if (singles_result.errors > 0) {
    fprintf(stderr, "payments: %s\n", singles_result.first_error.c_str());
  }
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
      "| DisburseEntitlement, 64 in flight (%lld payments, %lld errors; "
      "%.1f per transaction) | %.0f | %.2f | %.2f | %.2fx |\n\n",
      static_cast<long long>(paid),
      static_cast<long long>(singles_result.errors), group_mean,
      singles_result.qps, singles_result.p50_ms, singles_result.p99_ms,
      singles_result.qps / fsync_rate);
  fflush(stdout);

  // The batch.
  lpb::CreateBatchRequest cb;
  cb.set_request_id("bench-batch");
  cb.mutable_term()->set_year(2026);
  cb.mutable_term()->set_season(cpb::SEASON_AUTUMN);
  cb.set_region_prefix("411325");
  cb.set_school_code("S411325P1");
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
  fprintf(stderr, "executing batch %lld\n", static_cast<long long>(id));
  auto t_exec = Clock::now();
  auto c3 = call_ctx(a);
  st = stub->ExecuteBatch(c3.get(), eb, &ebr);
  if (!st.ok()) {
    fprintf(stderr, "execute: %s\n", st.error_message().c_str());
    return 1;
  }
  lpb::Batch done;
  for (;;) {
    lpb::GetBatchRequest gb;
    gb.set_batch_id(id);
    lpb::GetBatchResponse gbr;
    auto c4 = call_ctx(a);
    if (stub->GetBatch(c4.get(), gb, &gbr).ok() &&
        gbr.batch().state() == lpb::BATCH_STATE_EXECUTED) {
      done = gbr.batch();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  double exec_s = Since(t_exec);
  fprintf(stderr, "batch executed\n");
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
  // Not timed: the whole journal must verify.
  lpb::VerifyJournalRequest vj;
  lpb::VerifyJournalResponse vjr;
  auto c5 = call_ctx(a);
  auto t_verify = Clock::now();
  st = stub->VerifyJournal(c5.get(), vj, &vjr);
  const double verify_s = Since(t_verify);
  printf(
      "### A batch of %lld payments (each: payment row, accrual and "
      "disbursement journal entries with hash chain, notice)\n\n",
      static_cast<long long>(cbr.batch().payment_count()));
  printf("| what | seconds | per second | ratio to raw |\n|---|---|---|---|\n");
  printf(
      "| raw SQLite insert of %lld rows, 1000-row transactions, FULL "
      "(baseline) | %.2f | %.0f | 1.00x |\n",
      static_cast<long long>(batch_n), raw_s, batch_n / raw_s);
  printf(
      "| ExecuteBatch until EXECUTED (%lld paid) | %.2f | %.0f | %.3fx |\n\n",
      static_cast<long long>(done.paid_count()), exec_s, batch_n / exec_s,
      raw_s / exec_s);
  printf(
      "(Setting up %lld entitlements, two through CreateEntitlement and the "
      "rest cloned from them in SQL, took %.1f s. VerifyJournal afterwards: "
      "%s, %lld entries in %.2f s.)\n\n",
      static_cast<long long>(batch_n + singles), create_s,
      st.ok() && vjr.ok() ? "ok" : "FAILED",
      static_cast<long long>(vjr.entries_checked()), verify_s);
  return 0;
}
