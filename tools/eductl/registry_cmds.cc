// eductl commands of the student registry, `token`, `gen` and `demo`.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "eduaid/registry/v1/registry.grpc.pb.h"
#include "services/common/auth.h"
#include "services/common/crypto.h"
#include "services/common/validate.h"
#include "tools/eductl/cli_common.h"
#include "tools/eductl/ctl.h"
#include "tools/gen/csv_reader.h"
#include "tools/gen/synthetic.h"

namespace eductl {
namespace {

namespace rpb = ::eduaid::registry::v1;
namespace cpb = ::eduaid::common::v1;
using Env = ServiceEnv<rpb::StudentRegistryService, &Ctl::registry>;
using Stub = Env::Stub;

const std::pair<const char*, cpb::SchoolStage> kStageNames[] = {
    {"学前 preschool", cpb::SCHOOL_STAGE_PRESCHOOL},
    {"小学 primary", cpb::SCHOOL_STAGE_PRIMARY},
    {"初中 junior_high", cpb::SCHOOL_STAGE_JUNIOR_HIGH},
    {"高中 senior_high", cpb::SCHOOL_STAGE_SENIOR_HIGH},
    {"中职 secondary_vocational", cpb::SCHOOL_STAGE_SECONDARY_VOCATIONAL},
    {"高等 higher", cpb::SCHOOL_STAGE_HIGHER}};

const char* StageName(int stage) {
  return WordOf(kStageNames, static_cast<cpb::SchoolStage>(stage), "-");
}

const std::pair<const char*, rpb::EnrolmentStatus> kEnrolmentStatuses[] = {
    {"enrolled", rpb::ENROLMENT_STATUS_ENROLLED},
    {"在读", rpb::ENROLMENT_STATUS_ENROLLED},
    {"suspended", rpb::ENROLMENT_STATUS_SUSPENDED},
    {"休学", rpb::ENROLMENT_STATUS_SUSPENDED},
    {"dropped_out", rpb::ENROLMENT_STATUS_DROPPED_OUT},
    {"辍学", rpb::ENROLMENT_STATUS_DROPPED_OUT},
    {"graduated", rpb::ENROLMENT_STATUS_GRADUATED},
    {"毕业", rpb::ENROLMENT_STATUS_GRADUATED},
    {"transferred", rpb::ENROLMENT_STATUS_TRANSFERRED},
    {"转学", rpb::ENROLMENT_STATUS_TRANSFERRED}};

rpb::EnrolmentStatus ParseEnrolmentStatus(const std::string& s) {
  return ParseWord(kEnrolmentStatuses, s, rpb::ENROLMENT_STATUS_UNSPECIFIED);
}

const std::pair<const char*, rpb::Relation> kRelations[] = {
    {"head", rpb::RELATION_HEAD},
    {"户主", rpb::RELATION_HEAD},
    {"spouse", rpb::RELATION_SPOUSE},
    {"配偶", rpb::RELATION_SPOUSE},
    {"child", rpb::RELATION_CHILD},
    {"子女", rpb::RELATION_CHILD},
    {"grandchild", rpb::RELATION_GRANDCHILD},
    {"孙子女", rpb::RELATION_GRANDCHILD},
    {"parent", rpb::RELATION_PARENT},
    {"父母", rpb::RELATION_PARENT},
    {"sibling", rpb::RELATION_SIBLING},
    {"兄弟姐妹", rpb::RELATION_SIBLING},
    {"other", rpb::RELATION_OTHER},
    {"其他", rpb::RELATION_OTHER}};

rpb::Relation ParseRelation(const std::string& s) {
  return ParseWord(kRelations, s, rpb::RELATION_UNSPECIFIED);
}

const std::pair<const char*, cpb::HouseholdStatus> kHouseholdStatuses[] = {
    {"poor", cpb::HOUSEHOLD_STATUS_POOR},
    {"贫困", cpb::HOUSEHOLD_STATUS_POOR},
    {"lifted", cpb::HOUSEHOLD_STATUS_LIFTED},
    {"已脱贫", cpb::HOUSEHOLD_STATUS_LIFTED}};

cpb::HouseholdStatus ParseHouseholdStatus(const std::string& s) {
  return ParseWord(kHouseholdStatuses, s, cpb::HOUSEHOLD_STATUS_UNSPECIFIED);
}

int32_t ToInt(const std::string& s) {
  int32_t v = 0;
  return absl::SimpleAtoi(s, &v) ? v : -1;
}

rpb::HouseholdMemberRow ToProto(const std::vector<std::string>& f, int64_t rn) {
  rpb::HouseholdMemberRow row;
  row.set_row_number(rn);
  auto at = [&](size_t i) { return i < f.size() ? f[i] : std::string(); };
  row.set_household_id(at(0));
  row.set_region_code(at(1));
  row.set_registration_year(ToInt(at(2)));
  row.set_household_status(ParseHouseholdStatus(at(3)));
  row.set_id_number(at(4));
  row.set_name(at(5));
  row.set_relation(ParseRelation(at(6)));
  return row;
}

rpb::EnrolmentRow ToEnrolment(const std::vector<std::string>& f, int64_t rn) {
  rpb::EnrolmentRow row;
  row.set_row_number(rn);
  auto at = [&](size_t i) { return i < f.size() ? f[i] : std::string(); };
  row.set_id_number(at(0));
  row.set_school_code(at(1));
  row.set_stage(ParseStage(at(2)));
  row.set_grade(ToInt(at(3)));
  ParseTerm(at(4), row.mutable_term());
  row.set_status(ParseEnrolmentStatus(at(5)));
  row.set_boarder(at(6) == "1" || at(6) == "true");
  return row;
}

rpb::School ToSchool(const std::vector<std::string>& f) {
  rpb::School s;
  auto at = [&](size_t i) { return i < f.size() ? f[i] : std::string(); };
  s.set_code(at(0));
  s.set_name(at(1));
  s.set_region_code(at(2));
  for (absl::string_view st : absl::StrSplit(at(3), ';', absl::SkipEmpty())) {
    s.add_stages(ParseStage(std::string(st)));
  }
  s.set_rural(at(4) == "1" || at(4) == "true");
  return s;
}

// Rejects, at the edge, a CSV record holding bytes that are not UTF-8 (the
// server never sees them: protobuf strings must be UTF-8). Returns false and
// records the row error when a field is invalid.
bool CheckUtf8(const std::vector<std::string>& fields, int64_t rn,
               const char* header, std::vector<cpb::RowError>* errors,
               int64_t* rejected) {
  std::vector<std::string> names = absl::StrSplit(header, ',');
  for (size_t i = 0; i < fields.size(); ++i) {
    if (!eduaid::IsValidUtf8(fields[i])) {
      cpb::RowError e;
      e.set_row_number(rn);
      e.set_field(i < names.size() ? names[i]
                                   : "column " + std::to_string(i + 1));
      e.set_rule("must be valid UTF-8 (rejected by eductl)");
      errors->push_back(std::move(e));
      ++*rejected;
      return false;
    }
  }
  return true;
}

void ProgressBar(double fraction, int64_t rows, double seconds) {
  if (!isatty(2)) return;
  int width = 30;
  int filled = static_cast<int>(fraction * width);
  fprintf(stderr, "\r[%s%s] %3d%% %lld rows %.0f rows/s",
          std::string(filled, '#').c_str(),
          std::string(width - filled, ' ').c_str(),
          static_cast<int>(fraction * 100), static_cast<long long>(rows),
          seconds > 0 ? rows / seconds : 0.0);
}

struct ImportTotals {
  int64_t accepted = 0, rejected = 0, created = 0, updated = 0;
  std::vector<cpb::RowError> errors;
  rpb::IdentificationSummary identification;
};

void PrintErrors(const std::vector<cpb::RowError>& errors, size_t limit) {
  for (size_t i = 0; i < errors.size() && i < limit; ++i) {
    std::cout << "  row " << errors[i].row_number() << ": " << errors[i].field()
              << ": " << errors[i].rule() << "\n";
  }
  if (errors.size() > limit) {
    std::cout << "  ... and " << errors.size() - limit << " more\n";
  }
}

void PrintSummary(const rpb::IdentificationSummary& s) {
  std::cout << "identification run " << s.run_id() << " as of " << s.as_of()
            << ": members " << s.members() << ", school-age (6-15) "
            << s.school_age() << ", identified on rosters " << s.identified()
            << ", out of school " << s.out_of_school() << " (new "
            << s.newly_out_of_school() << ", back " << s.back_in_school()
            << ")\n";
  for (const auto& st : s.by_stage()) {
    std::cout << "  " << StageName(st.stage()) << ": " << st.students() << "\n";
  }
}

// Keeps up to two import calls in flight, so that the server validates and
// encrypts one batch while it writes the previous one.
class ImportPipeline {
 public:
  explicit ImportPipeline(Ctl& ctl)
      : stub_(rpb::StudentRegistryService::NewStub(ctl.Channel(ctl.registry))),
        ctl_(ctl) {}

