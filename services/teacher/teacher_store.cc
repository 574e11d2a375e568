#include "services/teacher/teacher_store.h"

#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"

namespace eduaid::teacher {

TeacherStanding FromStandingRow(const SqlRow& row) {
  TeacherStanding t;
  t.id = row.Int(0);
  t.region_code = row.Str(1);
  t.school_code = row.Str(2);
  t.rural = row.Int(3) != 0;
  t.active = row.Int(4) != 0;
  return t;
}

absl::StatusOr<std::optional<TeacherStanding>> LoadTeacherStanding(
    SqlConnection& c, int64_t teacher_id) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query(absl::StrCat("SELECT ", kStandingColumns,
                                        " FROM teachers WHERE id = ?"),
                           {teacher_id}));
  if (rows.empty()) return std::nullopt;
  return FromStandingRow(rows.front());
}

}  // namespace eduaid::teacher
