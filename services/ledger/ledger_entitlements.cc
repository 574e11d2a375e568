// Entitlements raised one at a time (CreateEntitlement), listed and
// cancelled. (Generation from the registry: ledger_generation.cc.)
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/idempotency.h"
#include "services/common/keyset_page.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/term.h"
#include "services/common/validate.h"
#include "services/ledger/entitlement_rules.h"
#include "services/ledger/entitlement_store.h"
#include "services/ledger/ledger.h"
#include "services/ledger/ledger_internal.h"
#include "services/ledger/standard_store.h"

namespace eduaid::ledger {
namespace {

// Every field rule of CreateEntitlement, as one INVALID_ARGUMENT.
absl::Status ValidateCreate(const pb::CreateEntitlementRequest& req,
                            bool on_behalf) {
  std::vector<FieldViolation> v;
  auto check = [&v](const absl::Status& s) {
    for (auto& f : FieldViolationsOf(s)) v.push_back(std::move(f));
  };
  check(ValidateRequestId("request_id", req.request_id()));
  check(ValidateMemberId("member_id", req.member_id()));
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
  if (on_behalf) {
    check(ValidateText("originator_subject", req.originator_subject(), 128));
  }
  if (!v.empty()) return InvalidFields(v);
  return absl::OkStatus();
}

absl::Status ValidateList(const pb::ListEntitlementsRequest& req) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (TermSet(req.term())) RETURN_IF_ERROR(ValidateTerm("term", req.term()));
  if (!req.programme_code().empty() && !IsProgrammeCode(req.programme_code())) {
    return InvalidField("programme_code", "must be 1..40 of A-Z 0-9 _");
  }
  if (!pb::EntitlementState_IsValid(req.state())) {
    return InvalidField("state", "is not a known entitlement state");
  }
  if (!req.member_id().empty()) {
    RETURN_IF_ERROR(ValidateMemberId("member_id", req.member_id()));
  }
  if (!req.school_code().empty() && !IsSchoolCode(req.school_code())) {
    return InvalidField("school_code", "must be 1..20 of A-Z a-z 0-9 -");
  }
  return absl::OkStatus();
}

// FAILED_PRECONDITION ENTITLEMENT_STATE unless `e` may be cancelled.
absl::Status Cancellable(const pb::Entitlement& e) {
  switch (e.state()) {
    case pb::ENTITLEMENT_STATE_OPEN:
    case pb::ENTITLEMENT_STATE_BATCHED:
    case pb::ENTITLEMENT_STATE_WAIVED:
      return absl::OkStatus();
    case pb::ENTITLEMENT_STATE_PAID:
      return WithReason(absl::StatusCode::kFailedPrecondition,
                        "ENTITLEMENT_STATE",
                        absl::StrCat("entitlement ", e.entitlement_id(),
                                     " is paid: reverse payment ",
                                     e.payment_id(), " instead"));
    default:
      return WithReason(absl::StatusCode::kFailedPrecondition,
                        "ENTITLEMENT_STATE",
                        absl::StrCat("entitlement ", e.entitlement_id(),
                                     " is already cancelled"));
  }
}

}  // namespace

absl::StatusOr<pb::Entitlement> Ledger::InsertManualEntitlement(
    SqlConnection& c, CallContext& call,
    const pb::CreateEntitlementRequest& req, const std::string& originator) {
  const std::string term = TermKey(req.term());
  ASSIGN_OR_RETURN(auto standards, LoadAllStandards(c));
  ASSIGN_OR_RETURN(
      const pb::ProgrammeStandard* sp,
      StandardInEffect(standards, req.programme_code(), req.term()));
  ASSIGN_OR_RETURN(const int64_t amount,
                   ManualAmount(*sp, req.stage(), req.boarder(), req.term(),
                                req.amount_fen()));
  ASSIGN_OR_RETURN(bool exclusive,
                   HoldsExclusive(c, req.member_id(), term,
                                  sp->exclusive_group(), sp->programme_code()));
  if (exclusive) {
    return WithReason(
        absl::StatusCode::kFailedPrecondition, "EXCLUSIVE_PROGRAMME",
        absl::StrCat("programme_code: the student already holds another "
                     "programme of group ",
                     sp->exclusive_group(), " for ", term));
  }
  const bool waiver = sp->kind() == pb::PROGRAMME_KIND_FEE_WAIVER;
  NewEntitlement e{
      req.member_id(),
      req.programme_code(),
      term,
      StandardId(*sp),
      sp->exclusive_group(),
      req.region_code(),
      req.school_code(),
      req.school_name(),
      req.stage(),
      req.grade(),
      req.boarder(),
      amount,
      waiver ? pb::ENTITLEMENT_STATE_WAIVED : pb::ENTITLEMENT_STATE_OPEN,
      req.reason(),
      Encrypt(req.payee_name(), internal::kCtxPayeeName),
      DueDate(*sp, req.term()),
      call.principal.subject,
      NowMs(),
      originator};
  ASSIGN_OR_RETURN(std::optional<int64_t> id, InsertEntitlement(c, e));
  if (!id) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "ALREADY_ENTITLED",
                      absl::StrCat("the student already holds ",
                                   req.programme_code(), " for ", term));
  }
  return LoadEntitlement(c, call, *id);
}