  // Sends `rows` (moved out). Returns false once any call has failed.
  bool Send(std::vector<rpb::HouseholdMemberRow>& rows, ImportTotals* totals) {
    auto call = std::make_shared<Call>();
    for (auto& r : rows) *call->req.add_rows() = std::move(r);
    rows.clear();
    call->req.set_skip_identification(true);
    call->req.set_request_id(
        "imp-" +
        eduaid::Sha256Hex(call->req.SerializeAsString()).substr(0, 40));
    call->ctx = ctl_.Context();
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return inflight_ < 2; });
    if (failed_) return false;
    ++inflight_;
    lock.unlock();
    stub_->async()->ImportHouseholds(
        call->ctx.get(), &call->req, &call->resp,
        [this, call, totals](grpc::Status st) {
          std::lock_guard<std::mutex> l(mu_);
          if (st.ok()) {
            totals->accepted += call->resp.accepted_rows();
            totals->rejected += call->resp.rejected_rows();
            totals->created += call->resp.members_created();
            totals->updated += call->resp.members_updated();
            for (const auto& e : call->resp.errors())
              totals->errors.push_back(e);
          } else if (!failed_) {
            failed_ = true;
            status_ = st;
          }
          --inflight_;
          cv_.notify_all();
        });
    return true;
  }

