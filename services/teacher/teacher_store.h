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
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "eduaid/teacher/v1/teacher.pb.h"
#include "services/common/school_scope.h"
#include "services/common/sql.h"

namespace eduaid::teacher {

namespace pb = ::eduaid::teacher::v1;

struct TeacherRecord {
  int64_t id = 0;
  std::string id_enc;     // ID number, encrypted (kCtxId)
  std::string id_masked;  // ID number, masked
  std::string name_enc;   // name, encrypted (kCtxName)
  std::string school_code;
  std::string school_name;
  std::string region_code;
  bool rural = false;
  int stage = 0;  // eduaid.common.v1.SchoolStage
  std::vector<std::string> subjects;
  std::string title;
  int years_of_service = 0;
  bool active = false;
  std::string left_reason;
  int64_t updated_at = 0;  // seconds
};

// Columns in the order FromTeacherRow() reads them.
inline constexpr char kTeacherColumns[] =
    "id, id_enc, id_masked, name_enc, school_code, school_name, region_code, "
    "rural, stage, subjects, title, years_of_service, active, left_reason, "
    "updated_at";
// The same for lists, which never read the encrypted ID number (id_enc
// comes back "").
inline constexpr char kTeacherListColumns[] =
    "id, '' AS id_enc, id_masked, name_enc, school_code, school_name, "
    "region_code, rural, stage, subjects, title, years_of_service, active, "
    "left_reason, updated_at";
TeacherRecord FromTeacherRow(const SqlRow& row);

// The record with the ID number and name as given (decrypted, or masked:
// the caller decides).
void ToProto(const TeacherRecord& r, std::string id_number, std::string name,
             pb::Teacher* out);

// NOT_FOUND ("no such teacher") when absent.
absl::StatusOr<TeacherRecord> LoadTeacherRecord(SqlConnection& c, int64_t id);

// The teacher with this ID number's blind index: (id, region_code).
absl::StatusOr<std::optional<std::pair<int64_t, std::string>>> FindByIdHash(
    SqlConnection& c, const std::string& id_hash);

// The fields ImportTeachers writes.
struct TeacherWrite {
  std::string id_enc, id_masked, name_enc;
  std::string school_code, school_name, region_code;
  bool rural = false;
  int stage = 0;
  std::string subjects;  // "|a|b|"
  std::string title;
  int years_of_service = 0;
  int64_t updated_at = 0;  // seconds
};
// An active teacher; the new id.
absl::StatusOr<int64_t> InsertTeacher(SqlConnection& c,
                                      const std::string& id_hash,
                                      const TeacherWrite& w);
absl::Status UpdateTeacher(SqlConnection& c, int64_t id, const TeacherWrite& w);

// The teacher leaves: inactive with a reason.
absl::Status DeactivateTeacherRow(SqlConnection& c, int64_t id,
                                  const std::string& reason, int64_t now_sec);

// A page of teachers by id.
struct TeacherQuery {
  std::string region;  // prefix
  std::string school_code;
  std::string subject;
  bool include_inactive = false;
  SchoolScope school;  // a school officer's own school
};
absl::StatusOr<std::vector<TeacherRecord>> ListTeacherRecords(
    SqlConnection& c, const TeacherQuery& q, int64_t after_id, int64_t limit);

// Encrypted names by id, read in chunks of 500 ids.
absl::StatusOr<std::unordered_map<int64_t, std::string>> TeacherNameEncs(
    SqlConnection& c, const std::vector<int64_t>& ids);

// ---------------------------------------------------------------- placements

struct PlacementRecord {
  int64_t term_index = 0;
  std::string school_code;
  int64_t round_id = 0;  // 0 for a placement imported with the teacher
};
// The teacher's placements by term.
absl::StatusOr<std::vector<PlacementRecord>> LoadPlacements(SqlConnection& c,
                                                            int64_t teacher_id);

// Records a placement; false when the teacher already has one that term.
absl::StatusOr<bool> InsertPlacement(SqlConnection& c, int64_t teacher_id,
                                     int64_t term_index,
                                     const std::string& school_code,
                                     int64_t round_id);

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

// Active teachers of schools in `counties` (6-digit region codes of the
// teachers' schools) as (id, region code), by id within chunks of 500.
absl::StatusOr<std::vector<std::pair<int64_t, std::string>>>
ActiveTeachersInCounties(SqlConnection& c,
                         const std::vector<std::string>& counties);

}  // namespace eduaid::teacher

#endif  // EDUAID_SERVICES_TEACHER_TEACHER_STORE_H_
