// The school scope of a list, in SQL: school officers see only records of
// their token's school (never records of no school); every other role is
// not narrowed by school. Used by every service whose lists name a school.
#ifndef EDUAID_COMMON_SCHOOL_SCOPE_H_
#define EDUAID_COMMON_SCHOOL_SCOPE_H_

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "services/common/auth.h"

namespace eduaid {

// Bind `only` and `school`, in this order, to SchoolClause(column).
struct SchoolScope {
  int64_t only = 0;
  std::string school;
};

inline SchoolScope SchoolScopeOf(const Principal& p) {
  if (p.role != Role::kSchoolOfficer) return {};
  return {1, p.school};
}

// "(? = 0 OR (<column> = ? AND <column> <> ''))".
inline std::string SchoolClause(absl::string_view column) {
  return absl::StrCat("(? = 0 OR (", column, " = ? AND ", column, " <> ''))");
}

}  // namespace eduaid

#endif  // EDUAID_COMMON_SCHOOL_SCOPE_H_