  // Waits for every call; returns the first failure's exit code or 0.
  int Finish() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return inflight_ == 0; });
    return failed_ ? Fail(status_) : 0;
  }

 private:
  struct Call {
    rpb::ImportHouseholdsRequest req;
    rpb::ImportHouseholdsResponse resp;
    std::unique_ptr<grpc::ClientContext> ctx;
  };
  std::unique_ptr<rpb::StudentRegistryService::Stub> stub_;
  Ctl& ctl_;
  std::mutex mu_;
  std::condition_variable cv_;
  int inflight_ = 0;
  bool failed_ = false;
  grpc::Status status_;
};

// Recomputes identification after a bulk import.
int Identify(Ctl& ctl, ImportTotals* totals) {
  auto stub = rpb::StudentRegistryService::NewStub(ctl.Channel(ctl.registry));
  rpb::RunIdentificationRequest req;
  req.set_request_id(Ctl::NewRequestId());
  rpb::RunIdentificationResponse resp;
  auto ctx = ctl.Context();
  grpc::Status st = stub->RunIdentification(ctx.get(), req, &resp);
  if (!st.ok()) return Fail(st);
  totals->identification = resp.summary();
  return 0;
}

// Sends member rows as one call, recomputing identification after it.
int SendHouseholds(Ctl& ctl, std::vector<rpb::HouseholdMemberRow>& rows,
                   ImportTotals* totals) {
  auto stub = rpb::StudentRegistryService::NewStub(ctl.Channel(ctl.registry));
  rpb::ImportHouseholdsRequest req;
  for (auto& r : rows) *req.add_rows() = std::move(r);
  rows.clear();
  req.set_request_id("imp-" +
                     eduaid::Sha256Hex(req.SerializeAsString()).substr(0, 40));
  rpb::ImportHouseholdsResponse resp;
  auto ctx = ctl.Context();
  grpc::Status st = stub->ImportHouseholds(ctx.get(), req, &resp);
  if (!st.ok()) return Fail(st);
  totals->accepted += resp.accepted_rows();
  totals->rejected += resp.rejected_rows();
  totals->created += resp.members_created();
  totals->updated += resp.members_updated();
  for (const auto& e : resp.errors()) totals->errors.push_back(e);
  if (resp.has_identification()) totals->identification = resp.identification();
  return 0;
}

int SendEnrolments(Ctl& ctl, std::vector<rpb::EnrolmentRow>& rows, bool last,
                   ImportTotals* totals) {
  auto stub = rpb::StudentRegistryService::NewStub(ctl.Channel(ctl.registry));
  rpb::RecordEnrolmentsRequest req;
  for (auto& r : rows) *req.add_rows() = std::move(r);
  rows.clear();
  req.set_skip_identification(!last);
  req.set_request_id("enr-" +
                     eduaid::Sha256Hex(req.SerializeAsString()).substr(0, 40));
  rpb::RecordEnrolmentsResponse resp;
  auto ctx = ctl.Context();
  grpc::Status st = stub->RecordEnrolments(ctx.get(), req, &resp);
  if (!st.ok()) return Fail(st);
  totals->accepted += resp.accepted_rows();
  totals->rejected += resp.rejected_rows();
  totals->updated += resp.unchanged_rows();
  for (const auto& e : resp.errors()) totals->errors.push_back(e);
  if (resp.has_identification()) totals->identification = resp.identification();
  return 0;
}

int UpsertSchools(Ctl& ctl, const std::vector<rpb::School>& schools) {
  auto stub = rpb::StudentRegistryService::NewStub(ctl.Channel(ctl.registry));
  for (const auto& s : schools) {
    rpb::UpsertSchoolRequest req;
    *req.mutable_school() = s;
    req.set_request_id(
        "sch-" + eduaid::Sha256Hex(req.SerializeAsString()).substr(0, 40));
    rpb::UpsertSchoolResponse resp;
    auto ctx = ctl.Context();
    grpc::Status st = stub->UpsertSchool(ctx.get(), req, &resp);
    if (!st.ok()) {
      std::cerr << "school " << s.code() << ": ";
      return Fail(st);
    }
  }
  return 0;
}

