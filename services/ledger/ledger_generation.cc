// Entitlements generated from the registry's rosters (work point 3.1): the
// registry's students, and GenerateEntitlements.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/clients/registry_client.h"
#include "services/common/clock.h"
#include "services/common/idempotency.h"
#include "services/common/peer.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/term.h"
#include "services/common/validate.h"
#include "services/ledger/entitlement_rules.h"
#include "services/ledger/entitlement_store.h"
#include "services/ledger/ledger.h"
#include "services/ledger/ledger_internal.h"

namespace eduaid::ledger {
namespace {

absl::Status ValidateGenerate(const pb::GenerateEntitlementsRequest& req) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidateTerm("term", req.term(), 1));
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (!cpb::SchoolStage_IsValid(req.stage())) {
    return InvalidField("stage", "is not a known school stage");
  }
  for (int i = 0; i < req.programme_codes_size(); ++i) {
    if (!IsProgrammeCode(req.programme_codes(i))) {
      return InvalidField(absl::StrCat("programme_codes[", i, "]"),
                          "must be 1..40 of A-Z 0-9 _");
    }
  }
  return absl::OkStatus();
}

// Counts a new entitlement into the answer.
absl::Status CountCreated(const pb::ProgrammeStandard& sp,
                          const Eligibility& el,
                          std::map<std::string, pb::ProgrammeCount>& counts,
                          int64_t& total,
                          pb::GenerateEntitlementsResponse* resp) {
  if (el.waiver) {
    resp->set_waivers_recorded(resp->waivers_recorded() + 1);
  } else {
    resp->set_entitlements_created(resp->entitlements_created() + 1);
  }
  pb::ProgrammeCount& pc = counts[sp.programme_code()];
  pc.set_programme_code(sp.programme_code());
  pc.set_entitlements(pc.entitlements() + 1);
  pc.set_amount_fen(pc.amount_fen() + el.amount_fen);
  if (!CheckedAdd(total, el.amount_fen, &total)) {
    return absl::OutOfRangeError("total exceeds int64 fen");
  }
  return absl::OkStatus();
}

