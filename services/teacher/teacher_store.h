// The teacher registry as stored: tables teachers and placement_history.
// Every SQL statement on these tables lives here, beside the record it
// reads.
//
// All functions run inside a caller's transaction or read (`c`), return
// the database's error unchanged, and are thread-compatible (one
// connection per call).
#ifndef EDUAID_SERVICES_TEACHER_TEACHER_STORE_H_
#define EDUAID_SERVICES_TEACHER_TEACHER_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/sql.h"

namespace eduaid::teacher {

// What the rules of rounds, campaigns and training ask of a teacher.
struct TeacherStanding {
  int64_t id = 0;
  std::string region_code;
  std::string school_code;
  bool rural = false;
  bool active = false;
};

// Columns in the order FromStandingRow() reads them.
inline constexpr char kStandingColumns[] =
    "id, region_code, school_code, rural, active";
TeacherStanding FromStandingRow(const SqlRow& row);

// nullopt when no teacher has the id.
absl::StatusOr<std::optional<TeacherStanding>> LoadTeacherStanding(
    SqlConnection& c, int64_t teacher_id);

// Active teachers of `schools` as (id, school code), by id within chunks
// of 500 schools.
absl::StatusOr<std::vector<std::pair<int64_t, std::string>>> ActiveTeachersAt(
    SqlConnection& c, const std::vector<std::string>& schools);

}  // namespace eduaid::teacher

#endif  // EDUAID_SERVICES_TEACHER_TEACHER_STORE_H_
