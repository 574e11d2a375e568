// Entitlements: generation from the registry's rosters, manual raising,
// listing and cancellation; and the reconciliation and gap reports.
#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/idempotency.h"
#include "services/common/log.h"
#include "services/common/page_token.h"
#include "services/common/status.h"
#include "services/common/validate.h"
#include "services/ledger/journal.h"
#include "services/ledger/ledger.h"
#include "services/ledger/ledger_internal.h"

namespace eduaid::ledger {
namespace {

using internal::FormatTs;
using internal::kCtxPayeeName;
using internal::NowMs;

// Registry pages fetched at most (a guard against a looping page token).
constexpr int kMaxRegistryPages = 100000;

// Why a student qualifies (or not) for a standard in a term.
struct Eligibility {
  bool eligible = false;
  int64_t amount_fen = 0;
  bool waiver = false;
  std::string why_not;
};

Eligibility Evaluate(const rpb::Student& s, const pb::ProgrammeStandard& std_,
                     const cpb::Term& term) {
  Eligibility out;
  const rpb::Enrolment& e = s.current_enrolment();
  if (e.status() != rpb::ENROLMENT_STATUS_ENROLLED) {
    out.why_not = "not currently enrolled";
    return out;
  }
  if (e.term().year() != 0 && TermOrdinal(e.term()) > TermOrdinal(term)) {
    out.why_not = "enrolled only after the term";
    return out;
  }
  if (!AdmitsHousehold(std_, s.household_status())) {
    out.why_not = "household status not covered";
    return out;
  }
  const pb::StageRate* rate = RateFor(std_, e.stage());
  if (rate == nullptr) {
    out.why_not = "stage not covered";
    return out;
  }
  if (std_.kind() == pb::PROGRAMME_KIND_FEE_WAIVER) {
    out.eligible = true;
    out.waiver = true;
    return out;
  }
  out.amount_fen = AmountForTerm(std_, e.stage(), e.boarder(), term);
  if (out.amount_fen <= 0) {
    out.why_not = rate->boarders_only() && !e.boarder()
                      ? "boarders only"
                      : "nothing payable in this term";
    return out;
  }
  out.eligible = true;
  return out;
}

std::string GeneratedReason(const rpb::Student& s,
                            const pb::ProgrammeStandard& std_) {
  const rpb::Enrolment& e = s.current_enrolment();
  return absl::StrCat("建档立卡贫困家庭学生 (registered poor household",
                      s.household_status() == cpb::HOUSEHOLD_STATUS_LIFTED
                          ? ", lifted, in transition"
                          : "",
                      "); ", internal::StageLabel(e.stage()), " grade ",
                      e.grade(), e.boarder() ? " boarder" : "", " at ",
                      e.school_name(), " (", e.school_code(), "); standard ",
                      StandardId(std_));
}

std::string DueDate(const pb::ProgrammeStandard& s, const cpb::Term& term) {
  return AddDays(TermStart(term),
                 s.pay_within_days() > 0 ? s.pay_within_days() : 90);
}

absl::StatusOr<bool> HoldsExclusive(SqlConnection& c,
                                    const std::string& member_id,
                                    const std::string& term,
                                    const pb::ProgrammeStandard& s) {
  if (s.exclusive_group().empty()) return false;
  auto rows = c.Query(
      "SELECT id FROM entitlements WHERE member_id = ? AND term = ? AND "
      "exclusive_group = ? AND programme_code <> ? AND state <> ? LIMIT 1",
      {member_id, term, s.exclusive_group(), s.programme_code(),
       int64_t{pb::ENTITLEMENT_STATE_CANCELLED}});
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

constexpr char kInsertEntitlement[] =
    "INSERT INTO entitlements (member_id, programme_code, term, standard_id, "
    "exclusive_group, region_code, school_code, school_name, stage, grade, "
    "boarder, amount_fen, state, reason, payee_name, due_date, created_by, "
    "created_at, updated_at, originator_subject) VALUES "
    "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
    "ON CONFLICT (member_id, programme_code, term) DO NOTHING RETURNING id";

}  // namespace

absl::StatusOr<std::vector<rpb::Student>> Ledger::FetchStudents(
    const std::string& region, cpb::SchoolStage stage) {
  std::vector<rpb::Student> out;
  std::string token;
  for (int page = 0; page < kMaxRegistryPages; ++page) {
    rpb::ListStudentsRequest req;
    req.set_region_prefix(region);
    req.set_stage(stage);
    req.set_status(rpb::ENROLMENT_STATUS_ENROLLED);
    req.set_page_size(1000);
    req.set_page_token(token);
    rpb::ListStudentsResponse resp;
    grpc::ClientContext ctx;
    registry_channel_->Prepare(&ctx, options_.registry_deadline);
    grpc::Status s = registry_->ListStudents(&ctx, req, &resp);
    if (!s.ok()) {
      return absl::UnavailableError(absl::StrCat(
          "the registry (", options_.registry_target,
          ") could not list students: ", GrpcCodeName(s.error_code()), ": ",
          s.error_message(), "; nothing was stored, retry later"));
    }
    for (auto& student : *resp.mutable_students()) {
      out.push_back(std::move(student));
    }
    token = resp.next_page_token();
    if (token.empty()) return out;
  }
  return absl::UnavailableError("the registry kept returning page tokens");
}

absl::Status Ledger::GenerateEntitlements(
    CallContext& call, const pb::GenerateEntitlementsRequest& req,
    pb::GenerateEntitlementsResponse* resp) {
  LEDGER_RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  LEDGER_RETURN_IF_ERROR(ValidateTerm("term", req.term(), 1));
  LEDGER_RETURN_IF_ERROR(
      ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (!cpb::SchoolStage_IsValid(req.stage())) {
    return InvalidField("stage", "is not a known school stage");
  }
  for (int i = 0; i < req.programme_codes_size(); ++i) {
    if (!IsProgrammeCode(req.programme_codes(i))) {
      return InvalidField(absl::StrCat("programme_codes[", i, "]"),
                          "must be 1..40 of A-Z 0-9 _");
    }
  }
  LEDGER_RETURN_IF_ERROR(
      internal::RequireOfficer(call.principal, "generate entitlements"));
  auto region = ScopeRegionFilter(call.principal, req.region_prefix());
  if (!region.ok()) return region.status();
  if (region->empty()) {
    return InvalidField("region_prefix",
                        "is required (at least a province code)");
  }

  std::vector<pb::ProgrammeStandard> standards;
  LEDGER_RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    auto s = LoadStandards(c);
    if (!s.ok()) return s.status();
    standards = std::move(*s);
    return absl::OkStatus();
  }));
  std::vector<const pb::ProgrammeStandard*> selected;
  if (req.programme_codes().empty()) {
    std::set<std::string> codes;
    for (const auto& s : standards) codes.insert(s.programme_code());
    for (const auto& code : codes) {
      const pb::ProgrammeStandard* s = StandardFor(standards, code, req.term());
      if (s != nullptr && s->auto_generate()) selected.push_back(s);
    }
  } else {
    for (int i = 0; i < req.programme_codes_size(); ++i) {
      const std::string& code = req.programme_codes(i);
      const std::string field = absl::StrCat("programme_codes[", i, "]");
      const bool known = std::any_of(
          standards.begin(), standards.end(),
          [&](const auto& s) { return s.programme_code() == code; });
      if (!known) return InvalidField(field, "no such programme");
      const pb::ProgrammeStandard* s = StandardFor(standards, code, req.term());
      if (s == nullptr) {
        return WithReason(
            absl::StatusCode::kFailedPrecondition, "NO_STANDARD",
            absl::StrCat(field, ": no standard of ", code, " is in effect for ",
                         TermKey(req.term())));
      }
      if (!s->auto_generate()) {
        return InvalidField(field,
                            "is raised per student (CreateEntitlement), not "
                            "generated");
      }
      selected.push_back(s);
    }
  }
  if (selected.empty()) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "NO_STANDARD",
                      absl::StrCat("term: no generated programme has a "
                                   "standard in effect for ",
                                   TermKey(req.term())));
  }

  // A repeat is answered from the request log, without the registry (which
  // may be down by now).
  auto seen = host_.requests().Seen(call.principal, req.request_id());
  if (!seen.ok()) return seen.status();
  std::vector<rpb::Student> students;
  if (!*seen) {
    auto fetched = FetchStudents(*region, req.stage());
    if (!fetched.ok()) return fetched.status();
    students = std::move(*fetched);
  }

  const std::string term = TermKey(req.term());
  absl::Status st = host_.requests().Run(
      call.principal, "GenerateEntitlements", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        if (*seen) {
          return absl::AbortedError("the request log changed; retry");
        }
        const int64_t now = NowMs();
        std::map<std::string, pb::ProgrammeCount> counts;
        int64_t total = 0;
        for (const rpb::Student& s : students) {
          // Only what the caller may see, and only well-formed keys.
          if (!call.principal.Covers(s.region_code()) ||
              !absl::StartsWith(s.region_code(), *region) ||
              !ValidateRegionCode("region_code", s.region_code()).ok() ||
              !internal::ValidateMemberId("member_id", s.member_id()).ok()) {
            continue;
          }
          resp->set_students_seen(resp->students_seen() + 1);
          const rpb::Enrolment& en = s.current_enrolment();
          std::string name_enc;
          for (const pb::ProgrammeStandard* sp : selected) {
            const Eligibility el = Evaluate(s, *sp, req.term());
            if (!el.eligible) continue;
            auto exclusive = HoldsExclusive(c, s.member_id(), term, *sp);
            if (!exclusive.ok()) return exclusive.status();
            if (*exclusive) {
              resp->set_already_entitled(resp->already_entitled() + 1);
              continue;
            }
            if (name_enc.empty()) name_enc = Encrypt(s.name(), kCtxPayeeName);
            const std::string reason = GeneratedReason(s, *sp);
            auto inserted = c.Query(
                kInsertEntitlement,
                {s.member_id(), sp->programme_code(), term, StandardId(*sp),
                 sp->exclusive_group(), s.region_code(), en.school_code(),
                 en.school_name(), int64_t{en.stage()}, int64_t{en.grade()},
                 int64_t{en.boarder() ? 1 : 0}, el.amount_fen,
                 int64_t{el.waiver ? pb::ENTITLEMENT_STATE_WAIVED
                                   : pb::ENTITLEMENT_STATE_OPEN},
                 reason, name_enc, DueDate(*sp, req.term()),
                 call.principal.subject, now, now, call.principal.subject});
            if (!inserted.ok()) return inserted.status();
            if (!inserted->empty()) {
              if (el.waiver) {
                resp->set_waivers_recorded(resp->waivers_recorded() + 1);
              } else {
                resp->set_entitlements_created(resp->entitlements_created() +
                                               1);
              }
              pb::ProgrammeCount& pc = counts[sp->programme_code()];
              pc.set_programme_code(sp->programme_code());
              pc.set_entitlements(pc.entitlements() + 1);
              pc.set_amount_fen(pc.amount_fen() + el.amount_fen);
              if (!CheckedAdd(total, el.amount_fen, &total)) {
                return absl::OutOfRangeError("total exceeds int64 fen");
              }
              continue;
            }
            // Entitled already. Aid follows the student: an unpaid
            // entitlement moves with them to the new school; the amount,
            // computed from its standard, never changes.
            auto prior = c.Query(
                "SELECT id, state, school_code, school_name, reason FROM "
                "entitlements WHERE member_id = ? AND programme_code = ? AND "
                "term = ?",
                {s.member_id(), sp->programme_code(), term});
            if (!prior.ok()) return prior.status();
            if (prior->empty()) {
              return absl::AbortedError("entitlement vanished; retry");
            }
            const SqlRow& p = (*prior)[0];
            if (p.Int(1) == pb::ENTITLEMENT_STATE_OPEN &&
                p.Str(2) != en.school_code()) {
              const std::string moved =
                  absl::StrCat(p.Str(4), "; 转学 carried over from ", p.Str(3),
                               " (", p.Str(2), ") on ", internal::DateCst(now));
              auto upd = c.Execute(
                  "UPDATE entitlements SET school_code = ?, school_name = ?, "
                  "stage = ?, grade = ?, boarder = ?, reason = ?, "
                  "updated_at = ? WHERE id = ? AND state = ?",
                  {en.school_code(), en.school_name(), int64_t{en.stage()},
                   int64_t{en.grade()}, int64_t{en.boarder() ? 1 : 0},
                   moved.substr(0, 2000), now, p.Int(0),
                   int64_t{pb::ENTITLEMENT_STATE_OPEN}});
              if (!upd.ok()) return upd.status();
              resp->set_carried_over(resp->carried_over() + 1);
            } else {
              resp->set_already_entitled(resp->already_entitled() + 1);
            }
          }
        }
        for (auto& [code, pc] : counts) *resp->add_by_programme() = pc;
        resp->set_total_fen(total);
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  call.AddRecord(absl::StrCat("generate:", *region, ":", term, ":",
                              resp->entitlements_created()));
  return absl::OkStatus();
}

