#include "services/registry/out_of_school_store.h"

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/crypto.h"
#include "services/common/status_macros.h"
#include "services/registry/member_store.h"
#include "services/registry/rules.h"

namespace eduaid::registry {

absl::StatusOr<int64_t> InsertIdentificationRun(SqlConnection& c,
                                                const std::string& as_of,
                                                int64_t now) {
  ASSIGN_OR_RETURN(
      auto run,
      c.Query("INSERT INTO identification_runs(as_of, started_at, summary) "
              "VALUES(?,?,'') RETURNING run_id",
              {as_of, now}));
  return run.front().Int(0);
}

absl::Status SaveRunSummary(SqlConnection& c, int64_t run_id,
                            const pb::IdentificationSummary& summary) {
  return c
      .Execute("UPDATE identification_runs SET summary = ? WHERE run_id = ?",
               {Base64Encode(summary.SerializeAsString()), run_id})
      .status();
}

absl::StatusOr<std::optional<RunRecord>> LatestRun(SqlConnection& c) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(
          "SELECT run_id, as_of FROM identification_runs ORDER BY run_id DESC "
          "LIMIT 1"));
  if (rows.empty()) return std::nullopt;
  return RunRecord{rows.front().Int(0), rows.front().Str(1)};
}

namespace {

// RefreshOutOfSchool's upsert: the school-age members (the band bound as
// two months) of the filter in no school, seen by this run. A row resolved
// earlier starts over (first_seen, since_run); an open one keeps them.
constexpr char kUpsertOpenHead[] =
    "INSERT INTO out_of_school(member_id, first_seen, since_run, last_run, "
    "resolved_at) SELECT m.id, ?, ?, ?, NULL FROM members m "
    "WHERE m.birth_month > ? AND m.birth_month <= ?";
constexpr char kUpsertOpenTail[] =
    " AND NOT EXISTS ("
    " SELECT 1 FROM enrolments e WHERE e.id_hash = m.id_hash AND "
    " e.current = 1 AND (e.status IN (1, 3) OR (e.status = 5 AND "
    " e.stage >= 3))) "
    // In school by the policy without a roster row (送教上门 / 异地就读).
    "AND NOT EXISTS (SELECT 1 FROM schooling_arrangements sa WHERE "
    "sa.member_id = m.id AND sa.running = 1) "
    "ON CONFLICT(member_id) DO UPDATE SET last_run = excluded.last_run, "
    "first_seen = CASE WHEN out_of_school.resolved_at IS NULL THEN "
    "out_of_school.first_seen ELSE excluded.first_seen END, "
    "since_run = CASE WHEN out_of_school.resolved_at IS NULL THEN "
    "out_of_school.since_run ELSE excluded.since_run END, "
    "resolved_at = NULL";
constexpr char kResolveUnseen[] =
    "UPDATE out_of_school SET resolved_at = ? WHERE resolved_at IS NULL AND "
    "last_run <> ?";

// `head`, then `params` after `tail`.
std::vector<SqlValue> Concat(std::vector<SqlValue> head,
                             const std::vector<SqlValue>& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

}  // namespace

absl::StatusOr<int64_t> RefreshOutOfSchool(SqlConnection& c,
                                           const std::string& as_of,
                                           int64_t run_id,
                                           const std::string& member_filter,
                                           const std::vector<SqlValue>& params,
                                           const MemberScope& scope) {
  const auto [lo, hi] = SchoolAgeMonths(as_of);
  // `member_filter` empty: every member (the full pass).
  const std::string and_filter =
      member_filter.empty() ? "" : absl::StrCat(" AND ", member_filter);
  RETURN_IF_ERROR(
      c.Execute(absl::StrCat(kUpsertOpenHead, and_filter, kUpsertOpenTail),
                Concat({as_of, run_id, run_id, lo, hi}, params))
          .status());
  // The members of the filter still open but not seen by this run are back
  // in school (or aged out): count those in scope, then resolve them all.
  std::vector<SqlValue> back_params = Concat({run_id}, params);
  const std::string in_scope = MemberInScope(scope, &back_params);
  ASSIGN_OR_RETURN(
      auto back,
      c.Query(absl::StrCat("SELECT COUNT(*) FROM out_of_school o JOIN members "
                           "m ON m.id = o.member_id WHERE o.resolved_at IS "
                           "NULL AND o.last_run <> ?",
                           and_filter, " AND ", in_scope),
              back_params));
  RETURN_IF_ERROR(
      c.Execute(member_filter.empty()
                    ? std::string(kResolveUnseen)
                    : absl::StrCat(kResolveUnseen,
                                   " AND member_id IN (SELECT m.id FROM "
                                   "members m WHERE ",
                                   member_filter, ")"),
                Concat({as_of, run_id}, params))
          .status());
  return back.front().Int(0);
}

absl::StatusOr<MemberCounts> CountMembers(
    SqlConnection& c, const std::pair<std::string, std::string>& band,
    int64_t run_id, const MemberScope& scope) {
  std::vector<SqlValue> params = {band.first, band.second, run_id};
  const std::string in_scope = MemberInScope(scope, &params);
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(
          absl::StrCat(
              "SELECT COUNT(*), COALESCE(SUM(CASE WHEN m.birth_month > ? AND "
              "m.birth_month <= ? THEN 1 ELSE 0 END), 0), "
              "COALESCE(SUM(CASE WHEN o.member_id IS NOT NULL THEN 1 ELSE 0 "
              "END), "
              "0), COALESCE(SUM(CASE WHEN o.since_run = ? THEN 1 ELSE 0 END), "
              "0) "
              "FROM members m LEFT JOIN out_of_school o ON o.member_id = m.id "
              "AND "
              "o.resolved_at IS NULL WHERE ",
              in_scope),
          params));
  const SqlRow& r = rows.front();
  return MemberCounts{r.Int(0), r.Int(1), r.Int(2), r.Int(3)};
}