void PrintCoverage(const rpb::GetCoverageResponse& r) {
  printf("coverage as of %s (identification run %lld)\n", r.as_of().c_str(),
         static_cast<long long>(r.run_id()));
  printf("%-8s %-8s %8s %8s %8s %8s %8s %8s %8s\n", "region", "", "househ.",
         "members", "age6-15", "rostered", "inschool", "outschl", "cases");
  auto line = [](const rpb::RegionCoverage& g, const std::string& label) {
    printf("%-8s %-8s %8lld %8lld %8lld %8lld %8lld %8lld %8lld\n",
           g.region_code().empty() ? "all" : g.region_code().c_str(),
           label.c_str(), static_cast<long long>(g.households()),
           static_cast<long long>(g.members()),
           static_cast<long long>(g.school_age()),
           static_cast<long long>(g.identified()),
           static_cast<long long>(g.in_school()),
           static_cast<long long>(g.out_of_school()),
           static_cast<long long>(g.open_cases()));
  };
  for (const auto& g : r.regions()) {
    line(g, eduaid::synthetic::CountyName(g.region_code()));
  }
  line(r.total(), "合计");
}

}  // namespace

// $EDUAID_JWT_SECRET, else the first line of `secret_file` ("" when
// neither gives one).
std::string JwtSecret(const std::string& secret_file) {
  std::string secret;
  if (const char* env = std::getenv("EDUAID_JWT_SECRET"); env && *env) {
    secret = env;
  } else {
    std::ifstream in(secret_file);
    std::getline(in, secret);
  }
  return secret;
}

// t-<n> (n > 0) and a 6-digit region: what the services require of a
// teacher's token (services/common/auth.cc, CheckScopeClaims).
bool IsTeacherSubject(const std::string& subject, const std::string& region) {
  int64_t n = 0;
  bool digits = region.size() == 6 &&
                std::all_of(region.begin(), region.end(),
                            [](char c) { return c >= '0' && c <= '9'; });
  return subject.rfind("t-", 0) == 0 &&
         absl::SimpleAtoi(subject.substr(2), &n) && n > 0 && digits;
}

void AddTokenCommand(CLI::App& app, Ctl& ctl, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "token",
      "Mint a local HS256 token (local runs; production tokens come "
      "from the identity provider)");
  struct Opts {
    std::string role = "province_officer", region, subject = "officer-a",
                school, secret_file = "var/keys/jwt.secret";
    int ttl = 8 * 3600;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--role", o->role,
                  "province_officer|city_officer|county_officer|"
                  "school_officer|auditor|agency|service|teacher")
      ->capture_default_str();
  cmd->add_option("--region", o->region, "Region code prefix of the scope");
  cmd->add_option("--subject", o->subject,
                  "Who the token names (a teacher: the teacher id, t-12)")
      ->capture_default_str();
  cmd->add_option("--school", o->school, "School code (school officers)");
  cmd->add_option("--ttl", o->ttl, "Seconds of validity")
      ->capture_default_str();
  cmd->add_option(
         "--secret-file", o->secret_file,
         "HS256 secret (default: the local run's; or $EDUAID_JWT_SECRET)")
      ->capture_default_str();
  cmd->callback([o, &exit_code] {
    auto role = eduaid::ParseRole(o->role);
    if (!role.ok()) {
      std::cerr << "error: " << role.status().message() << "\n";
      exit_code = 2;
      return;
    }
    if (*role == eduaid::Role::kSchoolOfficer &&
        (o->school.empty() || o->region.size() != 6)) {
      std::cerr << "error: a school_officer token needs --school CODE and "
                   "its 6-digit county as --region\n";
      exit_code = 2;
      return;
    }
    if (*role == eduaid::Role::kTeacher &&
        !IsTeacherSubject(o->subject, o->region)) {
      std::cerr << "error: a teacher token needs --subject t-<n> (the "
                   "teacher id) and the 6-digit county of the teacher's "
                   "school as --region\n";
      exit_code = 2;
      return;
    }
    std::string secret = JwtSecret(o->secret_file);
    if (secret.empty()) {
      std::cerr << "error: no secret: run `make run` first (it writes "
                << o->secret_file << ") or set EDUAID_JWT_SECRET\n";
      exit_code = 1;
      return;
    }
    eduaid::TokenClaims c;
    c.subject = o->subject;
    c.role = *role;
    c.region = o->region;
    c.school = o->school;
    c.ttl = std::chrono::seconds(o->ttl);
    std::cout << eduaid::MintHs256Token(c, secret) << "\n";
  });
}

