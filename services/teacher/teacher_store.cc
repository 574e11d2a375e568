#include "services/teacher/teacher_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/status_macros.h"
#include "services/teacher/teacher.h"
#include "services/teacher/teacher_internal.h"

namespace eduaid::teacher {

namespace cpb = ::eduaid::common::v1;

TeacherRecord FromTeacherRow(const SqlRow& row) {
  TeacherRecord t;
  t.id = row.Int(0);
  t.id_enc = row.Str(1);
  t.id_masked = row.Str(2);
  t.name_enc = row.Str(3);
  t.school_code = row.Str(4);
  t.school_name = row.Str(5);
  t.region_code = row.Str(6);
  t.rural = row.Int(7) != 0;
  t.stage = static_cast<int>(row.Int(8));
  t.subjects = internal::SplitList(row.Str(9));
  t.title = row.Str(10);
  t.years_of_service = static_cast<int>(row.Int(11));
  t.active = row.Int(12) != 0;
  t.left_reason = row.Str(13);
  t.updated_at = row.Int(14);
  return t;
}

void ToProto(const TeacherRecord& r, std::string id_number, std::string name,
             pb::Teacher* t) {
  t->set_teacher_id(TeacherIdString(r.id));
  t->set_id_number(std::move(id_number));
  t->set_name(std::move(name));
  t->set_school_code(r.school_code);
  t->set_school_name(r.school_name);
  t->set_region_code(r.region_code);
  t->set_rural(r.rural);
  t->set_stage(static_cast<cpb::SchoolStage>(r.stage));
  for (const auto& s : r.subjects) t->add_subjects(s);
  t->set_title(r.title);
  t->set_years_of_service(r.years_of_service);
  t->set_active(r.active);
  t->set_left_reason(r.left_reason);
  t->set_updated_at(
      FormatTimestamp(r.updated_at * 1000, TimestampPrecision::kSeconds));
}

absl::StatusOr<TeacherRecord> LoadTeacherRecord(SqlConnection& c, int64_t id) {
  ASSIGN_OR_RETURN(auto rows, c.Query(absl::StrCat("SELECT ", kTeacherColumns,
                                                   " FROM teachers WHERE id "
                                                   "= ?"),
                                      {id}));
  if (rows.empty()) return absl::NotFoundError("no such teacher");
  return FromTeacherRow(rows.front());
}

absl::StatusOr<std::optional<std::pair<int64_t, std::string>>> FindByIdHash(
    SqlConnection& c, const std::string& id_hash) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT id, region_code FROM teachers WHERE id_hash = ?",
              {id_hash}));
  if (rows.empty()) return std::nullopt;
  return std::make_pair(rows.front().Int(0), rows.front().Str(1));
}

namespace {

std::vector<SqlValue> WriteParams(const TeacherWrite& w) {
  return {w.id_enc,
          w.id_masked,
          w.name_enc,
          w.school_code,
          w.school_name,
          w.region_code,
          int64_t{w.rural},
          int64_t{w.stage},
          w.subjects,
          w.title,
          int64_t{w.years_of_service},
          w.updated_at};
}

}  // namespace

absl::StatusOr<int64_t> InsertTeacher(SqlConnection& c,
                                      const std::string& id_hash,
                                      const TeacherWrite& w) {
  std::vector<SqlValue> params = {id_hash};
  for (auto& v : WriteParams(w)) params.push_back(std::move(v));
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("INSERT INTO teachers(id_hash, id_enc, id_masked, name_enc, "
              "school_code, school_name, region_code, rural, stage, "
              "subjects, title, years_of_service, updated_at, active, "
              "left_reason) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,1,'') "
              "RETURNING id",
              params));
  return rows.front().Int(0);
}

absl::Status UpdateTeacher(SqlConnection& c, int64_t id,
                           const TeacherWrite& w) {
  std::vector<SqlValue> params = WriteParams(w);
  params.push_back(id);
  return c
      .Execute(
          "UPDATE teachers SET id_enc = ?, id_masked = ?, name_enc = ?, "
          "school_code = ?, school_name = ?, region_code = ?, rural = ?, "
          "stage = ?, subjects = ?, title = ?, years_of_service = ?, "
          "updated_at = ? WHERE id = ?",
          params)
      .status();
}

