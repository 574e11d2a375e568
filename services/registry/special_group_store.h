// Special groups of students: left-behind children (table left_behind, the
// carer's name stored encrypted) and disability plans (table
// disability_plans), at most one of each per member: the records, their
// columns and row readers, every statement on both tables, and the proto
// mapping.
#ifndef EDUAID_SERVICES_REGISTRY_SPECIAL_GROUP_STORE_H_
#define EDUAID_SERVICES_REGISTRY_SPECIAL_GROUP_STORE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/registry/v1/registry.pb.h"
#include "services/common/sql.h"
#include "services/registry/member_scope.h"

namespace eduaid::registry {

namespace pb = ::eduaid::registry::v1;

// Encryption context of left_behind.carer_name_enc.
inline constexpr char kCtxCarer[] = "registry.left_behind.carer_name";

// ------------------------------------------------------------ left-behind

struct LeftBehindRecord {
  std::string carer_name_enc;
  std::string carer_relation;
  std::string parents_location;
  int64_t updated_at = 0;  // seconds
};
// Columns (of left_behind `lb`) in the order FromLeftBehindRow() reads
// them, from `first`.
inline constexpr char kLeftBehindColumns[] =
    "lb.carer_name_enc, lb.carer_relation, lb.parents_location, "
    "lb.updated_at";
inline constexpr size_t kLeftBehindColumnCount = 4;
LeftBehindRecord FromLeftBehindRow(const SqlRow& row, size_t first = 0);
// `carer_name` as the caller may see it (clear or masked).
void ToProto(const LeftBehindRecord& l, const std::string& carer_name,
             pb::LeftBehind* out);

absl::StatusOr<std::optional<LeftBehindRecord>> FindLeftBehind(
    SqlConnection& c, int64_t member_id);
// Creates or overwrites the record of `member_id` (updated_at `now`).
absl::Status UpsertLeftBehind(SqlConnection& c, int64_t member_id,
                              const LeftBehindRecord& l);
absl::Status DeleteLeftBehind(SqlConnection& c, int64_t member_id);

// ------------------------------------------------------------ disability

struct DisabilityPlanRecord {
  std::string category;
  int64_t placement = 0;  // Placement
  std::string school_code;
  std::string note;
  int64_t updated_at = 0;  // seconds
};
// Columns (of disability_plans `dp`) in the order FromDisabilityPlanRow()
// reads them, from `first`.
inline constexpr char kDisabilityPlanColumns[] =
    "dp.category, dp.placement, dp.school_code, dp.note, dp.updated_at";
inline constexpr size_t kDisabilityPlanColumnCount = 5;
DisabilityPlanRecord FromDisabilityPlanRow(const SqlRow& row, size_t first = 0);
void ToProto(const DisabilityPlanRecord& d, pb::DisabilityPlan* out);

absl::StatusOr<std::optional<DisabilityPlanRecord>> FindDisabilityPlan(
    SqlConnection& c, int64_t member_id);
// Creates or overwrites the plan of `member_id`.
absl::Status UpsertDisabilityPlan(SqlConnection& c, int64_t member_id,
                                  const DisabilityPlanRecord& d);

// ------------------------------------------------------------ lists

// A member in one special group or both.
struct SpecialGroupRecord {
  int64_t member_id = 0;
  std::string id_masked;
  std::string name_enc;
  std::string region_code;
  std::optional<LeftBehindRecord> left_behind;
  std::optional<DisabilityPlanRecord> disability_plan;
};
// Columns in the order FromSpecialGroupRow() reads them: the member's,
// then lb.member_id and kLeftBehindColumns, then dp.member_id and
// kDisabilityPlanColumns.
inline constexpr char kSpecialGroupMemberColumns[] =
    "m.id, m.id_masked, m.name_enc, m.region_code";
inline constexpr size_t kSpecialGroupMemberColumnCount = 4;
SpecialGroupRecord FromSpecialGroupRow(const SqlRow& row);
// `name` and `carer_name` as the caller may see them.
void ToProto(const SpecialGroupRecord& s, const std::string& name,
             const std::string& carer_name, pb::SpecialGroupEntry* out);

// One page of the members in `scope` in a special group, in id order.
absl::StatusOr<std::vector<SpecialGroupRecord>> ListSpecialGroupsPage(
    SqlConnection& c, const MemberScope& scope, int64_t after, int64_t limit);

// Left-behind children and disability plans in `scope`.
absl::StatusOr<std::pair<int64_t, int64_t>> CountSpecialGroups(
    SqlConnection& c, const MemberScope& scope);

// ------------------------------------------------------------ households

// (member id, record) of the members of `household_ids` that have one.
absl::StatusOr<std::vector<std::pair<int64_t, LeftBehindRecord>>>
LeftBehindOfHouseholds(SqlConnection& c,
                       const std::vector<const std::string*>& household_ids);
absl::StatusOr<std::vector<std::pair<int64_t, DisabilityPlanRecord>>>
DisabilityPlansOfHouseholds(
    SqlConnection& c, const std::vector<const std::string*>& household_ids);

}  // namespace eduaid::registry

#endif  // EDUAID_SERVICES_REGISTRY_SPECIAL_GROUP_STORE_H_