// The student holds the programme already. Aid follows the student: an
// unpaid entitlement moves with them to the new school; the amount,
// computed from its standard, never changes.
absl::Status CarryOverOrCount(SqlConnection& c, const rpb::Student& s,
                              const std::string& programme_code,
                              const std::string& term_key, int64_t now,
                              pb::GenerateEntitlementsResponse* resp) {
  const rpb::Enrolment& en = s.current_enrolment();
  ASSIGN_OR_RETURN(
      HeldEntitlement held,
      LoadHeldEntitlement(c, s.member_id(), programme_code, term_key));
  if (held.state != pb::ENTITLEMENT_STATE_OPEN ||
      held.school_code == en.school_code()) {
    resp->set_already_entitled(resp->already_entitled() + 1);
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(
      MoveEntitlementToSchool(c, held.id, en,
                              CarriedOverReason(held.reason, held.school_name,
                                                held.school_code, DateCst(now)),
                              now));
  resp->set_carried_over(resp->carried_over() + 1);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<rpb::Student>> Ledger::FetchStudents(
    const std::string& region, cpb::SchoolStage stage) {
  rpb::ListStudentsRequest filter;
  filter.set_region_prefix(region);
  filter.set_stage(stage);
  filter.set_status(rpb::ENROLMENT_STATUS_ENROLLED);
  std::vector<rpb::Student> out;
  RETURN_IF_ERROR(registry_->ForEachStudent(
      filter, [&](const rpb::Student& s) -> absl::Status {
        out.push_back(s);
        return absl::OkStatus();
      }));
  return out;
}

absl::Status Ledger::GenerateForStudent(
    SqlConnection& c, CallContext& call, const rpb::Student& s,
    const std::vector<const pb::ProgrammeStandard*>& selected,
    const cpb::Term& term, int64_t now,
    std::map<std::string, pb::ProgrammeCount>& counts, int64_t& total,
    pb::GenerateEntitlementsResponse* resp) {
  const rpb::Enrolment& en = s.current_enrolment();
  const std::string term_key = TermKey(term);
  std::string name_enc;
  for (const pb::ProgrammeStandard* sp : selected) {
    const Eligibility el = Evaluate(s, *sp, term);
    if (!el.eligible) continue;
    ASSIGN_OR_RETURN(bool exclusive, HoldsExclusive(c, s.member_id(), term_key,
                                                    sp->exclusive_group(),
                                                    sp->programme_code()));
    if (exclusive) {
      resp->set_already_entitled(resp->already_entitled() + 1);
      continue;
    }
    if (name_enc.empty()) name_enc = Encrypt(s.name(), internal::kCtxPayeeName);
    NewEntitlement e{
        s.member_id(),
        sp->programme_code(),
        term_key,
        StandardId(*sp),
        sp->exclusive_group(),
        s.region_code(),
        en.school_code(),
        en.school_name(),
        en.stage(),
        en.grade(),
        en.boarder(),
        el.amount_fen,
        el.waiver ? pb::ENTITLEMENT_STATE_WAIVED : pb::ENTITLEMENT_STATE_OPEN,
        GeneratedReason(s, *sp),
        name_enc,
        DueDate(*sp, term),
        call.principal.subject,
        now,
        call.principal.subject};
    ASSIGN_OR_RETURN(std::optional<int64_t> id, InsertEntitlement(c, e));
    if (id) {
      RETURN_IF_ERROR(CountCreated(*sp, el, counts, total, resp));
    } else {
      RETURN_IF_ERROR(
          CarryOverOrCount(c, s, sp->programme_code(), term_key, now, resp));
    }
  }
  return absl::OkStatus();
}

absl::Status Ledger::GenerateEntitlements(
    CallContext& call, const pb::GenerateEntitlementsRequest& req,
    pb::GenerateEntitlementsResponse* resp) {
  RETURN_IF_ERROR(ValidateGenerate(req));
  ASSIGN_OR_RETURN(const std::string region,
                   ScopeRegionFilter(call.principal, req.region_prefix()));
  if (region.empty()) {
    return InvalidField("region_prefix",
                        "is required (at least a province code)");
  }
  ASSIGN_OR_RETURN(std::vector<pb::ProgrammeStandard> standards,
                   ReadStandards());
  ASSIGN_OR_RETURN(std::vector<const pb::ProgrammeStandard*> selected,
                   StandardsToGenerate(standards,
                                       {req.programme_codes().begin(),
                                        req.programme_codes().end()},
                                       req.term()));
  // A repeat is answered from the request log, without the registry (which
  // may be down by now).
  ASSIGN_OR_RETURN(const bool seen,
                   host_.requests().Seen(call.principal, req.request_id()));
  std::vector<rpb::Student> students;
  if (!seen) {
    ASSIGN_OR_RETURN(students, FetchStudents(region, req.stage()));
  }
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "GenerateEntitlements", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        if (seen) return absl::AbortedError("the request log changed; retry");
        const int64_t now = NowMs();
        std::map<std::string, pb::ProgrammeCount> counts;
        int64_t total = 0;
        for (const rpb::Student& s : students) {
          // Only what the caller may see, and only well-formed keys.
          if (!call.principal.Covers(s.region_code()) ||
              !absl::StartsWith(s.region_code(), region) ||
              !ValidateRegionCode("region_code", s.region_code()).ok() ||
              !ValidateMemberId("member_id", s.member_id()).ok()) {
            continue;
          }
          resp->set_students_seen(resp->students_seen() + 1);
          RETURN_IF_ERROR(GenerateForStudent(c, call, s, selected, req.term(),
                                             now, counts, total, resp));
        }
        for (auto& [code, pc] : counts) *resp->add_by_programme() = pc;
        resp->set_total_fen(total);
        return absl::OkStatus();
      }));
  call.AddRecord(absl::StrCat("generate:", region, ":", TermKey(req.term()),
                              ":", resp->entitlements_created()));
  return absl::OkStatus();
}

}  // namespace eduaid::ledger
