// The soak: a mixed workload against a running suite (started by
// bench/soak.sh as `make run` starts it) at half of its measured capacity,
// for a fixed time. It measures capacity with a closed loop first, then
// drives an open loop at half that rate, and every window records calls,
// errors, latency and the resident memory of each service. Prints Markdown.
//
// Usage: soak --registry H:P --ledger H:P --teacher H:P --vocational H:P
//             --jwt-secret-file F --pids registry=N,ledger=N,... [--seconds S]
//             [--window S] [--warmup S] [--calibrate S]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/load.h"
#include "eduaid/ledger/v1/ledger.grpc.pb.h"
#include "eduaid/registry/v1/registry.grpc.pb.h"
#include "eduaid/teacher/v1/teacher.grpc.pb.h"
#include "eduaid/vocational/v1/vocational.grpc.pb.h"
#include "services/common/auth.h"

namespace eduaid::bench {
namespace {

namespace rpb = ::eduaid::registry::v1;
namespace lpb = ::eduaid::ledger::v1;
namespace tpb = ::eduaid::teacher::v1;
namespace vpb = ::eduaid::vocational::v1;
using Clock = std::chrono::steady_clock;
using Done = std::function<void(const grpc::Status&)>;

// One kind of call in the mix. `start` begins call number i with a token
// and reports completion through `done`; `weight` is its share of calls.
struct Op {
  std::string name;
  int weight;
  std::function<void(int64_t, const std::string&, Done)> start;
};

// Keeps request, response and context alive for the length of a call.
template <typename Req, typename Resp>
struct Call {
  grpc::ClientContext ctx;
  Req req;
  Resp resp;
};

// `invoke(ctx, req, resp, callback)` starts the call on a stub.
template <typename Req, typename Resp, typename Invoke>
void Unary(Invoke invoke, const std::string& token, Req req, Done done) {
  auto c = std::make_shared<Call<Req, Resp>>();
  c->req = std::move(req);
  c->ctx.AddMetadata("authorization", "Bearer " + token);
  c->ctx.set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(5));
  invoke(&c->ctx, &c->req, &c->resp,
         [c, done = std::move(done)](grpc::Status s) { done(s); });
}

// The invoke function of Unary for `stub->async()->method`.
#define ASYNC(stub, method)                                            \
  [s = (stub).get()](grpc::ClientContext* c, const auto* rq, auto* rs, \
                     std::function<void(grpc::Status)> cb) {           \
    s->async()->method(c, rq, rs, std::move(cb));                      \
  }

// RssAnon and RssFile of a process in MiB: private memory, and pages of
// files mapped into it (the databases' memory-mapped reads, shared with
// the kernel's page cache and reclaimable).
std::pair<double, double> RssParts(int pid) {
  return {ProcStatusMiB(pid, "RssAnon"), ProcStatusMiB(pid, "RssFile")};
}

struct Window {
  double t_end_s = 0;
  int64_t calls = 0, errors = 0;
  double p50_ms = 0, p99_ms = 0;
  std::map<std::string, double> rss;
};

// Calls started at a fixed rate (no coordinated omission: a slow server
// does not slow the generator), at most `max_in_flight` at once; a call
// that cannot start because that many are outstanding counts as an error.
class OpenLoop {
 public:
  OpenLoop(const std::vector<Op>& ops, const std::vector<std::string>& tokens,
           int max_in_flight)
      : ops_(ops), tokens_(tokens), max_in_flight_(max_in_flight) {
    for (size_t i = 0; i < ops_.size(); ++i)
      for (int w = 0; w < ops_[i].weight; ++w) wheel_.push_back(i);
  }

  void Start(int64_t i) {
    if (in_flight_.fetch_add(1) >= max_in_flight_) {
      in_flight_.fetch_sub(1);
      Record(0,
             grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          "generator: too many calls outstanding"),
             "generator");
      return;
    }
    const Op& op = ops_[wheel_[i % wheel_.size()]];
    const std::string& token = tokens_[i % tokens_.size()];
    auto t0 = Clock::now();
    op.start(i, token, [this, t0, &op](const grpc::Status& s) {
      Record(
          std::chrono::duration<double, std::milli>(Clock::now() - t0).count(),
          s, op.name);
      in_flight_.fetch_sub(1);
    });
  }

