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
#include "services/common/crypto.h"
#include "services/common/sql.h"
#include "services/registry/member_scope.h"

namespace eduaid::registry {

namespace pb = ::eduaid::registry::v1;

// Encryption context of left_behind.carer_name_enc.
inline constexpr char kCtxCarer[] = "registry.left_behind.carer_name";

// ------------------------------------------------------------ left-behind

// Encryption context of the report notes of both tables.
inline constexpr char kCtxReportNote[] = "registry.special_groups.report_note";

struct LeftBehindRecord {
  std::string carer_name_enc;
  std::string carer_relation;
  std::string parents_location;
  int64_t updated_at = 0;  // seconds
  // Reported by a home visit and not yet confirmed by an officer.
  bool unconfirmed = false;
  std::string reported_by;
  std::string report_note_enc;
};
// Columns (of left_behind `lb`) in the order FromLeftBehindRow() reads
// them, from `first`.
inline constexpr char kLeftBehindColumns[] =
    "lb.carer_name_enc, lb.carer_relation, lb.parents_location, "
    "lb.updated_at, lb.unconfirmed, lb.reported_by, lb.report_note_enc";
inline constexpr size_t kLeftBehindColumnCount = 7;
LeftBehindRecord FromLeftBehindRow(const SqlRow& row, size_t first = 0);
// `carer_name` as the caller may see it (clear or masked), `report_note`
// decrypted.
// The record an officer (SetLeftBehind, ImportSpecialGroups) enters:
// confirmed, no visit report pending, carer name encrypted.
LeftBehindRecord ConfirmedLeftBehind(const pb::LeftBehind& l,
                                     const FieldCrypto& crypto);
void ToProto(const LeftBehindRecord& l, const std::string& carer_name,
             const std::string& report_note, pb::LeftBehind* out);

absl::StatusOr<std::optional<LeftBehindRecord>> FindLeftBehind(
    SqlConnection& c, int64_t member_id);
// Creates or overwrites the record of `member_id` (an officer's: the
// record is confirmed; the report fields are kept).
absl::Status UpsertLeftBehind(SqlConnection& c, int64_t member_id,
                              const LeftBehindRecord& l);
// A home visit's report: creates the record of `member_id`, unconfirmed
// with empty carer fields, or marks the existing one unconfirmed with the
// report; whether it created one.
absl::StatusOr<bool> ReportLeftBehind(SqlConnection& c, int64_t member_id,
                                      const std::string& reported_by,
                                      const std::string& report_note_enc,
                                      int64_t now);
absl::Status DeleteLeftBehind(SqlConnection& c, int64_t member_id);

// ------------------------------------------------------------ disability

struct DisabilityPlanRecord {
  std::string category;
  int64_t placement = 0;  // Placement; UNSPECIFIED = no plan yet
  std::string school_code;
  std::string note;
  int64_t updated_at = 0;  // seconds
  bool unconfirmed = false;
  std::string reported_by;
  std::string report_note_enc;
};
// Columns (of disability_plans `dp`) in the order FromDisabilityPlanRow()
// reads them, from `first`.
inline constexpr char kDisabilityPlanColumns[] =
    "dp.category, dp.placement, dp.school_code, dp.note, dp.updated_at, "
    "dp.unconfirmed, dp.reported_by, dp.report_note_enc";
inline constexpr size_t kDisabilityPlanColumnCount = 8;
DisabilityPlanRecord FromDisabilityPlanRow(const SqlRow& row, size_t first = 0);
// The plan an officer enters: confirmed; the school kept only where the
// placement needs one.
DisabilityPlanRecord ConfirmedPlan(const pb::DisabilityPlan& plan,
                                   bool needs_school);
void ToProto(const DisabilityPlanRecord& d, const std::string& report_note,
             pb::DisabilityPlan* out);

absl::StatusOr<std::optional<DisabilityPlanRecord>> FindDisabilityPlan(
    SqlConnection& c, int64_t member_id);
// Creates or overwrites the plan of `member_id` (an officer's: the plan
// is confirmed; the report fields are kept).
absl::Status UpsertDisabilityPlan(SqlConnection& c, int64_t member_id,
                                  const DisabilityPlanRecord& d);
// A home visit's report: creates an unconfirmed record with placement
// UNSPECIFIED (no plan yet), or marks the existing one for review; whether
// it created one.
absl::StatusOr<bool> ReportDisability(SqlConnection& c, int64_t member_id,
                                      const std::string& reported_by,
                                      const std::string& report_note_enc,
                                      int64_t now);

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
// The clear texts of an entry as the caller may see them.
struct SpecialGroupText {
  std::string name;
  std::string carer_name;
  std::string left_behind_note;
  std::string disability_note;
};
void ToProto(const SpecialGroupRecord& s, const SpecialGroupText& text,
             pb::SpecialGroupEntry* out);

// One page of the members in `scope` in a special group (`filter`, a
// SpecialGroupFilter: UNSPECIFIED any), in id order.
absl::StatusOr<std::vector<SpecialGroupRecord>> ListSpecialGroupsPage(
    SqlConnection& c, const MemberScope& scope, int64_t filter, int64_t after,
    int64_t limit);

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