absl::StatusOr<std::vector<std::pair<std::string, int64_t>>>
CountOutOfSchoolByRegion(SqlConnection& c, const std::string& region_prefix) {
  ASSIGN_OR_RETURN(auto rows, c.Query("SELECT m.region_code, COUNT(*) FROM "
                                      "out_of_school o JOIN members m ON "
                                      "m.id = o.member_id WHERE o.resolved_at "
                                      "IS NULL AND m.region_code LIKE "
                                      "? GROUP BY m.region_code",
                                      {region_prefix + "%"}));
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& r : rows) out.emplace_back(r.Str(0), r.Int(1));
  return out;
}

absl::StatusOr<int64_t> CountOutOfSchool(SqlConnection& c,
                                         const MemberScope& scope) {
  std::vector<SqlValue> params;
  const std::string in_scope = MemberInScope(scope, &params);
  ASSIGN_OR_RETURN(
      auto total,
      c.Query(
          absl::StrCat("SELECT COUNT(*) FROM out_of_school o JOIN members m ON "
                       "m.id = o.member_id WHERE o.resolved_at IS NULL AND ",
                       in_scope),
          params));
  return total.front().Int(0);
}

absl::StatusOr<bool> IsOutOfSchool(SqlConnection& c, int64_t member_id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(
          "SELECT 1 FROM out_of_school WHERE member_id = ? AND resolved_at IS "
          "NULL",
          {member_id}));
  return !rows.empty();
}

OutOfSchoolRecord FromOutOfSchoolRow(const SqlRow& r) {
  OutOfSchoolRecord o;
  o.member_id = r.Int(0);
  o.id_masked = r.Str(1);
  o.name_enc = r.Str(2);
  o.household_id = r.Str(3);
  o.region_code = r.Str(4);
  o.birth_month = r.Str(5);
  o.first_seen = r.Str(6);
  if (!r.IsNull(7)) o.case_state = r.Int(7);
  if (!r.IsNull(kOutOfSchoolColumnCount)) {
    o.last_enrolment = FromEnrolmentRow(r, kOutOfSchoolColumnCount);
  }
  return o;
}

void ToProto(const OutOfSchoolRecord& o, const std::string& name,
             const std::string& today, pb::OutOfSchoolChild* out) {
  out->set_member_id(MemberIdString(o.member_id));
  out->set_id_number(o.id_masked);
  out->set_name(name);
  out->set_household_id(o.household_id);
  out->set_region_code(o.region_code);
  out->set_birth_year(BirthYearOf(o.birth_month));
  out->set_age(AgeFromMonth(o.birth_month, today));
  out->set_first_seen(o.first_seen);
  out->set_days_open(DaysBetween(o.first_seen, today));
  if (o.case_state) {
    out->set_case_state(static_cast<pb::DropoutCaseState>(*o.case_state));
  }
  if (o.last_enrolment)
    ToProto(*o.last_enrolment, out->mutable_last_enrolment());
}

absl::StatusOr<std::vector<OutOfSchoolRecord>> ListOutOfSchoolPage(
    SqlConnection& c, const std::string& region_prefix,
    const std::string& school, int64_t after, int64_t limit) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat(
                  "SELECT ", kOutOfSchoolColumns, ", ", kEnrolmentColumns,
                  " FROM out_of_school o JOIN members m ON m.id = o.member_id "
                  "LEFT JOIN enrolments e ON e.id_hash = m.id_hash AND "
                  "e.current = 1",
                  kEnrolmentSchoolJoin,
                  " WHERE o.resolved_at IS NULL AND m.region_code LIKE ? AND "
                  "(? = '' OR e.school_code = ?) AND m.id > ? ORDER BY m.id "
                  "LIMIT ?"),
              {region_prefix + "%", school, school, after, limit}));
  std::vector<OutOfSchoolRecord> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(FromOutOfSchoolRow(r));
  return out;
}


absl::StatusOr<bool> ResolveOutOfSchoolMember(SqlConnection& c,
                                              int64_t member_id,
                                              const std::string& as_of) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("UPDATE out_of_school SET resolved_at = ? WHERE member_id = ? "
              "AND resolved_at IS NULL RETURNING member_id",
              {as_of, member_id}));
  return !rows.empty();
}

absl::StatusOr<bool> ReopenOutOfSchool(SqlConnection& c, int64_t member_id,
                                       const std::string& as_of,
                                       int64_t run_id) {
  const auto [lo, hi] = SchoolAgeMonths(as_of);
  RETURN_IF_ERROR(c.Execute(absl::StrCat(kUpsertOpenHead, " AND m.id = ?",
                                         kUpsertOpenTail),
                            {as_of, run_id, run_id, lo, hi, member_id})
                      .status());
  return IsOutOfSchool(c, member_id);
}
}  // namespace eduaid::registry
