// eductl commands of the teacher support service: `eductl teacher ...`
// (teachers, support-teaching rounds, home-visit campaigns, training).
//
// Every mutating command takes --request-id (default: a fresh one); repeat
// a command with the same id after a timeout and the service answers as the
// first time instead of acting twice.
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "eduaid/registry/v1/registry.grpc.pb.h"
#include "eduaid/teacher/v1/teacher.grpc.pb.h"
#include "services/common/crypto.h"
#include "services/ledger/notice/notice_format.h"
#include "tools/eductl/cli_common.h"
#include "tools/eductl/ctl.h"
#include "tools/eductl/row_parsers.h"
#include "tools/gen/csv_reader.h"
#include "tools/gen/synthetic.h"

namespace eductl {
namespace {

namespace tpb = ::eduaid::teacher::v1;
namespace rpb = ::eduaid::registry::v1;
namespace cpb = ::eduaid::common::v1;
using Stub = tpb::TeacherSupportService::Stub;

// "2027-spring", "2026-autumn" (also 春季/秋季).
// The enum value's name without its prefix, lower case ("draft").
std::string Short(const std::string& name, const std::string& prefix) {
  std::string s =
      name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
  for (char& c : s) c = static_cast<char>(std::tolower(c));
  return s;
}

std::vector<std::string> SplitCsvList(const std::string& s, char sep = ',') {
  return absl::StrSplit(s, sep, absl::SkipEmpty());
}

using Env = ServiceEnv<tpb::TeacherSupportService, &Ctl::teacher>;

void PrintRowErrors(
    const google::protobuf::RepeatedPtrField<cpb::RowError>& errors,
    int limit = 20) {
  int n = 0;
  for (const auto& e : errors) {
    if (n++ == limit) {
      printf("  ... and %d more\n", errors.size() - limit);
      break;
    }
    printf("  row %lld: %s: %s\n", static_cast<long long>(e.row_number()),
           e.field().c_str(), e.rule().c_str());
  }
}

// Streams the records of a CSV file, skipping the header; record numbers
// count the header as 1. False (with a message on stderr) when the file
// cannot be read or is not valid CSV.
bool ReadCsv(
    const std::string& path,
    const std::function<void(std::vector<std::string>&, int64_t)>& on_row) {
  eduaid::synthetic::CsvReader reader;
  return reader.Read(
      path,
      [&](std::vector<std::string>& fields, int64_t record) {
        on_row(fields, record);
        return true;
      },
      nullptr);
}

// ---------------------------------------------------------------- teachers

// CSV: id_number,name,school_code,school_name,region_code,rural,stage,
// subjects (;-separated),title,years_of_service,prior_placements
// ("2025-autumn:S411325P2;2026-spring:S411325J2").
tpb::TeacherRow TeacherFromCsv(const std::vector<std::string>& f, int64_t rn) {
  auto at = [&](size_t i) { return i < f.size() ? f[i] : std::string(); };
  tpb::TeacherRow r;
  r.set_row_number(rn);
  r.set_id_number(at(0));
  r.set_name(at(1));
  r.set_school_code(at(2));
  r.set_school_name(at(3));
  r.set_region_code(at(4));
  r.set_rural(at(5) == "1" || at(5) == "true" || at(5) == "rural");
  r.set_stage(ParseStage(at(6)));
  for (const auto& s : SplitCsvList(at(7), ';')) r.add_subjects(s);
  r.set_title(at(8));
  int32_t years = 0;
  r.set_years_of_service(absl::SimpleAtoi(at(9), &years) ? years : -1);
  for (const auto& p : SplitCsvList(at(10), ';')) {
    std::vector<std::string> parts = absl::StrSplit(p, ':');
    auto* pp = r.add_prior_placements();
    if (parts.size() == 2) {
      ParseTerm(parts[0], pp->mutable_term());
      pp->set_school_code(parts[1]);
    }
  }
  return r;
}

int SendTeachers(Env& env, std::vector<tpb::TeacherRow>& rows,
                 tpb::ImportTeachersResponse* total) {
  if (rows.empty()) return 0;
  tpb::ImportTeachersRequest req;
  for (auto& r : rows) *req.add_rows() = std::move(r);
  rows.clear();
  // A content-derived id: re-running an interrupted import repeats safely.
  req.set_request_id("teachers-" +
                     eduaid::Sha256Hex(req.SerializeAsString()).substr(0, 40));
  tpb::ImportTeachersResponse resp;
  if (!env.Call(&Stub::ImportTeachers, req, &resp)) {
    return env.exit_code;
  }
  total->set_accepted_rows(total->accepted_rows() + resp.accepted_rows());
  total->set_rejected_rows(total->rejected_rows() + resp.rejected_rows());
  total->set_teachers_created(total->teachers_created() +
                              resp.teachers_created());
  total->set_teachers_updated(total->teachers_updated() +
                              resp.teachers_updated());
  for (const auto& e : resp.errors()) *total->add_errors() = e;
  return 0;
}

void PrintImportTotal(const tpb::ImportTeachersResponse& t) {
  printf(
      "teachers: accepted %lld (created %lld, updated %lld), rejected %lld\n",
      static_cast<long long>(t.accepted_rows()),
      static_cast<long long>(t.teachers_created()),
      static_cast<long long>(t.teachers_updated()),
      static_cast<long long>(t.rejected_rows()));
  PrintRowErrors(t.errors());
}

// Demo teachers for the synthetic schools of `regions` (the schools `eductl
// demo` loads into the registry): four per school, subjects by stage.
std::vector<tpb::TeacherRow> DemoTeachers(
    const std::vector<std::string>& regions) {
  eduaid::synthetic::Options o;
  o.households = 1;
  o.regions = regions;
  auto data = eduaid::synthetic::Generate(o);
  static const char* kSurnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄",
                                    "赵", "吴", "周", "徐", "孙", "马", "朱",
                                    "胡", "郭", "何", "高", "林", "罗"};
  static const char* kGiven[] = {"静", "敏", "伟", "芳", "娜",   "秀英", "丽",
                                 "强", "磊", "军", "洋", "勇",   "艳",   "杰",
                                 "娟", "涛", "明", "超", "秀兰", "霞"};
  static const std::map<std::string, std::vector<std::string>> kSubjects = {
      {"preschool", {"学前教育", "音乐", "美术"}},
      {"primary", {"语文", "数学", "英语", "音乐", "美术", "体育"}},
      {"junior_high", {"语文", "数学", "英语", "物理", "化学", "生物"}},
      {"senior_high", {"语文", "数学", "英语", "物理", "化学", "地理"}},
      {"secondary_vocational", {"计算机", "机电", "语文", "数学"}}};
  static const char* kTitles[] = {"二级教师", "一级教师", "高级教师"};
  std::vector<tpb::TeacherRow> rows;
  int n = 0;
  for (const auto& s : data.schools) {
    const auto& subjects = kSubjects.count(s.stages) ? kSubjects.at(s.stages)
                                                     : kSubjects.at("primary");
    for (int k = 0; k < 4; ++k, ++n) {
      tpb::TeacherRow r;
      char birth[16];
      snprintf(birth, sizeof birth, "%04d%02d%02d", 1970 + n % 25, 1 + n % 12,
               1 + n % 28);
      r.set_id_number(
          eduaid::synthetic::MakeIdNumber(s.region_code, birth, 100 + n % 800));
      r.set_name(absl::StrCat(kSurnames[n % 20], kGiven[(n * 7 + k) % 20]));
      r.set_school_code(s.code);
      r.set_school_name(s.name);
      r.set_region_code(s.region_code);
      r.set_rural(s.rural);
      r.set_stage(ParseStage(s.stages));
      r.add_subjects(subjects[(n + k) % subjects.size()]);
      if (k % 2 == 1) r.add_subjects(subjects[(n + k + 1) % subjects.size()]);
      r.set_title(kTitles[n % 3]);
      r.set_years_of_service(3 + n % 25);
      rows.push_back(std::move(r));
    }
  }
  return rows;
}

void PrintTeacher(const tpb::Teacher& t) {
  printf("%-8s %s %-8s %s %-12s %s %s [%s] %s%s\n", t.teacher_id().c_str(),
         t.id_number().c_str(), t.name().c_str(), t.region_code().c_str(),
         t.school_code().c_str(), t.rural() ? "rural" : "urban",
         t.title().c_str(), absl::StrJoin(t.subjects(), ",").c_str(),
         t.active() ? "" : "LEFT: ", t.left_reason().c_str());
}

void AddTeacherImportCommand(CLI::App& teacher, Env env) {
  auto* cmd = teacher.add_subcommand(
      "import",
      "Import teachers from CSV (id_number,name,school_code,"
      "school_name,region_code,rural,stage,subjects,title,"
      "years_of_service,prior_placements)");
  auto file = std::make_shared<std::string>();
  cmd->add_option("file", *file, "CSV file")->required();
  cmd->callback([env, file]() mutable {
    tpb::ImportTeachersResponse total;
    std::vector<tpb::TeacherRow> rows;
    int rc = 0;
    bool ok = ReadCsv(*file, [&](std::vector<std::string>& f, int64_t rn) {
      if (rc) return;
      rows.push_back(TeacherFromCsv(f, rn));
      if (rows.size() >= 1000) rc = SendTeachers(env, rows, &total);
    });
    if (ok && rc == 0) rc = SendTeachers(env, rows, &total);
    if (!ok) env.exit_code = 1;
    if (ok && rc == 0) PrintImportTotal(total);
  });
}

void AddTeacherDemoCommand(CLI::App& teacher, Env env) {
  auto* cmd = teacher.add_subcommand(
      "demo",
      "Load demo teachers for the synthetic schools of the demo "
      "counties (as loaded by `eductl demo`)");
  auto regions = std::make_shared<std::string>("411325,411326");
  cmd->add_option("--regions", *regions, "Comma-separated county codes")
      ->capture_default_str();
  cmd->callback([env, regions]() mutable {
    auto rows = DemoTeachers(SplitCsvList(*regions));
    int64_t rn = 1;
    for (auto& r : rows) r.set_row_number(++rn);
    tpb::ImportTeachersResponse total;
    if (SendTeachers(env, rows, &total)) return;
    PrintImportTotal(total);
  });
}

void AddTeacherListCommand(CLI::App& teacher, Env env) {
  auto* cmd = teacher.add_subcommand("list", "List teachers");
  auto region = std::make_shared<std::string>(),
       school = std::make_shared<std::string>(),
       subject = std::make_shared<std::string>();
  auto inactive = std::make_shared<bool>(false);
  cmd->add_option("--region", *region, "Region code prefix");
  cmd->add_option("--school", *school, "School code");
  cmd->add_option("--subject", *subject, "Subject, e.g. 数学");
  cmd->add_flag("--include-left", *inactive, "Also teachers who left");
  cmd->callback([env, region, school, subject, inactive]() mutable {
    tpb::ListTeachersRequest req;
    req.set_region_prefix(*region);
    req.set_school_code(*school);
    req.set_subject(*subject);
    req.set_include_inactive(*inactive);
    req.set_page_size(1000);
    if (!env.PrintPages(&Stub::ListTeachers, req,
                        &tpb::ListTeachersResponse::teachers, PrintTeacher))
      return;
  });
}

void AddTeacherGetCommand(CLI::App& teacher, Env env) {
  auto* cmd =
      teacher.add_subcommand("get", "One teacher with placement history");
  auto key = std::make_shared<std::string>();
  cmd->add_option("key", *key, "t-<n> or an ID number")->required();
  cmd->callback([env, key]() mutable {
    tpb::GetTeacherRequest req;
    if (key->rfind("t-", 0) == 0) {
      req.set_teacher_id(*key);
    } else {
      req.set_id_number(*key);
    }
    tpb::GetTeacherResponse resp;
    if (!env.Call(&Stub::GetTeacher, req, &resp)) return;
    PrintJson(resp.teacher());
  });
}

void AddTeacherLeaveCommand(CLI::App& teacher, Env env) {
  auto* cmd = teacher.add_subcommand(
      "leave", "A teacher leaves: unvisited households are re-assigned");
  auto id = std::make_shared<std::string>(),
       reason = std::make_shared<std::string>(),
       rid = std::make_shared<std::string>();
  cmd->add_option("teacher_id", *id, "t-<n>")->required();
  cmd->add_option("--reason", *reason, "Why (调离, 退休, ...)")->required();
  cmd->add_option("--request-id", *rid, "Idempotency key (default: fresh)");
  cmd->callback([env, id, reason, rid]() mutable {
    tpb::DeactivateTeacherRequest req;
    req.set_request_id(RequestIdOr(*rid));
    req.set_teacher_id(*id);
    req.set_reason(*reason);
    tpb::DeactivateTeacherResponse resp;
    if (!env.Call(&Stub::DeactivateTeacher, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    PrintTeacher(resp.teacher());
    for (const auto& c : resp.campaigns()) {
      printf(
          "  campaign %lld: %lld households re-assigned, %lld now "
          "uncovered\n",
          static_cast<long long>(c.campaign_id()),
          static_cast<long long>(c.reassigned()),
          static_cast<long long>(c.uncovered()));
    }
  });
}

void AddTeacherRegistryCommands(CLI::App& teacher, Env env) {
  AddTeacherImportCommand(teacher, env);
  AddTeacherDemoCommand(teacher, env);
  AddTeacherListCommand(teacher, env);
  AddTeacherGetCommand(teacher, env);
  AddTeacherLeaveCommand(teacher, env);
}

// ---------------------------------------------------------------- rounds

void PrintRound(const tpb::Round& r) {
  printf("round %lld  %s  region %s  term %s  %s\n",
         static_cast<long long>(r.round_id()), r.name().c_str(),
         r.region_prefix().c_str(), TermText(r.term()).c_str(),
         Short(tpb::RoundState_Name(r.state()), "ROUND_STATE_").c_str());
  printf(
      "  rules: at most %d consecutive terms, at most %d teachers per source "
      "school, same school twice running %s\n",
      r.rules().max_consecutive_terms(), r.rules().max_per_source_school(),
      r.rules().allow_same_school_twice() ? "allowed" : "not allowed");
  printf("  demand %d slots, %d nominated teachers", r.demanded_slots(),
         r.nominated_teachers());
  if (r.state() != tpb::ROUND_STATE_DRAFT) {
    printf(", filled %d at total cost %lld", r.filled_slots(),
           static_cast<long long>(r.total_cost()));
  }
  printf("\n");
}

void PrintSolution(const tpb::Solution& s) {
  printf(
      "filled %d of %d slots, total cost %lld (%d teachers, %d demand "
      "lines, solved in %.1f ms)\n",
      s.filled_slots(), s.demanded_slots(),
      static_cast<long long>(s.total_cost()), s.teachers(), s.demand_lines(),
      s.solve_micros() / 1000.0);
  printf("placements:\n");
  for (const auto& p : s.placements()) {
    printf("  %-8s %-8s %s/%s -> %s %s %s  cost %lld%s\n",
           p.teacher_id().c_str(), p.teacher_name().c_str(),
           p.source_region_code().c_str(), p.source_school_code().c_str(),
           p.school_code().c_str(), p.school_name().c_str(),
           p.subject().c_str(), static_cast<long long>(p.cost()),
           p.pinned() ? "  (pinned)" : "");
    for (const auto& r : p.reasons()) {
      printf("      %-17s %+4lld  %s\n", r.factor().c_str(),
             static_cast<long long>(r.points()), r.explanation().c_str());
    }
  }
  if (s.unfilled_size() > 0) printf("unfilled:\n");
  for (const auto& u : s.unfilled()) {
    printf(
        "  %s %s %s: %d slot%s — %s: %s\n", u.school_code().c_str(),
        u.school_name().c_str(), u.subject().c_str(), u.slots(),
        u.slots() == 1 ? "" : "s",
        Short(tpb::UnfilledReason_Name(u.reason()), "UNFILLED_REASON_").c_str(),
        u.explanation().c_str());
  }
  if (s.unplaced_teachers_size() > 0) printf("not placed:\n");
  for (const auto& u : s.unplaced_teachers()) {
    printf("  %-8s %s\n", u.teacher_id().c_str(), u.explanation().c_str());
  }
}

void AddRoundCreateCommand(CLI::App* round, Env env) {
  auto* cmd = round->add_subcommand("create", "Open a round");
  struct Opts {
    std::string name, region, term, rid;
    int n = 0, k = 0;
    bool same = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--name", o->name, "Name, e.g. 2027年春季对口交流支教")
      ->required();
  cmd->add_option("--region", o->region, "Region it is organised for (4113)")
      ->required();
  cmd->add_option("--term", o->term, "e.g. 2027-spring")->required();
  cmd->add_option("--max-terms", o->n,
                  "At most N consecutive terms (default 2)");
  cmd->add_option("--max-per-school", o->k,
                  "At most K teachers per source school (default 3)");
  cmd->add_flag("--allow-same-school", o->same,
                "Allow the same school twice running");
  cmd->add_option("--request-id", o->rid, "Idempotency key (default: fresh)");
  cmd->callback([env, o]() mutable {
    tpb::CreateRoundRequest req;
    req.set_request_id(RequestIdOr(o->rid));
    req.set_name(o->name);
    req.set_region_prefix(o->region);
    if (!ParseTerm(o->term, req.mutable_term())) {
      env.Usage("--term must look like 2027-spring or 2026-autumn");
      return;
    }
    req.mutable_rules()->set_max_consecutive_terms(o->n);
    req.mutable_rules()->set_max_per_source_school(o->k);
    req.mutable_rules()->set_allow_same_school_twice(o->same);
    tpb::CreateRoundResponse resp;
    if (!env.Call(&Stub::CreateRound, req, &resp)) return;
    env.ctl.json ? PrintJson(resp) : PrintRound(resp.round());
  });
}

// "<what>: accepted N, rejected M", the rejected rows, and the round: what
// posting demand and nominating answer.
template <typename Resp>
void PrintRoundRows(const char* what, const Resp& resp) {
  printf("%s: accepted %lld, rejected %lld\n", what,
         static_cast<long long>(resp.accepted_rows()),
         static_cast<long long>(resp.rejected_rows()));
  PrintRowErrors(resp.errors());
  PrintRound(resp.round());
}

struct DemandOpts {
  int64_t round = 0;
  std::string file, rural_in, subjects, rid;
  int slots = 1;
};

// Demand lines from a CSV file (school_code,school_name,region_code,subject,
// stage,slots).
bool DemandFromCsv(const std::string& path, tpb::PostDemandRequest* req) {
  return ReadCsv(path, [&](std::vector<std::string>& f, int64_t rn) {
    auto at = [&](size_t i) { return i < f.size() ? f[i] : std::string(); };
    auto* d = req->add_demands();
    d->set_row_number(rn);
    d->set_school_code(at(0));
    d->set_school_name(at(1));
    d->set_region_code(at(2));
    d->set_subject(at(3));
    d->set_stage(ParseStage(at(4)));
    int32_t slots = -1;
    d->set_slots(absl::SimpleAtoi(at(5), &slots) ? slots : -1);
  });
}

// Demand of `o.subjects` for every rural school the registry lists in
// `o.rural_in`.
bool DemandFromRegistry(Env& env, const DemandOpts& o,
                        tpb::PostDemandRequest* req) {
  auto registry =
      rpb::StudentRegistryService::NewStub(env.ctl.Channel(env.ctl.registry));
  rpb::ListSchoolsRequest lreq;
  lreq.set_region_prefix(o.rural_in);
  lreq.set_page_size(1000);
  rpb::ListSchoolsResponse schools;
  auto ctx = env.ctl.Context();
  if (!env.Check(registry->ListSchools(ctx.get(), lreq, &schools)))
    return false;
  int64_t rn = 0;
  for (const auto& s : schools.schools()) {
    if (!s.rural()) continue;
    for (const auto& subject : SplitCsvList(o.subjects)) {
      auto* d = req->add_demands();
      d->set_row_number(++rn);
      d->set_school_code(s.code());
      d->set_school_name(s.name());
      d->set_region_code(s.region_code());
      d->set_subject(subject);
      if (s.stages_size() > 0) d->set_stage(s.stages(0));
      d->set_slots(o.slots);
    }
  }
  return true;
}

void AddRoundDemandCommand(CLI::App* round, Env env) {
  auto* cmd = round->add_subcommand(
      "demand",
      "Post rural demand: from a CSV file (school_code,"
      "school_name,region_code,subject,stage,slots) or for every "
      "rural school of a region in the registry");
  auto o = std::make_shared<DemandOpts>();
  cmd->add_option("round_id", o->round, "Round")->required();
  cmd->add_option("--file", o->file, "CSV file of demand lines");
  cmd->add_option("--rural-schools-in", o->rural_in,
                  "Every rural school the registry lists in this region...");
  cmd->add_option("--subjects", o->subjects,
                  "...wants these subjects (数学,英语)");
  cmd->add_option("--slots", o->slots, "...this many teachers each")
      ->capture_default_str();
  cmd->add_option("--request-id", o->rid, "Idempotency key (default: fresh)");
  cmd->callback([env, o]() mutable {
    tpb::PostDemandRequest req;
    req.set_request_id(RequestIdOr(o->rid));
    req.set_round_id(o->round);
    if (!o->file.empty()) {
      if (!DemandFromCsv(o->file, &req)) {
        env.exit_code = 1;
        return;
      }
    } else if (!o->rural_in.empty() && !o->subjects.empty()) {
      if (!DemandFromRegistry(env, *o, &req)) return;
    } else {
      env.Usage("give --file, or --rural-schools-in with --subjects");
      return;
    }
    tpb::PostDemandResponse resp;
    if (!env.Call(&Stub::PostDemand, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    PrintRoundRows("demand lines", resp);
  });
}

// Nominations of the teachers named "t-<n>[=SCHOOL,SCHOOL...]".
void NominateNamed(const std::vector<std::string>& teachers, bool withdraw,
                   tpb::NominateTeachersRequest* req) {
  for (const auto& t : teachers) {
    std::vector<std::string> parts = absl::StrSplit(t, absl::MaxSplits('=', 1));
    auto* n = req->add_nominations();
    n->set_row_number(req->nominations_size());
    n->set_teacher_id(parts[0]);
    if (parts.size() == 2) {
      for (const auto& s : SplitCsvList(parts[1]))
        n->add_preferred_school_codes(s);
    }
    n->set_withdraw(withdraw);
  }
}

// Nominations of every active urban teacher of `region`.
bool NominateUrban(const Env& env, const std::string& region, bool withdraw,
                   tpb::NominateTeachersRequest* req) {
  tpb::ListTeachersRequest lreq;
  lreq.set_region_prefix(region);
  lreq.set_page_size(1000);
  return env.ForEachPage(&Stub::ListTeachers, lreq,
                         [&](const tpb::ListTeachersResponse& resp) {
                           for (const auto& t : resp.teachers()) {
                             if (t.rural() || !t.active()) continue;
                             auto* n = req->add_nominations();
                             n->set_row_number(req->nominations_size());
                             n->set_teacher_id(t.teacher_id());
                             n->set_withdraw(withdraw);
                           }
                         });
}

void AddRoundNominateCommand(CLI::App* round, Env env) {
  auto* cmd = round->add_subcommand(
      "nominate",
      "Nominate teachers (t-1 t-2 ..., or every active urban "
      "teacher of a region); t-3=S1,S2 states preferred schools");
  struct Opts {
    int64_t round = 0;
    std::vector<std::string> teachers;
    std::string urban_in, rid;
    bool withdraw = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("round_id", o->round, "Round")->required();
  cmd->add_option("teachers", o->teachers, "t-<n>[=SCHOOL,SCHOOL...]");
  cmd->add_option("--urban-in", o->urban_in,
                  "Nominate every active urban teacher of this region");
  cmd->add_flag("--withdraw", o->withdraw, "Withdraw the nominations");
  cmd->add_option("--request-id", o->rid, "Idempotency key (default: fresh)");
  cmd->callback([env, o]() mutable {
    tpb::NominateTeachersRequest req;
    req.set_request_id(RequestIdOr(o->rid));
    req.set_round_id(o->round);
    NominateNamed(o->teachers, o->withdraw, &req);
    if (!o->urban_in.empty() &&
        !NominateUrban(env, o->urban_in, o->withdraw, &req))
      return;
    if (req.nominations_size() == 0) {
      env.Usage("name teachers, or give --urban-in REGION");
      return;
    }
    tpb::NominateTeachersResponse resp;
    if (!env.Call(&Stub::NominateTeachers, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    PrintRoundRows("nominations", resp);
  });
}

void AddRoundSolveCommand(CLI::App* round, Env env) {
  auto* cmd = round->add_subcommand(
      "solve",
      "Compute the optimal placement (min-cost flow) and show it "
      "with reasons");
  auto id = std::make_shared<int64_t>(0);
  auto rid = std::make_shared<std::string>();
  cmd->add_option("round_id", *id, "Round")->required();
  cmd->add_option("--request-id", *rid, "Idempotency key (default: fresh)");
  cmd->callback([env, id, rid]() mutable {
    tpb::SolveRoundRequest req;
    req.set_request_id(RequestIdOr(*rid));
    req.set_round_id(*id);
    tpb::SolveRoundResponse resp;
    if (!env.Call(&Stub::SolveRound, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    PrintRound(resp.round());
    PrintSolution(resp.solution());
  });
}

void AddRoundPublishCommand(CLI::App* round, Env env) {
  auto* cmd = round->add_subcommand(
      "publish", "Publish the last solution; the round is frozen after");
  auto id = std::make_shared<int64_t>(0);
  auto rid = std::make_shared<std::string>();
  cmd->add_option("round_id", *id, "Round")->required();
  cmd->add_option("--request-id", *rid, "Idempotency key (default: fresh)");
  cmd->callback([env, id, rid]() mutable {
    tpb::PublishRoundRequest req;
    req.set_request_id(RequestIdOr(*rid));
    req.set_round_id(*id);
    tpb::PublishRoundResponse resp;
    if (!env.Call(&Stub::PublishRound, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    PrintRound(resp.round());
    printf("  %d placements written into the teachers' history\n",
           resp.placements());
  });
}

void AddRoundShowCommand(CLI::App* round, Env env) {
  auto* cmd = round->add_subcommand("show", "A round with its solution");
  auto id = std::make_shared<int64_t>(0);
  cmd->add_option("round_id", *id, "Round")->required();
  cmd->callback([env, id]() mutable {
    tpb::GetRoundRequest req;
    req.set_round_id(*id);
    tpb::GetRoundResponse resp;
    if (!env.Call(&Stub::GetRound, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    PrintRound(resp.round());
    printf("demand:\n");
    for (const auto& d : resp.demands()) {
      printf("  %s %s %s %s x%d\n", d.region_code().c_str(),
             d.school_code().c_str(), d.school_name().c_str(),
             d.subject().c_str(), d.slots());
    }
    printf("nominated: %d teachers\n", resp.nominations_size());
    for (const auto& c : resp.constraints()) {
      printf(
          "  %s %s %s\n",
          Short(tpb::ConstraintKind_Name(c.kind()), "CONSTRAINT_KIND_").c_str(),
          c.teacher_id().c_str(), c.school_code().c_str());
    }
    if (resp.has_solution()) PrintSolution(resp.solution());
  });
}

void AddRoundListCommand(CLI::App* round, Env env) {
  auto* cmd = round->add_subcommand("list", "Rounds in a region");
  auto region = std::make_shared<std::string>();
  cmd->add_option("--region", *region, "Region code prefix");
  cmd->callback([env, region]() mutable {
    tpb::ListRoundsRequest req;
    req.set_region_prefix(*region);
    tpb::ListRoundsResponse resp;
    if (!env.Call(&Stub::ListRounds, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    for (const auto& r : resp.rounds()) PrintRound(r);
  });
}

// pin / forbid / clear: one placement constraint of a round.
void AddRoundConstraintCommand(CLI::App* round, Env env,
                               const std::string& verb,
                               tpb::ConstraintKind kind,
                               const std::string& help) {
  auto* cmd = round->add_subcommand(verb, help + " (then solve again)");
  struct Opts {
    int64_t round = 0;
    std::string teacher, school, rid;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("round_id", o->round, "Round")->required();
  cmd->add_option("teacher_id", o->teacher, "t-<n>")->required();
  cmd->add_option("school_code", o->school, "School")->required();
  cmd->add_option("--request-id", o->rid, "Idempotency key (default: fresh)");
  cmd->callback([env, o, kind]() mutable {
    tpb::SetPlacementConstraintRequest req;
    req.set_request_id(RequestIdOr(o->rid));
    req.set_round_id(o->round);
    req.set_teacher_id(o->teacher);
    req.set_school_code(o->school);
    req.set_kind(kind);
    tpb::SetPlacementConstraintResponse resp;
    if (!env.Call(&Stub::SetPlacementConstraint, req, &resp)) {
      return;
    }
    if (env.ctl.json) return PrintJson(resp);
    for (const auto& c : resp.constraints()) {
      printf(
          "  %s %s %s (by %s)\n",
          Short(tpb::ConstraintKind_Name(c.kind()), "CONSTRAINT_KIND_").c_str(),
          c.teacher_id().c_str(), c.school_code().c_str(), c.set_by().c_str());
    }
    PrintRound(resp.round());
  });
}

void AddRoundCommands(CLI::App& teacher, Env env) {
  auto* round = teacher.add_subcommand(
      "round",
      "Support-teaching rounds (对口交流支教): demand, nominations, "
      "optimal placement, publishing");
  round->require_subcommand(1);
  AddRoundCreateCommand(round, env);
  AddRoundDemandCommand(round, env);
  AddRoundNominateCommand(round, env);
  for (const auto& [verb, kind, help] :
       std::vector<std::tuple<std::string, tpb::ConstraintKind, std::string>>{
           {"pin", tpb::CONSTRAINT_KIND_PIN, "Pin a teacher to a school"},
           {"forbid", tpb::CONSTRAINT_KIND_FORBID,
            "Forbid a teacher at a school"},
           {"clear", tpb::CONSTRAINT_KIND_CLEAR, "Clear a pin or forbid"}}) {
    AddRoundConstraintCommand(round, env, verb, kind, help);
  }
  AddRoundSolveCommand(round, env);
  AddRoundPublishCommand(round, env);
  AddRoundShowCommand(round, env);
  AddRoundListCommand(round, env);
}

// ---------------------------------------------------------------- campaigns

void PrintCampaign(const tpb::Campaign& c) {
  printf(
      "campaign %lld  %s  region %s  term %s  %s  cap %d per teacher, due "
      "%s\n",
      static_cast<long long>(c.campaign_id()), c.name().c_str(),
      c.region_prefix().c_str(), TermText(c.term()).c_str(),
      Short(tpb::CampaignState_Name(c.state()), "CAMPAIGN_STATE_").c_str(),
      c.cap_per_teacher(), c.due_date().c_str());
  printf("  households %lld: assigned %lld, uncovered %lld, visited %lld\n",
         static_cast<long long>(c.households()),
         static_cast<long long>(c.assigned()),
         static_cast<long long>(c.uncovered()),
         static_cast<long long>(c.visited()));
}

void PrintHousehold(const tpb::CampaignHousehold& h) {
  printf(
      "  %-14s %s  schools %s  %s", h.household_id().c_str(),
      h.region_code().c_str(), absl::StrJoin(h.school_codes(), ",").c_str(),
      h.teacher_id().empty()
          ? absl::StrCat("UNCOVERED (",
                         Short(tpb::UncoveredReason_Name(h.uncovered_reason()),
                               "UNCOVERED_REASON_"),
                         "): ", h.uncovered_explanation())
                .c_str()
          : absl::StrCat("teacher ", h.teacher_id(), " ", h.teacher_name())
                .c_str());
  if (h.visited()) {
    printf("  visited %s (%d)", h.first_visit_date().c_str(), h.visits());
  } else if (h.overdue()) {
    printf("  OVERDUE %d days", h.days_overdue());
  }
  printf("\n");
}

const std::pair<const char*, tpb::DropoutRisk> kRisks[] = {
    {"none", tpb::DROPOUT_RISK_NONE},     {"无", tpb::DROPOUT_RISK_NONE},
    {"low", tpb::DROPOUT_RISK_LOW},       {"低", tpb::DROPOUT_RISK_LOW},
    {"medium", tpb::DROPOUT_RISK_MEDIUM}, {"中", tpb::DROPOUT_RISK_MEDIUM},
    {"high", tpb::DROPOUT_RISK_HIGH},     {"高", tpb::DROPOUT_RISK_HIGH}};

bool ParseRisk(const std::string& s, tpb::DropoutRisk* out) {
  for (const auto& [k, v] : kRisks) {
    if (s == k) {
      *out = v;
      return true;
    }
  }
  return false;
}

void AddCampaignCreateCommand(CLI::App* campaign, Env env) {
  auto* cmd = campaign->add_subcommand("create", "Open a campaign");
  struct Opts {
    std::string name, region, term, due, rid;
    int cap = 30;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--name", o->name, "e.g. 2026年秋季万名教师大走访")
      ->required();
  cmd->add_option("--region", o->region, "Region (county 411325)")->required();
  cmd->add_option("--term", o->term, "e.g. 2026-autumn")->required();
  cmd->add_option("--cap", o->cap, "Households per teacher at most")
      ->capture_default_str();
  cmd->add_option("--due", o->due, "Due date YYYY-MM-DD (default: term end)");
  cmd->add_option("--request-id", o->rid, "Idempotency key (default: fresh)");
  cmd->callback([env, o]() mutable {
    tpb::CreateCampaignRequest req;
    req.set_request_id(RequestIdOr(o->rid));
    req.set_name(o->name);
    req.set_region_prefix(o->region);
    if (!ParseTerm(o->term, req.mutable_term())) {
      env.Usage("--term must look like 2026-autumn or 2027-spring");
      return;
    }
    req.set_cap_per_teacher(o->cap);
    req.set_due_date(o->due);
    tpb::CreateCampaignResponse resp;
    if (!env.Call(&Stub::CreateCampaign, req, &resp)) return;
    env.ctl.json ? PrintJson(resp) : PrintCampaign(resp.campaign());
  });
}

void AddCampaignAssignCommand(CLI::App* campaign, Env env) {
  auto* cmd = campaign->add_subcommand(
      "assign",
      "Fetch households from the registry and assign them to "
      "teachers (again: only new and uncovered ones move)");
  auto id = std::make_shared<int64_t>(0);
  auto rid = std::make_shared<std::string>();
  cmd->add_option("campaign_id", *id, "Campaign")->required();
  cmd->add_option("--request-id", *rid, "Idempotency key (default: fresh)");
  cmd->callback([env, id, rid]() mutable {
    tpb::AssignCampaignRequest req;
    req.set_request_id(RequestIdOr(*rid));
    req.set_campaign_id(*id);
    tpb::AssignCampaignResponse resp;
    if (!env.Call(&Stub::AssignCampaign, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    PrintCampaign(resp.campaign());
    printf(
        "  %lld students in the registry; newly assigned %lld, kept %lld, "
        "uncovered %lld\n",
        static_cast<long long>(resp.students()),
        static_cast<long long>(resp.newly_assigned()),
        static_cast<long long>(resp.kept()),
        static_cast<long long>(resp.uncovered()));
    printf("  %d teachers carry households; loads %d..%d; solved in %.1f ms\n",
           resp.teachers_used(), resp.min_load(), resp.max_load(),
           resp.solve_micros() / 1000.0);
    if (resp.uncovered_households_size() > 0) printf("uncovered:\n");
    for (const auto& h : resp.uncovered_households()) PrintHousehold(h);
  });
}

// "PROGRAMME=yes|no": whether each subsidy arrived, as the visit found.
void AddSubsidyChecks(const std::vector<std::string>& subsidies,
                      tpb::Visit* v) {
  for (const auto& s : subsidies) {
    std::vector<std::string> parts = absl::StrSplit(s, absl::MaxSplits('=', 1));
    auto* sc = v->add_subsidies();
    sc->set_programme(parts[0]);
    sc->set_arrived(
        parts.size() == 2 &&
        (parts[1] == "yes" || parts[1] == "1" || parts[1] == "到位"));
  }
}

constexpr char kFindingHelp[] =
    "A structured finding, repeatable: not-received:<member_id>:<programme>, "
    "not-in-school:<member_id>, dropout-risk:<member_id>:<none|low|medium|"
    "high>, left-behind:<member_id>, disability:<member_id>, "
    "new-child:<id_number>:<name>:<子女|孙子女|兄弟姐妹|其他>; an optional "
    "last part :<note>";

// Where each finding went, and the payments the visit followed up.
void PrintVisitOutcomes(const tpb::Visit& v) {
  for (const auto& f : v.findings()) {
    std::string who = f.member_id().empty() ? f.name() : f.member_id();
    if (!f.programme_code().empty()) who += " " + f.programme_code();
    printf("  finding %s %s: %s%s%s\n", FindingKindLabel(f.kind()), who.c_str(),
           DeliveryLabel(f.delivery()),
           f.target().empty() ? "" : (" -> " + f.target()).c_str(),
           f.delivery_error().empty()
               ? ""
               : (" (" + f.delivery_error() + ")").c_str());
  }
  for (const auto& p : v.payment_follow_ups()) {
    printf("  follow-up (回访) of payment %lld %s %s: %s%s\n",
           static_cast<long long>(p.payment_id()), p.member_id().c_str(),
           p.programme_code().c_str(), DeliveryLabel(p.delivery()),
           p.follow_up_id()
               ? absl::StrCat(" -> ledger follow-up ", p.follow_up_id()).c_str()
               : "");
  }
}

void AddCampaignVisitCommand(CLI::App* campaign, Env env) {
  auto* cmd = campaign->add_subcommand("visit", "Record a home visit");
  struct Opts {
    int64_t campaign = 0;
    std::string household, teacher, date, met, policies, risk = "none",
                                                         evidence, notes, rid;
    std::vector<std::string> subsidies, findings;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("campaign_id", o->campaign, "Campaign")->required();
  cmd->add_option("household_id", o->household, "Household")->required();
  cmd->add_option("--date", o->date, "Visit date YYYY-MM-DD")->required();
  cmd->add_option("--met", o->met, "Who was met: 户主,母亲,学生本人")
      ->required();
  cmd->add_option("--policies", o->policies,
                  "Policies explained, comma-separated");
  cmd->add_option("--subsidy", o->subsidies,
                  "PROGRAMME=yes|no (arrived?), repeatable");
  cmd->add_option("--risk", o->risk, "Dropout risk: none|low|medium|high")
      ->capture_default_str();
  cmd->add_option("--evidence", o->evidence, "Photo or signed-form reference")
      ->required();
  cmd->add_option("--teacher", o->teacher,
                  "Visiting teacher (default: assigned)");
  cmd->add_option("--notes", o->notes, "Notes (stored encrypted)");
  cmd->add_option("--finding", o->findings, kFindingHelp);
  cmd->add_option("--request-id", o->rid, "Idempotency key (default: fresh)");
  cmd->callback([env, o]() mutable {
    tpb::RecordVisitRequest req;
    req.set_request_id(RequestIdOr(o->rid));
    auto* v = req.mutable_visit();
    v->set_campaign_id(o->campaign);
    v->set_household_id(o->household);
    v->set_teacher_id(o->teacher);
    v->set_visit_date(o->date);
    for (const auto& m : SplitCsvList(o->met)) v->add_met(m);
    for (const auto& p : SplitCsvList(o->policies))
      v->add_policies_explained(p);
    AddSubsidyChecks(o->subsidies, v);
    tpb::DropoutRisk risk;
    if (!ParseRisk(o->risk, &risk)) {
      env.Usage("--risk must be none, low, medium or high");
      return;
    }
    v->set_dropout_risk(risk);
    v->set_evidence_ref(o->evidence);
    v->set_notes(o->notes);
    for (const auto& spec : o->findings) {
      std::string error;
      if (!ParseFinding(spec, v->add_findings(), &error)) {
        env.Usage(error);
        return;
      }
    }
    tpb::RecordVisitResponse resp;
    if (!env.Call(&Stub::RecordVisit, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    printf("visit %lld recorded by %s\n",
           static_cast<long long>(resp.visit().visit_id()),
           resp.visit().teacher_id().c_str());
    PrintHousehold(resp.household());
    PrintVisitOutcomes(resp.visit());
  });
}

void AddCampaignCoverageCommand(CLI::App* campaign, Env env) {
  auto* cmd = campaign->add_subcommand("coverage",
                                       "Coverage by region, school or teacher");
  auto id = std::make_shared<int64_t>(0);
  auto by = std::make_shared<std::string>("region");
  cmd->add_option("campaign_id", *id, "Campaign")->required();
  cmd->add_option("--by", *by, "region|school|teacher")->capture_default_str();
  cmd->callback([env, id, by]() mutable {
    tpb::GetCampaignCoverageRequest req;
    req.set_campaign_id(*id);
    if (*by == "school") {
      req.set_group_by(tpb::COVERAGE_GROUPING_SCHOOL);
    } else if (*by == "teacher") {
      req.set_group_by(tpb::COVERAGE_GROUPING_TEACHER);
    } else if (*by == "region") {
      req.set_group_by(tpb::COVERAGE_GROUPING_REGION);
    } else {
      env.Usage("--by must be region, school or teacher");
      return;
    }
    tpb::GetCampaignCoverageResponse resp;
    if (!env.Call(&Stub::GetCampaignCoverage, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    PrintCampaign(resp.campaign());
    printf("%-12s %-28s %8s %8s %8s %8s %8s %8s %8s\n", "key", "", "househ.",
           "assigned", "visited", "overdue", "uncover.", "highrisk",
           "coverage");
    auto line = [](const tpb::CoverageRow& r) {
      std::string label = r.label();
      const std::string county = eduaid::synthetic::CountyName(r.key());
      if (label == r.key() && !county.empty()) label = county;
      printf("%-12s %-28s %8lld %8lld %8lld %8lld %8lld %8lld %7.1f%%\n",
             r.key().empty() ? "-" : r.key().c_str(), label.c_str(),
             static_cast<long long>(r.households()),
             static_cast<long long>(r.assigned()),
             static_cast<long long>(r.visited()),
             static_cast<long long>(r.overdue()),
             static_cast<long long>(r.uncovered()),
             static_cast<long long>(r.high_risk()), 100.0 * r.coverage());
    };
    for (const auto& r : resp.rows()) line(r);
    line(resp.total());
  });
}

void AddCampaignHouseholdsCommand(CLI::App* campaign, Env env) {
  auto* cmd = campaign->add_subcommand("households", "A campaign's households");
  auto id = std::make_shared<int64_t>(0);
  auto filter = std::make_shared<std::string>("all"),
       teacher_id = std::make_shared<std::string>(),
       region = std::make_shared<std::string>();
  cmd->add_option("campaign_id", *id, "Campaign")->required();
  cmd->add_option("--filter", *filter,
                  "all|unvisited|overdue|uncovered|visited")
      ->capture_default_str();
  cmd->add_option("--teacher", *teacher_id, "Only this teacher's");
  cmd->add_option("--region", *region, "Region code prefix");
  cmd->callback([env, id, filter, teacher_id, region]() mutable {
    tpb::ListCampaignHouseholdsRequest req;
    req.set_campaign_id(*id);
    static const std::map<std::string, tpb::HouseholdFilter> kFilters = {
        {"all", tpb::HOUSEHOLD_FILTER_UNSPECIFIED},
        {"unvisited", tpb::HOUSEHOLD_FILTER_UNVISITED},
        {"overdue", tpb::HOUSEHOLD_FILTER_OVERDUE},
        {"uncovered", tpb::HOUSEHOLD_FILTER_UNCOVERED},
        {"visited", tpb::HOUSEHOLD_FILTER_VISITED}};
    auto f = kFilters.find(*filter);
    if (f == kFilters.end()) {
      env.Usage(
          "--filter must be all, unvisited, overdue, uncovered or visited");
      return;
    }
    req.set_filter(f->second);
    req.set_teacher_id(*teacher_id);
    req.set_region_prefix(*region);
    req.set_page_size(1000);
    int64_t total = 0;
    if (!env.ForEachPage(&Stub::ListCampaignHouseholds, req,
                         [&](const tpb::ListCampaignHouseholdsResponse& resp) {
                           total = resp.total();
                           PrintPage(env.ctl, resp, resp.households(),
                                     PrintHousehold);
                         }))
      return;
    if (!env.ctl.json) printf("total: %lld\n", static_cast<long long>(total));
  });
}

void AddCampaignListCommand(CLI::App* campaign, Env env) {
  auto* cmd = campaign->add_subcommand("list", "Campaigns in a region");
  auto region = std::make_shared<std::string>();
  cmd->add_option("--region", *region, "Region code prefix");
  cmd->callback([env, region]() mutable {
    tpb::ListCampaignsRequest req;
    req.set_region_prefix(*region);
    tpb::ListCampaignsResponse resp;
    if (!env.Call(&Stub::ListCampaigns, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    for (const auto& c : resp.campaigns()) PrintCampaign(c);
  });
}

void AddCampaignFindingsRetryCommand(CLI::App* campaign, Env env) {
  auto* cmd = campaign->add_subcommand(
      "findings-retry",
      "Send again the visit findings whose delivery failed (after the cause "
      "was fixed): of one visit, or every one in your scope");
  auto visit = std::make_shared<int64_t>(0);
  auto rid = std::make_shared<std::string>();
  cmd->add_option("--visit", *visit, "Only this visit (default: all)");
  cmd->add_option("--request-id", *rid, "Idempotency key (default: fresh)");
  cmd->callback([env, visit, rid]() mutable {
    tpb::RetryFindingsRequest req;
    req.set_request_id(RequestIdOr(*rid));
    req.set_visit_id(*visit);
    tpb::RetryFindingsResponse resp;
    if (!env.Call(&Stub::RetryFindings, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    printf("requeued %lld findings\n", static_cast<long long>(resp.requeued()));
  });
}

void AddCampaignCommands(CLI::App& teacher, Env env) {
  auto* campaign = teacher.add_subcommand(
      "campaign",
      "Home-visit campaigns (万名教师大走访): assignment, visits, "
      "coverage, overdue households");
  campaign->require_subcommand(1);
  AddCampaignCreateCommand(campaign, env);
  AddCampaignAssignCommand(campaign, env);
  AddCampaignVisitCommand(campaign, env);
  AddCampaignCoverageCommand(campaign, env);
  AddCampaignHouseholdsCommand(campaign, env);
  AddCampaignListCommand(campaign, env);
  AddCampaignFindingsRetryCommand(campaign, env);
}

// ------------------------------------------------------- a teacher's day

void PrintAssignedHousehold(const tpb::AssignedHousehold& h) {
  printf("%s  %s  campaign %lld  %s  due %s%s\n", h.household_id().c_str(),
         h.region_code().c_str(), static_cast<long long>(h.campaign_id()),
         h.visited() ? absl::StrCat("已走访 ", h.visits(), " 次").c_str()
                     : "未走访",
         h.due_date().c_str(), h.overdue() ? "  逾期" : "");
  for (const auto& m : h.members()) {
    std::string school =
        m.school_code().empty()
            ? "-"
            : absl::StrCat(m.school_code(), " ", m.school_name());
    if (!m.arrangement().empty()) school = m.arrangement();
    if (m.out_of_school()) school = "失学";
    printf("  %-10s %-8s %s  %s  %d年生  %s\n", m.member_id().c_str(),
           m.name().c_str(), m.id_number().c_str(), m.relation().c_str(),
           m.birth_year(), school.c_str());
  }
  for (const auto& p : h.paid_this_term()) {
    printf("  本学期已发放 %lld  %s  %s (%s)  %s 元  %s%s\n",
           static_cast<long long>(p.payment_id()), p.member_id().c_str(),
           p.programme_name().c_str(), p.programme_code().c_str(),
           eduaid::ledger::FormatYuan(p.amount_fen()).c_str(),
           p.paid_on().c_str(), p.followed_up() ? "  已回访" : "");
  }
}

void AddMyHouseholdsCommand(CLI::App& app, Env env) {
  auto* cmd = app.add_subcommand(
      "my-households",
      "A teacher's own households (teacher token): members, schools, "
      "subsidies paid this term");
  auto campaign = std::make_shared<int64_t>(0);
  auto filter = std::make_shared<std::string>("all");
  cmd->add_option("--campaign", *campaign, "Only this campaign (default all)");
  cmd->add_option("--filter", *filter, "all|unvisited|overdue|visited")
      ->capture_default_str();
  cmd->callback([env, campaign, filter]() mutable {
    static const std::map<std::string, tpb::HouseholdFilter> kFilters = {
        {"all", tpb::HOUSEHOLD_FILTER_UNSPECIFIED},
        {"unvisited", tpb::HOUSEHOLD_FILTER_UNVISITED},
        {"overdue", tpb::HOUSEHOLD_FILTER_OVERDUE},
        {"visited", tpb::HOUSEHOLD_FILTER_VISITED}};
    auto f = kFilters.find(*filter);
    if (f == kFilters.end()) {
      env.Usage("--filter must be all, unvisited, overdue or visited");
      return;
    }
    tpb::ListMyHouseholdsRequest req;
    req.set_campaign_id(*campaign);
    req.set_filter(f->second);
    req.set_page_size(50);
    int64_t total = 0;
    if (!env.ForEachPage(&Stub::ListMyHouseholds, req,
                         [&](const tpb::ListMyHouseholdsResponse& resp) {
                           total = resp.total();
                           PrintPage(env.ctl, resp, resp.households(),
                                     PrintAssignedHousehold);
                         }))
      return;
    if (!env.ctl.json) printf("total: %lld\n", static_cast<long long>(total));
  });
}

// ---------------------------------------------------------------- training

void PrintProgramme(const tpb::TrainingProgramme& p) {
  printf(
      "programme %lld  %s  %s %d  %d seats in %s  (weights: students %d‰, "
      "shortage %d‰)  enrolled %d, completed %d\n",
      static_cast<long long>(p.programme_id()), p.name().c_str(),
      Short(tpb::TrainingLevel_Name(p.level()), "TRAINING_LEVEL_").c_str(),
      p.year(), p.seats(), p.region_prefix().c_str(),
      p.student_weight_permille(), p.shortage_weight_permille(), p.enrolled(),
      p.completed());
  for (const auto& a : p.allocations()) {
    printf("  %s %-8s %4d seats (enrolled %d, completed %d): %s\n",
           a.region_code().c_str(),
           eduaid::synthetic::CountyName(a.region_code()).c_str(), a.seats(),
           a.enrolled(), a.completed(), a.explanation().c_str());
  }
}

const std::pair<const char*, tpb::TrainingLevel> kLevels[] = {
    {"national", tpb::TRAINING_LEVEL_NATIONAL},
    {"国培", tpb::TRAINING_LEVEL_NATIONAL},
    {"provincial", tpb::TRAINING_LEVEL_PROVINCIAL},
    {"省培", tpb::TRAINING_LEVEL_PROVINCIAL},
    {"city", tpb::TRAINING_LEVEL_CITY},
    {"市培", tpb::TRAINING_LEVEL_CITY}};

// "CODE:STUDENTS:SHORTAGE" per county (students or shortage may be left
// out).
void AddCountyInputs(const std::vector<std::string>& counties,
                     tpb::AllocateTrainingQuotaRequest* req) {
  for (const auto& c : counties) {
    std::vector<std::string> parts = absl::StrSplit(c, ':');
    auto* ci = req->add_counties();
    ci->set_region_code(parts[0]);
    int64_t v = 0;
    if (parts.size() > 1 && absl::SimpleAtoi(parts[1], &v)) {
      ci->set_registered_students(v);
    }
    if (parts.size() > 2 && absl::SimpleAtoi(parts[2], &v)) {
      ci->set_rural_teacher_shortage(v);
    }
  }
}

void AddTrainingAllocateCommand(CLI::App* training, Env env) {
  auto* cmd = training->add_subcommand(
      "allocate", "Create a programme and allocate its seats to counties");
  struct Opts {
    std::string name, level = "national", region, rid;
    int year = 0, seats = 0, ws = 0, wh = 0;
    std::vector<std::string> counties;
    bool from_registry = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--name", o->name, "Programme name")->required();
  cmd->add_option("--level", o->level, "national|provincial|city")
      ->capture_default_str();
  cmd->add_option("--year", o->year, "Year")->required();
  cmd->add_option("--seats", o->seats, "Seats to allocate")->required();
  cmd->add_option("--region", o->region, "Region whose counties share them")
      ->required();
  cmd->add_option("--county", o->counties,
                  "CODE:STUDENTS:SHORTAGE (students may be left empty with "
                  "--from-registry), repeatable");
  cmd->add_flag("--from-registry", o->from_registry,
                "Registered students per county from the registry");
  cmd->add_option("--student-weight", o->ws, "Permille (default 500)");
  cmd->add_option("--shortage-weight", o->wh, "Permille (default 500)");
  cmd->add_option("--request-id", o->rid, "Idempotency key (default: fresh)");
  cmd->callback([env, o]() mutable {
    tpb::AllocateTrainingQuotaRequest req;
    req.set_request_id(RequestIdOr(o->rid));
    req.set_name(o->name);
    req.set_level(
        ParseWord(kLevels, o->level, tpb::TRAINING_LEVEL_UNSPECIFIED));
    if (req.level() == tpb::TRAINING_LEVEL_UNSPECIFIED) {
      env.Usage("--level must be national, provincial or city");
      return;
    }
    req.set_year(o->year);
    req.set_seats(o->seats);
    req.set_region_prefix(o->region);
    req.set_students_from_registry(o->from_registry);
    req.set_student_weight_permille(o->ws);
    req.set_shortage_weight_permille(o->wh);
    AddCountyInputs(o->counties, &req);
    tpb::AllocateTrainingQuotaResponse resp;
    if (!env.Call(&Stub::AllocateTrainingQuota, req, &resp)) {
      return;
    }
    env.ctl.json ? PrintJson(resp) : PrintProgramme(resp.programme());
  });
}

void AddTrainingEnrolCommand(CLI::App* training, Env env) {
  auto* cmd = training->add_subcommand("enrol", "Enrol teachers");
  auto id = std::make_shared<int64_t>(0);
  auto teachers = std::make_shared<std::vector<std::string>>();
  auto rid = std::make_shared<std::string>();
  cmd->add_option("programme_id", *id, "Programme")->required();
  cmd->add_option("teachers", *teachers, "t-<n> ...")->required();
  cmd->add_option("--request-id", *rid, "Idempotency key (default: fresh)");
  cmd->callback([env, id, teachers, rid]() mutable {
    tpb::EnrolTrainingRequest req;
    req.set_request_id(RequestIdOr(*rid));
    req.set_programme_id(*id);
    for (const auto& t : *teachers) req.add_teacher_ids(t);
    tpb::EnrolTrainingResponse resp;
    if (!env.Call(&Stub::EnrolTraining, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    printf("enrolled %lld, rejected %lld\n",
           static_cast<long long>(resp.accepted_rows()),
           static_cast<long long>(resp.rejected_rows()));
    PrintRowErrors(resp.errors());
    PrintProgramme(resp.programme());
  });
}

void AddTrainingAttendCommand(CLI::App* training, Env env) {
  auto* cmd =
      training->add_subcommand("attend", "Record one session's attendance");
  struct Opts {
    int64_t programme = 0;
    std::string date, present, absent, rid;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("programme_id", o->programme, "Programme")->required();
  cmd->add_option("--date", o->date, "Session date YYYY-MM-DD")->required();
  cmd->add_option("--present", o->present, "t-1,t-2,...");
  cmd->add_option("--absent", o->absent, "t-3,...");
  cmd->add_option("--request-id", o->rid, "Idempotency key (default: fresh)");
  cmd->callback([env, o]() mutable {
    tpb::RecordTrainingAttendanceRequest req;
    req.set_request_id(RequestIdOr(o->rid));
    req.set_programme_id(o->programme);
    req.set_session_date(o->date);
    for (const auto& t : SplitCsvList(o->present))
      req.add_present_teacher_ids(t);
    for (const auto& t : SplitCsvList(o->absent)) req.add_absent_teacher_ids(t);
    tpb::RecordTrainingAttendanceResponse resp;
    if (!env.Call(&Stub::RecordTrainingAttendance, req, &resp)) {
      return;
    }
    printf("attendance recorded for %d teachers\n", resp.recorded());
  });
}

void AddTrainingCompleteCommand(CLI::App* training, Env env) {
  auto* cmd = training->add_subcommand("complete", "Record a completion");
  struct Opts {
    int64_t programme = 0;
    std::string teacher, certificate, rid;
    bool failed = false;
    int hours = 0;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("programme_id", o->programme, "Programme")->required();
  cmd->add_option("teacher_id", o->teacher, "t-<n>")->required();
  cmd->add_option("--hours", o->hours, "Hours credited")->required();
  cmd->add_option("--certificate", o->certificate, "Certificate reference");
  cmd->add_flag("--failed", o->failed, "Did not pass");
  cmd->add_option("--request-id", o->rid, "Idempotency key (default: fresh)");
  cmd->callback([env, o]() mutable {
    tpb::CompleteTrainingRequest req;
    req.set_request_id(RequestIdOr(o->rid));
    req.set_programme_id(o->programme);
    req.set_teacher_id(o->teacher);
    req.set_passed(!o->failed);
    req.set_hours(o->hours);
    req.set_certificate_ref(o->certificate);
    tpb::CompleteTrainingResponse resp;
    if (!env.Call(&Stub::CompleteTraining, req, &resp)) return;
    PrintJson(resp.enrolment());
  });
}

void AddTrainingShowCommand(CLI::App* training, Env env) {
  auto* cmd =
      training->add_subcommand("show", "A programme with its enrolments");
  auto id = std::make_shared<int64_t>(0);
  cmd->add_option("programme_id", *id, "Programme")->required();
  cmd->callback([env, id]() mutable {
    tpb::GetTrainingProgrammeRequest req;
    req.set_programme_id(*id);
    req.set_include_enrolments(true);
    tpb::GetTrainingProgrammeResponse resp;
    if (!env.Call(&Stub::GetTrainingProgramme, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    PrintProgramme(resp.programme());
    for (const auto& e : resp.enrolments()) {
      printf("  %-8s %-8s %s %s  present %d, absent %d  %s\n",
             e.teacher_id().c_str(), e.name().c_str(), e.region_code().c_str(),
             e.school_code().c_str(), e.sessions_present(), e.sessions_absent(),
             e.completed()
                 ? (e.passed() ? absl::StrCat("passed, ", e.hours(), " h, ",
                                              e.certificate_ref())
                                     .c_str()
                               : "failed")
                 : "in training");
    }
  });
}

void AddTrainingListCommand(CLI::App* training, Env env) {
  auto* cmd = training->add_subcommand("list", "Programmes in a region");
  auto region = std::make_shared<std::string>();
  cmd->add_option("--region", *region, "Region code prefix");
  cmd->callback([env, region]() mutable {
    tpb::ListTrainingProgrammesRequest req;
    req.set_region_prefix(*region);
    tpb::ListTrainingProgrammesResponse resp;
    if (!env.Call(&Stub::ListTrainingProgrammes, req, &resp)) {
      return;
    }
    if (env.ctl.json) return PrintJson(resp);
    for (const auto& p : resp.programmes()) PrintProgramme(p);
  });
}

void AddTrainingCommands(CLI::App& teacher, Env env) {
  auto* training = teacher.add_subcommand(
      "training", "Training quotas (国培/省培/市培) tilted to poor counties");
  training->require_subcommand(1);
  AddTrainingAllocateCommand(training, env);
  AddTrainingEnrolCommand(training, env);
  AddTrainingAttendCommand(training, env);
  AddTrainingCompleteCommand(training, env);
  AddTrainingShowCommand(training, env);
  AddTrainingListCommand(training, env);
}

}  // namespace

namespace {}  // namespace

void AddTeacherCommands(CLI::App& app, Ctl& ctl, int& exit_code) {
  auto* teacher =
      app.add_subcommand("teacher",
                         "Teacher support: teachers, support-teaching rounds, "
                         "home-visit campaigns, training quotas");
  teacher->require_subcommand(1);
  Env env{{ctl, exit_code}};
  AddTeacherRegistryCommands(*teacher, env);
  AddRoundCommands(*teacher, env);
  AddCampaignCommands(*teacher, env);
  AddTrainingCommands(*teacher, env);
  AddAuditLogCommand(*teacher, env, "The teacher service's audit log",
                     &Stub::ListAuditEvents);
  AddMyHouseholdsCommand(app, env);
}

}  // namespace eductl
