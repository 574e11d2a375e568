// Households of the poverty registration database (table households): the
// record, its columns and row reader, and every statement on the table.
#ifndef EDUAID_SERVICES_REGISTRY_HOUSEHOLD_STORE_H_
#define EDUAID_SERVICES_REGISTRY_HOUSEHOLD_STORE_H_

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/common/sql.h"

namespace eduaid::registry {

struct HouseholdRecord {
  std::string household_id;
  std::string region_code;
  int64_t registration_year = 0;
  int64_t status = 0;  // eduaid.common.v1.HouseholdStatus
};

// Columns in the order FromHouseholdRow() reads them.
inline constexpr char kHouseholdColumns[] =
    "household_id, region_code, registration_year, status";
HouseholdRecord FromHouseholdRow(const SqlRow& row);

// Inserts the households not yet registered (multi-row INSERTs that skip
// existing keys) with updated_at `now`; adds the ids of those created to
// `created`.
absl::Status InsertNewHouseholds(
    SqlConnection& c, const std::vector<const HouseholdRecord*>& households,
    int64_t now, std::unordered_set<std::string>* created);

// The registered households among `ids`, by id (chunked IN lists).
absl::StatusOr<std::unordered_map<std::string, HouseholdRecord>> FindHouseholds(
    SqlConnection& c, const std::vector<const std::string*>& ids);

// Overwrites region, year and status of `h` (by household_id).
absl::Status UpdateHousehold(SqlConnection& c, const HouseholdRecord& h,
                             int64_t now);

// Up to `limit` households of the region prefix with ids after `after`
// ("" = from the start), in household id order.
absl::StatusOr<std::vector<HouseholdRecord>> ListHouseholdsPage(
    SqlConnection& c, const std::string& region_prefix,
    const std::string& after, int64_t limit);

}  // namespace eduaid::registry

#endif  // EDUAID_SERVICES_REGISTRY_HOUSEHOLD_STORE_H_
