#include "services/registry/arrangement_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/status_macros.h"
#include "services/registry/chunked_sql.h"
#include "services/registry/member_store.h"

namespace eduaid::registry {

ArrangementRecord FromArrangementRow(const SqlRow& r) {
  ArrangementRecord a;
  a.id = r.Int(0);
  a.member_id = r.Int(1);
  a.kind = r.Int(2);
  a.school_code = r.Str(3);
  a.school_name = r.Str(4);
  a.place_enc = r.Str(5);
  a.evidence_enc = r.Str(6);
  a.start_date = r.Str(7);
  a.end_date = r.Str(8);
  a.end_reason_enc = r.Str(9);
  a.running = r.Int(10) != 0;
  a.region_code = r.Str(11);
  a.recorded_by = r.Str(12);
  a.recorded_at = r.Int(13);
  a.id_masked = r.Str(14);
  a.name_enc = r.Str(15);
  return a;
}

void ToProto(const ArrangementRecord& a, const ArrangementText& text,
             pb::SchoolingArrangement* out) {
  out->set_arrangement_id(a.id);
  out->set_member_id(MemberIdString(a.member_id));
  out->set_kind(static_cast<pb::ArrangementKind>(a.kind));
  out->set_school_code(a.school_code);
  out->set_school_name(a.school_name);
  out->set_place(text.place);
  out->set_evidence_ref(text.evidence_ref);
  out->set_start_date(a.start_date);
  out->set_end_date(a.end_date);
  out->set_end_reason(text.end_reason);
  out->set_region_code(a.region_code);
  out->set_id_number(a.id_masked);
  out->set_name(text.name);
  out->set_recorded_by(a.recorded_by);
  out->set_recorded_at(
      FormatTimestamp(a.recorded_at * 1000, TimestampPrecision::kSeconds));
}

namespace {

absl::StatusOr<std::optional<ArrangementRecord>> FindOne(
    SqlConnection& c, const std::string& where, int64_t key) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query(absl::StrCat("SELECT ", kArrangementColumns,
                                        kArrangementFrom, " WHERE ", where),
                           {key}));
  if (rows.empty()) return std::nullopt;
  return FromArrangementRow(rows.front());
}

}  // namespace

absl::StatusOr<std::optional<ArrangementRecord>> FindArrangement(
    SqlConnection& c, int64_t id) {
  return FindOne(c, "a.id = ?", id);
}

absl::StatusOr<std::optional<ArrangementRecord>> FindRunningArrangement(
    SqlConnection& c, int64_t member_id) {
  return FindOne(c, "a.member_id = ? AND a.running = 1", member_id);
}

absl::StatusOr<std::vector<ArrangementRecord>> ArrangementsOfHouseholds(
    SqlConnection& c, const std::vector<const std::string*>& household_ids) {
  std::vector<ArrangementRecord> out;
  RETURN_IF_ERROR(QueryInChunks(
      c,
      absl::StrCat("SELECT ", kArrangementColumns, kArrangementFrom,
                   " WHERE m.household_id IN "),
      household_ids,
      [&](const SqlRow& r) { out.push_back(FromArrangementRow(r)); }));
  std::sort(out.begin(), out.end(),
            [](const ArrangementRecord& x, const ArrangementRecord& y) {
              return x.id < y.id;
            });
  return out;
}

absl::StatusOr<int64_t> InsertArrangement(SqlConnection& c,
                                          const ArrangementRecord& a) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("INSERT INTO schooling_arrangements(member_id, kind, "
              "school_code, school_name, place_enc, evidence_enc, start_date, "
              "end_date, end_reason_enc, running, region_code, recorded_by, "
              "recorded_at) VALUES(?,?,?,?,?,?,?,'','',1,?,?,?) RETURNING id",
              {a.member_id, a.kind, a.school_code, a.school_name, a.place_enc,
               a.evidence_enc, a.start_date, a.region_code, a.recorded_by,
               a.recorded_at}));
  return rows.front().Int(0);
}

absl::Status EndArrangement(SqlConnection& c, int64_t id,
                            const std::string& end_date,
                            const std::string& end_reason_enc) {
  return c
      .Execute(
          "UPDATE schooling_arrangements SET running = 0, end_date = ?, "
          "end_reason_enc = ? WHERE id = ?",
          {end_date, end_reason_enc, id})
      .status();
}

absl::StatusOr<std::vector<ArrangementRecord>> ListArrangementsPage(
    SqlConnection& c, const ArrangementListFilter& f) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(
          absl::StrCat(
              "SELECT ", kArrangementColumns, kArrangementFrom,
              " WHERE m.region_code LIKE ? AND (? = '' OR a.school_code = ? "
              "OR EXISTS (SELECT 1 FROM enrolments se WHERE se.id_hash = "
              "m.id_hash AND se.current = 1 AND se.school_code = ?)) AND "
              "(? = 0 OR a.kind = ?) AND (? = 0 OR a.running = 1) AND a.id > ? "
              "ORDER BY a.id LIMIT ?"),
          {f.region + "%", f.school, f.school, f.school, f.kind, f.kind,
           int64_t{f.running_only}, f.after, f.limit}));
  std::vector<ArrangementRecord> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(FromArrangementRow(r));
  return out;
}

}  // namespace eduaid::registry
