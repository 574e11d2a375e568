// The out-of-school list (table out_of_school: school-age members found in
// no school, one row per member, resolved when they are back) and the
// identification runs that rebuild it (table identification_runs): the
// records, their columns and row readers, and every statement on both
// tables.
#ifndef EDUAID_SERVICES_REGISTRY_OUT_OF_SCHOOL_STORE_H_
#define EDUAID_SERVICES_REGISTRY_OUT_OF_SCHOOL_STORE_H_

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
#include "services/registry/enrolment_store.h"
#include "services/registry/member_scope.h"

namespace eduaid::registry {

namespace pb = ::eduaid::registry::v1;

// ------------------------------------------------------------ runs

// Starts an identification run as of `as_of` (at `now`, seconds); its id.
absl::StatusOr<int64_t> InsertIdentificationRun(SqlConnection& c,
                                                const std::string& as_of,
                                                int64_t now);

// Stores the summary of run `run_id`.
absl::Status SaveRunSummary(SqlConnection& c, int64_t run_id,
                            const pb::IdentificationSummary& summary);

struct RunRecord {
  int64_t run_id = 0;
  std::string as_of;
};
// The last run, or nullopt before the first.
absl::StatusOr<std::optional<RunRecord>> LatestRun(SqlConnection& c);

// ------------------------------------------------------------ the list

// Upserts the out-of-school rows (as of `as_of`, seen by run `run_id`) of
// the school-age members `member_filter` selects (an SQL condition on `m`
// with `params`; "" = every member) in no school (a running schooling
// arrangement counts as school) and resolves those of them no longer out
// of school; returns how many resolved lie in `scope`.
absl::StatusOr<int64_t> RefreshOutOfSchool(SqlConnection& c,
                                           const std::string& as_of,
                                           int64_t run_id,
                                           const std::string& member_filter,
                                           const std::vector<SqlValue>& params,
                                           const MemberScope& scope);

// Members in scope, those born within the school-age band (`band`, from
// SchoolAgeMonths), those on the open list, and those put on it by run
// `run_id`.
struct MemberCounts {
  int64_t members = 0;
  int64_t school_age = 0;
  int64_t out_of_school = 0;
  int64_t newly_out_of_school = 0;
};
absl::StatusOr<MemberCounts> CountMembers(
    SqlConnection& c, const std::pair<std::string, std::string>& band,
    int64_t run_id, const MemberScope& scope);

// Open out-of-school rows per county of the region prefix.
absl::StatusOr<std::vector<std::pair<std::string, int64_t>>>
CountOutOfSchoolByRegion(SqlConnection& c, const std::string& region_prefix);

// Open out-of-school rows in `scope`.
absl::StatusOr<int64_t> CountOutOfSchool(SqlConnection& c,
                                         const MemberScope& scope);

// Whether member `member_id` is on the open list.
absl::StatusOr<bool> IsOutOfSchool(SqlConnection& c, int64_t member_id);

// One child of the open list, with its latest dropout case's state and its
// current (last) enrolment when there is one.
struct OutOfSchoolRecord {
  int64_t member_id = 0;
  std::string id_masked;
  std::string name_enc;
  std::string household_id;
  std::string region_code;
  std::string birth_month;
  std::string first_seen;  // YYYY-MM-DD
  std::optional<int64_t> case_state;
  std::optional<EnrolmentRecord> last_enrolment;
};
// Columns in the order FromOutOfSchoolRow() reads them, then
// kEnrolmentColumns (NULL when the child has no current enrolment).
inline constexpr char kOutOfSchoolColumns[] =
    "m.id, m.id_masked, m.name_enc, m.household_id, m.region_code, "
    "m.birth_month, o.first_seen, (SELECT d.state FROM dropout_cases d WHERE "
    "d.member_id = m.id ORDER BY d.id DESC LIMIT 1)";
inline constexpr size_t kOutOfSchoolColumnCount = 8;
OutOfSchoolRecord FromOutOfSchoolRow(const SqlRow& row);
// The child as listed on `today`; `name` as the caller may see it.
void ToProto(const OutOfSchoolRecord& o, const std::string& name,
             const std::string& today, pb::OutOfSchoolChild* out);

// One page of the open list in the region prefix (and, when `school` is
// set, of children whose current enrolment is there), in member id order.
absl::StatusOr<std::vector<OutOfSchoolRecord>> ListOutOfSchoolPage(
    SqlConnection& c, const std::string& region_prefix,
    const std::string& school, int64_t after, int64_t limit);

// Member `member_id` leaves the open list (resolved on `as_of`); whether
// it was on it.
absl::StatusOr<bool> ResolveOutOfSchoolMember(SqlConnection& c,
                                              int64_t member_id,
                                              const std::string& as_of);

// Puts member `member_id` on the open list (first seen `as_of`, by run
// `run_id`) when it is school-age on `as_of`, in no school and without a
// running arrangement (RefreshOutOfSchool's rule); whether it is on the
// list afterwards.
absl::StatusOr<bool> ReopenOutOfSchool(SqlConnection& c, int64_t member_id,
                                       const std::string& as_of,
                                       int64_t run_id);

}  // namespace eduaid::registry

#endif  // EDUAID_SERVICES_REGISTRY_OUT_OF_SCHOOL_STORE_H_
