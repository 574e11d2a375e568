// Dropout-control cases (tables dropout_cases and dropout_case_events): the
// records, their columns and row readers, every statement on both tables,
// and the proto mapping. A case follows AllowedTransition (rules.h); each
// move is an event.
#ifndef EDUAID_SERVICES_REGISTRY_DROPOUT_CASE_STORE_H_
#define EDUAID_SERVICES_REGISTRY_DROPOUT_CASE_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/registry/v1/registry.pb.h"
#include "services/common/sql.h"

namespace eduaid::registry {

namespace pb = ::eduaid::registry::v1;

// An SQL condition: dropout case `d` is of a child whose current enrolment
// is at the school bound twice ('' = any school).
inline constexpr char kCaseAtSchool[] =
    "(? = '' OR EXISTS (SELECT 1 FROM members cm JOIN enrolments ce ON "
    "ce.id_hash = cm.id_hash AND ce.current = 1 WHERE cm.id = d.member_id AND "
    "ce.school_code = ?))";

struct CaseEventRecord {
  int64_t from_state = 0;
  int64_t to_state = 0;
  std::string note;
  std::string actor;
  int64_t at = 0;  // seconds
};
// Columns in the order FromCaseEventRow() reads them.
inline constexpr char kCaseEventColumns[] =
    "from_state, to_state, note, actor, at";
CaseEventRecord FromCaseEventRow(const SqlRow& row);

struct DropoutCaseRecord {
  int64_t id = 0;
  int64_t member_id = 0;
  std::string region_code;
  int64_t state = 0;       // DropoutCaseState
  int64_t opened_at = 0;   // seconds
  int64_t updated_at = 0;  // seconds
  std::string id_masked;   // the child's
  std::string name_enc;    // the child's
  std::vector<CaseEventRecord> history;
};
// Columns (of dropout_cases `d` JOIN members `m`) in the order
// FromDropoutCaseRow() reads them.
inline constexpr char kDropoutCaseColumns[] =
    "d.id, d.member_id, d.region_code, d.state, d.opened_at, d.updated_at, "
    "m.id_masked, m.name_enc";
DropoutCaseRecord FromDropoutCaseRow(const SqlRow& row);

// The case as a caller sees it; `name` is the child's name as the caller
// may see it (clear or masked).
void ToProto(const DropoutCaseRecord& d, const std::string& name,
             pb::DropoutCase* out);

// Case `id` with its history, or nullopt.
absl::StatusOr<std::optional<DropoutCaseRecord>> FindDropoutCase(
    SqlConnection& c, int64_t id);

// What a change of case `id` must check: its state, and the region and
// current school of its child.
struct CaseScopeRecord {
  int64_t state = 0;
  std::string region_code;
  std::string school_code;  // "" when the child is enrolled nowhere
};
absl::StatusOr<std::optional<CaseScopeRecord>> FindCaseScope(SqlConnection& c,
                                                             int64_t id);

// The id of a case of `member_id` not yet closed (returned or exempt).
absl::StatusOr<std::optional<int64_t>> FindActiveCase(SqlConnection& c,
                                                      int64_t member_id);

// Opens a case (state OPEN) for `member_id` of `region_code`; its id.
absl::StatusOr<int64_t> InsertDropoutCase(SqlConnection& c, int64_t member_id,
                                          const std::string& region_code,
                                          int64_t now);

// Moves case `id` to `state`.
absl::Status SetCaseState(SqlConnection& c, int64_t id, int64_t state,
                          int64_t now);

// Records a move of case `case_id`.
absl::Status InsertCaseEvent(SqlConnection& c, int64_t case_id,
                             const CaseEventRecord& e);

// Up to `limit` case ids of the region prefix, of children at `school`
// ("" = any), in `state` (0 = any), after `after`, in id order.
absl::StatusOr<std::vector<int64_t>> ListDropoutCaseIds(
    SqlConnection& c, const std::string& region_prefix,
    const std::string& school, int64_t state, int64_t after, int64_t limit);

// Cases not yet closed per county of the region prefix (children at
// `school`, "" = any).
absl::StatusOr<std::unordered_map<std::string, int64_t>> CountOpenCases(
    SqlConnection& c, const std::string& region_prefix,
    const std::string& school);

// Every case of the members of `household_ids`, with its history, in id
// order (two set-based queries).
absl::StatusOr<std::vector<DropoutCaseRecord>> DropoutCasesOfHouseholds(
    SqlConnection& c, const std::vector<const std::string*>& household_ids);

}  // namespace eduaid::registry

#endif  // EDUAID_SERVICES_REGISTRY_DROPOUT_CASE_STORE_H_
