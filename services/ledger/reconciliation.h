// The comparisons of a reconciliation (work point 3.4): the registry's
// students against the entitlements held, paid students no longer
// eligible, and the gap items each list shows. Pure functions (no storage,
// no RPC); thread-safe. Tested by entitlement_rules_test.cc.
#ifndef EDUAID_SERVICES_LEDGER_RECONCILIATION_H_
#define EDUAID_SERVICES_LEDGER_RECONCILIATION_H_

#include <cstddef>
#include <string>
#include <vector>

#include "eduaid/ledger/v1/ledger.pb.h"
#include "eduaid/registry/v1/registry.pb.h"
#include "services/ledger/entitlement_store.h"
#include "services/ledger/payment_store.h"

namespace eduaid::ledger {

namespace rpb = ::eduaid::registry::v1;

// Counts `item` in `list` and keeps it when fewer than `max_items` are.
void AddGap(pb::GapList* list, pb::GapItem item, size_t max_items);

// Students under `region_prefix` eligible for one of `standards` (generated
// standards in effect) who hold neither that programme nor another of its
// exclusive group in `held` (cancelled entitlements are named in the
// detail). Names masked; days counted up to `as_of`.
std::vector<pb::GapItem> MissingEntitlements(
    const std::vector<rpb::Student>& students, const std::string& region_prefix,
    const std::vector<const pb::ProgrammeStandard*>& standards,
    const std::vector<HeldForReconcile>& held, const cpb::Term& term,
    const std::string& as_of);

// Why a paid student is no longer eligible ("" when they still are):
// `student` is the registry's record (nullptr when no longer listed),
// `standard` the entitlement's (nullptr when unreadable; only generated
// standards are re-evaluated).
std::string NoLongerEligible(const rpb::Student* student,
                             const pb::ProgrammeStandard* standard,
                             const cpb::Term& term);

// The gap item of a paid payment, paid on its date, open up to `as_of`.
pb::GapItem PaidGap(const PaidPayment& p, std::string masked_name,
                    const std::string& as_of, std::string detail);

// The gap item of an entitlement past its due date.
pb::GapItem OverdueGap(const EntitlementRecord& e, std::string masked_name,
                       const std::string& as_of);

}  // namespace eduaid::ledger

#endif  // EDUAID_SERVICES_LEDGER_RECONCILIATION_H_
