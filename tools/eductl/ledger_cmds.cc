// eductl commands of the subsidy ledger: `eductl ledger ...`.
//
// Every mutating command takes --request-id (default: a fresh one); repeat
// a command with the same id after a timeout and the ledger answers as the
// first time instead of acting twice.
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "eduaid/ledger/v1/ledger.grpc.pb.h"
#include "google/protobuf/text_format.h"
#include "services/common/status.h"
#include "services/common/term.h"
#include "services/ledger/notice/notice_format.h"
#include "tools/eductl/cli_common.h"
#include "tools/eductl/ctl.h"

namespace eductl {
namespace {

namespace lpb = ::eduaid::ledger::v1;
namespace cpb = ::eduaid::common::v1;
using Stub = lpb::SubsidyLedgerService::Stub;
using ::eduaid::ledger::FormatYuan;

// "2018-autumn", "2019-spring" (also 秋季/春季).
// Parses an enum by its full name or by its short suffix ("open" for
// ENTITLEMENT_STATE_OPEN). False when neither matches.
template <typename Enum>
bool ParseEnum(const google::protobuf::EnumDescriptor* d,
               const std::string& prefix, const std::string& text, Enum* out) {
  std::string upper;
  for (char c : text) upper.push_back(static_cast<char>(std::toupper(c)));
  for (const std::string& name : {upper, prefix + upper}) {
    if (const auto* v = d->FindValueByName(name)) {
      *out = static_cast<Enum>(v->number());
      return true;
    }
  }
  return false;
}

std::string Short(const std::string& enum_name, const std::string& prefix) {
  return enum_name.rfind(prefix, 0) == 0 ? enum_name.substr(prefix.size())
                                         : enum_name;
}

bool WriteFile(const std::string& path, const std::string& body) {
  std::ofstream out(path, std::ios::binary);
  out << body;
  return static_cast<bool>(out);
}

using Env = ServiceEnv<lpb::SubsidyLedgerService, &Ctl::ledger>;

void PrintBatch(const lpb::Batch& b) {
  printf(
      "batch %lld  %s  region %s  term %s%s%s\n",
      static_cast<long long>(b.batch_id()),
      Short(lpb::BatchState_Name(b.state()), "BATCH_STATE_").c_str(),
      b.region_prefix().c_str(), TermText(b.term()).c_str(),
      b.programme_code().empty()
          ? ""
          : ("  programme " + b.programme_code()).c_str(),
      b.school_code().empty() ? "" : ("  school " + b.school_code()).c_str());
  printf(
      "  payments %lld (%s yuan): paid %lld (%s yuan), failed %lld, "
      "pending %lld\n",
      static_cast<long long>(b.payment_count()),
      FormatYuan(b.total_fen()).c_str(), static_cast<long long>(b.paid_count()),
      FormatYuan(b.paid_fen()).c_str(),
      static_cast<long long>(b.failed_count()),
      static_cast<long long>(b.pending_count()));
  printf("  created by %s at %s", b.created_by().c_str(),
         b.created_at().c_str());
  if (!b.approved_by().empty()) {
    printf("; approved by %s at %s", b.approved_by().c_str(),
           b.approved_at().c_str());
  }
  if (!b.executed_by().empty()) {
    printf("; executed by %s from %s to %s", b.executed_by().c_str(),
           b.started_at().c_str(),
           b.finished_at().empty() ? "(running)" : b.finished_at().c_str());
  }
  printf("\n");
  if (!b.note().empty()) printf("  note: %s\n", b.note().c_str());
}

void PrintEntitlement(const lpb::Entitlement& e) {
  printf("%-7lld %-10s %-26s %-11s %10s  %-9s %-8s %-10s %s\n",
         static_cast<long long>(e.entitlement_id()), e.member_id().c_str(),
         e.programme_code().c_str(), TermText(e.term()).c_str(),
         FormatYuan(e.amount_fen()).c_str(),
         Short(lpb::EntitlementState_Name(e.state()), "ENTITLEMENT_STATE_")
             .c_str(),
         e.region_code().c_str(), e.school_code().c_str(),
         e.payee_name().c_str());
}

void PrintPayment(const lpb::Payment& p) {
  printf("%-7lld ent %-7lld batch %-5lld %-10s %-26s %10s  %-8s %s %s\n",
         static_cast<long long>(p.payment_id()),
         static_cast<long long>(p.entitlement_id()),
         static_cast<long long>(p.batch_id()), p.member_id().c_str(),
         p.programme_code().c_str(), FormatYuan(p.amount_fen()).c_str(),
         Short(lpb::PaymentState_Name(p.state()), "PAYMENT_STATE_").c_str(),
         p.paid_at().c_str(), p.payee_name().c_str());
}

void PrintGrievance(const lpb::Grievance& g) {
  printf(
      "grievance %lld  %s  %s  entitlement %lld payment %lld  region %s\n",
      static_cast<long long>(g.grievance_id()),
      Short(lpb::GrievanceState_Name(g.state()), "GRIEVANCE_STATE_").c_str(),
      Short(lpb::GrievanceSource_Name(g.source()), "GRIEVANCE_SOURCE_").c_str(),
      static_cast<long long>(g.entitlement_id()),
      static_cast<long long>(g.payment_id()), g.region_code().c_str());
  printf("  opened by %s at %s: %s\n", g.opened_by().c_str(),
         g.opened_at().c_str(), g.description().c_str());
  if (g.state() == lpb::GRIEVANCE_STATE_RESOLVED) {
    printf("  resolved (%s) by %s at %s: %s\n",
           Short(lpb::GrievanceOutcome_Name(g.outcome()), "GRIEVANCE_OUTCOME_")
               .c_str(),
           g.resolved_by().c_str(), g.resolved_at().c_str(),
           g.resolution().c_str());
  }
}

void PrintGapList(const char* title, const lpb::GapList& list) {
  printf("%s: %lld\n", title, static_cast<long long>(list.total()));
  for (const auto& i : list.items()) {
    printf(
        "  %-10s %-6s %-26s ent %-6lld pay %-6lld %10s  since %s (%d days)  "
        "%s\n",
        i.member_id().c_str(), i.name().c_str(), i.programme_code().c_str(),
        static_cast<long long>(i.entitlement_id()),
        static_cast<long long>(i.payment_id()),
        FormatYuan(i.amount_fen()).c_str(), i.since().c_str(), i.days_open(),
        i.detail().c_str());
  }
  if (list.items_size() < list.total()) {
    printf("  ... %lld more\n",
           static_cast<long long>(list.total() - list.items_size()));
  }
}

std::string RenderPostingText(const lpb::Posting& p) {
  std::string t = absl::StrCat(
      "            资助公示\n\n", p.school_name(), "（", p.school_code(), "） ",
      ::eduaid::TermLabel(p.term()), "\n", "公示日期：", p.published_on(),
      "    异议截止：", p.objection_until(), "\n\n");
  absl::StrAppend(
      &t, "序号  姓名      资助项目                              金额（元）\n");
  for (const auto& l : p.lines()) {
    absl::StrAppend(
        &t, l.line_no(), "    ", l.name(), "    ", l.programme_name(), "    ",
        l.amount_fen() == 0 ? "免除" : FormatYuan(l.amount_fen()), "\n");
  }
  absl::StrAppend(&t, "\n合计：", FormatYuan(p.total_fen()), " 元\n",
                  "如有异议，请于", p.objection_until(),
                  "前向学校或县教育局反映（注明公示编号 ", p.posting_id(),
                  " 和序号）。\n");
  return t;
}

std::string RenderPostingHtml(const lpb::Posting& p) {
  using ::eduaid::ledger::HtmlEscape;
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta "
      "charset=\"utf-8\">\n<title>资助公示</title>\n<style>body{font-family:"
      "serif;max-width:48em;margin:2em auto}table{border-collapse:collapse;"
      "width:100%}td,th{border:1px solid #000;padding:.3em}</style>\n"
      "</head>\n<body>\n<h1>资助公示</h1>\n";
  absl::StrAppend(&h, "<p>", HtmlEscape(p.school_name()), "（",
                  HtmlEscape(p.school_code()), "） ",
                  HtmlEscape(::eduaid::TermLabel(p.term())),
                  "</p>\n<p>公示日期：", HtmlEscape(p.published_on()),
                  "　异议截止：", HtmlEscape(p.objection_until()), "</p>\n");
  absl::StrAppend(&h,
                  "<table>\n<tr><th>序号</th><th>姓名</th><th>资助项目"
                  "</th><th>金额（元）</th></tr>\n");
  for (const auto& l : p.lines()) {
    absl::StrAppend(&h, "<tr><td>", l.line_no(), "</td><td>",
                    HtmlEscape(l.name()), "</td><td>",
                    HtmlEscape(l.programme_name()), "</td><td>",
                    l.amount_fen() == 0 ? "免除" : FormatYuan(l.amount_fen()),
                    "</td></tr>\n");
  }
  absl::StrAppend(&h, "</table>\n<p>合计：", FormatYuan(p.total_fen()),
                  " 元</p>\n<p>如有异议，请于", HtmlEscape(p.objection_until()),
                  "前向学校或县教育局反映（注明公示编号 ", p.posting_id(),
                  " 和序号）。</p>\n</body>\n</html>\n");
  return h;
}

// Writes `text` to `out` ("" or "-" = stdout).
bool Emit(Env& env, const std::string& out, const std::string& text) {
  if (out.empty() || out == "-") {
    std::cout << text;
    return true;
  }
  if (!WriteFile(out, text)) {
    std::cerr << "error: cannot write " << out << "\n";
    env.exit_code = 1;
    return false;
  }
  std::cerr << "wrote " << out << "\n";
  return true;
}

void AddLoadPolicyCommand(CLI::App& ledger, Env env) {
  auto* cmd = ledger.add_subcommand(
      "load-policy", "Load subsidy standards from a policy file (province)");
  auto file = std::make_shared<std::string>("policy/henan-2018.textproto");
  auto rid = std::make_shared<std::string>();
  cmd->add_option("--file", *file, "Policy in protobuf text format")
      ->capture_default_str();
  cmd->add_option("--request-id", *rid, "Idempotency key (default: new)");
  cmd->callback([env, file, rid]() mutable {
    std::ifstream in(*file);
    if (!in) {
      env.Usage("cannot read " + *file);
      return;
    }
    std::string text((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
    lpb::LoadPolicyRequest req;
    req.set_request_id(RequestIdOr(*rid));
    if (!google::protobuf::TextFormat::ParseFromString(text,
                                                       req.mutable_policy())) {
      env.Usage(*file + " is not a valid eduaid.ledger.v1.Policy");
      return;
    }
    lpb::LoadPolicyResponse resp;
    if (!env.Call(&Stub::LoadPolicy, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    printf("standards created %d, unchanged %d\n", resp.standards_created(),
           resp.standards_unchanged());
    for (const auto& id : resp.created_standard_ids()) {
      printf("  + %s\n", id.c_str());
    }
  });
}

void AddProgrammesCommand(CLI::App& ledger, Env env) {
  auto* cmd =
      ledger.add_subcommand("programmes", "Subsidy standards (policy data)");
  auto term = std::make_shared<std::string>();
  cmd->add_option("--term", *term, "Only those in effect, e.g. 2018-autumn");
  cmd->callback([env, term]() mutable {
    lpb::ListProgrammesRequest req;
    if (!term->empty() && !ParseTerm(*term, req.mutable_term())) {
      env.Usage("--term must look like 2018-autumn");
      return;
    }
    lpb::ListProgrammesResponse resp;
    if (!env.Call(&Stub::ListProgrammes, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    for (const auto& s : resp.standards()) {
      printf("%-36s %s%s\n", s.standard_id().c_str(), s.name().c_str(),
             s.auto_generate() ? "" : "  (raised per student)");
      for (const auto& r : s.rates()) {
        printf(
            "    %-22s %10s yuan/year%s\n",
            Short(cpb::SchoolStage_Name(r.stage()), "SCHOOL_STAGE_").c_str(),
            r.yearly_fen() == 0 ? "waiver" : FormatYuan(r.yearly_fen()).c_str(),
            r.boarders_only() ? ", boarders only" : "");
      }
      printf(
          "    shares central %.2f%% provincial %.2f%% city %.2f%% "
          "county %.2f%%; effective %s..%s\n",
          s.shares().central_bp() / 100.0, s.shares().provincial_bp() / 100.0,
          s.shares().city_bp() / 100.0, s.shares().county_bp() / 100.0,
          s.effective_from().c_str(),
          s.effective_to().empty() ? "" : s.effective_to().c_str());
    }
  });
}

void AddPolicyCommands(CLI::App& ledger, Env env) {
  AddLoadPolicyCommand(ledger, env);
  AddProgrammesCommand(ledger, env);
}

void AddEntitlementGenerateCommand(CLI::App* group, Env env) {
  auto* cmd = group->add_subcommand(
      "generate", "Generate a term's entitlements from the registry");
  auto term = std::make_shared<std::string>();
  auto region = std::make_shared<std::string>();
  auto stage = std::make_shared<std::string>();
  auto programmes = std::make_shared<std::vector<std::string>>();
  auto rid = std::make_shared<std::string>();
  cmd->add_option("--term", *term, "e.g. 2018-autumn")->required();
  cmd->add_option("--region", *region, "Region code prefix, e.g. 411325");
  cmd->add_option("--stage", *stage, "primary|junior_high|...");
  cmd->add_option("--programme", *programmes, "Only these programme codes");
  cmd->add_option("--request-id", *rid, "Idempotency key (default: new)");
  cmd->callback([env, term, region, stage, programmes, rid]() mutable {
    lpb::GenerateEntitlementsRequest req;
    req.set_request_id(RequestIdOr(*rid));
    if (!ParseTerm(*term, req.mutable_term())) {
      env.Usage("--term must look like 2018-autumn");
      return;
    }
    req.set_region_prefix(*region);
    if (!stage->empty()) {
      req.set_stage(ParseStage(*stage));
      if (req.stage() == cpb::SCHOOL_STAGE_UNSPECIFIED) {
        env.Usage("unknown --stage " + *stage);
        return;
      }
    }
    for (const auto& p : *programmes) req.add_programme_codes(p);
    lpb::GenerateEntitlementsResponse resp;
    if (!env.Call(&Stub::GenerateEntitlements, req, &resp)) {
      return;
    }
    if (env.ctl.json) return PrintJson(resp);
    printf(
        "students %lld: entitlements created %lld (%s yuan), waivers %lld, "
        "already entitled %lld, carried over %lld\n",
        static_cast<long long>(resp.students_seen()),
        static_cast<long long>(resp.entitlements_created()),
        FormatYuan(resp.total_fen()).c_str(),
        static_cast<long long>(resp.waivers_recorded()),
        static_cast<long long>(resp.already_entitled()),
        static_cast<long long>(resp.carried_over()));
    for (const auto& pc : resp.by_programme()) {
      printf("  %-26s %6lld  %12s yuan\n", pc.programme_code().c_str(),
             static_cast<long long>(pc.entitlements()),
             FormatYuan(pc.amount_fen()).c_str());
    }
  });
}

void AddEntitlementListCommand(CLI::App* group, Env env) {
  auto* cmd = group->add_subcommand("list", "List entitlements");
  auto req = std::make_shared<lpb::ListEntitlementsRequest>();
  auto term = std::make_shared<std::string>();
  auto state = std::make_shared<std::string>();
  auto all = std::make_shared<bool>(false);
  auto region = std::make_shared<std::string>(),
       programme = std::make_shared<std::string>(),
       member = std::make_shared<std::string>(),
       school = std::make_shared<std::string>();
  auto page = std::make_shared<int>(100);
  cmd->add_option("--term", *term, "e.g. 2018-autumn");
  cmd->add_option("--region", *region, "Region code prefix");
  cmd->add_option("--programme", *programme, "Programme code");
  cmd->add_option("--state", *state, "open|batched|paid|cancelled|waived");
  cmd->add_option("--member", *member, "Registry member id");
  cmd->add_option("--school", *school, "School code");
  cmd->add_option("--page-size", *page, "Rows per page")->capture_default_str();
  cmd->add_flag("--all", *all, "Follow page tokens to the end");
  cmd->callback([env, term, state, all, region, programme, member, school,
                 page]() mutable {
    lpb::ListEntitlementsRequest req;
    if (!term->empty() && !ParseTerm(*term, req.mutable_term())) {
      env.Usage("--term must look like 2018-autumn");
      return;
    }
    lpb::EntitlementState s = lpb::ENTITLEMENT_STATE_UNSPECIFIED;
    if (!state->empty() && !ParseEnum(lpb::EntitlementState_descriptor(),
                                      "ENTITLEMENT_STATE_", *state, &s)) {
      env.Usage("unknown --state " + *state);
      return;
    }
    req.set_state(s);
    req.set_region_prefix(*region);
    req.set_programme_code(*programme);
    req.set_member_id(*member);
    req.set_school_code(*school);
    req.set_page_size(*page);
    if (!env.PrintPages(&Stub::ListEntitlements, req,
                        &lpb::ListEntitlementsResponse::entitlements,
                        PrintEntitlement, *all))
      return;
  });
}

void AddEntitlementCreateCommand(CLI::App* group, Env env) {
  auto* cmd = group->add_subcommand(
      "create",
      "Raise one entitlement by hand (e.g. a higher-education grant)");
  auto req = std::make_shared<lpb::CreateEntitlementRequest>();
  auto term = std::make_shared<std::string>();
  auto stage = std::make_shared<std::string>();
  auto rid = std::make_shared<std::string>();
  auto grade = std::make_shared<int>(0);
  auto boarder = std::make_shared<bool>(false);
  auto amount = std::make_shared<int64_t>(0);
  auto member = std::make_shared<std::string>(),
       programme = std::make_shared<std::string>(),
       region = std::make_shared<std::string>(),
       school = std::make_shared<std::string>(),
       school_name = std::make_shared<std::string>(),
       reason = std::make_shared<std::string>(),
       payee = std::make_shared<std::string>();
  cmd->add_option("--member", *member, "Registry member id")->required();
  cmd->add_option("--programme", *programme, "Programme code")->required();
  cmd->add_option("--term", *term, "e.g. 2018-autumn")->required();
  cmd->add_option("--region", *region, "6-digit county of the household")
      ->required();
  cmd->add_option("--school", *school, "School code")->required();
  cmd->add_option("--school-name", *school_name, "School name")->required();
  cmd->add_option("--stage", *stage, "primary|...|higher")->required();
  cmd->add_option("--grade", *grade, "Grade within the stage");
  cmd->add_flag("--boarder", *boarder, "A boarding student");
  cmd->add_option("--amount-fen", *amount,
                  "Amount in fen (default: the standard's)");
  cmd->add_option("--reason", *reason, "Why")->required();
  cmd->add_option("--payee", *payee, "Student's name")->required();
  cmd->add_option("--request-id", *rid, "Idempotency key (default: new)");
  cmd->callback([env, term, stage, rid, grade, boarder, amount, member,
                 programme, region, school, school_name, reason,
                 payee]() mutable {
    lpb::CreateEntitlementRequest req;
    req.set_request_id(RequestIdOr(*rid));
    if (!ParseTerm(*term, req.mutable_term())) {
      env.Usage("--term must look like 2018-autumn");
      return;
    }
    req.set_stage(ParseStage(*stage));
    req.set_member_id(*member);
    req.set_programme_code(*programme);
    req.set_region_code(*region);
    req.set_school_code(*school);
    req.set_school_name(*school_name);
    req.set_grade(*grade);
    req.set_boarder(*boarder);
    req.set_amount_fen(*amount);
    req.set_reason(*reason);
    req.set_payee_name(*payee);
    lpb::CreateEntitlementResponse resp;
    if (!env.Call(&Stub::CreateEntitlement, req, &resp)) {
      return;
    }
    env.ctl.json ? PrintJson(resp) : PrintEntitlement(resp.entitlement());
  });
}

void AddEntitlementCancelCommand(CLI::App* group, Env env) {
  auto* cmd = group->add_subcommand("cancel", "Cancel an unpaid entitlement");
  auto id = std::make_shared<int64_t>(0);
  auto reason = std::make_shared<std::string>();
  auto rid = std::make_shared<std::string>();
  cmd->add_option("id", *id, "Entitlement id")->required();
  cmd->add_option("--reason", *reason, "Why")->required();
  cmd->add_option("--request-id", *rid, "Idempotency key (default: new)");
  cmd->callback([env, id, reason, rid]() mutable {
    lpb::CancelEntitlementRequest req;
    req.set_request_id(RequestIdOr(*rid));
    req.set_entitlement_id(*id);
    req.set_reason(*reason);
    lpb::CancelEntitlementResponse resp;
    if (!env.Call(&Stub::CancelEntitlement, req, &resp)) {
      return;
    }
    env.ctl.json ? PrintJson(resp) : PrintEntitlement(resp.entitlement());
  });
}

void AddEntitlementCommands(CLI::App& ledger, Env env) {
  auto* group =
      ledger.add_subcommand("entitlements", "Entitlements of students");
  group->require_subcommand(1);
  AddEntitlementGenerateCommand(group, env);
  AddEntitlementListCommand(group, env);
  AddEntitlementCreateCommand(group, env);
  AddEntitlementCancelCommand(group, env);
}

// Polls a batch until it leaves EXECUTING; prints progress to stderr.
bool WaitForBatch(Env& env, Stub& stub, int64_t id, lpb::Batch* out) {
  while (true) {
    lpb::GetBatchRequest req;
    req.set_batch_id(id);
    lpb::GetBatchResponse resp;
    if (!env.Call(&Stub::GetBatch, req, &resp, &stub)) return false;
    *out = resp.batch();
    if (out->state() != lpb::BATCH_STATE_EXECUTING) return true;
    std::cerr << "\r  paid " << out->paid_count() << " / "
              << out->payment_count() << std::flush;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

void AddBatchCreateCommand(CLI::App* group, Env env) {
  auto* cmd = group->add_subcommand(
      "create", "Put a term's open entitlements into a new batch");
  auto term = std::make_shared<std::string>();
  auto region = std::make_shared<std::string>(),
       programme = std::make_shared<std::string>(),
       school = std::make_shared<std::string>(),
       note = std::make_shared<std::string>(),
       rid = std::make_shared<std::string>();
  auto max = std::make_shared<int>(0);
  cmd->add_option("--term", *term, "e.g. 2018-autumn")->required();
  cmd->add_option("--region", *region, "Region code prefix, e.g. 411325");
  cmd->add_option("--programme", *programme, "Only this programme");
  cmd->add_option("--school", *school, "Only this school");
  cmd->add_option("--max", *max, "At most this many payments");
  cmd->add_option("--note", *note, "Note on the batch");
  cmd->add_option("--request-id", *rid, "Idempotency key (default: new)");
  cmd->callback(
      [env, term, region, programme, school, note, rid, max]() mutable {
        lpb::CreateBatchRequest req;
        req.set_request_id(RequestIdOr(*rid));
        if (!ParseTerm(*term, req.mutable_term())) {
          env.Usage("--term must look like 2018-autumn");
          return;
        }
        req.set_region_prefix(*region);
        req.set_programme_code(*programme);
        req.set_school_code(*school);
        req.set_max_payments(*max);
        req.set_note(*note);
        lpb::CreateBatchResponse resp;
        if (!env.Call(&Stub::CreateBatch, req, &resp)) return;
        if (env.ctl.json) return PrintJson(resp);
        PrintBatch(resp.batch());
        printf(
            "next: another officer approves it:\n"
            "  eductl --token \"$TOKEN_B\" ledger batch approve %lld\n",
            static_cast<long long>(resp.batch().batch_id()));
      });
}

void AddBatchApproveCommand(CLI::App* group, Env env) {
  auto* cmd = group->add_subcommand(
      "approve", "Approve a batch (must not be its creator)");
  auto id = std::make_shared<int64_t>(0);
  auto rid = std::make_shared<std::string>();
  cmd->add_option("id", *id, "Batch id")->required();
  cmd->add_option("--request-id", *rid, "Idempotency key (default: new)");
  cmd->callback([env, id, rid]() mutable {
    lpb::ApproveBatchRequest req;
    req.set_request_id(RequestIdOr(*rid));
    req.set_batch_id(*id);
    lpb::ApproveBatchResponse resp;
    if (!env.Call(&Stub::ApproveBatch, req, &resp)) return;
    env.ctl.json ? PrintJson(resp) : PrintBatch(resp.batch());
  });
}

void AddBatchExecuteCommand(CLI::App* group, Env env) {
  auto* cmd = group->add_subcommand(
      "execute", "Execute an approved batch (resumable; --wait to follow)");
  auto id = std::make_shared<int64_t>(0);
  auto rid = std::make_shared<std::string>();
  auto wait = std::make_shared<bool>(false);
  cmd->add_option("id", *id, "Batch id")->required();
  cmd->add_flag("--wait", *wait, "Wait until it is executed");
  cmd->add_option("--request-id", *rid, "Idempotency key (default: new)");
  cmd->callback([env, id, rid, wait]() mutable {
    lpb::ExecuteBatchRequest req;
    req.set_request_id(RequestIdOr(*rid));
    req.set_batch_id(*id);
    lpb::ExecuteBatchResponse resp;
    auto stub = env.stub();
    if (!env.Call(&Stub::ExecuteBatch, req, &resp, stub.get())) return;
    lpb::Batch batch = resp.batch();
    if (*wait && !WaitForBatch(env, *stub, *id, &batch)) return;
    if (*wait) std::cerr << "\n";
    env.ctl.json ? PrintJson(batch) : PrintBatch(batch);
  });
}

void AddBatchCancelCommand(CLI::App* group, Env env) {
  auto* cmd = group->add_subcommand(
      "cancel", "Cancel a batch not yet executed (entitlements reopen)");
  auto id = std::make_shared<int64_t>(0);
  auto reason = std::make_shared<std::string>();
  auto rid = std::make_shared<std::string>();
  cmd->add_option("id", *id, "Batch id")->required();
  cmd->add_option("--reason", *reason, "Why")->required();
  cmd->add_option("--request-id", *rid, "Idempotency key (default: new)");
  cmd->callback([env, id, reason, rid]() mutable {
    lpb::CancelBatchRequest req;
    req.set_request_id(RequestIdOr(*rid));
    req.set_batch_id(*id);
    req.set_reason(*reason);
    lpb::CancelBatchResponse resp;
    if (!env.Call(&Stub::CancelBatch, req, &resp)) return;
    env.ctl.json ? PrintJson(resp) : PrintBatch(resp.batch());
  });
}

void AddBatchShowCommand(CLI::App* group, Env env) {
  auto* cmd = group->add_subcommand("show", "One batch and its progress");
  auto id = std::make_shared<int64_t>(0);
  cmd->add_option("id", *id, "Batch id")->required();
  cmd->callback([env, id]() mutable {
    lpb::GetBatchRequest req;
    req.set_batch_id(*id);
    lpb::GetBatchResponse resp;
    if (!env.Call(&Stub::GetBatch, req, &resp)) return;
    env.ctl.json ? PrintJson(resp) : PrintBatch(resp.batch());
  });
}

void AddBatchListCommand(CLI::App* group, Env env) {
  auto* cmd = group->add_subcommand("list", "Batches in a region");
  auto region = std::make_shared<std::string>();
  auto state = std::make_shared<std::string>();
  cmd->add_option("--region", *region, "Region code prefix");
  cmd->add_option("--state", *state,
                  "created|approved|executing|executed|cancelled");
  cmd->callback([env, region, state]() mutable {
    lpb::ListBatchesRequest req;
    req.set_region_prefix(*region);
    lpb::BatchState s = lpb::BATCH_STATE_UNSPECIFIED;
    if (!state->empty() &&
        !ParseEnum(lpb::BatchState_descriptor(), "BATCH_STATE_", *state, &s)) {
      env.Usage("unknown --state " + *state);
      return;
    }
    req.set_state(s);
    req.set_page_size(1000);
    if (!env.PrintPages(&Stub::ListBatches, req,
                        &lpb::ListBatchesResponse::batches, PrintBatch))
      return;
  });
}

void AddBatchCommands(CLI::App& ledger, Env env) {
  auto* group = ledger.add_subcommand(
      "batch", "Disbursement batches (create, approve by another, execute)");
  group->require_subcommand(1);
  AddBatchCreateCommand(group, env);
  AddBatchApproveCommand(group, env);
  AddBatchExecuteCommand(group, env);
  AddBatchCancelCommand(group, env);
  AddBatchShowCommand(group, env);
  AddBatchListCommand(group, env);
}

void AddPayCommand(CLI::App& ledger, Env env) {
  auto* cmd = ledger.add_subcommand(
      "pay", "Pay one open entitlement now (not its raiser)");
  auto id = std::make_shared<int64_t>(0);
  auto rid = std::make_shared<std::string>();
  cmd->add_option("entitlement", *id, "Entitlement id")->required();
  cmd->add_option("--request-id", *rid, "Idempotency key (default: new)");
  cmd->callback([env, id, rid]() mutable {
    lpb::DisburseEntitlementRequest req;
    req.set_request_id(RequestIdOr(*rid));
    req.set_entitlement_id(*id);
    lpb::DisburseEntitlementResponse resp;
    if (!env.Call(&Stub::DisburseEntitlement, req, &resp)) {
      return;
    }
    env.ctl.json ? PrintJson(resp) : PrintPayment(resp.payment());
  });
}

void AddPaymentsCommand(CLI::App& ledger, Env env) {
  auto* cmd = ledger.add_subcommand("payments", "List payments");
  auto term = std::make_shared<std::string>();
  auto region = std::make_shared<std::string>(),
       state = std::make_shared<std::string>(),
       member = std::make_shared<std::string>(),
       programme = std::make_shared<std::string>();
  auto batch = std::make_shared<int64_t>(0);
  auto all = std::make_shared<bool>(false);
  auto page = std::make_shared<int>(100);
  cmd->add_option("--term", *term, "e.g. 2018-autumn");
  cmd->add_option("--region", *region, "Region code prefix");
  cmd->add_option("--batch", *batch, "Batch id");
  cmd->add_option("--state", *state, "pending|paid|failed|reversed");
  cmd->add_option("--member", *member, "Registry member id");
  cmd->add_option("--programme", *programme, "Programme code");
  cmd->add_option("--page-size", *page, "Rows per page")->capture_default_str();
  cmd->add_flag("--all", *all, "Follow page tokens to the end");
  cmd->callback([env, term, region, state, member, programme, batch, all,
                 page]() mutable {
    lpb::ListPaymentsRequest req;
    if (!term->empty() && !ParseTerm(*term, req.mutable_term())) {
      env.Usage("--term must look like 2018-autumn");
      return;
    }
    lpb::PaymentState s = lpb::PAYMENT_STATE_UNSPECIFIED;
    if (!state->empty() && !ParseEnum(lpb::PaymentState_descriptor(),
                                      "PAYMENT_STATE_", *state, &s)) {
      env.Usage("unknown --state " + *state);
      return;
    }
    req.set_state(s);
    req.set_region_prefix(*region);
    req.set_batch_id(*batch);
    req.set_member_id(*member);
    req.set_programme_code(*programme);
    req.set_page_size(*page);
    if (!env.PrintPages(&Stub::ListPayments, req,
                        &lpb::ListPaymentsResponse::payments, PrintPayment,
                        *all))
      return;
  });
}

void AddReverseCommand(CLI::App& ledger, Env env) {
  auto* cmd = ledger.add_subcommand(
      "reverse", "Correct a paid payment by reversal entries");
  auto id = std::make_shared<int64_t>(0);
  auto reason = std::make_shared<std::string>();
  auto rid = std::make_shared<std::string>();
  cmd->add_option("payment", *id, "Payment id")->required();
  cmd->add_option("--reason", *reason, "Why")->required();
  cmd->add_option("--request-id", *rid, "Idempotency key (default: new)");
  cmd->callback([env, id, reason, rid]() mutable {
    lpb::ReversePaymentRequest req;
    req.set_request_id(RequestIdOr(*rid));
    req.set_payment_id(*id);
    req.set_reason(*reason);
    lpb::ReversePaymentResponse resp;
    if (!env.Call(&Stub::ReversePayment, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    PrintPayment(resp.payment());
    for (const auto& e : resp.reversal_entries()) {
      printf("  entry %lld reverses %lld: Dr %s Cr %s %s\n",
             static_cast<long long>(e.entry_id()),
             static_cast<long long>(e.reverses_entry_id()),
             e.debit_account().c_str(), e.credit_account().c_str(),
             FormatYuan(e.amount_fen()).c_str());
    }
  });
}

void AddPaymentCommands(CLI::App& ledger, Env env) {
  AddPayCommand(ledger, env);
  AddPaymentsCommand(ledger, env);
  AddReverseCommand(ledger, env);
}

void AddNoticeCommand(CLI::App& ledger, Env env) {
  auto* cmd = ledger.add_subcommand(
      "notice", "Render the written notice (资助告知书) of a payment");
  auto id = std::make_shared<int64_t>(0);
  auto format = std::make_shared<std::string>("text");
  auto out = std::make_shared<std::string>();
  cmd->add_option("payment", *id, "Payment id")->required();
  cmd->add_option("--format", *format, "text|html")->capture_default_str();
  cmd->add_option("--out", *out, "File to write (default stdout)");
  cmd->callback([env, id, format, out]() mutable {
    if (*format != "text" && *format != "html") {
      env.Usage("--format must be text or html");
      return;
    }
    lpb::GetNoticeRequest req;
    req.set_payment_id(*id);
    lpb::GetNoticeResponse resp;
    if (!env.Call(&Stub::GetNotice, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    Emit(env, *out,
         *format == "html" ? ::eduaid::ledger::RenderNoticeHtml(resp.notice())
                           : ::eduaid::ledger::RenderNoticeText(resp.notice()));
  });
}

// Fetches the notice of a payment and writes it into `dir` as
// <notice_no>.html or .txt; false (exit code set) when that fails.
bool WriteNotice(const Env& env, Stub* stub, int64_t payment_id,
                 const std::string& dir, const std::string& format) {
  lpb::GetNoticeRequest req;
  req.set_payment_id(payment_id);
  lpb::GetNoticeResponse resp;
  if (!env.Call(&Stub::GetNotice, req, &resp, stub)) return false;
  const std::string path = absl::StrCat(dir, "/", resp.notice().notice_no(),
                                        format == "html" ? ".html" : ".txt");
  if (!WriteFile(path,
                 format == "html"
                     ? ::eduaid::ledger::RenderNoticeHtml(resp.notice())
                     : ::eduaid::ledger::RenderNoticeText(resp.notice()))) {
    std::cerr << "error: cannot write " << path << "\n";
    env.exit_code = 1;
    return false;
  }
  return true;
}

void AddNoticesCommand(CLI::App& ledger, Env env) {
  auto* cmd = ledger.add_subcommand(
      "notices", "Render the notices of every paid payment of a batch");
  auto batch = std::make_shared<int64_t>(0);
  auto format = std::make_shared<std::string>("html");
  auto dir = std::make_shared<std::string>("notices");
  cmd->add_option("--batch", *batch, "Batch id")->required();
  cmd->add_option("--format", *format, "text|html")->capture_default_str();
  cmd->add_option("--out-dir", *dir, "Directory for the files")
      ->capture_default_str();
  cmd->callback([env, batch, format, dir]() mutable {
    if (*format != "text" && *format != "html") {
      env.Usage("--format must be text or html");
      return;
    }
    mkdir(dir->c_str(), 0755);
    auto stub = env.stub();
    lpb::ListPaymentsRequest list;
    list.set_batch_id(*batch);
    list.set_state(lpb::PAYMENT_STATE_PAID);
    list.set_page_size(1000);
    int written = 0;
    if (!env.ForEachPage(&Stub::ListPayments, list,
                         [&](const lpb::ListPaymentsResponse& payments) {
                           for (const auto& p : payments.payments()) {
                             if (!WriteNotice(env, stub.get(), p.payment_id(),
                                              *dir, *format))
                               return false;
                             ++written;
                           }
                           return true;
                         }))
      return;
    printf("wrote %d notices to %s/\n", written, dir->c_str());
  });
}

void AddAckCommand(CLI::App& ledger, Env env) {
  auto* cmd = ledger.add_subcommand(
      "ack", "Record that the student or guardian acknowledged a notice");
  auto id = std::make_shared<int64_t>(0);
  auto party = std::make_shared<std::string>("guardian");
  auto method = std::make_shared<std::string>("signature");
  auto on = std::make_shared<std::string>(),
       note = std::make_shared<std::string>(),
       rid = std::make_shared<std::string>();
  cmd->add_option("payment", *id, "Payment id")->required();
  cmd->add_option("--party", *party, "student|guardian")->capture_default_str();
  cmd->add_option("--method", *method, "signature|thumbprint|sms|wechat|phone")
      ->capture_default_str();
  cmd->add_option("--on", *on, "Date YYYY-MM-DD (default today)");
  cmd->add_option("--note", *note, "Note");
  cmd->add_option("--request-id", *rid, "Idempotency key (default: new)");
  cmd->callback([env, id, party, method, on, note, rid]() mutable {
    lpb::AcknowledgeNoticeRequest req;
    req.set_request_id(RequestIdOr(*rid));
    req.set_payment_id(*id);
    lpb::AckParty p;
    lpb::AckMethod m;
    if (!ParseEnum(lpb::AckParty_descriptor(), "ACK_PARTY_", *party, &p)) {
      env.Usage("--party must be student or guardian");
      return;
    }
    if (!ParseEnum(lpb::AckMethod_descriptor(), "ACK_METHOD_", *method, &m)) {
      env.Usage("unknown --method " + *method);
      return;
    }
    req.set_party(p);
    req.set_method(m);
    req.set_acknowledged_on(*on);
    req.set_note(*note);
    lpb::AcknowledgeNoticeResponse resp;
    if (!env.Call(&Stub::AcknowledgeNotice, req, &resp)) {
      return;
    }
    if (env.ctl.json) return PrintJson(resp);
    printf("notice %s acknowledged on %s\n", resp.notice().notice_no().c_str(),
           resp.notice().acknowledgement().acknowledged_on().c_str());
  });
}

void AddFollowupCommand(CLI::App& ledger, Env env) {
  auto* cmd = ledger.add_subcommand(
      "followup", "Record a follow-up visit (回访) after payment");
  auto id = std::make_shared<int64_t>(0);
  auto visitor = std::make_shared<std::string>(),
       outcome = std::make_shared<std::string>(),
       on = std::make_shared<std::string>(),
       note = std::make_shared<std::string>(),
       rid = std::make_shared<std::string>();
  cmd->add_option("payment", *id, "Payment id")->required();
  cmd->add_option("--visitor", *visitor, "Who visited")->required();
  cmd->add_option("--outcome", *outcome,
                  "received_in_full|received_partially|not_received|"
                  "not_reached")
      ->required();
  cmd->add_option("--on", *on, "Date YYYY-MM-DD (default today)");
  cmd->add_option("--note", *note, "What was found");
  cmd->add_option("--request-id", *rid, "Idempotency key (default: new)");
  cmd->callback([env, id, visitor, outcome, on, note, rid]() mutable {
    lpb::RecordFollowUpRequest req;
    req.set_request_id(RequestIdOr(*rid));
    req.set_payment_id(*id);
    lpb::FollowUpOutcome o;
    if (!ParseEnum(lpb::FollowUpOutcome_descriptor(), "FOLLOW_UP_OUTCOME_",
                   *outcome, &o)) {
      env.Usage("unknown --outcome " + *outcome);
      return;
    }
    req.set_outcome(o);
    req.set_visitor(*visitor);
    req.set_visited_on(*on);
    req.set_note(*note);
    lpb::RecordFollowUpResponse resp;
    if (!env.Call(&Stub::RecordFollowUp, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    printf("follow-up %lld recorded\n",
           static_cast<long long>(resp.follow_up().follow_up_id()));
    if (resp.has_grievance()) {
      printf("the outcome opened grievance %lld\n",
             static_cast<long long>(resp.grievance().grievance_id()));
    }
  });
}

void AddGrievanceOpenCommand(CLI::App* group, Env env) {
  auto* cmd = group->add_subcommand("open", "Open a grievance");
  auto payment = std::make_shared<int64_t>(0);
  auto entitlement = std::make_shared<int64_t>(0);
  auto text = std::make_shared<std::string>(),
       rid = std::make_shared<std::string>();
  cmd->add_option("--payment", *payment, "Payment id");
  cmd->add_option("--entitlement", *entitlement, "Entitlement id");
  cmd->add_option("--description", *text, "What is wrong")->required();
  cmd->add_option("--request-id", *rid, "Idempotency key (default: new)");
  cmd->callback([env, payment, entitlement, text, rid]() mutable {
    lpb::OpenGrievanceRequest req;
    req.set_request_id(RequestIdOr(*rid));
    req.set_payment_id(*payment);
    req.set_entitlement_id(*entitlement);
    req.set_description(*text);
    lpb::OpenGrievanceResponse resp;
    if (!env.Call(&Stub::OpenGrievance, req, &resp)) {
      return;
    }
    env.ctl.json ? PrintJson(resp) : PrintGrievance(resp.grievance());
  });
}

void AddGrievanceResolveCommand(CLI::App* group, Env env) {
  auto* cmd = group->add_subcommand("resolve", "Resolve a grievance");
  auto id = std::make_shared<int64_t>(0);
  auto outcome = std::make_shared<std::string>(),
       text = std::make_shared<std::string>(),
       rid = std::make_shared<std::string>();
  cmd->add_option("id", *id, "Grievance id")->required();
  cmd->add_option("--outcome", *outcome, "upheld|dismissed")->required();
  cmd->add_option("--resolution", *text, "What was decided and done")
      ->required();
  cmd->add_option("--request-id", *rid, "Idempotency key (default: new)");
  cmd->callback([env, id, outcome, text, rid]() mutable {
    lpb::ResolveGrievanceRequest req;
    req.set_request_id(RequestIdOr(*rid));
    req.set_grievance_id(*id);
    lpb::GrievanceOutcome o;
    if (!ParseEnum(lpb::GrievanceOutcome_descriptor(), "GRIEVANCE_OUTCOME_",
                   *outcome, &o)) {
      env.Usage("--outcome must be upheld or dismissed");
      return;
    }
    req.set_outcome(o);
    req.set_resolution(*text);
    lpb::ResolveGrievanceResponse resp;
    if (!env.Call(&Stub::ResolveGrievance, req, &resp)) {
      return;
    }
    env.ctl.json ? PrintJson(resp) : PrintGrievance(resp.grievance());
  });
}

void AddGrievanceListCommand(CLI::App* group, Env env) {
  auto* cmd = group->add_subcommand("list", "Grievances in a region");
  auto region = std::make_shared<std::string>(),
       state = std::make_shared<std::string>();
  cmd->add_option("--region", *region, "Region code prefix");
  cmd->add_option("--state", *state, "open|resolved");
  cmd->callback([env, region, state]() mutable {
    lpb::ListGrievancesRequest req;
    req.set_region_prefix(*region);
    lpb::GrievanceState s = lpb::GRIEVANCE_STATE_UNSPECIFIED;
    if (!state->empty() && !ParseEnum(lpb::GrievanceState_descriptor(),
                                      "GRIEVANCE_STATE_", *state, &s)) {
      env.Usage("--state must be open or resolved");
      return;
    }
    req.set_state(s);
    req.set_page_size(1000);
    if (!env.PrintPages(&Stub::ListGrievances, req,
                        &lpb::ListGrievancesResponse::grievances,
                        PrintGrievance))
      return;
  });
}

void AddGrievanceCommands(CLI::App& ledger, Env env) {
  auto* group = ledger.add_subcommand("grievance", "Grievances about aid");
  group->require_subcommand(1);
  AddGrievanceOpenCommand(group, env);
  AddGrievanceResolveCommand(group, env);
  AddGrievanceListCommand(group, env);
}

// The notice of a payment chain and its acknowledgement.
void PrintChainNotice(const lpb::Notice& n) {
  printf("notice      %s: %s %s yuan, paid %s, to %s\n", n.notice_no().c_str(),
         n.programme_name().c_str(), n.amount_yuan().c_str(),
         n.paid_on().c_str(), n.payee_name().c_str());
  if (n.has_acknowledgement()) {
    printf(
        "ack         %s by %s (%s) %s\n",
        n.acknowledgement().acknowledged_on().c_str(),
        Short(lpb::AckParty_Name(n.acknowledgement().party()), "ACK_PARTY_")
            .c_str(),
        Short(lpb::AckMethod_Name(n.acknowledgement().method()), "ACK_METHOD_")
            .c_str(),
        n.acknowledgement().note().c_str());
  } else {
    printf("ack         (not yet acknowledged)\n");
  }
}

// A payment and what followed it, a line each.
void PrintChain(const lpb::GetPaymentChainResponse& resp) {
  printf("payment     ");
  PrintPayment(resp.payment());
  printf("entitlement ");
  PrintEntitlement(resp.entitlement());
  const auto& ent = resp.entitlement();
  printf("            %s%s%s\n", ent.reason().c_str(),
         ent.reason().find(ent.standard_id()) == std::string::npos
             ? "; standard "
             : "",
         ent.reason().find(ent.standard_id()) == std::string::npos
             ? ent.standard_id().c_str()
             : "");
  if (resp.has_notice()) PrintChainNotice(resp.notice());
  for (const auto& f : resp.follow_ups()) {
    printf("follow-up   %s by %s: %s %s\n", f.visited_on().c_str(),
           f.visitor().c_str(),
           Short(lpb::FollowUpOutcome_Name(f.outcome()), "FOLLOW_UP_OUTCOME_")
               .c_str(),
           f.note().c_str());
  }
  if (resp.follow_ups().empty()) printf("follow-up   (none yet)\n");
  for (const auto& g : resp.grievances()) PrintGrievance(g);
  for (const auto& e : resp.journal_entries()) {
    printf("journal     %lld %-12s Dr %-16s Cr %-16s %10s  %s..\n",
           static_cast<long long>(e.entry_id()),
           Short(lpb::EntryKind_Name(e.kind()), "ENTRY_KIND_").c_str(),
           e.debit_account().c_str(), e.credit_account().c_str(),
           FormatYuan(e.amount_fen()).c_str(), e.hash().substr(0, 12).c_str());
  }
}

void AddChainCommand(CLI::App& ledger, Env env) {
  auto* cmd = ledger.add_subcommand(
      "chain",
      "Payment -> notice -> acknowledgement -> follow-up -> grievance");
  auto id = std::make_shared<int64_t>(0);
  cmd->add_option("payment", *id, "Payment id")->required();
  cmd->callback([env, id]() mutable {
    lpb::GetPaymentChainRequest req;
    req.set_payment_id(*id);
    lpb::GetPaymentChainResponse resp;
    if (!env.Call(&Stub::GetPaymentChain, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    PrintChain(resp);
  });
}

void AddNoticeCommands(CLI::App& ledger, Env env) {
  AddNoticeCommand(ledger, env);
  AddNoticesCommand(ledger, env);
  AddAckCommand(ledger, env);
  AddFollowupCommand(ledger, env);
  AddGrievanceCommands(ledger, env);
  AddChainCommand(ledger, env);
}

void AddReconcileCommand(CLI::App& ledger, Env env) {
  auto* cmd = ledger.add_subcommand(
      "reconcile", "Payment status and the gap reports of a term");
  auto term = std::make_shared<std::string>();
  auto region = std::make_shared<std::string>(),
       as_of = std::make_shared<std::string>();
  auto max = std::make_shared<int>(20);
  cmd->add_option("--term", *term, "e.g. 2018-autumn")->required();
  cmd->add_option("--region", *region, "Region code prefix");
  cmd->add_option("--as-of", *as_of, "Date of the report (default today)");
  cmd->add_option("--max-items", *max, "Items per list")->capture_default_str();
  cmd->callback([env, term, region, as_of, max]() mutable {
    lpb::ReconcileRequest req;
    if (!ParseTerm(*term, req.mutable_term())) {
      env.Usage("--term must look like 2018-autumn");
      return;
    }
    req.set_region_prefix(*region);
    req.set_as_of(*as_of);
    req.set_max_items(*max);
    lpb::ReconcileResponse resp;
    if (!env.Call(&Stub::Reconcile, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    printf("reconciliation %s, region %s, as of %s\n",
           TermText(resp.term()).c_str(), resp.region_prefix().c_str(),
           resp.as_of().c_str());
    printf("entitlements:");
    for (const auto& s : resp.entitlements_by_state()) {
      printf("  %s %lld (%s)", Short(s.state(), "ENTITLEMENT_STATE_").c_str(),
             static_cast<long long>(s.count()),
             FormatYuan(s.amount_fen()).c_str());
    }
    printf("\npayments:    ");
    for (const auto& s : resp.payments_by_state()) {
      printf("  %s %lld (%s)", Short(s.state(), "PAYMENT_STATE_").c_str(),
             static_cast<long long>(s.count()),
             FormatYuan(s.amount_fen()).c_str());
    }
    printf("\nentitled %s yuan, paid %s yuan, journal paid out %s yuan%s\n\n",
           FormatYuan(resp.entitled_fen()).c_str(),
           FormatYuan(resp.paid_fen()).c_str(),
           FormatYuan(resp.journal_paid_fen()).c_str(),
           resp.paid_fen() == resp.journal_paid_fen() ? " (agree)"
                                                      : " (DISAGREE)");
    PrintGapList("rostered registered students without an entitlement",
                 resp.missing_entitlements());
    PrintGapList("payments to students no longer eligible",
                 resp.paid_not_eligible());
    PrintGapList("unpaid entitlements past their due date",
                 resp.unpaid_overdue());
    PrintGapList("notices not acknowledged", resp.unacknowledged_notices());
    PrintGapList("payments without a follow-up visit",
                 resp.without_follow_up());
  });
}

void AddPostingCreateCommand(CLI::App* group, Env env) {
  auto* cmd = group->add_subcommand(
      "create", "Publish a school's aid list with names masked");
  auto school = std::make_shared<std::string>(),
       term = std::make_shared<std::string>(),
       rid = std::make_shared<std::string>(),
       format = std::make_shared<std::string>("text"),
       out = std::make_shared<std::string>();
  auto days = std::make_shared<int>(7);
  cmd->add_option("--school", *school, "School code")->required();
  cmd->add_option("--term", *term, "e.g. 2018-autumn")->required();
  cmd->add_option("--days", *days, "Objection period in days (5..30)")
      ->capture_default_str();
  cmd->add_option("--format", *format, "text|html")->capture_default_str();
  cmd->add_option("--out", *out, "File to write (default stdout)");
  cmd->add_option("--request-id", *rid, "Idempotency key (default: new)");
  cmd->callback([env, school, term, rid, format, out, days]() mutable {
    lpb::CreatePostingRequest req;
    req.set_request_id(RequestIdOr(*rid));
    req.set_school_code(*school);
    if (!ParseTerm(*term, req.mutable_term())) {
      env.Usage("--term must look like 2018-autumn");
      return;
    }
    req.set_objection_days(*days);
    lpb::CreatePostingResponse resp;
    if (!env.Call(&Stub::CreatePosting, req, &resp)) {
      return;
    }
    if (env.ctl.json) return PrintJson(resp);
    std::cerr << "posting " << resp.posting().posting_id() << "\n";
    Emit(env, *out,
         *format == "html" ? RenderPostingHtml(resp.posting())
                           : RenderPostingText(resp.posting()));
  });
}

void AddPostingShowCommand(CLI::App* group, Env env) {
  auto* cmd = group->add_subcommand("show", "Render a posting");
  auto id = std::make_shared<int64_t>(0);
  auto format = std::make_shared<std::string>("text"),
       out = std::make_shared<std::string>();
  cmd->add_option("id", *id, "Posting id")->required();
  cmd->add_option("--format", *format, "text|html")->capture_default_str();
  cmd->add_option("--out", *out, "File to write (default stdout)");
  cmd->callback([env, id, format, out]() mutable {
    lpb::GetPostingRequest req;
    req.set_posting_id(*id);
    lpb::GetPostingResponse resp;
    if (!env.Call(&Stub::GetPosting, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    Emit(env, *out,
         *format == "html" ? RenderPostingHtml(resp.posting())
                           : RenderPostingText(resp.posting()));
    if (resp.posting().objections() > 0) {
      std::cerr << "objections so far: " << resp.posting().objections() << "\n";
    }
  });
}

void AddPostingObjectCommand(CLI::App* group, Env env) {
  auto* cmd = group->add_subcommand(
      "object", "File an objection to a posting line (becomes a grievance)");
  auto id = std::make_shared<int64_t>(0);
  auto line = std::make_shared<int>(0);
  auto text = std::make_shared<std::string>(),
       rid = std::make_shared<std::string>();
  cmd->add_option("id", *id, "Posting id")->required();
  cmd->add_option("--line", *line, "Line number")->required();
  cmd->add_option("--description", *text, "The objection")->required();
  cmd->add_option("--request-id", *rid, "Idempotency key (default: new)");
  cmd->callback([env, id, line, text, rid]() mutable {
    lpb::FileObjectionRequest req;
    req.set_request_id(RequestIdOr(*rid));
    req.set_posting_id(*id);
    req.set_line_no(*line);
    req.set_description(*text);
    lpb::FileObjectionResponse resp;
    if (!env.Call(&Stub::FileObjection, req, &resp)) {
      return;
    }
    env.ctl.json ? PrintJson(resp) : PrintGrievance(resp.grievance());
  });
}

void AddPostingCommands(CLI::App& ledger, Env env) {
  auto* group = ledger.add_subcommand("posting", "Public posting (公示)");
  group->require_subcommand(1);
  AddPostingCreateCommand(group, env);
  AddPostingShowCommand(group, env);
  AddPostingObjectCommand(group, env);
}

void AddVerifyJournalCommand(CLI::App& ledger, Env env) {
  auto* cmd = ledger.add_subcommand("verify-journal",
                                    "Recompute the journal's hash chain");
  auto entries = std::make_shared<int64_t>(0);
  auto head_hash = std::make_shared<std::string>();
  cmd->add_option("--expected-entries", *entries,
                  "Anchor kept outside the ledger: entries it had");
  cmd->add_option("--expected-head-hash", *head_hash,
                  "Anchor: its head hash (or its first 12+ hex digits)");
  cmd->callback([env, entries, head_hash]() mutable {
    lpb::VerifyJournalRequest req;
    req.set_expected_entries(*entries);
    req.set_expected_head_hash(*head_hash);
    lpb::VerifyJournalResponse resp;
    if (!env.Call(&Stub::VerifyJournal, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    if (resp.ok()) {
      printf("journal OK: %lld entries, head %lld %s\n",
             static_cast<long long>(resp.entries_checked()),
             static_cast<long long>(resp.head_entry_id()),
             resp.head_hash().c_str());
    } else {
      printf(
          "journal BROKEN at entry %lld: %s (%lld entries verified "
          "before it)\n",
          static_cast<long long>(resp.first_broken_entry_id()),
          resp.problem().c_str(),
          static_cast<long long>(resp.entries_checked()));
      env.exit_code = 4;
    }
  });
}

void AddTrialBalanceCommand(CLI::App& ledger, Env env) {
  auto* cmd = ledger.add_subcommand(
      "trial-balance", "Debits, credits and balance per account and region");
  auto region = std::make_shared<std::string>();
  cmd->add_option("--region", *region, "Region code prefix");
  cmd->callback([env, region]() mutable {
    lpb::GetTrialBalanceRequest req;
    req.set_region_prefix(*region);
    lpb::GetTrialBalanceResponse resp;
    if (!env.Call(&Stub::GetTrialBalance, req, &resp)) {
      return;
    }
    if (env.ctl.json) return PrintJson(resp);
    printf("%-8s %-18s %16s %16s %16s\n", "region", "account", "debit",
           "credit", "balance");
    for (const auto& a : resp.accounts()) {
      printf("%-8s %-18s %16s %16s %16s\n", a.region_code().c_str(),
             a.account().c_str(), FormatYuan(a.debit_fen()).c_str(),
             FormatYuan(a.credit_fen()).c_str(),
             FormatYuan(a.balance_fen()).c_str());
    }
    for (const auto& r : resp.regions()) {
      printf("%-8s %-18s %16s %16s %16s\n", r.region_code().c_str(), "(total)",
             FormatYuan(r.debit_fen()).c_str(),
             FormatYuan(r.credit_fen()).c_str(),
             FormatYuan(r.balance_fen()).c_str());
    }
    printf("total debit %s, credit %s: %s\n",
           FormatYuan(resp.total_debit_fen()).c_str(),
           FormatYuan(resp.total_credit_fen()).c_str(),
           resp.balanced() ? "balanced" : "NOT BALANCED");
    if (!resp.balanced()) env.exit_code = 4;
  });
}

void PrintJournalEntry(const lpb::JournalEntry& e) {
  printf("%-7lld %s %-12s Dr %-16s Cr %-16s %12s %s %s pay %lld%s\n",
         static_cast<long long>(e.entry_id()), e.at().c_str(),
         Short(lpb::EntryKind_Name(e.kind()), "ENTRY_KIND_").c_str(),
         e.debit_account().c_str(), e.credit_account().c_str(),
         FormatYuan(e.amount_fen()).c_str(), e.region_code().c_str(),
         e.programme_code().c_str(), static_cast<long long>(e.payment_id()),
         e.reverses_entry_id() == 0
             ? ""
             : absl::StrCat(" reverses ", e.reverses_entry_id()).c_str());
}

void AddJournalCommand(CLI::App& ledger, Env env) {
  auto* cmd = ledger.add_subcommand("journal", "Journal entries");
  auto region = std::make_shared<std::string>();
  auto payment = std::make_shared<int64_t>(0);
  auto all = std::make_shared<bool>(false);
  cmd->add_option("--region", *region, "Region code prefix");
  cmd->add_option("--payment", *payment, "Only this payment's entries");
  cmd->add_flag("--all", *all, "Follow page tokens to the end");
  cmd->callback([env, region, payment, all]() mutable {
    lpb::ListJournalEntriesRequest req;
    req.set_region_prefix(*region);
    req.set_payment_id(*payment);
    req.set_page_size(1000);
    if (!env.PrintPages(&Stub::ListJournalEntries, req,
                        &lpb::ListJournalEntriesResponse::entries,
                        PrintJournalEntry, *all))
      return;
  });
}

void AddAuditCommand(CLI::App& ledger, Env env) {
  auto* cmd = ledger.add_subcommand("audit", "The ledger's audit log");
  auto method = std::make_shared<std::string>();
  cmd->add_option("--method", *method, "Only this method");
  cmd->callback([env, method]() mutable {
    lpb::ListAuditEventsRequest req;
    req.set_method(*method);
    req.set_page_size(200);
    lpb::ListAuditEventsResponse resp;
    if (!env.Call(&Stub::ListAuditEvents, req, &resp)) {
      return;
    }
    if (env.ctl.json) return PrintJson(resp);
    for (const auto& e : resp.events()) {
      printf("%s %-20s %-16s %-22s %-16s %s%s\n", e.at().c_str(),
             e.subject().c_str(), e.role().c_str(), e.method().c_str(),
             e.result().c_str(), e.records().c_str(),
             e.personal_data() ? " [personal data]" : "");
    }
  });
}

void AddReportCommands(CLI::App& ledger, Env env) {
  AddReconcileCommand(ledger, env);
  AddPostingCommands(ledger, env);
  AddVerifyJournalCommand(ledger, env);
  AddTrialBalanceCommand(ledger, env);
  AddJournalCommand(ledger, env);
  AddAuditCommand(ledger, env);
}

}  // namespace

void AddLedgerCommands(CLI::App& app, Ctl& ctl, int& exit_code) {
  auto* ledger = app.add_subcommand(
      "ledger", "Subsidy ledger: policy, entitlements, batches, notices");
  ledger->require_subcommand(1);
  Env env{{ctl, exit_code}};
  AddPolicyCommands(*ledger, env);
  AddEntitlementCommands(*ledger, env);
  AddBatchCommands(*ledger, env);
  AddPaymentCommands(*ledger, env);
  AddNoticeCommands(*ledger, env);
  AddReportCommands(*ledger, env);
}

}  // namespace eductl