absl::Status Ledger::CreateEntitlement(CallContext& call,
                                       const pb::CreateEntitlementRequest& req,
                                       pb::CreateEntitlementResponse* resp) {
  std::vector<FieldViolation> v;
  auto check = [&v](const absl::Status& s) {
    for (auto& f : FieldViolationsOf(s)) v.push_back(std::move(f));
  };
  check(ValidateRequestId("request_id", req.request_id()));
  check(internal::ValidateMemberId("member_id", req.member_id()));
  if (!IsProgrammeCode(req.programme_code())) {
    v.push_back({"programme_code", "must be 1..40 of A-Z 0-9 _"});
  }
  check(ValidateTerm("term", req.term(), 1));
  check(ValidateRegionCode("region_code", req.region_code()));
  if (!IsSchoolCode(req.school_code())) {
    v.push_back({"school_code", "must be 1..20 of A-Z a-z 0-9 -"});
  }
  check(ValidateText("school_name", req.school_name(), 100));
  if (!cpb::SchoolStage_IsValid(req.stage()) ||
      req.stage() == cpb::SCHOOL_STAGE_UNSPECIFIED) {
    v.push_back({"stage", "must be a known school stage"});
  }
  if (req.grade() < 0 || req.grade() > 12) {
    v.push_back({"grade", "must be 0..12"});
  }
  if (req.amount_fen() < 0) {
    v.push_back({"amount_fen", "must not be negative"});
  } else if (req.amount_fen() > kMaxAmountFen) {
    v.push_back({"amount_fen", absl::StrCat("must not exceed ", kMaxAmountFen,
                                            " fen (overflow guard)")});
  }
  check(ValidateText("reason", req.reason(), 200));
  check(ValidateText("payee_name", req.payee_name(), 50));
  // Only a service speaks for someone else; anyone else originates what
  // they raise, whatever the field says.
  const bool on_behalf = call.principal.role == Role::kService &&
                         !req.originator_subject().empty();
  if (on_behalf) {
    check(ValidateText("originator_subject", req.originator_subject(), 128));
  }
  if (!v.empty()) return InvalidFields(v);
  const std::string originator =
      on_behalf ? req.originator_subject() : call.principal.subject;
  if (!internal::IsOfficer(call.principal) &&
      call.principal.role != Role::kService) {
    return absl::PermissionDeniedError(
        "only officers and services may raise entitlements");
  }
  LEDGER_RETURN_IF_ERROR(CheckRecordScope(call.principal, req.region_code(),
                                          req.school_code()));

  const std::string term = TermKey(req.term());
  absl::Status st = host_.requests().Run(
      call.principal, "CreateEntitlement", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto standards = LoadStandards(c);
        if (!standards.ok()) return standards.status();
        const bool known = std::any_of(
            standards->begin(), standards->end(), [&](const auto& s) {
              return s.programme_code() == req.programme_code();
            });
        if (!known) return InvalidField("programme_code", "no such programme");
        const pb::ProgrammeStandard* sp =
            StandardFor(*standards, req.programme_code(), req.term());
        if (sp == nullptr) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "NO_STANDARD",
              absl::StrCat("term: no standard of ", req.programme_code(),
                           " is in effect for ", term));
        }
        const pb::StageRate* rate = RateFor(*sp, req.stage());
        if (rate == nullptr) {
          return InvalidField("stage", absl::StrCat(req.programme_code(),
                                                    " has no rate for it"));
        }
        int64_t amount = 0;
        const bool waiver = sp->kind() == pb::PROGRAMME_KIND_FEE_WAIVER;
        if (waiver) {
          if (req.amount_fen() != 0) {
            return InvalidField("amount_fen",
                                "must be 0 for a fee waiver (never paid)");
          }
        } else {
          const int64_t standard =
              AmountForTerm(*sp, req.stage(), req.boarder(), req.term());
          if (standard <= 0) {
            return InvalidField(
                rate->boarders_only() && !req.boarder() ? "boarder" : "term",
                rate->boarders_only() && !req.boarder()
                    ? "the programme pays boarders only"
                    : "the programme pays nothing in this term");
          }
          if (req.amount_fen() > standard) {
            return InvalidField(
                "amount_fen",
                absl::StrCat("must not exceed the standard's ", standard,
                             " fen for this term (", StandardId(*sp), ")"));
          }
          amount = req.amount_fen() == 0 ? standard : req.amount_fen();
        }
        auto exclusive = HoldsExclusive(c, req.member_id(), term, *sp);
        if (!exclusive.ok()) return exclusive.status();
        if (*exclusive) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "EXCLUSIVE_PROGRAMME",
              absl::StrCat("programme_code: the student already holds "
                           "another programme of group ",
                           sp->exclusive_group(), " for ", term));
        }
        const int64_t now = NowMs();
        auto inserted = c.Query(
            kInsertEntitlement,
            {req.member_id(), req.programme_code(), term, StandardId(*sp),
             sp->exclusive_group(), req.region_code(), req.school_code(),
             req.school_name(), int64_t{req.stage()}, int64_t{req.grade()},
             int64_t{req.boarder() ? 1 : 0}, amount,
             int64_t{waiver ? pb::ENTITLEMENT_STATE_WAIVED
                            : pb::ENTITLEMENT_STATE_OPEN},
             req.reason(), Encrypt(req.payee_name(), kCtxPayeeName),
             DueDate(*sp, req.term()), call.principal.subject, now, now,
             originator});
        if (!inserted.ok()) return inserted.status();
        if (inserted->empty()) {
          return WithReason(absl::StatusCode::kFailedPrecondition,
                            "ALREADY_ENTITLED",
                            absl::StrCat("the student already holds ",
                                         req.programme_code(), " for ", term));
        }
        auto e = LoadEntitlement(c, call, (*inserted)[0].Int(0));
        if (!e.ok()) return e.status();
        *resp->mutable_entitlement() = std::move(*e);
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  call.AddRecord(
      absl::StrCat("entitlement:", resp->entitlement().entitlement_id()));
  return absl::OkStatus();
}

