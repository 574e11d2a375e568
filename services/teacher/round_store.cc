#include "services/teacher/round_store.h"

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/status_macros.h"
#include "services/teacher/teacher.h"
#include "services/teacher/teacher_internal.h"

namespace eduaid::teacher {

namespace cpb = ::eduaid::common::v1;

// ---------------------------------------------------------------- rounds

RoundRecord FromRoundRow(const SqlRow& row) {
  RoundRecord out;
  out.id = row.Int(0);
  out.name = row.Str(1);
  out.region_prefix = row.Str(2);
  out.term_year = static_cast<int>(row.Int(3));
  out.term_season = static_cast<int>(row.Int(4));
  out.term_index = row.Int(5);
  out.rules.max_consecutive_terms = static_cast<int>(row.Int(6));
  out.rules.max_per_source_school = static_cast<int>(row.Int(7));
  out.rules.allow_same_school_twice = row.Int(8) != 0;
  out.state = static_cast<int>(row.Int(9));
  out.version = row.Int(10);
  out.solution = row.Str(11);
  out.filled = row.Int(12);
  out.total_cost = row.Int(13);
  out.created_by = row.Str(14);
  out.created_at = row.Int(15);
  out.solved_at = row.Int(16);
  out.published_at = row.Int(17);
  return out;
}

void ToProto(const RoundRecord& r, pb::Round* out) {
  out->set_round_id(r.id);
  out->set_name(r.name);
  out->set_region_prefix(r.region_prefix);
  out->mutable_term()->set_year(r.term_year);
  out->mutable_term()->set_season(static_cast<cpb::Season>(r.term_season));
  out->mutable_rules()->set_max_consecutive_terms(
      r.rules.max_consecutive_terms);
  out->mutable_rules()->set_max_per_source_school(
      r.rules.max_per_source_school);
  out->mutable_rules()->set_allow_same_school_twice(
      r.rules.allow_same_school_twice);
  out->set_state(static_cast<pb::RoundState>(r.state));
  out->set_created_at(
      FormatTimestamp(r.created_at * 1000, TimestampPrecision::kSeconds));
  out->set_solved_at(
      FormatTimestamp(r.solved_at * 1000, TimestampPrecision::kSeconds));
  out->set_published_at(
      FormatTimestamp(r.published_at * 1000, TimestampPrecision::kSeconds));
  if (!r.Is(pb::ROUND_STATE_DRAFT)) {
    out->set_filled_slots(static_cast<int32_t>(r.filled));
    out->set_total_cost(r.total_cost);
  }
}

absl::StatusOr<RoundRecord> LoadRound(SqlConnection& c, int64_t round_id) {
  ASSIGN_OR_RETURN(auto rows, c.Query(absl::StrCat("SELECT ", kRoundColumns,
                                                   " FROM rounds WHERE id = ?"),
                                      {round_id}));
  if (rows.empty()) return absl::NotFoundError("no such round");
  return FromRoundRow(rows.front());
}

absl::StatusOr<int64_t> InsertRound(SqlConnection& c, const RoundRecord& r) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("INSERT INTO rounds(name, region_prefix, term_year, term_season, "
              "term_index, max_consecutive, max_per_source, allow_same_school, "
              "state, version, solution, filled, total_cost, created_by, "
              "created_at, solved_at, published_at) "
              "VALUES(?,?,?,?,?,?,?,?,?,0,'',0,0,?,?,0,0) RETURNING id",
              {r.name, r.region_prefix, int64_t{r.term_year},
               int64_t{r.term_season}, r.term_index,
               int64_t{r.rules.max_consecutive_terms},
               int64_t{r.rules.max_per_source_school},
               int64_t{r.rules.allow_same_school_twice},
               int64_t{pb::ROUND_STATE_DRAFT}, r.created_by, r.created_at}));
  return rows.front().Int(0);
}

