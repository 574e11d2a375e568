#include "services/teacher/teacher_store.h"

#include <algorithm>

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

absl::StatusOr<std::vector<std::pair<int64_t, std::string>>> ActiveTeachersAt(
    SqlConnection& c, const std::vector<std::string>& schools) {
  std::vector<std::pair<int64_t, std::string>> out;
  constexpr size_t kChunk = 500;
  for (size_t at = 0; at < schools.size(); at += kChunk) {
    const size_t n = std::min(kChunk, schools.size() - at);
    std::string sql =
        "SELECT id, school_code FROM teachers WHERE active = 1 AND "
        "school_code IN (";
    std::vector<SqlValue> params;
    for (size_t i = 0; i < n; ++i) {
      absl::StrAppend(&sql, i ? ",?" : "?");
      params.push_back(schools[at + i]);
    }
    sql += ") ORDER BY id";
    ASSIGN_OR_RETURN(auto rows, c.Query(sql, params));
    for (const auto& r : rows) out.emplace_back(r.Int(0), r.Str(1));
  }
  return out;
}

}  // namespace eduaid::teacher
