// Registry benchmarks, each against a baseline measured in the same run:
//   - GetStudent (Redis-cached and uncached) vs a bare callback-API echo
//     server, at 1, 16 and 64 calls in flight;
//   - import of N household members over gRPC vs a raw SQLite insert of the
//     same rows in 1000-row transactions;
//   - identification of N members vs the same join in the sqlite3 shell;
//   - resident memory of the service idle and with N members loaded.
// Prints Markdown; bench/run.sh writes it into docs/BENCHMARKS.md.
// Usage: registry_bench [--rows N] [--seconds S]
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bench/load.h"
#include "eduaid/registry/v1/registry.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "services/common/auth.h"
#include "services/common/testing/harness.h"
#include "services/common/testing/service_testing.h"
#include "tools/gen/synthetic.h"

namespace eduaid::bench {
namespace {

namespace rpb = ::eduaid::registry::v1;
namespace cpb = ::eduaid::common::v1;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The baseline: a bare callback-API unary server (grpc.health.v1 Check
// answering at once), in its own process like the registry.
class EchoService final : public grpc::health::v1::Health::CallbackService {
  grpc::ServerUnaryReactor* Check(
      grpc::CallbackServerContext* ctx,
      const grpc::health::v1::HealthCheckRequest*,
      grpc::health::v1::HealthCheckResponse* resp) override {
    resp->set_status(grpc::health::v1::HealthCheckResponse::SERVING);
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }
};

int RunEchoServer(int port) {
  EchoService service;
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:" + std::to_string(port),
                     grpc::InsecureServerCredentials());
  b.RegisterService(&service);
  auto server = b.BuildAndStart();
  server->Wait();
  return 0;
}

std::unique_ptr<testing::ChildProcess> StartRegistry(
    const std::string& dir, int port, const std::string& redis,
    int local_entries = 20000) {
  setenv("EDUAID_DATA_KEY", testing::kTestDataKey, 1);
  setenv("EDUAID_JWT_SECRET", testing::kTestJwtSecret, 1);
  auto p = std::make_unique<testing::ChildProcess>(
      std::vector<std::string>{
          REGISTRY_SERVER, "--grpc-port", std::to_string(port),
          "--metrics-port", "-1", "--health-port", "-1", "--bind", "127.0.0.1",
          "--rate-limit", "0", "--database", "sqlite://" + dir + "/registry.db",
          "--redis", redis, "--local-cache-entries",
          std::to_string(local_entries)},
      dir + "/registry-" + std::to_string(port) + ".log");
  testing::WaitForPort(port, 20000);
  return p;
}

void PrintLoad(const char* what, int c, const LoadResult& r, double base_qps) {
  printf("| %s | %d | %.0f | %.2f | %.2f | %.2fx | %lld |\n", what, c, r.qps,
         r.p50_ms, r.p99_ms, base_qps > 0 ? r.qps / base_qps : 1.0,
         static_cast<long long>(r.errors));
}

}  // namespace
}  // namespace eduaid::bench