absl::Status LockRound(SqlConnection& c, int64_t round_id) {
  ASSIGN_OR_RETURN(
      int64_t n,
      c.Execute("UPDATE rounds SET version = version + 1 WHERE id = ?",
                {round_id}));
  if (n == 0) return absl::NotFoundError("no such round");
  return absl::OkStatus();
}

absl::Status SetRoundState(SqlConnection& c, int64_t round_id,
                           pb::RoundState state) {
  return c
      .Execute("UPDATE rounds SET state = ? WHERE id = ?",
               {int64_t{state}, round_id})
      .status();
}

absl::Status SaveSolution(SqlConnection& c, int64_t round_id,
                          const std::string& solution_b64, int64_t filled,
                          int64_t total_cost, int64_t now_sec) {
  return c
      .Execute(
          "UPDATE rounds SET state = ?, solution = ?, filled = ?, "
          "total_cost = ?, solved_at = ? WHERE id = ?",
          {int64_t{pb::ROUND_STATE_SOLVED}, solution_b64, filled, total_cost,
           now_sec, round_id})
      .status();
}

absl::Status MarkPublished(SqlConnection& c, int64_t round_id,
                           int64_t now_sec) {
  return c
      .Execute("UPDATE rounds SET state = ?, published_at = ? WHERE id = ?",
               {int64_t{pb::ROUND_STATE_PUBLISHED}, now_sec, round_id})
      .status();
}

absl::Status UnsolveOtherRoundsOfTerm(SqlConnection& c, int64_t term_index,
                                      int64_t except_round_id) {
  return c
      .Execute(
          "UPDATE rounds SET state = ? WHERE state = ? AND term_index = ? "
          "AND id <> ?",
          {int64_t{pb::ROUND_STATE_DRAFT}, int64_t{pb::ROUND_STATE_SOLVED},
           term_index, except_round_id})
      .status();
}

absl::Status UnsolveRoundsNominating(SqlConnection& c, int64_t teacher_id) {
  return c
      .Execute(
          "UPDATE rounds SET state = ?, version = version + 1 WHERE state = "
          "? "
          "AND id IN (SELECT round_id FROM round_nominations WHERE "
          "teacher_id = ?)",
          {int64_t{pb::ROUND_STATE_DRAFT}, int64_t{pb::ROUND_STATE_SOLVED},
           teacher_id})
      .status();
}

absl::StatusOr<RoundInputCounts> CountRoundInputs(SqlConnection& c,
                                                  int64_t round_id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT (SELECT COALESCE(SUM(slots), 0) FROM round_demands WHERE "
              "round_id = ?), (SELECT COUNT(*) FROM round_nominations WHERE "
              "round_id = ?)",
              {round_id, round_id}));
  return RoundInputCounts{rows.front().Int(0), rows.front().Int(1)};
}

absl::StatusOr<std::vector<int64_t>> ListRoundIds(SqlConnection& c,
                                                  const std::string& region,
                                                  int64_t after_id,
                                                  int64_t limit) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT id FROM rounds WHERE (region_prefix LIKE ? OR ? LIKE "
              "region_prefix || '%') AND id > ? ORDER BY id LIMIT ?",
              {region + "%", region, after_id, limit}));
  std::vector<int64_t> ids;
  ids.reserve(rows.size());
  for (const auto& r : rows) ids.push_back(r.Int(0));
  return ids;
}

// ---------------------------------------------------------------- demand

DemandRecord FromDemandRow(const SqlRow& row) {
  DemandRecord d;
  d.school_code = row.Str(0);
  d.subject = row.Str(1);
  d.school_name = row.Str(2);
  d.region_code = row.Str(3);
  d.stage = static_cast<int>(row.Int(4));
  d.slots = static_cast<int>(row.Int(5));
  return d;
}

void ToProto(const DemandRecord& d, pb::DemandLine* out) {
  out->set_school_code(d.school_code);
  out->set_subject(d.subject);
  out->set_school_name(d.school_name);
  out->set_region_code(d.region_code);
  out->set_stage(static_cast<cpb::SchoolStage>(d.stage));
  out->set_slots(d.slots);
}

