#include "services/registry/enrolment_store.h"

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/status_macros.h"

namespace eduaid::registry {
namespace cpb = ::eduaid::common::v1;

EnrolmentRecord FromEnrolmentRow(const SqlRow& r, size_t at) {
  EnrolmentRecord e;
  e.id = r.Int(at);
  e.school_code = r.Str(at + 1);
  e.school_name = r.Str(at + 2);
  e.stage = r.Int(at + 3);
  e.grade = r.Int(at + 4);
  e.term_year = r.Int(at + 5);
  e.term_season = r.Int(at + 6);
  e.status = r.Int(at + 7);
  e.boarder = r.Int(at + 8) != 0;
  e.recorded_at = r.Int(at + 9);
  e.reason = r.Str(at + 10);
  e.current = r.Int(at + 11) != 0;
  e.school_region = r.Str(at + 12);
  return e;
}

void ToProto(const EnrolmentRecord& e, pb::Enrolment* out) {
  out->set_school_code(e.school_code);
  out->set_school_name(e.school_name);
  out->set_stage(static_cast<cpb::SchoolStage>(e.stage));
  out->set_grade(static_cast<int32_t>(e.grade));
  out->mutable_term()->set_year(static_cast<int32_t>(e.term_year));
  out->mutable_term()->set_season(static_cast<cpb::Season>(e.term_season));
  out->set_status(static_cast<pb::EnrolmentStatus>(e.status));
  out->set_boarder(e.boarder);
  out->set_recorded_at(
      FormatTimestamp(e.recorded_at * 1000, TimestampPrecision::kSeconds));
  out->set_reason(e.reason);
  out->set_current(e.current);
  out->set_school_region_code(e.school_region);
}

bool SameEnrolment(const EnrolmentRecord& e, const pb::EnrolmentRow& row) {
  return e.school_code == row.school_code() && e.stage == row.stage() &&
         e.grade == row.grade() && e.term_year == row.term().year() &&
         e.term_season == row.term().season() && e.status == row.status() &&
         e.boarder == row.boarder();
}

absl::StatusOr<std::optional<EnrolmentRecord>> FindCurrentEnrolment(
    SqlConnection& c, const std::string& id_hash) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kEnrolmentColumns, " FROM enrolments e",
                           kEnrolmentSchoolJoin,
                           " WHERE e.id_hash = ? AND e.current = 1"),
              {id_hash}));
  if (rows.empty()) return std::nullopt;
  return FromEnrolmentRow(rows.front());
}

absl::StatusOr<std::vector<EnrolmentRecord>> EnrolmentHistory(
    SqlConnection& c, const std::string& id_hash) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kEnrolmentColumns, " FROM enrolments e",
                           kEnrolmentSchoolJoin,
                           " WHERE e.id_hash = ? ORDER BY e.id"),
              {id_hash}));
  std::vector<EnrolmentRecord> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(FromEnrolmentRow(r));
  return out;
}

absl::Status CloseEnrolment(SqlConnection& c, int64_t id, bool transferred) {
  return c
      .Execute(
          transferred
              ? "UPDATE enrolments SET current = 0, status = 2 WHERE id = ?"
              : "UPDATE enrolments SET current = 0 WHERE id = ?",
          {id})
      .status();
}

absl::Status CloseAsTransferred(SqlConnection& c, int64_t id,
                                const std::string& reason) {
  return c
      .Execute(
          "UPDATE enrolments SET current = 0, status = 2, reason = ? WHERE "
          "id = ?",
          {reason, id})
      .status();
}

absl::Status InsertCurrentEnrolment(SqlConnection& c,
                                    const std::string& id_hash,
                                    const EnrolmentRecord& e) {
  return c
      .Execute(
          "INSERT INTO enrolments(id_hash, school_code, stage, grade, "
          "term_year, term_season, status, boarder, current, recorded_at, "
          "reason) VALUES(?,?,?,?,?,?,?,?,1,?,?)",
          {id_hash, e.school_code, e.stage, e.grade, e.term_year, e.term_season,
           e.status, int64_t{e.boarder}, e.recorded_at, e.reason})
      .status();
}

absl::StatusOr<StageCounts> CountStages(SqlConnection& c,
                                        const MemberScope& scope) {
  std::vector<SqlValue> params;
  const std::string in_scope = MemberInScope(scope, &params);
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT e.stage, CASE WHEN e.status IN (1, 3) THEN "
                           "1 ELSE 0 END AS "
                           "in_school, COUNT(*) FROM members m JOIN enrolments "
                           "e ON e.id_hash = "
                           "m.id_hash AND e.current = 1 WHERE ",
                           in_scope,
                           " GROUP BY e.stage, in_school ORDER BY e.stage"),
              params));
  StageCounts out;
  for (const auto& r : rows) {
    out.identified += r.Int(2);
    if (r.Int(1) != 0) out.in_school.emplace_back(r.Int(0), r.Int(2));
  }
  return out;
}

}  // namespace eduaid::registry