namespace {

void AddGenCommand(CLI::App& app, Env env) {
  auto* cmd = app.add_subcommand(
      "gen",
      "Write synthetic CSV files of Nanyang counties (schools, "
      "households, enrolments)");
  auto o = std::make_shared<eduaid::synthetic::Options>();
  auto dir = std::make_shared<std::string>(".");
  auto regions = std::make_shared<std::string>();
  cmd->add_option("--households", o->households, "Households")
      ->capture_default_str();
  cmd->add_option("--regions", *regions,
                  "Comma-separated county codes (default: all 13)");
  cmd->add_option("--bad-rate", o->bad_rate, "Share of bad member rows")
      ->capture_default_str();
  cmd->add_option("--dup-rate", o->dup_rate, "Share of duplicated member rows")
      ->capture_default_str();
  cmd->add_option("--out-of-school-rate", o->out_of_school_rate,
                  "Share of children aged 6-15 out of school")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  cmd->add_option("--term-year", o->term_year, "Autumn term year")
      ->capture_default_str();
  cmd->add_option("--out-dir", *dir, "Where to write the CSV files")
      ->capture_default_str();
  cmd->callback([env, o, dir, regions] {
    if (!regions->empty())
      o->regions = absl::StrSplit(*regions, ',', absl::SkipEmpty());
    auto data = eduaid::synthetic::Generate(*o);
    std::ofstream h(*dir + "/households.csv"), s(*dir + "/schools.csv"),
        e(*dir + "/enrolments.csv");
    if (!h || !s || !e) {
      std::cerr << "error: cannot write into " << *dir << "\n";
      env.exit_code = 1;
      return;
    }
    eduaid::synthetic::WriteHouseholdsCsv(data.members, h);
    eduaid::synthetic::WriteSchoolsCsv(data.schools, s);
    eduaid::synthetic::WriteEnrolmentsCsv(data.enrolments, e);
    std::cout << "wrote " << data.schools.size() << " schools, "
              << data.members.size() << " member rows, "
              << data.enrolments.size() << " roster rows to " << *dir
              << " (children 6-15: " << data.children_6_15
              << ", expected out of school: " << data.out_of_school_6_15
              << ")\n";
  });
}

// The options of `import` that its three subcommands share.
struct ImportFlags {
  int batch = 5000;
  std::string errors_file;
};

// Prints an import's totals, and writes its rejected rows to
// flags.errors_file when one is given.
void FinishImport(const ImportTotals& t, const char* what,
                  const ImportFlags& flags) {
  std::cout << "\n"
            << what << ": accepted " << t.accepted << ", rejected "
            << t.rejected << "\n";
  PrintErrors(t.errors, 20);
  if (!flags.errors_file.empty()) {
    std::ofstream out(flags.errors_file);
    out << "row,field,rule\n";
    for (const auto& e : t.errors) {
      out << e.row_number() << "," << e.field() << ",\"" << e.rule() << "\"\n";
    }
  }
  if (t.identification.run_id()) PrintSummary(t.identification);
}

// Streams a household members CSV to the registry, two calls in flight;
// returns the exit code.
int ImportHouseholds(Ctl& ctl, const std::string& file,
                     const ImportFlags& flags) {
  ImportTotals t;
  std::vector<rpb::HouseholdMemberRow> rows;
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
        .count();
  };
  ImportPipeline pipeline(ctl);
  // Rows eductl itself rejects; merged after the calls complete (their
  // callbacks write `t`).
  std::vector<cpb::RowError> local_errors;
  int64_t local_rejected = 0;
  double frac = 0;
  int64_t sent = 0;
  eduaid::synthetic::CsvReader reader;
  bool ok = reader.Read(
      file,
      [&](std::vector<std::string>& f, int64_t rn) {
        if (!CheckUtf8(f, rn, eduaid::synthetic::kHouseholdsHeader,
                       &local_errors, &local_rejected))
          return true;
        rows.push_back(ToProto(f, rn));
        if (static_cast<int>(rows.size()) >= flags.batch) {
          sent += static_cast<int64_t>(rows.size());
          if (!pipeline.Send(rows, &t)) return false;
          ProgressBar(frac, sent, elapsed());
        }
        return true;
      },
      [&](double f) { frac = f; });
  if (ok && !rows.empty()) {
    sent += static_cast<int64_t>(rows.size());
    ok = pipeline.Send(rows, &t);
  }
  int rc = pipeline.Finish();
  t.rejected += local_rejected;
  t.errors.insert(t.errors.end(), local_errors.begin(), local_errors.end());
  std::sort(t.errors.begin(), t.errors.end(),
            [](const cpb::RowError& a, const cpb::RowError& b) {
              return a.row_number() < b.row_number();
            });
  if (rc == 0 && !ok) rc = 1;
  if (rc == 0) rc = Identify(ctl, &t);
  ProgressBar(1, sent, elapsed());
  if (rc == 0) FinishImport(t, "households", flags);
  return rc;
}

// Streams a school roster CSV to the registry; returns the exit code.
int ImportEnrolments(Ctl& ctl, const std::string& file,
                     const ImportFlags& flags) {
  ImportTotals t;
  std::vector<rpb::EnrolmentRow> rows;
  int rc = 0;
  eduaid::synthetic::CsvReader reader;
  bool ok = reader.Read(
      file,
      [&](std::vector<std::string>& f, int64_t rn) {
        if (!CheckUtf8(f, rn, eduaid::synthetic::kEnrolmentsHeader, &t.errors,
                       &t.rejected))
          return true;
        rows.push_back(ToEnrolment(f, rn));
        if (static_cast<int>(rows.size()) >= flags.batch) {
          rc = SendEnrolments(ctl, rows, false, &t);
        }
        return rc == 0;
      },
      nullptr);
  if (ok && rc == 0) {
    rc = rows.empty() ? Identify(ctl, &t) : SendEnrolments(ctl, rows, true, &t);
  }
  if (!ok && rc == 0) rc = 1;
  if (rc == 0) FinishImport(t, "enrolments", flags);
  return rc;
}

