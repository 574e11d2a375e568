// What the household views read of a batch of households at once (a few
// set-based queries per page, never one per member): the members' states
// for ListHouseholds, and the members with their current enrolments for
// GetHouseholds. The records, their columns and row readers.
#ifndef EDUAID_SERVICES_REGISTRY_HOUSEHOLD_VIEW_STORE_H_
#define EDUAID_SERVICES_REGISTRY_HOUSEHOLD_VIEW_STORE_H_

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/sql.h"
#include "services/registry/enrolment_store.h"
#include "services/registry/member_store.h"
#include "services/registry/rules.h"

namespace eduaid::registry {

// Columns (of members `m`, its current enrolment `e`, its open
// out-of-school row `o` and its running arrangement `a`) in the order
// FromMemberStateRow() reads them: the household id, then the state.
inline constexpr char kMemberStateColumns[] =
    "m.household_id, m.id, COALESCE(e.school_code, ''), "
    "COALESCE(e.status, 0), CASE WHEN o.member_id IS NULL THEN 0 ELSE 1 END, "
    "CASE WHEN a.member_id IS NULL THEN 0 ELSE 1 END";
std::pair<std::string, MemberState> FromMemberStateRow(const SqlRow& row);

// (household id, state) of every member of `household_ids`.
absl::StatusOr<std::vector<std::pair<std::string, MemberState>>> MemberStates(
    SqlConnection& c, const std::vector<const std::string*>& household_ids);

// A member of a household with its current enrolment.
struct HouseholdMemberRecord {
  StudentRecord member;
  std::optional<EnrolmentRecord> current;
};
// Every member of `household_ids`, in member id order.
absl::StatusOr<std::vector<HouseholdMemberRecord>> HouseholdMembers(
    SqlConnection& c, const std::vector<const std::string*>& household_ids);

}  // namespace eduaid::registry

#endif  // EDUAID_SERVICES_REGISTRY_HOUSEHOLD_VIEW_STORE_H_