  // Takes the window's figures and starts a new window.
  Window Cut() {
    std::lock_guard<std::mutex> lock(mu_);
    Window w;
    w.calls = static_cast<int64_t>(lat_.size());
    w.errors = errors_;
    std::tie(w.p50_ms, w.p99_ms) = Percentiles(lat_);
    lat_.clear();
    errors_ = 0;
    return w;
  }

  int in_flight() const { return in_flight_.load(); }
  std::map<std::string, int64_t> error_kinds() {
    std::lock_guard<std::mutex> lock(mu_);
    return error_kinds_;
  }

 private:
  void Record(double ms, const grpc::Status& s, const std::string& op) {
    std::lock_guard<std::mutex> lock(mu_);
    lat_.push_back(ms);
    if (!s.ok()) {
      ++errors_;
      ++error_kinds_[absl::StrCat(op, ": code ", s.error_code(), " ",
                                  s.error_message().substr(0, 80))];
    }
  }

  const std::vector<Op>& ops_;
  const std::vector<std::string>& tokens_;
  std::vector<size_t> wheel_;
  const int max_in_flight_;
  std::atomic<int> in_flight_{0};
  std::mutex mu_;
  std::vector<double> lat_;
  int64_t errors_ = 0;
  std::map<std::string, int64_t> error_kinds_;
};

}  // namespace
}  // namespace eduaid::bench