void AddImportHouseholdsCommand(CLI::App* imp, Env env,
                                std::shared_ptr<const ImportFlags> flags) {
  auto* hh = imp->add_subcommand(
      "households", "Household members CSV (poverty registration export)");
  auto hfile = std::make_shared<std::string>();
  hh->add_option("file", *hfile, "CSV file")->required();
  hh->callback([env, hfile, flags] {
    env.exit_code = ImportHouseholds(env.ctl, *hfile, *flags);
  });
}

void AddImportEnrolmentsCommand(CLI::App* imp, Env env,
                                std::shared_ptr<const ImportFlags> flags) {
  auto* en = imp->add_subcommand("enrolments", "School roster CSV");
  auto efile = std::make_shared<std::string>();
  en->add_option("file", *efile, "CSV file")->required();
  en->callback([env, efile, flags] {
    env.exit_code = ImportEnrolments(env.ctl, *efile, *flags);
  });
}

void AddImportSchoolsCommand(CLI::App* imp, Env env) {
  auto* sc = imp->add_subcommand("schools", "Schools CSV");
  auto sfile = std::make_shared<std::string>();
  sc->add_option("file", *sfile, "CSV file")->required();
  sc->callback([env, sfile] {
    std::vector<rpb::School> schools;
    eduaid::synthetic::CsvReader reader;
    bool ok = reader.Read(
        *sfile,
        [&](std::vector<std::string>& f, int64_t) {
          schools.push_back(ToSchool(f));
          return true;
        },
        nullptr);
    if (!ok) {
      env.exit_code = 1;
      return;
    }
    env.exit_code = UpsertSchools(env.ctl, schools);
    if (env.exit_code == 0)
      std::cout << "schools: " << schools.size() << " upserted\n";
  });
}

void AddImportCommands(CLI::App& app, Env env) {
  auto* imp =
      app.add_subcommand("import", "Import CSV files into the registry");
  imp->require_subcommand(1);
  auto flags = std::make_shared<ImportFlags>();
  imp->add_option("--batch", flags->batch, "Rows per call")
      ->capture_default_str();
  imp->add_option("--errors-file", flags->errors_file,
                  "Write every rejected row (row,field,rule) to this CSV");
  AddImportHouseholdsCommand(imp, env, flags);
  AddImportEnrolmentsCommand(imp, env, flags);
  AddImportSchoolsCommand(imp, env);
}

void AddDemoCommand(CLI::App& app, Env env) {
  auto* cmd = app.add_subcommand(
      "demo",
      "Load a synthetic county (内乡县 411325 and 淅川县 411326 by "
      "default) into the registry and print its coverage");
  auto o = std::make_shared<eduaid::synthetic::Options>();
  o->households = 300;
  o->regions = {"411325", "411326"};
  o->bad_rate = 0.01;
  o->dup_rate = 0.01;
  o->out_of_school_rate = 0.05;
  o->seed = 2018;
  auto regions = std::make_shared<std::string>();
  cmd->add_option("--households", o->households, "Households")
      ->capture_default_str();
  cmd->add_option("--regions", *regions, "Comma-separated county codes");
  cmd->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  cmd->callback([env, o, regions] {
    if (!regions->empty())
      o->regions = absl::StrSplit(*regions, ',', absl::SkipEmpty());
    auto data = eduaid::synthetic::Generate(*o);
    std::vector<rpb::School> schools;
    for (const auto& s : data.schools) {
      schools.push_back(ToSchool(
          {s.code, s.name, s.region_code, s.stages, s.rural ? "1" : "0"}));
    }
    if ((env.exit_code = UpsertSchools(env.ctl, schools))) return;
    ImportTotals t;
    std::vector<rpb::HouseholdMemberRow> rows;
    int64_t rn = 1;
    for (const auto& m : data.members) {
      rows.push_back(
          ToProto({m.household_id, m.region_code, m.registration_year,
                   m.household_status, m.id_number, m.name, m.relation},
                  ++rn));
    }
    if ((env.exit_code = SendHouseholds(env.ctl, rows, &t))) return;
    std::cout << "households: accepted " << t.accepted << ", rejected "
              << t.rejected << " (bad and duplicated rows, as generated)\n";
    PrintErrors(t.errors, 5);
    ImportTotals te;
    std::vector<rpb::EnrolmentRow> er;
    rn = 1;
    for (const auto& e : data.enrolments) {
      er.push_back(ToEnrolment({e.id_number, e.school_code, e.stage, e.grade,
                                e.term, e.status, e.boarder},
                               ++rn));
    }
    if ((env.exit_code = SendEnrolments(env.ctl, er, true, &te))) return;
    std::cout << "rosters: accepted " << te.accepted << ", rejected "
              << te.rejected << "\n";
    PrintSummary(te.identification);
  });
}

