// Helpers shared by the teacher service's implementation files. Not part of
// the service's interface.
#ifndef EDUAID_SERVICES_TEACHER_TEACHER_INTERNAL_H_
#define EDUAID_SERVICES_TEACHER_TEACHER_INTERNAL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eduaid/common/v1/common.pb.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/keyset_page.h"
#include "services/common/school_scope.h"
#include "services/common/sql.h"
#include "services/common/status_macros.h"
#include "services/common/term.h"
#include "services/common/validate.h"
#include "services/teacher/teacher.h"

namespace eduaid::teacher {

namespace cpb = ::eduaid::common::v1;

namespace internal {

// Encryption and blind-index contexts.
inline constexpr char kCtxId[] = "teacher.teachers.id_number";
inline constexpr char kCtxName[] = "teacher.teachers.name";
inline constexpr char kCtxHash[] = "teacher.id_number";
inline constexpr char kCtxCache[] = "teacher.cache.teacher";
inline constexpr char kCtxVisit[] = "teacher.visits.detail";
inline constexpr char kCtxCoverage[] = "teacher.cache.coverage";

// A short label ("数学"): text of 1..max_chars without '|' or ','.
absl::Status ValidateLabel(absl::string_view field, absl::string_view value,
                           size_t max_chars);

// "|a|b|" <-> {a, b}: lists stored in one column, searchable by LIKE.
std::string JoinList(const std::vector<std::string>& items);
template <typename Container>
std::string JoinListOf(const Container& items) {
  return JoinList(std::vector<std::string>(items.begin(), items.end()));
}
std::vector<std::string> SplitList(const std::string& text);

// `value` with LIKE wildcards escaped (use with ESCAPE '\').
std::string EscapeLike(absl::string_view value);

// Appends the violations of `st` as row errors of row `rn`.
void AddRowErrors(int64_t rn, const absl::Status& st,
                  std::vector<cpb::RowError>* errors);
void AddRowError(int64_t rn, absl::string_view field, absl::string_view rule,
                 std::vector<cpb::RowError>* errors);
void SortRowErrors(std::vector<cpb::RowError>* errors);

// How a principal stands to a record organised for `region_prefix`:
// covering it (sees all), inside it (sees what lies in their own scope),
// or outside.
enum class Scope { kFull, kInside, kNone };
Scope ScopeOf(const Principal& p, absl::string_view region_prefix);

// PERMISSION_DENIED unless the principal covers or lies inside the region.
absl::Status CheckOverlap(const Principal& p, absl::string_view region_prefix);

// The school scope of lists: services/common/school_scope.h.
using ::eduaid::SchoolClause;
using ::eduaid::SchoolScope;
using ::eduaid::SchoolScopeOf;

}  // namespace internal

}  // namespace eduaid::teacher

#endif  // EDUAID_SERVICES_TEACHER_TEACHER_INTERNAL_H_
