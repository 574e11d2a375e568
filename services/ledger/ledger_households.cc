// The household view (issue 13): up to 100 households' subsidies whole, as
// a county officer reads a case file. Members come from the registry; what
// they hold is read in one set-based query per record kind.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/clients/household_scope.h"
#include "services/common/household_ids.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/term.h"
#include "services/ledger/entitlement_store.h"
#include "services/ledger/grievance_store.h"
#include "services/ledger/ledger.h"
#include "services/ledger/notice_store.h"
#include "services/ledger/payment_store.h"

namespace eduaid::ledger {
namespace {

// A payment as its notice shows it (the school's name is the
// entitlement's).
NoticeFacts NoticeFactsOf(const PaymentRecord& p,
                          const std::string& school_name) {
  NoticeFacts f;
  f.payment_id = p.id;
  f.region_code = p.region_code;
  f.term = p.term;
  f.amount_fen = p.amount_fen;
  f.paid_at_ms = p.paid_at_ms;
  f.state = p.state;
  f.school_name = school_name;
  f.standard_id = p.standard_id;
  f.payee_name_enc = p.payee_name_enc;
  f.programme_code = p.programme_code;
  f.school_code = p.school_code;
  return f;
}

bool HasNotice(const PaymentRecord& p) {
  return p.state == pb::PAYMENT_STATE_PAID ||
         p.state == pb::PAYMENT_STATE_REVERSED;
}

}  // namespace

absl::Status Ledger::FillHouseholds(
    SqlConnection& c, CallContext& call, const std::string& term,
    const std::map<std::string, std::string>& household_of,
    std::map<std::string, pb::HouseholdLedger>& out) {
  std::vector<std::string> members;
  for (const auto& [member, household] : household_of)
    members.push_back(member);
  ASSIGN_OR_RETURN(auto entitlements, EntitlementsOfMembers(c, members, term));
  ASSIGN_OR_RETURN(auto payments, PaymentsOfMembers(c, members, term));
  std::map<int64_t, const EntitlementRecord*> entitlement_by_id;
  std::map<int64_t, std::string> household_of_entitlement;
  std::vector<int64_t> entitlement_ids, paid_ids, payment_ids;
  for (const EntitlementRecord& e : entitlements) {
    const std::string& h = household_of.at(e.member_id);
    *out[h].add_entitlements() = EntitlementProto(c, call, e);
    entitlement_by_id[e.id] = &e;
    household_of_entitlement[e.id] = h;
    entitlement_ids.push_back(e.id);
  }
  std::map<int64_t, std::string> household_of_payment;
  for (const PaymentRecord& p : payments) {
    household_of_payment[p.id] = household_of.at(p.member_id);
    payment_ids.push_back(p.id);
    if (HasNotice(p)) paid_ids.push_back(p.id);
  }
  ASSIGN_OR_RETURN(auto acks, AcksOfPayments(c, paid_ids));
  for (const PaymentRecord& p : payments) {
    pb::HouseholdLedger& h = out[household_of_payment.at(p.id)];
    *h.add_payments() = PaymentProto(c, call, p);
    if (!HasNotice(p)) continue;
    auto e = entitlement_by_id.find(p.entitlement_id);
    const std::string school =
        e == entitlement_by_id.end() ? "" : e->second->school_name;
    auto ack = acks.find(p.id);
    *h.add_notices() =
        NoticeProto(c, call, NoticeFactsOf(p, school),
                    ack == acks.end() ? std::nullopt
                                      : std::optional<AckRecord>(ack->second));
  }
  ASSIGN_OR_RETURN(auto visits, FollowUpsOfPayments(c, payment_ids));
  for (const FollowUpRecord& v : visits) {
    *out[household_of_payment.at(v.payment_id)].add_follow_ups() =
        FollowUpProto(call, v);
  }
  // Grievances hang on entitlements (a posting objection has no payment).
  ASSIGN_OR_RETURN(auto grievances,
                   GrievancesOfEntitlements(c, entitlement_ids));
  for (const GrievanceRecord& g : grievances) {
    *out[household_of_entitlement.at(g.entitlement_id)].add_grievances() =
        GrievanceProto(call, g);
  }
  return absl::OkStatus();
}

absl::Status Ledger::GetHouseholds(CallContext& call,
                                   const pb::GetHouseholdsRequest& req,
                                   pb::GetHouseholdsResponse* resp) {
  RETURN_IF_ERROR(ValidateHouseholdIds("household_ids", req.household_ids()));
  std::string term;
  if (req.has_term()) {
    RETURN_IF_ERROR(ValidateTerm("term", req.term()));
    term = TermKey(req.term());
  }
  const std::vector<std::string> ids(req.household_ids().begin(),
                                     req.household_ids().end());
  ASSIGN_OR_RETURN(auto scope,
                   ScopeHouseholds<pb::HouseholdLedger>(*registry_, call, ids));
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    return FillHouseholds(c, call, term, scope.household_of, scope.in_scope);
  }));
  AnswerInRequestOrder(
      call, ids, scope.in_scope, resp, [](const pb::HouseholdLedger& h) {
        return static_cast<size_t>(h.entitlements_size() + h.payments_size() +
                                   h.notices_size());
      });
  return absl::OkStatus();
}

}  // namespace eduaid::ledger