void AddCoverageCommand(CLI::App& app, Env env) {
  auto* cmd = app.add_subcommand("coverage", "Coverage per region");
  auto region = std::make_shared<std::string>();
  cmd->add_option("--region", *region, "Region code prefix");
  cmd->callback([env, region] {
    rpb::GetCoverageRequest req;
    req.set_region_prefix(*region);
    rpb::GetCoverageResponse resp;
    if (!env.Call(&Stub::GetCoverage, req, &resp)) return;
    if (env.ctl.json) {
      PrintJson(resp);
    } else {
      PrintCoverage(resp);
    }
  });
}

void AddIdentifyCommand(CLI::App& app, Env env) {
  auto* cmd = app.add_subcommand(
      "identify", "Recompute identification and the out-of-school list");
  auto as_of = std::make_shared<std::string>();
  cmd->add_option("--as-of", *as_of,
                  "Reference date YYYY-MM-DD (default today)");
  cmd->callback([env, as_of] {
    rpb::RunIdentificationRequest req;
    req.set_request_id(Ctl::NewRequestId());
    req.set_as_of(*as_of);
    rpb::RunIdentificationResponse resp;
    if (!env.Call(&Stub::RunIdentification, req, &resp)) return;
    env.ctl.json ? PrintJson(resp) : PrintSummary(resp.summary());
  });
}

void AddStudentCommand(CLI::App& app, Env env) {
  auto* cmd =
      app.add_subcommand("student", "One student by ID number or member id");
  auto key = std::make_shared<std::string>();
  cmd->add_option("key", *key, "ID number or m-<n>")->required();
  cmd->callback([env, key] {
    rpb::GetStudentRequest req;
    if (key->rfind("m-", 0) == 0) {
      req.set_member_id(*key);
    } else {
      req.set_id_number(*key);
    }
    rpb::GetStudentResponse resp;
    if (!env.Call(&Stub::GetStudent, req, &resp)) return;
    PrintJson(resp.student());
  });
}

void PrintStudent(const rpb::Student& s) {
  printf("%-10s %s %-8s %s %-12s %s %d年级\n", s.member_id().c_str(),
         s.id_number().c_str(), s.name().c_str(), s.region_code().c_str(),
         s.current_enrolment().school_code().c_str(),
         s.current_enrolment().school_name().c_str(),
         s.current_enrolment().grade());
}

void AddStudentsCommand(CLI::App& app, Env env) {
  auto* cmd = app.add_subcommand("students", "Registered students on rosters");
  auto req = std::make_shared<rpb::ListStudentsRequest>();
  auto region = std::make_shared<std::string>(),
       school = std::make_shared<std::string>(),
       stage = std::make_shared<std::string>(),
       status = std::make_shared<std::string>();
  auto all = std::make_shared<bool>(false);
  auto page = std::make_shared<int>(50);
  cmd->add_option("--region", *region, "Region code prefix");
  cmd->add_option("--school", *school, "School code");
  cmd->add_option("--stage", *stage,
                  "preschool|primary|junior_high|senior_high|...");
  cmd->add_option("--status", *status,
                  "enrolled (default)|suspended|dropped_out|graduated");
  cmd->add_option("--page-size", *page, "Rows per page")->capture_default_str();
  cmd->add_flag("--all", *all, "Follow page tokens to the end");
  cmd->callback([env, region, school, stage, status, all, page] {
    rpb::ListStudentsRequest req;
    req.set_region_prefix(*region);
    req.set_school_code(*school);
    if (!stage->empty()) req.set_stage(ParseStage(*stage));
    if (!status->empty()) req.set_status(ParseEnrolmentStatus(*status));
    req.set_page_size(*page);
    if (!env.PrintPages(&Stub::ListStudents, req,
                        &rpb::ListStudentsResponse::students, PrintStudent,
                        *all))
      return;
  });
}

void PrintOutOfSchoolChild(const rpb::OutOfSchoolChild& c) {
  printf("%-10s %s %-8s %s age %2d  first seen %s (%d days)  case %s\n",
         c.member_id().c_str(), c.id_number().c_str(), c.name().c_str(),
         c.region_code().c_str(), c.age(), c.first_seen().c_str(),
         c.days_open(),
         rpb::DropoutCaseState_Name(c.case_state()).c_str() + 20);
}

void AddOutOfSchoolCommand(CLI::App& app, Env env) {
  auto* cmd =
      app.add_subcommand("out-of-school", "The standing leave-no-one-out list");
  auto region = std::make_shared<std::string>();
  cmd->add_option("--region", *region, "Region code prefix");
  cmd->callback([env, region] {
    rpb::ListOutOfSchoolRequest req;
    req.set_region_prefix(*region);
    req.set_page_size(1000);
    int64_t total = 0;
    if (!env.ForEachPage(&Stub::ListOutOfSchool, req,
                         [&](const rpb::ListOutOfSchoolResponse& resp) {
                           total = resp.total();
                           PrintPage(env.ctl, resp, resp.children(),
                                     PrintOutOfSchoolChild);
                         }))
      return;
    if (!env.ctl.json)
      printf("total out of school: %lld\n", static_cast<long long>(total));
  });
}

