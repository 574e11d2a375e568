// Grievances: opened directly, by a follow-up visit or by an objection to
// a posting; resolved by an officer; listed.
#include <string>

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/idempotency.h"
#include "services/common/keyset_page.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/validate.h"
#include "services/ledger/entitlement_store.h"
#include "services/ledger/grievance_store.h"
#include "services/ledger/ledger.h"
#include "services/ledger/ledger_internal.h"
#include "services/ledger/payment_store.h"

namespace eduaid::ledger {

using internal::kCtxNote;

pb::Grievance Ledger::GrievanceProto(CallContext& call,
                                     const GrievanceRecord& r) {
  pb::Grievance g;
  ToProto(r, &g);
  // Free text may name people: shown in reads, never kept in the stored
  // answers of mutating calls.
  g.set_description(ShowText(call, r.description_enc));
  g.set_resolution(ShowText(call, r.resolution_enc));
  return g;
}

absl::StatusOr<pb::Grievance> Ledger::LoadGrievance(SqlConnection& c,
                                                    CallContext& call,
                                                    int64_t id) {
  ASSIGN_OR_RETURN(GrievanceRecord g, LoadGrievanceRecord(c, id));
  return GrievanceProto(call, g);
}

absl::StatusOr<pb::Grievance> Ledger::InsertGrievance(
    SqlConnection& c, CallContext& call, GrievanceRecord g,
    const std::string& description) {
  g.description_enc = Encrypt(description, kCtxNote);
  g.opened_by = call.principal.subject;
  g.opened_at_ms = NowMs();
  ASSIGN_OR_RETURN(const int64_t id, ledger::InsertGrievance(c, g));
  return LoadGrievance(c, call, id);
}

absl::StatusOr<pb::Grievance> Ledger::OpenGrievanceIn(
    SqlConnection& c, CallContext& call, const pb::OpenGrievanceRequest& req) {
  GrievanceRecord g;
  if (req.payment_id() > 0) {
    ASSIGN_OR_RETURN(PaymentPlace p, LoadPaymentPlace(c, req.payment_id()));
    g.entitlement_id = p.entitlement_id;
    g.payment_id = req.payment_id();
    g.region_code = p.region_code;
    g.school_code = p.school_code;
  } else {
    ASSIGN_OR_RETURN(EntitlementPlace e,
                     LoadEntitlementPlace(c, req.entitlement_id()));
    g.entitlement_id = req.entitlement_id();
    g.payment_id = e.payment_id;
    g.region_code = e.region_code;
    g.school_code = e.school_code;
  }
  RETURN_IF_ERROR(
      CheckRecordScope(call.principal, g.region_code, g.school_code));
  RETURN_IF_ERROR(internal::RequireRecorder(call.principal, g.school_code,
                                            "open grievances"));
  g.source = pb::GRIEVANCE_SOURCE_DIRECT;
  return InsertGrievance(c, call, std::move(g), req.description());
}

absl::Status Ledger::OpenGrievance(CallContext& call,
                                   const pb::OpenGrievanceRequest& req,
                                   pb::OpenGrievanceResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  if ((req.payment_id() > 0) == (req.entitlement_id() > 0) ||
      req.payment_id() < 0 || req.entitlement_id() < 0) {
    return InvalidField("payment_id",
                        "give exactly one of payment_id or entitlement_id");
  }
  RETURN_IF_ERROR(ValidateText("description", req.description(), 500));
  RETURN_IF_ERROR(
      host_.requests().Run(call.principal, "OpenGrievance", req.request_id(),
                           req, resp, [&](SqlConnection& c) -> absl::Status {
                             ASSIGN_OR_RETURN(*resp->mutable_grievance(),
                                              OpenGrievanceIn(c, call, req));
                             return absl::OkStatus();
                           }));
  call.AddRecord(absl::StrCat("grievance:", resp->grievance().grievance_id()));
  return absl::OkStatus();
}

absl::StatusOr<pb::Grievance> Ledger::ResolveGrievanceIn(
    SqlConnection& c, CallContext& call,
    const pb::ResolveGrievanceRequest& req) {
  ASSIGN_OR_RETURN(GrievanceRecord g,
                   LoadGrievanceRecord(c, req.grievance_id()));
  RETURN_IF_ERROR(
      CheckRecordScope(call.principal, g.region_code, g.school_code));
  if (g.state != pb::GRIEVANCE_STATE_OPEN) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "GRIEVANCE_STATE",
                      absl::StrCat("grievance ", g.id, " is already resolved"));
  }
  ASSIGN_OR_RETURN(int64_t n,
                   ResolveGrievanceRow(c, g.id, req.outcome(),
                                       Encrypt(req.resolution(), kCtxNote),
                                       call.principal.subject, NowMs()));
  if (n != 1) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "GRIEVANCE_STATE",
                      "resolved meanwhile");
  }
  return LoadGrievance(c, call, g.id);
}

absl::Status Ledger::ResolveGrievance(CallContext& call,
                                      const pb::ResolveGrievanceRequest& req,
                                      pb::ResolveGrievanceResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidateRecordId("grievance_id", req.grievance_id()));
  if (!pb::GrievanceOutcome_IsValid(req.outcome()) ||
      req.outcome() == pb::GRIEVANCE_OUTCOME_UNSPECIFIED) {
    return InvalidField("outcome", "must be UPHELD or DISMISSED");
  }
  RETURN_IF_ERROR(ValidateText("resolution", req.resolution(), 500));
  RETURN_IF_ERROR(
      host_.requests().Run(call.principal, "ResolveGrievance", req.request_id(),
                           req, resp, [&](SqlConnection& c) -> absl::Status {
                             ASSIGN_OR_RETURN(*resp->mutable_grievance(),
                                              ResolveGrievanceIn(c, call, req));
                             return absl::OkStatus();
                           }));
  call.AddRecord(absl::StrCat("grievance:", req.grievance_id()));
  return absl::OkStatus();
}

absl::Status Ledger::ListGrievances(CallContext& call,
                                    const pb::ListGrievancesRequest& req,
                                    pb::ListGrievancesResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (!pb::GrievanceState_IsValid(req.state())) {
    return InvalidField("state", "is not a known grievance state");
  }
  ASSIGN_OR_RETURN(const std::string region,
                   ScopeRegionFilter(call.principal, req.region_prefix()));
  ASSIGN_OR_RETURN(const std::string school,
                   internal::ScopeSchoolFilter(call.principal, ""));
  ASSIGN_OR_RETURN(
      IdPage page,
      IdPage::Open(req.page_token(),
                   absl::StrCat("grv|", region, "|", req.state(), "|", school),
                   req.page_size(), 100, 1000));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows,
                     ListGrievanceRecords(c, region, req.state(), school,
                                          page.after(), page.limit()));
    int64_t last = 0;
    for (size_t i = 0; i < page.Keep(rows.size()); ++i) {
      *resp->add_grievances() = GrievanceProto(call, rows[i]);
      last = rows[i].id;
    }
    resp->set_next_page_token(page.NextToken(rows.size(), last));
    // Grievance texts may name people.
    call.NoteBulkRead(resp->grievances_size());
    return absl::OkStatus();
  });
}

}  // namespace eduaid::ledger
