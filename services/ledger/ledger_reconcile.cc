// Reconciliation (work point 3.4): the registry's students against the
// entitlements, payments, journal, notices and follow-ups of a term.
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/term.h"
#include "services/common/validate.h"
#include "services/ledger/entitlement_rules.h"
#include "services/ledger/entitlement_store.h"
#include "services/ledger/journal.h"
#include "services/ledger/ledger.h"
#include "services/ledger/ledger_internal.h"
#include "services/ledger/payment_store.h"
#include "services/ledger/reconciliation.h"
#include "services/ledger/standard_store.h"

namespace eduaid::ledger {

absl::Status Ledger::ReconcileFigures(SqlConnection& c, const std::string& term,
                                      const std::string& region,
                                      pb::ReconcileResponse* resp) {
  ASSIGN_OR_RETURN(auto entitlements, EntitlementSumsByState(c, term, region));
  for (const StateSum& s : entitlements) {
    pb::StateCount* sc = resp->add_entitlements_by_state();
    sc->set_state(
        pb::EntitlementState_Name(static_cast<pb::EntitlementState>(s.state)));
    sc->set_count(s.count);
    sc->set_amount_fen(s.amount_fen);
    if (s.state != pb::ENTITLEMENT_STATE_CANCELLED) {
      resp->set_entitled_fen(resp->entitled_fen() + s.amount_fen);
    }
  }
  ASSIGN_OR_RETURN(auto payments, PaymentSumsByState(c, term, region));
  for (const PaymentStateSum& s : payments) {
    pb::StateCount* sc = resp->add_payments_by_state();
    sc->set_state(
        pb::PaymentState_Name(static_cast<pb::PaymentState>(s.state)));
    sc->set_count(s.count);
    sc->set_amount_fen(s.amount_fen);
    if (s.state == pb::PAYMENT_STATE_PAID) resp->set_paid_fen(s.amount_fen);
  }
  ASSIGN_OR_RETURN(const int64_t paid_out, JournalPaidOut(c, term, region));
  resp->set_journal_paid_fen(paid_out);
  return absl::OkStatus();
}

absl::Status Ledger::ReconcileGaps(SqlConnection& c,
                                   const std::vector<rpb::Student>& students,
                                   const cpb::Term& term,
                                   const std::string& region,
                                   const std::string& as_of, size_t max_items,
                                   pb::ReconcileResponse* resp) {
  const std::string key = TermKey(term);
  auto masked = [&](const std::string& enc) {
    return MaskName(Decrypt(enc, internal::kCtxPayeeName));
  };
  // Rostered registered students missing an entitlement they qualify for.
  ASSIGN_OR_RETURN(auto standards, LoadAllStandards(c));
  ASSIGN_OR_RETURN(auto held, ListHeldForReconcile(c, key, region));
  for (pb::GapItem& item : MissingEntitlements(
           students, region, GeneratedStandards(standards, term), held, term,
           as_of)) {
    AddGap(resp->mutable_missing_entitlements(), std::move(item), max_items);
  }
  // Paid students the registry no longer lists as eligible.
  std::unordered_map<std::string, const rpb::Student*> by_member;
  for (const auto& s : students) by_member[s.member_id()] = &s;
  ASSIGN_OR_RETURN(auto paid, ListPaidPayments(c, key, region));
  for (const PaidPayment& p : paid) {
    auto it = by_member.find(p.member_id);
    const rpb::Student* student = it == by_member.end() ? nullptr : it->second;
    // The entitlement's standard (unreadable: not re-evaluated).
    std::shared_ptr<const pb::ProgrammeStandard> standard;
    if (student != nullptr)
      standard = Standard(c, p.standard_id).value_or(nullptr);
    std::string why = NoLongerEligible(student, standard.get(), term);
    if (why.empty()) continue;
    AddGap(resp->mutable_paid_not_eligible(),
           PaidGap(p, masked(p.payee_name_enc), as_of, std::move(why)),
           max_items);
  }
  // Open or batched entitlements past their due date.
  ASSIGN_OR_RETURN(auto overdue,
                   ListOverdueEntitlements(c, key, region, as_of));
  for (const EntitlementRecord& e : overdue) {
    AddGap(resp->mutable_unpaid_overdue(),
           OverdueGap(e, masked(e.payee_name_enc), as_of), max_items);
  }
  // Paid, but the notice is not acknowledged / no follow-up visit yet.
  for (bool follow_up : {false, true}) {
    ASSIGN_OR_RETURN(auto open,
                     ListPaidPaymentsWithout(c, key, region, follow_up));
    for (const PaidPayment& p : open) {
      AddGap(follow_up ? resp->mutable_without_follow_up()
                       : resp->mutable_unacknowledged_notices(),
             PaidGap(p, masked(p.payee_name_enc), as_of,
                     follow_up ? "no follow-up visit recorded"
                               : "notice not acknowledged"),
             max_items);
    }
  }
  return absl::OkStatus();
}

absl::Status Ledger::Reconcile(CallContext& call,
                               const pb::ReconcileRequest& req,
                               pb::ReconcileResponse* resp) {
  RETURN_IF_ERROR(ValidateTerm("term", req.term()));
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  const std::string as_of = req.as_of().empty() ? TodayCst() : req.as_of();
  RETURN_IF_ERROR(ValidateDate("as_of", as_of));
  if (req.max_items() < 0 || req.max_items() > 1000) {
    return InvalidField("max_items", "must be 0..1000");
  }
  const size_t max_items = req.max_items() == 0 ? 100 : req.max_items();
  if (call.principal.role == Role::kSchoolOfficer) {
    return absl::PermissionDeniedError(
        "reconciliation covers a region: officers, auditors and agencies");
  }
  ASSIGN_OR_RETURN(const std::string region,
                   ScopeRegionFilter(call.principal, req.region_prefix()));
  if (region.empty()) {
    return InvalidField("region_prefix",
                        "is required (at least a province code)");
  }
  ASSIGN_OR_RETURN(auto students,
                   FetchStudents(region, cpb::SCHOOL_STAGE_UNSPECIFIED));
  const std::string term = TermKey(req.term());
  resp->mutable_term()->CopyFrom(req.term());
  resp->set_region_prefix(region);
  resp->set_as_of(as_of);
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    RETURN_IF_ERROR(ReconcileFigures(c, term, region, resp));
    return ReconcileGaps(c, students, req.term(), region, as_of, max_items,
                         resp);
  }));
  // The gap lists name students (masked).
  call.NoteBulkRead(resp->missing_entitlements().items_size() +
                    resp->paid_not_eligible().items_size() +
                    resp->unpaid_overdue().items_size() +
                    resp->unacknowledged_notices().items_size() +
                    resp->without_follow_up().items_size());
  call.AddRecord(absl::StrCat("reconcile:", region, ":", term));
  return absl::OkStatus();
}

}  // namespace eduaid::ledger