void AddCaseOpenCommand(CLI::App* cmd, Env env) {
  auto* open =
      cmd->add_subcommand("open", "Open a case for an out-of-school child");
  auto member = std::make_shared<std::string>(),
       note = std::make_shared<std::string>();
  open->add_option("member_id", *member, "m-<n>")->required();
  open->add_option("--note", *note, "Note");
  open->callback([env, member, note] {
    rpb::OpenDropoutCaseRequest req;
    req.set_request_id(Ctl::NewRequestId());
    req.set_member_id(*member);
    req.set_note(*note);
    rpb::OpenDropoutCaseResponse resp;
    if (!env.Call(&Stub::OpenDropoutCase, req, &resp)) return;
    PrintJson(resp.dropout_case());
  });
}

void AddCaseUpdateCommand(CLI::App* cmd, Env env) {
  auto* upd = cmd->add_subcommand(
      "update", "Move a case: visited|returned|exempt|escalated");
  auto case_id = std::make_shared<int64_t>(0);
  auto state = std::make_shared<std::string>(),
       unote = std::make_shared<std::string>();
  upd->add_option("case_id", *case_id, "Case id")->required();
  upd->add_option("state", *state, "visited|returned|exempt|escalated")
      ->required();
  upd->add_option("--note", *unote, "Note (the reason, for exempt)")
      ->required();
  upd->callback([env, case_id, state, unote] {
    rpb::UpdateDropoutCaseRequest req;
    req.set_request_id(Ctl::NewRequestId());
    req.set_case_id(*case_id);
    rpb::DropoutCaseState s = rpb::DROPOUT_CASE_STATE_UNSPECIFIED;
    if (*state == "visited") s = rpb::DROPOUT_CASE_STATE_VISITED;
    if (*state == "returned") s = rpb::DROPOUT_CASE_STATE_RETURNED;
    if (*state == "exempt") s = rpb::DROPOUT_CASE_STATE_EXEMPT;
    if (*state == "escalated") s = rpb::DROPOUT_CASE_STATE_ESCALATED;
    req.set_state(s);
    req.set_note(*unote);
    rpb::UpdateDropoutCaseResponse resp;
    if (!env.Call(&Stub::UpdateDropoutCase, req, &resp)) return;
    PrintJson(resp.dropout_case());
  });
}

void AddCaseListCommand(CLI::App* cmd, Env env) {
  auto* list = cmd->add_subcommand("list", "Cases in a region");
  auto region = std::make_shared<std::string>();
  list->add_option("--region", *region, "Region code prefix");
  list->callback([env, region] {
    rpb::ListDropoutCasesRequest req;
    req.set_region_prefix(*region);
    rpb::ListDropoutCasesResponse resp;
    if (!env.Call(&Stub::ListDropoutCases, req, &resp)) return;
    PrintJson(resp);
  });
}

void AddCaseCommands(CLI::App& app, Env env) {
  auto* cmd = app.add_subcommand("case", "Dropout-control cases (控辍保学)");
  cmd->require_subcommand(1);
  AddCaseOpenCommand(cmd, env);
  AddCaseUpdateCommand(cmd, env);
  AddCaseListCommand(cmd, env);
}

void AddSchoolsCommand(CLI::App& app, Env env) {
  auto* cmd = app.add_subcommand("schools", "List schools");
  auto region = std::make_shared<std::string>();
  cmd->add_option("--region", *region, "Region code prefix");
  cmd->callback([env, region] {
    rpb::ListSchoolsRequest req;
    req.set_region_prefix(*region);
    req.set_page_size(1000);
    rpb::ListSchoolsResponse resp;
    if (!env.Call(&Stub::ListSchools, req, &resp)) return;
    if (env.ctl.json) {
      PrintJson(resp);
      return;
    }
    for (const auto& s : resp.schools()) {
      printf("%-14s %s %s %s\n", s.code().c_str(), s.region_code().c_str(),
             s.rural() ? "rural" : "urban", s.name().c_str());
    }
  });
}

}  // namespace

void AddRegistryCommands(CLI::App& app, Ctl& ctl, int& exit_code) {
  Env env{{ctl, exit_code}};
  AddGenCommand(app, env);
  AddImportCommands(app, env);
  AddDemoCommand(app, env);
  AddCoverageCommand(app, env);
  AddIdentifyCommand(app, env);
  AddStudentCommand(app, env);
  AddStudentsCommand(app, env);
  AddOutOfSchoolCommand(app, env);
  AddCaseCommands(app, env);
  AddSchoolsCommand(app, env);
  AddAuditLogCommand(app, env, "The registry's audit log (auditors)",
                     &Stub::ListAuditEvents);
}

}  // namespace eductl