absl::Status Ledger::ListEntitlements(CallContext& call,
                                      const pb::ListEntitlementsRequest& req,
                                      pb::ListEntitlementsResponse* resp) {
  LEDGER_RETURN_IF_ERROR(
      ValidateRegionPrefix("region_prefix", req.region_prefix()));
  const bool by_term = internal::TermSet(req.term());
  if (by_term) LEDGER_RETURN_IF_ERROR(ValidateTerm("term", req.term()));
  if (!req.programme_code().empty() && !IsProgrammeCode(req.programme_code())) {
    return InvalidField("programme_code", "must be 1..40 of A-Z 0-9 _");
  }
  if (!pb::EntitlementState_IsValid(req.state())) {
    return InvalidField("state", "is not a known entitlement state");
  }
  if (!req.member_id().empty()) {
    LEDGER_RETURN_IF_ERROR(
        internal::ValidateMemberId("member_id", req.member_id()));
  }
  if (!req.school_code().empty() && !IsSchoolCode(req.school_code())) {
    return InvalidField("school_code", "must be 1..20 of A-Z a-z 0-9 -");
  }
  auto size = ValidatePageSize("page_size", req.page_size(), 100, 1000);
  if (!size.ok()) return size.status();
  auto region = ScopeRegionFilter(call.principal, req.region_prefix());
  if (!region.ok()) return region.status();
  auto school = internal::ScopeSchoolFilter(call.principal, req.school_code());
  if (!school.ok()) return school.status();
  const std::string term = by_term ? TermKey(req.term()) : "";
  const std::string filters =
      absl::StrCat("ent|", *region, "|", term, "|", req.programme_code(), "|",
                   req.state(), "|", req.member_id(), "|", *school);
  auto after_key = DecodePageToken(req.page_token(), filters);
  if (!after_key.ok()) return after_key.status();
  int64_t after = 0;
  if (!after_key->empty() && !absl::SimpleAtoi(*after_key, &after)) {
    return InvalidField("page_token", "is malformed");
  }
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    auto rows = c.Query(
        absl::StrCat(
            "SELECT ", internal::kEntitlementColumns,
            " FROM entitlements e WHERE e.id > ? AND e.region_code LIKE ? AND "
            "(? = '' OR e.term = ?) AND (? = '' OR e.programme_code = ?) AND "
            "(? = 0 OR e.state = ?) AND (? = '' OR e.member_id = ?) AND "
            "(? = '' OR e.school_code = ?) ORDER BY e.id LIMIT ?"),
        {after, *region + "%", term, term, req.programme_code(),
         req.programme_code(), int64_t{req.state()}, int64_t{req.state()},
         req.member_id(), req.member_id(), *school, *school,
         int64_t{*size + 1}});
    if (!rows.ok()) return rows.status();
    int64_t last = 0;
    for (size_t i = 0; i < rows->size() && i < static_cast<size_t>(*size);
         ++i) {
      pb::Entitlement* e = resp->add_entitlements();
      FillEntitlement(c, call, (*rows)[i], e);
      last = e->entitlement_id();
    }
    if (rows->size() > static_cast<size_t>(*size)) {
      resp->set_next_page_token(EncodePageToken(absl::StrCat(last), filters));
    }
    call.NoteBulkRead(resp->entitlements_size());
    call.AddRecord(absl::StrCat("entitlements:", resp->entitlements_size()));
    return absl::OkStatus();
  });
}