absl::StatusOr<std::vector<DemandRecord>> LoadDemands(SqlConnection& c,
                                                      int64_t round_id) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query(absl::StrCat("SELECT ", kDemandColumns,
                                        " FROM round_demands WHERE round_id = "
                                        "? ORDER BY school_code, subject"),
                           {round_id}));
  std::vector<DemandRecord> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(FromDemandRow(r));
  return out;
}

absl::Status UpsertDemand(SqlConnection& c, int64_t round_id,
                          const pb::DemandLine& d) {
  return c
      .Execute(
          "INSERT INTO round_demands(round_id, school_code, subject, "
          "school_name, region_code, stage, slots) VALUES(?,?,?,?,?,?,?) "
          "ON CONFLICT(round_id, school_code, subject) DO UPDATE SET "
          "school_name = excluded.school_name, region_code = "
          "excluded.region_code, stage = excluded.stage, slots = "
          "excluded.slots",
          {round_id, d.school_code(), d.subject(), d.school_name(),
           d.region_code(), int64_t{d.stage()}, int64_t{d.slots()}})
      .status();
}

absl::Status DeleteDemand(SqlConnection& c, int64_t round_id,
                          const std::string& school_code,
                          const std::string& subject) {
  RETURN_IF_ERROR(c.Execute("DELETE FROM round_demands WHERE round_id = ? AND "
                            "school_code = ? AND subject = ?",
                            {round_id, school_code, subject})
                      .status());
  return c
      .Execute(
          "DELETE FROM round_constraints WHERE round_id = ? AND "
          "school_code = ? AND NOT EXISTS (SELECT 1 FROM round_demands "
          "WHERE round_id = ? AND school_code = ?)",
          {round_id, school_code, round_id, school_code})
      .status();
}

absl::StatusOr<bool> HasDemandAtSchool(SqlConnection& c, int64_t round_id,
                                       const std::string& school_code) {
  ASSIGN_OR_RETURN(auto rows, c.Query("SELECT 1 FROM round_demands WHERE "
                                      "round_id = ? AND school_code = ?",
                                      {round_id, school_code}));
  return !rows.empty();
}

// ---------------------------------------------------------------- nominees

NominationRecord FromNominationRow(const SqlRow& row) {
  NominationRecord n;
  n.teacher_id = row.Int(0);
  n.preferences = internal::SplitList(row.Str(1));
  n.school_code = row.Str(2);
  n.region_code = row.Str(3);
  n.subjects = internal::SplitList(row.Str(4));
  n.stage = static_cast<int>(row.Int(5));
  n.active = row.Int(6) != 0;
  return n;
}

void ToProto(const NominationRecord& n, pb::NominatedTeacher* out) {
  out->set_teacher_id(TeacherIdString(n.teacher_id));
  for (const auto& s : n.preferences) out->add_preferred_school_codes(s);
  out->set_school_code(n.school_code);
  out->set_region_code(n.region_code);
  for (const auto& s : n.subjects) out->add_subjects(s);
}

absl::StatusOr<std::vector<NominationRecord>> LoadNominations(
    SqlConnection& c, int64_t round_id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kNominationColumns,
                           " FROM round_nominations n JOIN teachers t ON "
                           "t.id = n.teacher_id WHERE n.round_id = ? "
                           "ORDER BY n.teacher_id"),
              {round_id}));
  std::vector<NominationRecord> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(FromNominationRow(r));
  return out;
}

absl::Status UpsertNomination(SqlConnection& c, int64_t round_id,
                              int64_t teacher_id,
                              const std::string& preferences,
                              const std::string& nominated_by) {
  return c
      .Execute(
          "INSERT INTO round_nominations(round_id, teacher_id, "
          "preferences, "
          "nominated_by) VALUES(?,?,?,?) ON CONFLICT(round_id, teacher_id) "
          "DO UPDATE SET preferences = excluded.preferences, "
          "nominated_by = excluded.nominated_by",
          {round_id, teacher_id, preferences, nominated_by})
      .status();
}