int main(int argc, char** argv) {
  using namespace eduaid;
  using namespace eduaid::bench;
  int64_t rows_target = 1000000;
  int seconds = 5;
  for (int i = 1; i + 1 < argc; ++i) {
    if (!strcmp(argv[i], "--rows")) rows_target = atoll(argv[++i]);
    if (!strcmp(argv[i], "--seconds")) seconds = atoi(argv[++i]);
  }
  if (argc == 3 && !strcmp(argv[1], "--echo-server"))
    return RunEchoServer(atoi(argv[2]));

  testing::TempDir dir;
  testing::TestRedis redis;
  const std::string token =
      testing::TestToken(Role::kProvinceOfficer, "", 7200, "bench");

  // ---- data
  synthetic::Options o;
  o.households = rows_target / 4 + 1;
  o.seed = 11;
  auto data = synthetic::Generate(o);
  if (static_cast<int64_t>(data.members.size()) > rows_target)
    data.members.resize(rows_target);
  const int64_t n = static_cast<int64_t>(data.members.size());

  // ---- the registry, idle
  int port = testing::FreePort();
  auto registry = StartRegistry(dir.path(), port, redis.url());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  double rss_idle = RssMiB(registry->pid());
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                     grpc::InsecureChannelCredentials());
  auto stub = rpb::StudentRegistryService::NewStub(channel);

  printf("## Registry\n\n");
  printf(
      "Rows: %lld household members (synthetic, 13 counties of Nanyang).\n\n",
      static_cast<long long>(n));

  // ---- schools
  for (const auto& s : data.schools) {
    rpb::UpsertSchoolRequest req;
    req.set_request_id("bench-school-" + s.code);
    auto* sc = req.mutable_school();
    sc->set_code(s.code);
    sc->set_name(s.name);
    sc->set_region_code(s.region_code);
    for (auto st :
         {cpb::SCHOOL_STAGE_PRESCHOOL, cpb::SCHOOL_STAGE_PRIMARY,
          cpb::SCHOOL_STAGE_JUNIOR_HIGH, cpb::SCHOOL_STAGE_SENIOR_HIGH,
          cpb::SCHOOL_STAGE_SECONDARY_VOCATIONAL})
      sc->add_stages(st);
    rpb::UpsertSchoolResponse resp;
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token);
    stub->UpsertSchool(&ctx, req, &resp);
  }

  // ---- import over gRPC: 5000-row calls, two in flight (as eductl does)
  auto t0 = Clock::now();
  {
    std::mutex mu;
    std::condition_variable cv;
    int inflight = 0;
    int64_t errors = 0;
    for (int64_t off = 0; off < n; off += 5000) {
      auto req = std::make_shared<rpb::ImportHouseholdsRequest>();
      auto resp = std::make_shared<rpb::ImportHouseholdsResponse>();
      auto ctx = std::make_shared<grpc::ClientContext>();
      ctx->AddMetadata("authorization", "Bearer " + token);
      req->set_request_id("bench-import-" + std::to_string(off));
      req->set_skip_identification(true);
      for (int64_t i = off; i < std::min(n, off + 5000); ++i) {
        const auto& m = data.members[i];
        auto* r = req->add_rows();
        r->set_row_number(i + 2);
        r->set_household_id(m.household_id);
        r->set_region_code(m.region_code);
        r->set_registration_year(std::stoi(m.registration_year));
        r->set_household_status(m.household_status == "poor"
                                    ? cpb::HOUSEHOLD_STATUS_POOR
                                    : cpb::HOUSEHOLD_STATUS_LIFTED);
        r->set_id_number(m.id_number);
        r->set_name(m.name);
        r->set_relation(m.relation == "head"     ? rpb::RELATION_HEAD
                        : m.relation == "spouse" ? rpb::RELATION_SPOUSE
                        : m.relation == "parent" ? rpb::RELATION_PARENT
                                                 : rpb::RELATION_CHILD);
      }
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return inflight < 2; });
      ++inflight;
      lock.unlock();
      stub->async()->ImportHouseholds(ctx.get(), req.get(), resp.get(),
                                      [&, req, resp, ctx](grpc::Status s) {
                                        std::lock_guard<std::mutex> l(mu);
                                        if (!s.ok() || resp->rejected_rows())
                                          ++errors;
                                        --inflight;
                                        cv.notify_all();
                                      });
    }
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return inflight == 0; });
    if (errors)
      fprintf(stderr, "import: %lld calls failed or rejected rows\n",
              static_cast<long long>(errors));
  }
  double import_s = Since(t0);

  // Baseline: the same rows inserted raw into SQLite, 1000 per transaction.
  double raw_s = 0;
  {
    sqlite3* db;
    std::string path = dir.path() + "/raw.db";
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(
        db,
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        "CREATE TABLE members(id INTEGER PRIMARY KEY, household_id TEXT,"
        " region_code TEXT, registration_year TEXT, household_status TEXT,"
        " id_number TEXT, name TEXT, relation TEXT);",
        nullptr, nullptr, nullptr);
    sqlite3_stmt* st;
    sqlite3_prepare_v2(db,
                       "INSERT INTO members(household_id, region_code,"
                       " registration_year, household_status, id_number, name,"
                       " relation) VALUES(?,?,?,?,?,?,?)",
                       -1, &st, nullptr);
    auto r0 = Clock::now();
    for (int64_t i = 0; i < n; ++i) {
      if (i % 1000 == 0) sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
      const auto& m = data.members[i];
      const std::string* f[] = {&m.household_id,      &m.region_code,
                                &m.registration_year, &m.household_status,
                                &m.id_number,         &m.name,
                                &m.relation};
      for (int k = 0; k < 7; ++k)
        sqlite3_bind_text(st, k + 1, f[k]->data(),
                          static_cast<int>(f[k]->size()), SQLITE_STATIC);
      sqlite3_step(st);
      sqlite3_reset(st);
      if (i % 1000 == 999 || i == n - 1)
        sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    }
    raw_s = Since(r0);
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  printf(
      "### Import\n\n| what | rows | seconds | rows/s | ratio to raw "
      "|\n|---|---|---|---|---|\n");
  printf(
      "| raw SQLite insert, 1000-row transactions (baseline) | %lld | %.2f | "
      "%.0f | 1.00x |\n",
      static_cast<long long>(n), raw_s, n / raw_s);
  printf(
      "| ImportHouseholds over gRPC (validate, encrypt, blind index, upsert) | "
      "%lld | %.2f | %.0f | %.3fx |\n\n",
      static_cast<long long>(n), import_s, n / import_s, raw_s / import_s);
  fflush(stdout);

  // ---- rosters, then identification vs the same join in the sqlite3 shell
  {
    rpb::RecordEnrolmentsRequest req;
    int64_t k = 0;
    auto flush = [&](bool) {
      if (req.rows_size() == 0) return;
      req.set_request_id("bench-roster-" + std::to_string(k++));
      req.set_skip_identification(true);
      rpb::RecordEnrolmentsResponse resp;
      grpc::ClientContext ctx;
      ctx.AddMetadata("authorization", "Bearer " + token);
      stub->RecordEnrolments(&ctx, req, &resp);
      req.clear_rows();
    };
    for (const auto& e : data.enrolments) {
      auto* r = req.add_rows();
      r->set_id_number(e.id_number);
      r->set_school_code(e.school_code);
      r->set_stage(e.stage == "preschool"     ? cpb::SCHOOL_STAGE_PRESCHOOL
                   : e.stage == "primary"     ? cpb::SCHOOL_STAGE_PRIMARY
                   : e.stage == "junior_high" ? cpb::SCHOOL_STAGE_JUNIOR_HIGH
                   : e.stage == "senior_high"
                       ? cpb::SCHOOL_STAGE_SENIOR_HIGH
                       : cpb::SCHOOL_STAGE_SECONDARY_VOCATIONAL);
      r->set_grade(std::stoi(e.grade));
      r->mutable_term()->set_year(2026);
      r->mutable_term()->set_season(cpb::SEASON_AUTUMN);
      r->set_status(e.status == "enrolled" ? rpb::ENROLMENT_STATUS_ENROLLED
                    : e.status == "graduated"
                        ? rpb::ENROLMENT_STATUS_GRADUATED
                        : rpb::ENROLMENT_STATUS_DROPPED_OUT);
      if (req.rows_size() == 5000) flush(false);
    }
    flush(true);
  }
  double ident_s = 0;
  {
    rpb::RunIdentificationRequest req;
    req.set_request_id("bench-identify");
    req.set_as_of("2026-09-01");
    rpb::RunIdentificationResponse resp;
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token);
    auto i0 = Clock::now();
    grpc::Status s = stub->RunIdentification(&ctx, req, &resp);
    ident_s = Since(i0);
    if (!s.ok()) fprintf(stderr, "identify: %s\n", s.error_message().c_str());
  }
  double shell_s = 0;
  {
    std::string cmd = "sqlite3 " + dir.path() +
                      "/registry.db \"SELECT COUNT(*) FROM members m WHERE "
                      "m.birth_month > '2010-09'"
                      " AND m.birth_month <= '2020-09' AND NOT EXISTS "
                      "(SELECT 1 FROM enrolments e"
                      " WHERE e.id_hash = m.id_hash AND e.current = 1 AND "
                      "(e.status IN (1,3) OR"
                      " (e.status = 5 AND e.stage >= 3)));\" >/dev/null";
    auto s0 = Clock::now();
    int rc = std::system(cmd.c_str());
    shell_s = Since(s0);
    if (rc != 0) fprintf(stderr, "sqlite3 shell failed\n");
  }
  printf(
      "### Identification\n\n| what | members | seconds | ratio to shell "
      "|\n|---|---|---|---|\n");
  printf(
      "| the out-of-school join in the sqlite3 shell (baseline) | %lld | %.2f "
      "| 1.00x |\n",
      static_cast<long long>(n), shell_s);
  printf(
      "| RunIdentification (upsert the list, resolve, count per stage) | %lld "
      "| %.2f | %.2fx |\n\n",
      static_cast<long long>(n), ident_s, ident_s / shell_s);
  fflush(stdout);

  // ---- GetStudent vs echo
  int echo_port = testing::FreePort();
  testing::ChildProcess echo(
      {argv[0], "--echo-server", std::to_string(echo_port)});
  testing::WaitForPort(echo_port, 10000);
  auto echo_ch = grpc::CreateChannel("127.0.0.1:" + std::to_string(echo_port),
                                     grpc::InsecureChannelCredentials());
  auto echo_stub = grpc::health::v1::Health::NewStub(echo_ch);
  int uncached_port = testing::FreePort();
  auto uncached = StartRegistry(dir.path(), uncached_port, "", 0);
  int redis_only_port = testing::FreePort();
  auto redis_only = StartRegistry(dir.path(), redis_only_port, redis.url(), 0);
  auto redis_only_stub = rpb::StudentRegistryService::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(redis_only_port),
                          grpc::InsecureChannelCredentials()));
  auto uncached_stub = rpb::StudentRegistryService::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(uncached_port),
                          grpc::InsecureChannelCredentials()));

  std::vector<std::string> hot;
  for (int64_t i = 0; i < std::min<int64_t>(n, 200); ++i)
    hot.push_back(data.members[i * (n / 200 + 1) % n].id_number);
  auto duration = std::chrono::milliseconds(seconds * 1000);
  printf("### GetStudent vs a bare echo server\n\n");
  printf(
      "Load generator: callback-API client in another process, one channel, "
      "closed loop, %d s per cell.\n\n",
      seconds);
  printf(
      "| server | in flight | QPS | p50 ms | p99 ms | ratio to echo | errors "
      "|\n|---|---|---|---|---|---|---|\n");
  for (int c : {1, 16, 64}) {
    auto run_echo = RunClosedLoop(c, duration, [&](int64_t, auto done) {
      auto ctx = std::make_shared<grpc::ClientContext>();
      auto req = std::make_shared<grpc::health::v1::HealthCheckRequest>();
      auto resp = std::make_shared<grpc::health::v1::HealthCheckResponse>();
      echo_stub->async()->Check(
          ctx.get(), req.get(), resp.get(),
          [ctx, req, resp, done](grpc::Status s) { done(s); });
    });
    PrintLoad("bare echo (baseline)", c, run_echo, run_echo.qps);
    auto get = [&](rpb::StudentRegistryService::Stub* s) {
      return [&, s](int64_t i, auto done) {
        auto ctx = std::make_shared<grpc::ClientContext>();
        ctx->AddMetadata("authorization", "Bearer " + token);
        auto req = std::make_shared<rpb::GetStudentRequest>();
        req->set_id_number(hot[i % hot.size()]);
        auto resp = std::make_shared<rpb::GetStudentResponse>();
        s->async()->GetStudent(
            ctx.get(), req.get(), resp.get(),
            [ctx, req, resp, done](grpc::Status st) { done(st); });
      };
    };
    auto cached = RunClosedLoop(c, duration, get(stub.get()));
    PrintLoad("GetStudent, cached (in-process tier + Redis)", c, cached,
              run_echo.qps);
    auto via_redis = RunClosedLoop(c, duration, get(redis_only_stub.get()));
    PrintLoad("GetStudent, Redis only", c, via_redis, run_echo.qps);
    auto direct = RunClosedLoop(c, duration, get(uncached_stub.get()));
    PrintLoad("GetStudent, no cache (SQLite)", c, direct, run_echo.qps);
    fflush(stdout);
  }
  printf("\n### Memory\n\n| registry_server | RSS MiB |\n|---|---|\n");
  printf("| idle, empty database | %.1f |\n", rss_idle);
  printf("| %lld members loaded, after the runs above | %.1f |\n\n",
         static_cast<long long>(n), RssMiB(registry->pid()));
  return 0;
}