absl::Status Ledger::CancelEntitlement(CallContext& call,
                                       const pb::CancelEntitlementRequest& req,
                                       pb::CancelEntitlementResponse* resp) {
  LEDGER_RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  LEDGER_RETURN_IF_ERROR(
      internal::ValidateRecordId("entitlement_id", req.entitlement_id()));
  LEDGER_RETURN_IF_ERROR(ValidateText("reason", req.reason(), 200));
  LEDGER_RETURN_IF_ERROR(
      internal::RequireOfficer(call.principal, "cancel entitlements"));
  absl::Status st = host_.requests().Run(
      call.principal, "CancelEntitlement", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto e = LoadEntitlement(c, call, req.entitlement_id());
        if (!e.ok()) return e.status();
        LEDGER_RETURN_IF_ERROR(CheckRecordScope(
            call.principal, e->region_code(), e->school_code()));
        switch (e->state()) {
          case pb::ENTITLEMENT_STATE_OPEN:
          case pb::ENTITLEMENT_STATE_BATCHED:
          case pb::ENTITLEMENT_STATE_WAIVED:
            break;
          case pb::ENTITLEMENT_STATE_PAID:
            return WithReason(absl::StatusCode::kFailedPrecondition,
                              "ENTITLEMENT_STATE",
                              absl::StrCat("entitlement ", e->entitlement_id(),
                                           " is paid: reverse payment ",
                                           e->payment_id(), " instead"));
          default:
            return WithReason(absl::StatusCode::kFailedPrecondition,
                              "ENTITLEMENT_STATE",
                              absl::StrCat("entitlement ", e->entitlement_id(),
                                           " is already cancelled"));
        }
        auto n = c.Execute(
            "UPDATE entitlements SET state = ?, cancel_reason = ?, "
            "updated_at = ? WHERE id = ? AND state = ?",
            {int64_t{pb::ENTITLEMENT_STATE_CANCELLED}, req.reason(), NowMs(),
             e->entitlement_id(), int64_t{e->state()}});
        if (!n.ok()) return n.status();
        if (*n != 1) {
          return WithReason(absl::StatusCode::kFailedPrecondition,
                            "ENTITLEMENT_STATE",
                            "the entitlement changed meanwhile; look again");
        }
        auto updated = LoadEntitlement(c, call, e->entitlement_id());
        if (!updated.ok()) return updated.status();
        *resp->mutable_entitlement() = std::move(*updated);
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  call.AddRecord(absl::StrCat("entitlement:", req.entitlement_id()));
  return absl::OkStatus();
}

// ---------------------------------------------------------------- reports

absl::Status Ledger::Reconcile(CallContext& call,
                               const pb::ReconcileRequest& req,
                               pb::ReconcileResponse* resp) {
  LEDGER_RETURN_IF_ERROR(ValidateTerm("term", req.term()));
  LEDGER_RETURN_IF_ERROR(
      ValidateRegionPrefix("region_prefix", req.region_prefix()));
  const std::string as_of = req.as_of().empty() ? TodayCst() : req.as_of();
  LEDGER_RETURN_IF_ERROR(ValidateDate("as_of", as_of));
  if (req.max_items() < 0 || req.max_items() > 1000) {
    return InvalidField("max_items", "must be 0..1000");
  }
  const size_t max_items = req.max_items() == 0 ? 100 : req.max_items();
  if (call.principal.role == Role::kSchoolOfficer) {
    return absl::PermissionDeniedError(
        "reconciliation covers a region: officers, auditors and agencies");
  }
  auto region = ScopeRegionFilter(call.principal, req.region_prefix());
  if (!region.ok()) return region.status();
  if (region->empty()) {
    return InvalidField("region_prefix",
                        "is required (at least a province code)");
  }
  auto students = FetchStudents(*region, cpb::SCHOOL_STAGE_UNSPECIFIED);
  if (!students.ok()) return students.status();
  std::unordered_map<std::string, const rpb::Student*> by_member;
  for (const auto& s : *students) by_member[s.member_id()] = &s;

  const std::string term = TermKey(req.term());
  resp->mutable_term()->CopyFrom(req.term());
  resp->set_region_prefix(*region);
  resp->set_as_of(as_of);
  const std::string like = *region + "%";

  auto add_item = [&](pb::GapList* list, pb::GapItem item) {
    list->set_total(list->total() + 1);
    if (static_cast<size_t>(list->items_size()) < max_items) {
      *list->add_items() = std::move(item);
    }
  };
  auto masked = [&](const std::string& enc) {
    return MaskName(Decrypt(enc, kCtxPayeeName));
  };

  absl::Status st = db_.Read([&](SqlConnection& c) -> absl::Status {
    auto standards = LoadStandards(c);
    if (!standards.ok()) return standards.status();

    for (int table = 0; table < 2; ++table) {
      auto rows = c.Query(
          absl::StrCat("SELECT state, COUNT(*), COALESCE(SUM(amount_fen), 0) "
                       "FROM ",
                       table == 0 ? "entitlements" : "payments",
                       " WHERE term = ? AND region_code LIKE ? GROUP BY state "
                       "ORDER BY state"),
          {term, like});
      if (!rows.ok()) return rows.status();
      for (const SqlRow& r : *rows) {
        pb::StateCount* sc = table == 0 ? resp->add_entitlements_by_state()
                                        : resp->add_payments_by_state();
        sc->set_state(table == 0
                          ? pb::EntitlementState_Name(
                                static_cast<pb::EntitlementState>(r.Int(0)))
                          : pb::PaymentState_Name(
                                static_cast<pb::PaymentState>(r.Int(0))));
        sc->set_count(r.Int(1));
        sc->set_amount_fen(r.Int(2));
        if (table == 0 && r.Int(0) != pb::ENTITLEMENT_STATE_CANCELLED) {
          resp->set_entitled_fen(resp->entitled_fen() + r.Int(2));
        }
        if (table == 1 && r.Int(0) == pb::PAYMENT_STATE_PAID) {
          resp->set_paid_fen(r.Int(2));
        }
      }
    }
    auto out = c.Query(
        "SELECT COALESCE(SUM(amount_fen), 0) FROM journal WHERE term = ? AND "
        "region_code LIKE ? AND credit_account = ?",
        {term, like, std::string(kBankPaidOut)});
    auto back = c.Query(
        "SELECT COALESCE(SUM(amount_fen), 0) FROM journal WHERE term = ? AND "
        "region_code LIKE ? AND debit_account = ?",
        {term, like, std::string(kBankPaidOut)});
    if (!out.ok()) return out.status();
    if (!back.ok()) return back.status();
    resp->set_journal_paid_fen((*out)[0].Int(0) - (*back)[0].Int(0));

    // Rostered registered students missing an entitlement they qualify for.
    auto held = c.Query(
        "SELECT member_id, programme_code, exclusive_group, id, state, "
        "cancel_reason FROM entitlements WHERE term = ? AND region_code LIKE ?",
        {term, like});
    if (!held.ok()) return held.status();
    std::set<std::pair<std::string, std::string>> holds;
    std::map<std::pair<std::string, std::string>, std::string> cancelled;
    for (const SqlRow& r : *held) {
      if (r.Int(4) == pb::ENTITLEMENT_STATE_CANCELLED) {
        cancelled[{r.Str(0), r.Str(1)}] = absl::StrCat(
            "entitlement ", r.Int(3), " was cancelled: ", r.Str(5));
        continue;
      }
      holds.insert({r.Str(0), r.Str(1)});
      if (!r.Str(2).empty()) holds.insert({r.Str(0), "group:" + r.Str(2)});
    }
    std::set<std::string> codes;
    for (const auto& s : *standards) codes.insert(s.programme_code());
    std::vector<const pb::ProgrammeStandard*> autos;
    for (const auto& code : codes) {
      const pb::ProgrammeStandard* s =
          StandardFor(*standards, code, req.term());
      if (s != nullptr && s->auto_generate()) autos.push_back(s);
    }
    for (const auto& s : *students) {
      if (!absl::StartsWith(s.region_code(), *region)) continue;
      for (const pb::ProgrammeStandard* sp : autos) {
        if (!Evaluate(s, *sp, req.term()).eligible) continue;
        if (holds.count({s.member_id(), sp->programme_code()}) > 0) continue;
        if (!sp->exclusive_group().empty() &&
            holds.count({s.member_id(), "group:" + sp->exclusive_group()}) >
                0) {
          continue;
        }
        pb::GapItem item;
        item.set_member_id(s.member_id());
        item.set_name(MaskName(s.name()));
        item.set_region_code(s.region_code());
        item.set_school_code(s.current_enrolment().school_code());
        item.set_stage(s.current_enrolment().stage());
        item.set_programme_code(sp->programme_code());
        const std::string since =
            s.current_enrolment().recorded_at().substr(0, 10);
        item.set_since(since);
        if (ValidateDate("since", since).ok()) {
          item.set_days_open(std::max(0, DaysBetween(since, as_of)));
        }
        auto it = cancelled.find({s.member_id(), sp->programme_code()});
        item.set_detail(it != cancelled.end()
                            ? it->second
                            : "eligible, no entitlement for the term");
        add_item(resp->mutable_missing_entitlements(), std::move(item));
      }
    }

    // Paid students the registry no longer lists as eligible.
    auto paid = c.Query(
        "SELECT p.id, p.entitlement_id, p.member_id, p.programme_code, "
        "p.region_code, p.school_code, p.amount_fen, p.paid_at, e.stage, "
        "e.payee_name, e.standard_id FROM payments p JOIN entitlements e ON "
        "e.id = p.entitlement_id WHERE p.term = ? AND p.region_code LIKE ? "
        "AND p.state = ? ORDER BY p.paid_at, p.id",
        {term, like, int64_t{pb::PAYMENT_STATE_PAID}});
    if (!paid.ok()) return paid.status();
    for (const SqlRow& r : *paid) {
      std::string why;
      auto it = by_member.find(r.Str(2));
      if (it == by_member.end()) {
        why =
            "no longer listed by the registry as an enrolled registered "
            "student";
      } else {
        auto sp = Standard(c, r.Str(10));
        if (sp.ok() && (*sp)->auto_generate()) {
          const Eligibility el = Evaluate(*it->second, **sp, req.term());
          if (!el.eligible) why = "no longer eligible: " + el.why_not;
        }
      }
      if (why.empty()) continue;
      pb::GapItem item;
      item.set_member_id(r.Str(2));
      item.set_name(masked(r.Str(9)));
      item.set_region_code(r.Str(4));
      item.set_school_code(r.Str(5));
      item.set_stage(static_cast<cpb::SchoolStage>(r.Int(8)));
      item.set_programme_code(r.Str(3));
      item.set_entitlement_id(r.Int(1));
      item.set_payment_id(r.Int(0));
      item.set_amount_fen(r.Int(6));
      item.set_since(internal::DateCst(r.Int(7)));
      item.set_days_open(std::max(0, DaysBetween(item.since(), as_of)));
      item.set_detail(why);
      add_item(resp->mutable_paid_not_eligible(), std::move(item));
    }

    // Open or batched entitlements past their due date.
    auto overdue =
        c.Query(absl::StrCat("SELECT ", internal::kEntitlementColumns,
                             " FROM entitlements e WHERE e.term = ? AND "
                             "e.region_code LIKE ? AND e.state IN (?, ?) AND "
                             "e.due_date < ? ORDER BY e.due_date, e.id"),
                {term, like, int64_t{pb::ENTITLEMENT_STATE_OPEN},
                 int64_t{pb::ENTITLEMENT_STATE_BATCHED}, as_of});
    if (!overdue.ok()) return overdue.status();
    for (const SqlRow& r : *overdue) {
      pb::GapItem item;
      item.set_member_id(r.Str(1));
      item.set_name(masked(r.Str(14)));
      item.set_region_code(r.Str(5));
      item.set_school_code(r.Str(6));
      item.set_stage(static_cast<cpb::SchoolStage>(r.Int(8)));
      item.set_programme_code(r.Str(2));
      item.set_entitlement_id(r.Int(0));
      item.set_payment_id(r.Int(17));
      item.set_amount_fen(r.Int(11));
      item.set_since(r.Str(15));
      item.set_days_open(std::max(0, DaysBetween(r.Str(15), as_of)));
      item.set_detail(
          r.Int(12) == pb::ENTITLEMENT_STATE_BATCHED
              ? absl::StrCat("in batch ", r.Int(16), ", not yet executed")
              : "not in any batch");
      add_item(resp->mutable_unpaid_overdue(), std::move(item));
    }

    // Paid, but the notice is not acknowledged / no follow-up visit yet.
    for (int list = 0; list < 2; ++list) {
      auto rows = c.Query(
          absl::StrCat(
              "SELECT p.id, p.entitlement_id, p.member_id, p.programme_code, "
              "p.region_code, p.school_code, p.amount_fen, p.paid_at, "
              "e.stage, e.payee_name FROM payments p JOIN entitlements e ON "
              "e.id = p.entitlement_id WHERE p.term = ? AND p.region_code "
              "LIKE ? AND p.state = ? AND NOT EXISTS (SELECT 1 FROM ",
              list == 0 ? "notice_acks x" : "follow_ups x",
              " WHERE x.payment_id = p.id) ORDER BY p.paid_at, p.id"),
          {term, like, int64_t{pb::PAYMENT_STATE_PAID}});
      if (!rows.ok()) return rows.status();
      for (const SqlRow& r : *rows) {
        pb::GapItem item;
        item.set_member_id(r.Str(2));
        item.set_name(masked(r.Str(9)));
        item.set_region_code(r.Str(4));
        item.set_school_code(r.Str(5));
        item.set_stage(static_cast<cpb::SchoolStage>(r.Int(8)));
        item.set_programme_code(r.Str(3));
        item.set_entitlement_id(r.Int(1));
        item.set_payment_id(r.Int(0));
        item.set_amount_fen(r.Int(6));
        item.set_since(internal::DateCst(r.Int(7)));
        item.set_days_open(std::max(0, DaysBetween(item.since(), as_of)));
        item.set_detail(list == 0 ? "notice not acknowledged"
                                  : "no follow-up visit recorded");
        add_item(list == 0 ? resp->mutable_unacknowledged_notices()
                           : resp->mutable_without_follow_up(),
                 std::move(item));
      }
    }
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  // The gap lists name students (masked).
  call.NoteBulkRead(
      resp->missing_entitlements().items_size() +
      resp->paid_not_eligible().items_size() +
      resp->unpaid_overdue().items_size() +
      resp->unacknowledged_notices().items_size() +
      resp->without_follow_up().items_size());
  call.AddRecord(absl::StrCat("reconcile:", *region, ":", term));
  return absl::OkStatus();
}

}  // namespace eduaid::ledger