absl::Status DeleteNomination(SqlConnection& c, int64_t round_id,
                              int64_t teacher_id) {
  RETURN_IF_ERROR(c.Execute("DELETE FROM round_nominations WHERE round_id = ? "
                            "AND teacher_id = ?",
                            {round_id, teacher_id})
                      .status());
  return c
      .Execute(
          "DELETE FROM round_constraints WHERE round_id = ? AND "
          "teacher_id = ?",
          {round_id, teacher_id})
      .status();
}

absl::StatusOr<bool> IsNominated(SqlConnection& c, int64_t round_id,
                                 int64_t teacher_id) {
  ASSIGN_OR_RETURN(auto rows, c.Query("SELECT 1 FROM round_nominations WHERE "
                                      "round_id = ? AND teacher_id = ?",
                                      {round_id, teacher_id}));
  return !rows.empty();
}

absl::StatusOr<std::unordered_map<int64_t, std::map<int64_t, std::string>>>
LoadNomineeHistory(SqlConnection& c, int64_t round_id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT h.teacher_id, h.term_index, h.school_code FROM "
              "placement_history h JOIN round_nominations n ON n.teacher_id = "
              "h.teacher_id AND n.round_id = ?",
              {round_id}));
  std::unordered_map<int64_t, std::map<int64_t, std::string>> history;
  for (const auto& r : rows) history[r.Int(0)][r.Int(1)] = r.Str(2);
  return history;
}

// ---------------------------------------------------------------- constraints

ConstraintRecord FromConstraintRow(const SqlRow& row) {
  return {row.Int(0), row.Str(1), static_cast<int>(row.Int(2)), row.Str(3)};
}

void ToProto(const ConstraintRecord& k, pb::PlacementConstraint* out) {
  out->set_teacher_id(TeacherIdString(k.teacher_id));
  out->set_school_code(k.school_code);
  out->set_kind(static_cast<pb::ConstraintKind>(k.kind));
  out->set_set_by(k.set_by);
}

absl::StatusOr<std::vector<ConstraintRecord>> LoadConstraints(
    SqlConnection& c, int64_t round_id) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query(absl::StrCat("SELECT ", kConstraintColumns,
                                        " FROM round_constraints WHERE "
                                        "round_id = ? ORDER BY teacher_id, "
                                        "school_code"),
                           {round_id}));
  std::vector<ConstraintRecord> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(FromConstraintRow(r));
  return out;
}

absl::Status SetConstraint(SqlConnection& c, int64_t round_id,
                           int64_t teacher_id, const std::string& school_code,
                           pb::ConstraintKind kind, const std::string& set_by) {
  if (kind == pb::CONSTRAINT_KIND_PIN) {
    RETURN_IF_ERROR(
        c.Execute("DELETE FROM round_constraints WHERE round_id = ? AND "
                  "teacher_id = ? AND kind = ?",
                  {round_id, teacher_id, int64_t{pb::CONSTRAINT_KIND_PIN}})
            .status());
  }
  return c
      .Execute(
          "INSERT INTO round_constraints(round_id, teacher_id, "
          "school_code, "
          "kind, set_by) VALUES(?,?,?,?,?) ON CONFLICT(round_id, "
          "teacher_id, school_code) DO UPDATE SET kind = excluded.kind, "
          "set_by = excluded.set_by",
          {round_id, teacher_id, school_code, int64_t{kind}, set_by})
      .status();
}

absl::Status ClearConstraint(SqlConnection& c, int64_t round_id,
                             int64_t teacher_id,
                             const std::string& school_code) {
  return c
      .Execute(
          "DELETE FROM round_constraints WHERE round_id = ? AND "
          "teacher_id = ? AND school_code = ?",
          {round_id, teacher_id, school_code})
      .status();
}

}  // namespace eduaid::teacher
