// eductl commands of the registry's special groups and schooling
// arrangements (work point 7 and issue 13):
//   special-groups import|list|plan-rate, left-behind set,
//   disability-plan set, arrangement record|end|list,
//   home-teaching log|list.
// Every mutating command takes --request-id (default: a fresh one; the
// import derives one per batch from its content).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eduaid/registry/v1/registry.grpc.pb.h"
#include "services/common/crypto.h"
#include "tools/eductl/cli_common.h"
#include "tools/eductl/ctl.h"
#include "tools/eductl/row_parsers.h"
#include "tools/gen/csv_reader.h"
#include "tools/gen/synthetic.h"

namespace eductl {
namespace {

namespace rpb = ::eduaid::registry::v1;
namespace cpb = ::eduaid::common::v1;
using Env = ServiceEnv<rpb::StudentRegistryService, &Ctl::registry>;
using Stub = Env::Stub;

const EnumWords<rpb::SpecialGroupFilter, 5> kFilters = {
    {{"all", rpb::SPECIAL_GROUP_FILTER_UNSPECIFIED},
     {"left-behind", rpb::SPECIAL_GROUP_FILTER_LEFT_BEHIND},
     {"disabled", rpb::SPECIAL_GROUP_FILTER_DISABLED},
     {"no-plan", rpb::SPECIAL_GROUP_FILTER_DISABLED_WITHOUT_PLAN},
     {"unconfirmed", rpb::SPECIAL_GROUP_FILTER_UNCONFIRMED}},
    rpb::SPECIAL_GROUP_FILTER_UNSPECIFIED};

const EnumWords<rpb::ArrangementKind, 4> kKinds = {
    {{"home-teaching", rpb::ARRANGEMENT_KIND_HOME_TEACHING},
     {"elsewhere", rpb::ARRANGEMENT_KIND_STUDYING_ELSEWHERE},
     {"送教上门", rpb::ARRANGEMENT_KIND_HOME_TEACHING},
     {"异地就读", rpb::ARRANGEMENT_KIND_STUDYING_ELSEWHERE}},
    rpb::ARRANGEMENT_KIND_UNSPECIFIED};

const char* KindLabel(rpb::ArrangementKind k) {
  return k == rpb::ARRANGEMENT_KIND_HOME_TEACHING        ? "送教上门"
         : k == rpb::ARRANGEMENT_KIND_STUDYING_ELSEWHERE ? "异地就读"
                                                         : "-";
}

// ---------------------------------------------------------------- import

struct SpecialImportTotals {
  int64_t accepted = 0, rejected = 0, left_behind = 0, plans = 0;
  std::vector<cpb::RowError> errors;
};

// One ImportSpecialGroups call of `rows` (cleared), its request id derived
// from the content so that running the same file again changes nothing.
bool SendSpecialGroups(const Env& env, std::vector<rpb::SpecialGroupRow>& rows,
                       SpecialImportTotals* t) {
  rpb::ImportSpecialGroupsRequest req;
  for (auto& r : rows) *req.add_rows() = std::move(r);
  rows.clear();
  req.set_request_id("sg-" +
                     eduaid::Sha256Hex(req.SerializeAsString()).substr(0, 40));
  rpb::ImportSpecialGroupsResponse resp;
  if (!env.Call(&Stub::ImportSpecialGroups, req, &resp)) return false;
  t->accepted += resp.accepted_rows();
  t->rejected += resp.rejected_rows();
  t->left_behind += resp.left_behind_set();
  t->plans += resp.disability_plans_set();
  for (const auto& e : resp.errors()) t->errors.push_back(e);
  return true;
}

// The header record of `path` (the CsvReader hands over records after the
// header only: a line in front makes the header the second record).
bool ReadHeader(const std::string& path, std::vector<std::string>* header) {
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  std::string line;
  for (int c; (c = fgetc(f)) != EOF && c != '\n';) line.push_back(char(c));
  fclose(f);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  eduaid::synthetic::CsvReader reader;
  return reader.Parse("x\n" + line + "\n", [&](std::vector<std::string>& fields,
                                               int64_t) {
    *header = fields;
    return true;
  }) && !header->empty();
}

int ImportSpecialGroupsFile(const Env& env, const std::string& path,
                            int batch) {
  std::vector<std::string> header;
  if (!ReadHeader(path, &header)) {
    std::cerr << "error: cannot read a header row from " << path << "\n";
    return 1;
  }
  std::string error;
  auto columns = SpecialGroupColumns::FromHeader(header, &error);
  if (!columns) {
    std::cerr << "error: " << path << ": " << error << "\n";
    return 2;
  }
  SpecialImportTotals t;
  std::vector<rpb::SpecialGroupRow> rows;
  bool sent_ok = true;
  eduaid::synthetic::CsvReader reader;
  bool read_ok = reader.Read(
      path,
      [&](std::vector<std::string>& f, int64_t line) {
        if (f.size() == 1 && f[0].empty()) return true;  // blank line
        rpb::SpecialGroupRow row;
        cpb::RowError e;
        if (!columns->ToRow(f, line, &row, &e)) {
          t.errors.push_back(std::move(e));
          ++t.rejected;
          return true;
        }
        rows.push_back(std::move(row));
        if (static_cast<int>(rows.size()) >= batch) {
          sent_ok = SendSpecialGroups(env, rows, &t);
        }
        return sent_ok;
      },
      nullptr);
  if (read_ok && sent_ok && !rows.empty()) {
    sent_ok = SendSpecialGroups(env, rows, &t);
  }
  if (!sent_ok) return env.exit_code;
  std::sort(t.errors.begin(), t.errors.end(),
            [](const cpb::RowError& a, const cpb::RowError& b) {
              return a.row_number() < b.row_number();
            });
  printf(
      "special groups: accepted %lld, rejected %lld (留守 set %lld, 残疾 "
      "set %lld)\n",
      static_cast<long long>(t.accepted), static_cast<long long>(t.rejected),
      static_cast<long long>(t.left_behind), static_cast<long long>(t.plans));
  for (const auto& e : t.errors) {
    printf("  line %lld: %s: %s\n", static_cast<long long>(e.row_number()),
           e.field().c_str(), e.rule().c_str());
  }
  return read_ok ? 0 : 1;
}

constexpr char kImportHelp[] =
    "Import 留守 / 残疾 records from a CSV file (header row required; "
    "columns by name, any order):\n"
    "  kind (类别): 留守|残疾 or left_behind|disability\n"
    "  member_id (成员编号) or id_number (身份证号): who\n"
    "  for 留守: carer_name, carer_relation, parents_location\n"
    "  for 残疾: category, placement (随班就读|特殊教育学校|送教上门|无), "
    "school_code, note\n"
    "Sent in batches of 5000 rows; good rows land, bad rows are listed with "
    "their line number (the header is line 1).";

void AddSpecialGroupsImportCommand(CLI::App* group, Env env) {
  auto* cmd = group->add_subcommand("import", kImportHelp);
  auto file = std::make_shared<std::string>();
  auto batch = std::make_shared<int>(5000);
  cmd->add_option("--file", *file, "CSV file (UTF-8)")->required();
  cmd->add_option("--batch", *batch, "Rows per call (at most 5000)")
      ->capture_default_str()
      ->check(CLI::Range(1, 5000));
  cmd->callback([env, file, batch] {
    env.exit_code = ImportSpecialGroupsFile(env, *file, *batch);
  });
}

// ------------------------------------------------------------ list, rate

void PrintSpecialEntry(const rpb::SpecialGroupEntry& e) {
  if (e.has_left_behind()) {
    const auto& lb = e.left_behind();
    printf("%-10s %s %-8s %s  留守  监护人 %s（%s）  父母务工地 %s%s\n",
           e.member_id().c_str(), e.id_number().c_str(), e.name().c_str(),
           e.region_code().c_str(), lb.carer_name().c_str(),
           lb.carer_relation().c_str(), lb.parents_location().c_str(),
           lb.unconfirmed()
               ? absl::StrCat("  待确认（", lb.reported_by(), "）").c_str()
               : "");
  }
  if (e.has_disability_plan()) {
    const auto& d = e.disability_plan();
    printf("%-10s %s %-8s %s  残疾  %s  %s %s%s\n", e.member_id().c_str(),
           e.id_number().c_str(), e.name().c_str(), e.region_code().c_str(),
           d.category().empty() ? "类别未填" : d.category().c_str(),
           PlacementLabel(d.placement()), d.school_code().c_str(),
           d.unconfirmed()
               ? absl::StrCat("  待确认（", d.reported_by(), "）").c_str()
               : "");
  }
}

void AddSpecialGroupsListCommand(CLI::App* group, Env env) {
  auto* cmd = group->add_subcommand(
      "list", "留守 and 残疾 records (masked ID numbers)");
  auto region = std::make_shared<std::string>(),
       filter = std::make_shared<std::string>("all");
  cmd->add_option("--region", *region, "Region code prefix");
  cmd->add_option("--filter", *filter,
                  "all|left-behind|disabled|no-plan|unconfirmed")
      ->capture_default_str();
  cmd->callback([env, region, filter] {
    rpb::ListSpecialGroupsRequest req;
    req.set_region_prefix(*region);
    req.set_filter(kFilters.Parse(*filter));
    if (req.filter() == rpb::SPECIAL_GROUP_FILTER_UNSPECIFIED &&
        *filter != "all") {
      env.Usage(
          "--filter must be all, left-behind, disabled, no-plan or "
          "unconfirmed");
      return;
    }
    req.set_page_size(1000);
    rpb::ListSpecialGroupsResponse last;
    if (!env.ForEachPage(&Stub::ListSpecialGroups, req,
                         [&](const rpb::ListSpecialGroupsResponse& resp) {
                           last = resp;
                           PrintPage(env.ctl, resp, resp.entries(),
                                     PrintSpecialEntry);
                         }))
      return;
    if (!env.ctl.json) {
      printf("留守 total %lld, 残疾 plans total %lld\n",
             static_cast<long long>(last.left_behind_total()),
             static_cast<long long>(last.disability_plan_total()));
    }
  });
}

void PrintPlanRate(const rpb::GetCoverageResponse& r) {
  printf("%-8s %-10s %8s %8s %8s %8s\n", "county", "", "残疾", "有方案",
         "无方案", "方案率");
  auto line = [](const rpb::RegionCoverage& g, const std::string& label) {
    printf("%-8s %-10s %8lld %8lld %8lld %7.1f%%\n",
           g.region_code().empty() ? "all" : g.region_code().c_str(),
           label.c_str(), static_cast<long long>(g.disabled()),
           static_cast<long long>(g.disabled() - g.disabled_without_plan()),
           static_cast<long long>(g.disabled_without_plan()),
           100.0 * g.disability_plan_rate());
  };
  for (const auto& g : r.regions()) {
    line(g, eduaid::synthetic::CountyName(g.region_code()));
  }
  line(r.total(), "合计");
}

void AddSpecialGroupsPlanRateCommand(CLI::App* group, Env env) {
  auto* cmd = group->add_subcommand(
      "plan-rate",
      "Per county: disabled children, with a plan, without one, and the "
      "plan rate (一人一案)");
  auto region = std::make_shared<std::string>();
  cmd->add_option("--region", *region, "Region code prefix");
  cmd->callback([env, region] {
    rpb::GetCoverageRequest req;
    req.set_region_prefix(*region);
    rpb::GetCoverageResponse resp;
    if (!env.Call(&Stub::GetCoverage, req, &resp)) return;
    env.ctl.json ? PrintJson(resp) : PrintPlanRate(resp);
  });
}

// ------------------------------------------------- left-behind, disability

void PrintStudentSpecial(const Ctl& ctl, const rpb::Student& s) {
  if (ctl.json) return PrintJson(s);
  rpb::SpecialGroupEntry e;
  e.set_member_id(s.member_id());
  e.set_id_number(s.id_number());
  e.set_name(s.name());
  e.set_region_code(s.region_code());
  if (s.has_left_behind()) *e.mutable_left_behind() = s.left_behind();
  if (s.has_disability_plan())
    *e.mutable_disability_plan() = s.disability_plan();
  if (!s.has_left_behind() && !s.has_disability_plan()) {
    printf("%s %s: no special-group record\n", s.member_id().c_str(),
           s.name().c_str());
  }
  PrintSpecialEntry(e);
}

void AddLeftBehindSetCommand(CLI::App& app, Env env) {
  auto* group = app.add_subcommand("left-behind", "Left-behind records (留守)");
  group->require_subcommand(1);
  auto* cmd = group->add_subcommand(
      "set", "Set (and so confirm) or --clear a child's left-behind record");
  struct Opts {
    std::string member, carer, relation, location, rid;
    bool clear = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("member_id", o->member, "m-<n>")->required();
  cmd->add_option("--carer-name", o->carer, "Who cares for the child");
  cmd->add_option("--carer-relation", o->relation, "e.g. 祖父母, 其他亲属");
  cmd->add_option("--parents-location", o->location,
                  "Where the parents work, e.g. 广东省东莞市");
  cmd->add_flag("--clear", o->clear, "The child is no longer left behind");
  cmd->add_option("--request-id", o->rid, "Idempotency key (default: fresh)");
  cmd->callback([env, o] {
    rpb::SetLeftBehindRequest req;
    req.set_request_id(RequestIdOr(o->rid));
    req.set_member_id(o->member);
    req.set_clear(o->clear);
    if (!o->clear) {
      req.mutable_left_behind()->set_carer_name(o->carer);
      req.mutable_left_behind()->set_carer_relation(o->relation);
      req.mutable_left_behind()->set_parents_location(o->location);
    }
    rpb::SetLeftBehindResponse resp;
    if (!env.Call(&Stub::SetLeftBehind, req, &resp)) return;
    PrintStudentSpecial(env.ctl, resp.student());
  });
}

void AddDisabilityPlanSetCommand(CLI::App& app, Env env) {
  auto* group = app.add_subcommand("disability-plan",
                                   "Disability plans (残疾儿童一人一案)");
  group->require_subcommand(1);
  auto* cmd = group->add_subcommand(
      "set", "Set (and so confirm) a disabled child's plan");
  struct Opts {
    std::string member, category, placement, school, note, rid;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("member_id", o->member, "m-<n>")->required();
  cmd->add_option("--category", o->category,
                  "e.g. 视力, 听力, 智力, 肢体, 多重");
  cmd->add_option("--placement", o->placement,
                  "随班就读|特殊教育学校|送教上门|无 (regular_class|"
                  "special_school|home_teaching|none)");
  cmd->add_option("--school-code", o->school, "The responsible school");
  cmd->add_option("--note", o->note, "Note");
  cmd->add_option("--request-id", o->rid, "Idempotency key (default: fresh)");
  cmd->callback([env, o] {
    rpb::SetDisabilityPlanRequest req;
    req.set_request_id(RequestIdOr(o->rid));
    req.set_member_id(o->member);
    rpb::Placement placement;
    if (!ParsePlacement(o->placement, &placement)) {
      env.Usage("--placement must be 随班就读, 特殊教育学校, 送教上门 or 无");
      return;
    }
    auto* plan = req.mutable_plan();
    plan->set_category(o->category);
    plan->set_placement(placement);
    plan->set_school_code(o->school);
    plan->set_note(o->note);
    rpb::SetDisabilityPlanResponse resp;
    if (!env.Call(&Stub::SetDisabilityPlan, req, &resp)) return;
    PrintStudentSpecial(env.ctl, resp.student());
  });
}

void AddSpecialGroupsCommands(CLI::App& app, Env env) {
  auto* group = app.add_subcommand(
      "special-groups",
      "Left-behind and disabled children (留守儿童, 残疾儿童): import, list, "
      "plan rate");
  group->require_subcommand(1);
  AddSpecialGroupsImportCommand(group, env);
  AddSpecialGroupsListCommand(group, env);
  AddSpecialGroupsPlanRateCommand(group, env);
  AddLeftBehindSetCommand(app, env);
  AddDisabilityPlanSetCommand(app, env);
}

// ------------------------------------------------------------ arrangements

void PrintArrangement(const rpb::SchoolingArrangement& a) {
  printf("arrangement %lld  %s %s %-8s %s  %s  %s  evidence %s  from %s%s\n",
         static_cast<long long>(a.arrangement_id()), a.member_id().c_str(),
         a.id_number().c_str(), a.name().c_str(), a.region_code().c_str(),
         KindLabel(a.kind()),
         a.kind() == rpb::ARRANGEMENT_KIND_HOME_TEACHING
             ? a.school_code().c_str()
             : absl::StrCat(a.school_name(), "，", a.place()).c_str(),
         a.evidence_ref().c_str(), a.start_date().c_str(),
         a.end_date().empty()
             ? ""
             : absl::StrCat(" to ", a.end_date(), " (", a.end_reason(), ")")
                   .c_str());
}

void AddArrangementRecordCommand(CLI::App* group, Env env) {
  auto* cmd = group->add_subcommand(
      "record",
      "Record that a child is in school by the policy: 送教上门 "
      "(home-teaching, with the responsible school) or 异地就读 (elsewhere, "
      "with the school's name and place)");
  struct Opts {
    std::string member, kind, school_code, school_name, place, evidence, start,
        rid;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--member", o->member, "m-<n>")->required();
  cmd->add_option("--kind", o->kind, "home-teaching|elsewhere")->required();
  cmd->add_option("--school-code", o->school_code,
                  "home-teaching: the responsible school");
  cmd->add_option("--school-name", o->school_name, "elsewhere: the school");
  cmd->add_option("--place", o->place,
                  "elsewhere: where, e.g. 广东省东莞市长安镇");
  cmd->add_option("--evidence", o->evidence,
                  "Reference to the evidence (certificate, plan)")
      ->required();
  cmd->add_option("--start", o->start, "Start date YYYY-MM-DD")->required();
  cmd->add_option("--request-id", o->rid, "Idempotency key (default: fresh)");
  cmd->callback([env, o] {
    rpb::RecordSchoolingArrangementRequest req;
    req.set_request_id(RequestIdOr(o->rid));
    auto* a = req.mutable_arrangement();
    a->set_member_id(o->member);
    a->set_kind(kKinds.Parse(o->kind));
    if (a->kind() == rpb::ARRANGEMENT_KIND_UNSPECIFIED) {
      env.Usage("--kind must be home-teaching or elsewhere");
      return;
    }
    a->set_school_code(o->school_code);
    a->set_school_name(o->school_name);
    a->set_place(o->place);
    a->set_evidence_ref(o->evidence);
    a->set_start_date(o->start);
    rpb::RecordSchoolingArrangementResponse resp;
    if (!env.Call(&Stub::RecordSchoolingArrangement, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    PrintArrangement(resp.arrangement());
    if (resp.left_out_of_school_list())
      printf("  left the out-of-school list\n");
  });
}

void AddArrangementEndCommand(CLI::App* group, Env env) {
  auto* cmd = group->add_subcommand(
      "end",
      "End an arrangement (a school-age child on no roster is back "
      "on the out-of-school list)");
  struct Opts {
    int64_t id = 0;
    std::string date, reason, rid;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--id", o->id, "Arrangement id")->required();
  cmd->add_option("--date", o->date, "End date YYYY-MM-DD")->required();
  cmd->add_option("--reason", o->reason, "Why it ended")->required();
  cmd->add_option("--request-id", o->rid, "Idempotency key (default: fresh)");
  cmd->callback([env, o] {
    rpb::EndSchoolingArrangementRequest req;
    req.set_request_id(RequestIdOr(o->rid));
    req.set_arrangement_id(o->id);
    req.set_end_date(o->date);
    req.set_reason(o->reason);
    rpb::EndSchoolingArrangementResponse resp;
    if (!env.Call(&Stub::EndSchoolingArrangement, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    PrintArrangement(resp.arrangement());
    if (resp.back_on_out_of_school_list())
      printf("  back on the out-of-school list\n");
  });
}

void AddArrangementListCommand(CLI::App* group, Env env) {
  auto* cmd = group->add_subcommand("list", "Arrangements in a region");
  struct Opts {
    std::string region, kind;
    bool running = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--region", o->region, "Region code prefix");
  cmd->add_option("--kind", o->kind, "home-teaching|elsewhere (default all)");
  cmd->add_flag("--running", o->running, "Only running arrangements");
  cmd->callback([env, o] {
    rpb::ListSchoolingArrangementsRequest req;
    req.set_region_prefix(o->region);
    if (!o->kind.empty()) {
      req.set_kind(kKinds.Parse(o->kind));
      if (req.kind() == rpb::ARRANGEMENT_KIND_UNSPECIFIED) {
        env.Usage("--kind must be home-teaching or elsewhere");
        return;
      }
    }
    req.set_running_only(o->running);
    req.set_page_size(1000);
    env.PrintPages(&Stub::ListSchoolingArrangements, req,
                   &rpb::ListSchoolingArrangementsResponse::arrangements,
                   PrintArrangement);
  });
}

void AddArrangementCommands(CLI::App& app, Env env) {
  auto* group = app.add_subcommand(
      "arrangement", "Schooling arrangements: 送教上门 and 异地就读");
  group->require_subcommand(1);
  AddArrangementRecordCommand(group, env);
  AddArrangementEndCommand(group, env);
  AddArrangementListCommand(group, env);
}

// ------------------------------------------------------------ home teaching

void PrintHomeTeachingVisit(const rpb::HomeTeachingVisit& v) {
  printf("visit %lld  arrangement %lld  %s  %s  %d 分钟  %s\n",
         static_cast<long long>(v.visit_id()),
         static_cast<long long>(v.arrangement_id()), v.visit_date().c_str(),
         v.teacher().c_str(), v.minutes(), v.content().c_str());
}

void AddHomeTeachingLogCommand(CLI::App* group, Env env) {
  auto* cmd =
      group->add_subcommand("log", "Log one home-teaching visit (送教记录)");
  struct Opts {
    int64_t arrangement = 0;
    int minutes = 0;
    std::string date, teacher, content, rid;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--arrangement", o->arrangement, "Arrangement id")
      ->required();
  cmd->add_option("--date", o->date, "YYYY-MM-DD")->required();
  cmd->add_option("--teacher", o->teacher, "Teacher id (t-12) or name")
      ->required();
  cmd->add_option("--minutes", o->minutes, "1..600")->required();
  cmd->add_option("--content", o->content, "What was taught")->required();
  cmd->add_option("--request-id", o->rid, "Idempotency key (default: fresh)");
  cmd->callback([env, o] {
    rpb::RecordHomeTeachingVisitRequest req;
    req.set_request_id(RequestIdOr(o->rid));
    auto* v = req.mutable_visit();
    v->set_arrangement_id(o->arrangement);
    v->set_visit_date(o->date);
    v->set_teacher(o->teacher);
    v->set_minutes(o->minutes);
    v->set_content(o->content);
    rpb::RecordHomeTeachingVisitResponse resp;
    if (!env.Call(&Stub::RecordHomeTeachingVisit, req, &resp)) return;
    env.ctl.json ? PrintJson(resp) : PrintHomeTeachingVisit(resp.visit());
  });
}

void AddHomeTeachingListCommand(CLI::App* group, Env env) {
  auto* cmd = group->add_subcommand(
      "list", "The home-teaching log of one arrangement, newest first");
  auto id = std::make_shared<int64_t>(0);
  cmd->add_option("--arrangement", *id, "Arrangement id")->required();
  cmd->callback([env, id] {
    rpb::ListHomeTeachingVisitsRequest req;
    req.set_arrangement_id(*id);
    req.set_page_size(1000);
    rpb::ListHomeTeachingVisitsResponse last;
    if (!env.ForEachPage(&Stub::ListHomeTeachingVisits, req,
                         [&](const rpb::ListHomeTeachingVisitsResponse& r) {
                           last = r;
                           PrintPage(env.ctl, r, r.visits(),
                                     PrintHomeTeachingVisit);
                         }))
      return;
    if (!env.ctl.json) {
      printf("visits %lld, minutes %lld\n",
             static_cast<long long>(last.total()),
             static_cast<long long>(last.total_minutes()));
    }
  });
}

void AddHomeTeachingCommands(CLI::App& app, Env env) {
  auto* group = app.add_subcommand(
      "home-teaching", "The home-teaching log of 送教上门 children");
  group->require_subcommand(1);
  AddHomeTeachingLogCommand(group, env);
  AddHomeTeachingListCommand(group, env);
}

}  // namespace

void AddSpecialGroupCommands(CLI::App& app, Ctl& ctl, int& exit_code) {
  Env env{{ctl, exit_code}};
  AddSpecialGroupsCommands(app, env);
  AddArrangementCommands(app, env);
  AddHomeTeachingCommands(app, env);
}

}  // namespace eductl