int main(int argc, char** argv) {
  using namespace eduaid;
  using namespace eduaid::bench;
  CLI::App app{"eduaid soak: a mixed workload at half capacity"};
  std::string registry_target, ledger_target, teacher_target, vocational_target,
      secret_file, pids_arg;
  int seconds = 600, window_s = 30, warmup_s = 60, calibrate_s = 20;
  app.add_option("--registry", registry_target)->required();
  app.add_option("--ledger", ledger_target)->required();
  app.add_option("--teacher", teacher_target)->required();
  app.add_option("--vocational", vocational_target)->required();
  app.add_option("--jwt-secret-file", secret_file)->required();
  app.add_option("--pids", pids_arg, "service=pid,...")->required();
  app.add_option("--seconds", seconds, "length of the soak");
  app.add_option("--window", window_s, "seconds per reported window");
  app.add_option("--warmup", warmup_s,
                 "seconds at the soak rate before memory is measured");
  app.add_option("--calibrate", calibrate_s, "seconds of the capacity run");
  std::string only;
  app.add_option("--only", only,
                 "run only the calls whose name contains this (diagnosis)");
  CLI11_PARSE(app, argc, argv);

  std::string secret;
  {
    std::ifstream in(secret_file);
    std::getline(in, secret);
  }
  std::map<std::string, int> pids;
  for (absl::string_view kv : absl::StrSplit(pids_arg, ',')) {
    std::pair<std::string, std::string> p = absl::StrSplit(kv, '=');
    pids[p.first] = std::stoi(p.second);
  }

  // Officers of the demo's two counties and their city, 16 principals each,
  // as a platform with many users would call.
  std::vector<std::string> tokens;
  for (int i = 0; i < 48; ++i) {
    TokenClaims c;
    c.subject = absl::StrCat("soak-", i);
    c.role = i % 3 == 2 ? Role::kCityOfficer : Role::kCountyOfficer;
    c.region = i % 3 == 0 ? "411325" : i % 3 == 1 ? "411326" : "4113";
    c.ttl = std::chrono::seconds(seconds + 3600);
    tokens.push_back(MintHs256Token(c, secret));
  }
  TokenClaims admin_claims;
  admin_claims.subject = "soak-setup";
  admin_claims.role = Role::kProvinceOfficer;
  const std::string admin = MintHs256Token(admin_claims, secret);

  auto creds = grpc::InsecureChannelCredentials();
  auto registry = rpb::StudentRegistryService::NewStub(
      grpc::CreateChannel(registry_target, creds));
  auto ledger = lpb::SubsidyLedgerService::NewStub(
      grpc::CreateChannel(ledger_target, creds));
  auto teacher = tpb::TeacherSupportService::NewStub(
      grpc::CreateChannel(teacher_target, creds));
  auto vocational = vpb::VocationalTrainingService::NewStub(
      grpc::CreateChannel(vocational_target, creds));

  // The demo's students: member ids for reads, and full rows (read as a
  // province officer) for re-imports.
  std::vector<rpb::Student> students;
  {
    rpb::ListStudentsRequest req;
    req.set_region_prefix("4113");
    req.set_page_size(500);
    do {
      rpb::ListStudentsResponse resp;
      grpc::ClientContext ctx;
      ctx.AddMetadata("authorization", "Bearer " + admin);
      grpc::Status s = registry->ListStudents(&ctx, req, &resp);
      if (!s.ok()) {
        fprintf(stderr, "ListStudents: %s\n", s.error_message().c_str());
        return 1;
      }
      for (const auto& st : resp.students()) {
        rpb::GetStudentRequest g;
        g.set_member_id(st.member_id());
        rpb::GetStudentResponse gr;
        grpc::ClientContext gctx;
        gctx.AddMetadata("authorization", "Bearer " + admin);
        if (registry->GetStudent(&gctx, g, &gr).ok())
          students.push_back(gr.student());
      }
      req.set_page_token(resp.next_page_token());
    } while (!req.page_token().empty());
  }
  if (students.empty()) {
    fprintf(stderr, "the suite has no students: load the demo first\n");
    return 1;
  }
  // Only officers whose region covers the student may read it.
  auto token_for = [&](const rpb::Student& s, int64_t i) -> std::string {
    // Tokens cycle 411325, 411326, 4113; pick one of the right county.
    int county = s.region_code().rfind("411325", 0) == 0   ? 0
                 : s.region_code().rfind("411326", 0) == 0 ? 1
                                                           : 2;
    return tokens[(i % 16) * 3 + county];
  };

  std::vector<Op> ops;
  ops.push_back({"registry.GetStudent", 40,
                 [&](int64_t i, const std::string&, Done done) {
                   const auto& s = students[i % students.size()];
                   rpb::GetStudentRequest req;
                   req.set_member_id(s.member_id());
                   Unary<rpb::GetStudentRequest, rpb::GetStudentResponse>(
                       ASYNC(registry, GetStudent), token_for(s, i),
                       std::move(req), std::move(done));
                 }});
  auto prefix_of = [](int64_t i) {
    return i % 3 == 0 ? "411325" : i % 3 == 1 ? "411326" : "4113";
  };
  ops.push_back({"registry.ListStudents", 10,
                 [&](int64_t i, const std::string& token, Done done) {
                   rpb::ListStudentsRequest req;
                   req.set_region_prefix(prefix_of(i % tokens.size()));
                   req.set_page_size(20);
                   Unary<rpb::ListStudentsRequest, rpb::ListStudentsResponse>(
                       ASYNC(registry, ListStudents), token, std::move(req),
                       std::move(done));
                 }});
  ops.push_back({"registry.GetCoverage", 5,
                 [&](int64_t i, const std::string& token, Done done) {
                   rpb::GetCoverageRequest req;
                   req.set_region_prefix(prefix_of(i % tokens.size()));
                   Unary<rpb::GetCoverageRequest, rpb::GetCoverageResponse>(
                       ASYNC(registry, GetCoverage), token, std::move(req),
                       std::move(done));
                 }});
  ops.push_back(
      {"registry.ImportHouseholds", 2,
       [&](int64_t i, const std::string&, Done done) {
         // Re-registers one student's row (an update: the row
         // count does not grow, the request log does).
         const auto& s = students[(i / 7) % students.size()];
         rpb::ImportHouseholdsRequest req;
         req.set_request_id(absl::StrCat("soak-", getpid(), "-", i));
         req.set_skip_identification(true);
         auto* r = req.add_rows();
         r->set_row_number(1);
         r->set_household_id(s.household_id());
         r->set_region_code(s.region_code());
         r->set_registration_year(s.registration_year());
         r->set_household_status(s.household_status());
         r->set_id_number(s.id_number());
         r->set_name(s.name());
         r->set_relation(s.relation());
         Unary<rpb::ImportHouseholdsRequest, rpb::ImportHouseholdsResponse>(
             ASYNC(registry, ImportHouseholds), token_for(s, i), std::move(req),
             std::move(done));
       }});
  ops.push_back(
      {"ledger.ListEntitlements", 10,
       [&](int64_t i, const std::string& token, Done done) {
         lpb::ListEntitlementsRequest req;
         req.set_region_prefix(prefix_of(i % tokens.size()));
         req.set_page_size(20);
         Unary<lpb::ListEntitlementsRequest, lpb::ListEntitlementsResponse>(
             ASYNC(ledger, ListEntitlements), token, std::move(req),
             std::move(done));
       }});
  ops.push_back(
      {"ledger.GetTrialBalance", 3,
       [&](int64_t i, const std::string& token, Done done) {
         lpb::GetTrialBalanceRequest req;
         req.set_region_prefix(prefix_of(i % tokens.size()));
         Unary<lpb::GetTrialBalanceRequest, lpb::GetTrialBalanceResponse>(
             ASYNC(ledger, GetTrialBalance), token, std::move(req),
             std::move(done));
       }});
  ops.push_back({"teacher.ListTeachers", 10,
                 [&](int64_t i, const std::string& token, Done done) {
                   tpb::ListTeachersRequest req;
                   req.set_region_prefix(prefix_of(i % tokens.size()));
                   req.set_page_size(20);
                   Unary<tpb::ListTeachersRequest, tpb::ListTeachersResponse>(
                       ASYNC(teacher, ListTeachers), token, std::move(req),
                       std::move(done));
                 }});
  ops.push_back({"teacher.ListCampaigns", 5,
                 [&](int64_t i, const std::string& token, Done done) {
                   tpb::ListCampaignsRequest req;
                   req.set_region_prefix(prefix_of(i % tokens.size()));
                   Unary<tpb::ListCampaignsRequest, tpb::ListCampaignsResponse>(
                       ASYNC(teacher, ListCampaigns), token, std::move(req),
                       std::move(done));
                 }});
  ops.push_back({"vocational.ListCourses", 10,
                 [&](int64_t i, const std::string& token, Done done) {
                   vpb::ListCoursesRequest req;
                   req.set_region_prefix(prefix_of(i % tokens.size()));
                   Unary<vpb::ListCoursesRequest, vpb::ListCoursesResponse>(
                       ASYNC(vocational, ListCourses), token, std::move(req),
                       std::move(done));
                 }});
  ops.push_back({"vocational.GetReport", 5,
                 [&](int64_t i, const std::string& token, Done done) {
                   vpb::GetReportRequest req;
                   req.set_region_prefix(prefix_of(i % tokens.size()));
                   Unary<vpb::GetReportRequest, vpb::GetReportResponse>(
                       ASYNC(vocational, GetReport), token, std::move(req),
                       std::move(done));
                 }});
  if (!only.empty()) {
    ops.erase(std::remove_if(ops.begin(), ops.end(),
                             [&](const Op& op) {
                               return op.name.find(only) == std::string::npos;
                             }),
              ops.end());
    if (ops.empty()) {
      fprintf(stderr, "--only %s matches no call\n", only.c_str());
      return 1;
    }
  }
  int total_weight = 0;
  for (const auto& op : ops) total_weight += op.weight;

  // Capacity: the same mix, closed loop, 64 calls in flight.
  std::vector<size_t> wheel;
  for (size_t k = 0; k < ops.size(); ++k)
    for (int w = 0; w < ops[k].weight; ++w) wheel.push_back(k);
  LoadResult cap = RunClosedLoop(
      64, std::chrono::seconds(calibrate_s),
      [&](int64_t i, std::function<void(const grpc::Status&)> done) {
        ops[wheel[i % wheel.size()]].start(i, tokens[i % tokens.size()],
                                           std::move(done));
      });
  const double rate = cap.qps / 2;

  printf("# Soak\n\n");
  printf(
      "A mixed workload over all four services, started as `make run` "
      "starts them (SQLite, a private Redis, the demo county), at half the "
      "capacity measured in the same run. Load generator on the same "
      "machine.\n\n");
  printf("## The mix\n\n| call | share |\n|---|---|\n");
  for (const auto& op : ops)
    printf("| %s | %d%% |\n", op.name.c_str(), op.weight * 100 / total_weight);
  printf(
      "\n%zu students, %zu principals (county and city officers of the two "
      "demo counties).\n\n",
      students.size(), tokens.size());
  printf("## Capacity (closed loop, 64 in flight, %d s)\n\n", calibrate_s);
  printf("| QPS | p50 ms | p99 ms | errors |\n|---|---|---|---|\n");
  printf("| %.0f | %.2f | %.2f | %lld |\n\n", cap.qps, cap.p50_ms, cap.p99_ms,
         static_cast<long long>(cap.errors));
  fflush(stdout);

  // The soak: an open loop at `rate`, ticking every millisecond.
  OpenLoop loop(ops, tokens, 4096);
  std::vector<Window> windows;
  std::map<std::string, double> rss_start, rss_peak;
  std::map<std::string, std::pair<double, double>> parts_start;
  const auto begin = Clock::now();
  const auto warm_end = begin + std::chrono::seconds(warmup_s);
  const auto end = warm_end + std::chrono::seconds(seconds);
  auto next_cut = begin + std::chrono::seconds(window_s);
  int64_t issued = 0;
  bool measured_start = false;
  while (true) {
    auto now = Clock::now();
    if (now >= end) break;
    const double elapsed = std::chrono::duration<double>(now - begin).count();
    const int64_t due = static_cast<int64_t>(elapsed * rate);
    while (issued < due) loop.Start(issued++);
    if (!measured_start && now >= warm_end) {
      for (auto& [svc, pid] : pids) {
        rss_start[svc] = RssMiB(pid);
        parts_start[svc] = RssParts(pid);
      }
      loop.Cut();  // warm-up figures are not reported
      windows.clear();
      next_cut = now + std::chrono::seconds(window_s);
      measured_start = true;
    }
    if (measured_start && now >= next_cut) {
      Window w = loop.Cut();
      w.t_end_s = std::chrono::duration<double>(now - warm_end).count();
      for (auto& [svc, pid] : pids) {
        w.rss[svc] = RssMiB(pid);
        rss_peak[svc] = std::max(rss_peak[svc], w.rss[svc]);
      }
      windows.push_back(std::move(w));
      next_cut += std::chrono::seconds(window_s);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  while (loop.in_flight() > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  {
    Window w = loop.Cut();
    w.t_end_s = std::chrono::duration<double>(Clock::now() - warm_end).count();
    for (auto& [svc, pid] : pids) {
      w.rss[svc] = RssMiB(pid);
      rss_peak[svc] = std::max(rss_peak[svc], w.rss[svc]);
    }
    windows.push_back(std::move(w));
  }

  int64_t calls = 0, errors = 0;
  for (const auto& w : windows) {
    calls += w.calls;
    errors += w.errors;
  }
  printf("## The soak: %.0f calls/s for %d s (after %d s of warm-up)\n\n", rate,
         seconds, warmup_s);
  printf("| window ends s | calls | calls/s | errors | p50 ms | p99 ms |");
  for (auto& [svc, pid] : pids) printf(" %s RSS MiB |", svc.c_str());
  printf("\n|---|---|---|---|---|---|");
  for (size_t k = 0; k < pids.size(); ++k) printf("---|");
  printf("\n");
  double prev_t = 0;
  for (const auto& w : windows) {
    printf("| %.0f | %lld | %.0f | %lld | %.2f | %.2f |", w.t_end_s,
           static_cast<long long>(w.calls),
           w.calls / std::max(1e-9, w.t_end_s - prev_t),
           static_cast<long long>(w.errors), w.p50_ms, w.p99_ms);
    for (auto& [svc, rss] : w.rss) printf(" %.1f |", rss);
    printf("\n");
    prev_t = w.t_end_s;
  }
  printf("\n## Result\n\n");
  printf(
      "| service | RSS after warm-up MiB | RSS at end MiB | peak MiB | "
      "growth | private (RssAnon) MiB | file-mapped (RssFile) MiB "
      "|\n|---|---|---|---|---|---|---|\n");
  double worst_growth = 0;
  for (auto& [svc, pid] : pids) {
    double a = rss_start[svc], b = windows.back().rss[svc];
    double g = a > 0 ? (b - a) / a : 0;
    worst_growth = std::max(worst_growth, g);
    auto end_parts = RssParts(pid);
    printf(
        "| %s | %.1f | %.1f | %.1f | %+.1f%% | %.1f → %.1f | %.1f → %.1f |\n",
        svc.c_str(), a, b, rss_peak[svc], g * 100, parts_start[svc].first,
        end_parts.first, parts_start[svc].second, end_parts.second);
  }
  printf("\nCalls: %lld, errors: %lld. ", static_cast<long long>(calls),
         static_cast<long long>(errors));
  const bool pass = errors == 0 && worst_growth < 0.05;
  printf(
      "Largest RSS growth %.1f%% (target: zero errors, growth under 5%%): "
      "**%s**.\n",
      worst_growth * 100, pass ? "passed" : "FAILED");
  auto kinds = loop.error_kinds();
  if (!kinds.empty()) {
    printf("\nErrors by kind:\n\n");
    for (auto& [k, n] : kinds)
      printf("- %s: %lld\n", k.c_str(), static_cast<long long>(n));
  }
  printf("\n");
  return pass ? 0 : 2;
}
