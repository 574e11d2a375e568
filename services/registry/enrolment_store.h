// Enrolments (table enrolments, joined with the school for its name and
// region): the record, its columns and row reader, every statement on the
// table, and the proto mapping. A child has at most one current enrolment;
// the others are its history.
#ifndef EDUAID_SERVICES_REGISTRY_ENROLMENT_STORE_H_
#define EDUAID_SERVICES_REGISTRY_ENROLMENT_STORE_H_

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

struct EnrolmentRecord {
  int64_t id = 0;
  std::string school_code;
  std::string school_name;  // "" when the school is unknown
  int64_t stage = 0;        // eduaid.common.v1.SchoolStage
  int64_t grade = 0;
  int64_t term_year = 0;
  int64_t term_season = 0;  // eduaid.common.v1.Season
  int64_t status = 0;       // EnrolmentStatus
  bool boarder = false;
  int64_t recorded_at = 0;  // seconds
  std::string reason;
  bool current = false;
  std::string school_region;  // "" when the school is unknown
};

// Columns (of enrolments `e` LEFT JOIN schools `s`) in the order
// FromEnrolmentRow() reads them, starting at `first`.
inline constexpr char kEnrolmentColumns[] =
    "e.id, e.school_code, COALESCE(s.name, ''), e.stage, e.grade, "
    "e.term_year, e.term_season, e.status, e.boarder, e.recorded_at, "
    "e.reason, e.current, COALESCE(s.region_code, '')";
inline constexpr size_t kEnrolmentColumnCount = 13;
// The join that goes with kEnrolmentColumns.
inline constexpr char kEnrolmentSchoolJoin[] =
    " LEFT JOIN schools s ON s.code = e.school_code";
EnrolmentRecord FromEnrolmentRow(const SqlRow& row, size_t first = 0);
void ToProto(const EnrolmentRecord& e, pb::Enrolment* out);

// Whether `e` already says what roster row `row` says (school, stage,
// grade, term, status, boarder).
bool SameEnrolment(const EnrolmentRecord& e, const pb::EnrolmentRow& row);

// The child's current enrolment, or nullopt.
absl::StatusOr<std::optional<EnrolmentRecord>> FindCurrentEnrolment(
    SqlConnection& c, const std::string& id_hash);

// Every enrolment of the child, oldest first.
absl::StatusOr<std::vector<EnrolmentRecord>> EnrolmentHistory(
    SqlConnection& c, const std::string& id_hash);

// Enrolment `id` stops being current; with `transferred` its status
// becomes TRANSFERRED.
absl::Status CloseEnrolment(SqlConnection& c, int64_t id, bool transferred);

// Enrolment `id` stops being current as TRANSFERRED, for `reason`.
absl::Status CloseAsTransferred(SqlConnection& c, int64_t id,
                                const std::string& reason);

// Inserts `e` (all but id, school_name and school_region) as the child's
// current enrolment.
absl::Status InsertCurrentEnrolment(SqlConnection& c,
                                    const std::string& id_hash,
                                    const EnrolmentRecord& e);

// Students with a current enrolment, and those in school per stage.
struct StageCounts {
  int64_t identified = 0;
  std::vector<std::pair<int, int64_t>> in_school;  // (stage, students)
};
absl::StatusOr<StageCounts> CountStages(SqlConnection& c,
                                        const MemberScope& scope);

}  // namespace eduaid::registry

#endif  // EDUAID_SERVICES_REGISTRY_ENROLMENT_STORE_H_