absl::Status Ledger::CreateEntitlement(CallContext& call,
                                       const pb::CreateEntitlementRequest& req,
                                       pb::CreateEntitlementResponse* resp) {
  // Only a service speaks for someone else; anyone else originates what
  // they raise, whatever the field says.
  const bool on_behalf = call.principal.role == Role::kService &&
                         !req.originator_subject().empty();
  RETURN_IF_ERROR(ValidateCreate(req, on_behalf));
  const std::string originator =
      on_behalf ? req.originator_subject() : call.principal.subject;
  RETURN_IF_ERROR(
      CheckRecordScope(call.principal, req.region_code(), req.school_code()));
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "CreateEntitlement", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        ASSIGN_OR_RETURN(*resp->mutable_entitlement(),
                         InsertManualEntitlement(c, call, req, originator));
        return absl::OkStatus();
      }));
  call.AddRecord(
      absl::StrCat("entitlement:", resp->entitlement().entitlement_id()));
  return absl::OkStatus();
}

absl::Status Ledger::ListEntitlements(CallContext& call,
                                      const pb::ListEntitlementsRequest& req,
                                      pb::ListEntitlementsResponse* resp) {
  RETURN_IF_ERROR(ValidateList(req));
  EntitlementFilter f;
  ASSIGN_OR_RETURN(f.region_prefix,
                   ScopeRegionFilter(call.principal, req.region_prefix()));
  ASSIGN_OR_RETURN(f.school_code, internal::ScopeSchoolFilter(
                                      call.principal, req.school_code()));
  f.term = TermSet(req.term()) ? TermKey(req.term()) : "";
  f.programme_code = req.programme_code();
  f.state = req.state();
  f.member_id = req.member_id();
  ASSIGN_OR_RETURN(
      IdPage page,
      IdPage::Open(req.page_token(),
                   absl::StrCat("ent|", f.region_prefix, "|", f.term, "|",
                                f.programme_code, "|", req.state(), "|",
                                f.member_id, "|", f.school_code),
                   req.page_size(), 100, 1000));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows,
                     ListEntitlementRecords(c, f, page.after(), page.limit()));
    int64_t last = 0;
    for (size_t i = 0; i < page.Keep(rows.size()); ++i) {
      *resp->add_entitlements() = EntitlementProto(c, call, rows[i]);
      last = rows[i].id;
    }
    resp->set_next_page_token(page.NextToken(rows.size(), last));
    call.NoteBulkRead(resp->entitlements_size());
    call.AddRecord(absl::StrCat("entitlements:", resp->entitlements_size()));
    return absl::OkStatus();
  });
}

absl::StatusOr<pb::Entitlement> Ledger::CancelEntitlementIn(
    SqlConnection& c, CallContext& call,
    const pb::CancelEntitlementRequest& req) {
  ASSIGN_OR_RETURN(pb::Entitlement e,
                   LoadEntitlement(c, call, req.entitlement_id()));
  RETURN_IF_ERROR(
      CheckRecordScope(call.principal, e.region_code(), e.school_code()));
  RETURN_IF_ERROR(Cancellable(e));
  ASSIGN_OR_RETURN(int64_t n,
                   CancelEntitlementRow(c, e.entitlement_id(), e.state(),
                                        req.reason(), NowMs()));
  if (n != 1) {
    return WithReason(absl::StatusCode::kFailedPrecondition,
                      "ENTITLEMENT_STATE",
                      "the entitlement changed meanwhile; look again");
  }
  return LoadEntitlement(c, call, e.entitlement_id());
}

absl::Status Ledger::CancelEntitlement(CallContext& call,
                                       const pb::CancelEntitlementRequest& req,
                                       pb::CancelEntitlementResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidateRecordId("entitlement_id", req.entitlement_id()));
  RETURN_IF_ERROR(ValidateText("reason", req.reason(), 200));
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "CancelEntitlement", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        ASSIGN_OR_RETURN(*resp->mutable_entitlement(),
                         CancelEntitlementIn(c, call, req));
        return absl::OkStatus();
      }));
  call.AddRecord(absl::StrCat("entitlement:", req.entitlement_id()));
  return absl::OkStatus();
}

}  // namespace eduaid::ledger
