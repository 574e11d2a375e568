#include "services/registry/home_teaching_visit_store.h"

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/status_macros.h"

namespace eduaid::registry {

HomeTeachingVisitRecord FromHomeTeachingVisitRow(const SqlRow& r) {
  return HomeTeachingVisitRecord{r.Int(0), r.Int(1), r.Str(2), r.Str(3),
                                 r.Str(4), r.Int(5), r.Str(6), r.Int(7)};
}

void ToProto(const HomeTeachingVisitRecord& v, const std::string& content,
             pb::HomeTeachingVisit* out) {
  out->set_visit_id(v.id);
  out->set_arrangement_id(v.arrangement_id);
  out->set_visit_date(v.visit_date);
  out->set_teacher(v.teacher);
  out->set_content(content);
  out->set_minutes(static_cast<int32_t>(v.minutes));
  out->set_recorded_by(v.recorded_by);
  out->set_recorded_at(
      FormatTimestamp(v.recorded_at * 1000, TimestampPrecision::kSeconds));
}

absl::StatusOr<int64_t> InsertHomeTeachingVisit(
    SqlConnection& c, const HomeTeachingVisitRecord& v) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("INSERT INTO home_teaching_visits(arrangement_id, visit_date, "
              "teacher, content_enc, minutes, recorded_by, recorded_at) "
              "VALUES(?,?,?,?,?,?,?) RETURNING id",
              {v.arrangement_id, v.visit_date, v.teacher, v.content_enc,
               v.minutes, v.recorded_by, v.recorded_at}));
  return rows.front().Int(0);
}

absl::StatusOr<std::vector<HomeTeachingVisitRecord>> ListHomeTeachingVisitsPage(
    SqlConnection& c, int64_t arrangement_id, const std::string& after_date,
    int64_t after_id, int64_t limit) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat(
                  "SELECT ", kHomeTeachingVisitColumns,
                  " FROM home_teaching_visits v WHERE v.arrangement_id = ? "
                  "AND (? = 0 OR v.visit_date < ? OR (v.visit_date = ? AND "
                  "v.id < ?)) ORDER BY v.visit_date DESC, v.id DESC LIMIT ?"),
              {arrangement_id, after_id, after_date, after_date, after_id,
               limit}));
  std::vector<HomeTeachingVisitRecord> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(FromHomeTeachingVisitRow(r));
  return out;
}

absl::StatusOr<std::pair<int64_t, int64_t>> CountHomeTeachingVisits(
    SqlConnection& c, int64_t arrangement_id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT COUNT(*), COALESCE(SUM(minutes), 0) FROM "
              "home_teaching_visits WHERE arrangement_id = ?",
              {arrangement_id}));
  return std::make_pair(rows.front().Int(0), rows.front().Int(1));
}

}  // namespace eduaid::registry
