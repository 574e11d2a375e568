// Coverage figures per county: households, members, school-age children,
// identified (enrolled somewhere), in school, out of school, left-behind
// children and disability plans, counted in one pass over the members.
#ifndef EDUAID_SERVICES_REGISTRY_COVERAGE_STORE_H_
#define EDUAID_SERVICES_REGISTRY_COVERAGE_STORE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "eduaid/registry/v1/registry.pb.h"
#include "services/common/sql.h"

namespace eduaid::registry {

namespace pb = ::eduaid::registry::v1;

struct CoverageRecord {
  std::string region_code;
  int64_t households = 0;
  int64_t members = 0;
  int64_t school_age = 0;
  int64_t identified = 0;
  int64_t in_school = 0;
  int64_t out_of_school = 0;
  int64_t left_behind = 0;
  int64_t disability_plans = 0;  // a placement decided
  int64_t home_taught = 0;
  int64_t studying_elsewhere = 0;
  int64_t disabled = 0;  // a disability recorded, with a plan or not
};
// Columns (of members `m` and its joins) in the order FromCoverageRow()
// reads them; the school-age band's two months are bound first.
inline constexpr char kCoverageColumns[] =
    "m.region_code, COUNT(DISTINCT m.household_id), COUNT(*), "
    "SUM(CASE WHEN m.birth_month > ? AND m.birth_month <= ? THEN 1 ELSE 0 "
    "END), "
    "SUM(CASE WHEN e.id IS NOT NULL THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN e.status IN (1, 3) THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN o.member_id IS NOT NULL THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN lb.member_id IS NOT NULL THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN dp.member_id IS NOT NULL AND dp.placement <> 0 THEN 1 "
    "ELSE 0 END), "
    // In school by an arrangement, not by a roster row.
    "SUM(CASE WHEN a.kind = 1 AND COALESCE(e.status, 0) NOT IN (1, 3) THEN 1 "
    "ELSE 0 END), "
    "SUM(CASE WHEN a.kind = 2 AND COALESCE(e.status, 0) NOT IN (1, 3) THEN 1 "
    "ELSE 0 END), "
    "SUM(CASE WHEN dp.member_id IS NOT NULL THEN 1 ELSE 0 END)";
CoverageRecord FromCoverageRow(const SqlRow& row);
// Without open_cases, which the caller adds; with the plan rate.
void ToProto(const CoverageRecord& r, pb::RegionCoverage* out);
// Adds the figures of `g` (all but its region code) to `total`.
void AddCoverage(const pb::RegionCoverage& g, pb::RegionCoverage* total);

// The figures per county of the region prefix (members whose current
// enrolment is at `school`, "" = all), with the school-age `band` from
// SchoolAgeMonths.
absl::StatusOr<std::vector<CoverageRecord>> CountCoverage(
    SqlConnection& c, const std::pair<std::string, std::string>& band,
    const std::string& region_prefix, const std::string& school);

}  // namespace eduaid::registry

#endif  // EDUAID_SERVICES_REGISTRY_COVERAGE_STORE_H_