absl::Status DeactivateTeacherRow(SqlConnection& c, int64_t id,
                                  const std::string& reason, int64_t now_sec) {
  return c
      .Execute(
          "UPDATE teachers SET active = 0, left_reason = ?, updated_at = ? "
          "WHERE id = ?",
          {reason, now_sec, id})
      .status();
}

absl::StatusOr<std::vector<TeacherRecord>> ListTeacherRecords(
    SqlConnection& c, const TeacherQuery& q, int64_t after_id, int64_t limit) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(
          absl::StrCat(
              "SELECT ", kTeacherListColumns,
              " FROM teachers WHERE region_code LIKE ? AND (? = '' OR "
              "school_code = ?) AND ",
              SchoolClause("school_code"),
              " AND subjects LIKE ? ESCAPE '\\' AND (? = 1 OR active = 1) AND "
              "id > ? ORDER BY id LIMIT ?"),
          {q.region + "%", q.school_code, q.school_code, q.school.only,
           q.school.school,
           q.subject.empty()
               ? std::string("%")
               : absl::StrCat("%|", internal::EscapeLike(q.subject), "|%"),
           int64_t{q.include_inactive}, after_id, limit}));
  std::vector<TeacherRecord> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(FromTeacherRow(r));
  return out;
}

absl::StatusOr<std::unordered_map<int64_t, std::string>> TeacherNameEncs(
    SqlConnection& c, const std::vector<int64_t>& ids) {
  std::unordered_map<int64_t, std::string> out;
  constexpr size_t kChunk = 500;
  for (size_t at = 0; at < ids.size(); at += kChunk) {
    size_t n = std::min(kChunk, ids.size() - at);
    std::string sql = "SELECT id, name_enc FROM teachers WHERE id IN (";
    std::vector<SqlValue> params;
    for (size_t i = 0; i < n; ++i) {
      absl::StrAppend(&sql, i ? ",?" : "?");
      params.push_back(ids[at + i]);
    }
    sql += ")";
    ASSIGN_OR_RETURN(auto rows, c.Query(sql, params));
    for (const auto& r : rows) out[r.Int(0)] = r.Str(1);
  }
  return out;
}

absl::StatusOr<std::vector<PlacementRecord>> LoadPlacements(
    SqlConnection& c, int64_t teacher_id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT term_index, school_code, round_id FROM placement_history "
              "WHERE teacher_id = ? ORDER BY term_index",
              {teacher_id}));
  std::vector<PlacementRecord> out;
  for (const auto& p : rows) out.push_back({p.Int(0), p.Str(1), p.Int(2)});
  return out;
}

absl::StatusOr<bool> InsertPlacement(SqlConnection& c, int64_t teacher_id,
                                     int64_t term_index,
                                     const std::string& school_code,
                                     int64_t round_id) {
  ASSIGN_OR_RETURN(int64_t n,
                   c.Execute("INSERT INTO placement_history(teacher_id, "
                             "term_index, school_code, round_id) "
                             "VALUES(?,?,?,?) ON CONFLICT(teacher_id, "
                             "term_index) DO NOTHING",
                             {teacher_id, term_index, school_code, round_id}));
  return n == 1;
}

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

absl::StatusOr<std::vector<std::pair<int64_t, std::string>>>
ActiveTeachersInCounties(SqlConnection& c,
                         const std::vector<std::string>& counties) {
  std::vector<std::pair<int64_t, std::string>> out;
  constexpr size_t kChunk = 500;
  for (size_t at = 0; at < counties.size(); at += kChunk) {
    const size_t n = std::min(kChunk, counties.size() - at);
    std::string sql =
        "SELECT id, region_code FROM teachers WHERE active = 1 AND "
        "region_code IN (";
    std::vector<SqlValue> params;
    for (size_t i = 0; i < n; ++i) {
      absl::StrAppend(&sql, i ? ",?" : "?");
      params.push_back(counties[at + i]);
    }
    sql += ") ORDER BY id";
    ASSIGN_OR_RETURN(auto rows, c.Query(sql, params));
    for (const auto& r : rows) out.emplace_back(r.Int(0), r.Str(1));
  }
  return out;
}

}  // namespace eduaid::teacher
