#include "services/registry/dropout_case_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/status_macros.h"
#include "services/registry/chunked_sql.h"
#include "services/registry/member_store.h"

namespace eduaid::registry {
CaseEventRecord FromCaseEventRow(const SqlRow& r) {
  return CaseEventRecord{r.Int(0), r.Int(1), r.Str(2), r.Str(3), r.Int(4)};
}

DropoutCaseRecord FromDropoutCaseRow(const SqlRow& r) {
  DropoutCaseRecord d;
  d.id = r.Int(0);
  d.member_id = r.Int(1);
  d.region_code = r.Str(2);
  d.state = r.Int(3);
  d.opened_at = r.Int(4);
  d.updated_at = r.Int(5);
  d.id_masked = r.Str(6);
  d.name_enc = r.Str(7);
  return d;
}

void ToProto(const DropoutCaseRecord& d, const std::string& name,
             pb::DropoutCase* out) {
  out->set_case_id(d.id);
  out->set_member_id(MemberIdString(d.member_id));
  out->set_region_code(d.region_code);
  out->set_state(static_cast<pb::DropoutCaseState>(d.state));
  out->set_opened_at(
      FormatTimestamp(d.opened_at * 1000, TimestampPrecision::kSeconds));
  out->set_updated_at(
      FormatTimestamp(d.updated_at * 1000, TimestampPrecision::kSeconds));
  out->set_id_number(d.id_masked);
  out->set_name(name);
  for (const auto& e : d.history) {
    auto* h = out->add_history();
    h->set_from_state(static_cast<pb::DropoutCaseState>(e.from_state));
    h->set_to_state(static_cast<pb::DropoutCaseState>(e.to_state));
    h->set_note(e.note);
    h->set_actor(e.actor);
    h->set_at(FormatTimestamp(e.at * 1000, TimestampPrecision::kSeconds));
  }
}

absl::StatusOr<std::optional<DropoutCaseRecord>> FindDropoutCase(
    SqlConnection& c, int64_t id) {
  ASSIGN_OR_RETURN(
      auto rows, c.Query(absl::StrCat("SELECT ", kDropoutCaseColumns,
                                      " FROM dropout_cases d JOIN members m ON "
                                      "m.id = d.member_id WHERE d.id = ?"),
                         {id}));
  if (rows.empty()) return std::nullopt;
  DropoutCaseRecord d = FromDropoutCaseRow(rows.front());
  ASSIGN_OR_RETURN(
      auto events,
      c.Query(absl::StrCat(
                  "SELECT ", kCaseEventColumns,
                  " FROM dropout_case_events WHERE case_id = ? ORDER BY id"),
              {id}));
  for (const auto& e : events) d.history.push_back(FromCaseEventRow(e));
  return d;
}

absl::StatusOr<std::optional<CaseScopeRecord>> FindCaseScope(SqlConnection& c,
                                                             int64_t id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(
          "SELECT d.state, d.region_code, COALESCE((SELECT ce.school_code "
          "FROM members cm JOIN enrolments ce ON ce.id_hash = cm.id_hash AND "
          "ce.current = 1 WHERE cm.id = d.member_id), '') FROM "
          "dropout_cases d WHERE d.id = ?",
          {id}));
  if (rows.empty()) return std::nullopt;
  const SqlRow& r = rows.front();
  return CaseScopeRecord{r.Int(0), r.Str(1), r.Str(2)};
}

absl::StatusOr<std::optional<int64_t>> FindActiveCase(SqlConnection& c,
                                                      int64_t member_id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(
          "SELECT id FROM dropout_cases WHERE member_id = ? AND state NOT IN "
          "(3, 4)",
          {member_id}));
  if (rows.empty()) return std::nullopt;
  return rows.front().Int(0);
}

absl::StatusOr<int64_t> InsertDropoutCase(SqlConnection& c, int64_t member_id,
                                          const std::string& region_code,
                                          int64_t now) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("INSERT INTO dropout_cases(member_id, region_code, state, "
              "opened_at, updated_at) VALUES(?,?,1,?,?) RETURNING id",
              {member_id, region_code, now, now}));
  return rows.front().Int(0);
}

absl::Status SetCaseState(SqlConnection& c, int64_t id, int64_t state,
                          int64_t now) {
  return c
      .Execute(
          "UPDATE dropout_cases SET state = ?, updated_at = ? WHERE id = ?",
          {state, now, id})
      .status();
}

absl::Status InsertCaseEvent(SqlConnection& c, int64_t case_id,
                             const CaseEventRecord& e) {
  return c
      .Execute(
          "INSERT INTO dropout_case_events(case_id, from_state, to_state, "
          "note, actor, at) VALUES(?,?,?,?,?,?)",
          {case_id, e.from_state, e.to_state, e.note, e.actor, e.at})
      .status();
}

absl::StatusOr<std::vector<int64_t>> ListDropoutCaseIds(
    SqlConnection& c, const std::string& region_prefix,
    const std::string& school, int64_t state, int64_t after, int64_t limit) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(
          absl::StrCat("SELECT d.id FROM dropout_cases d WHERE d.region_code "
                       "LIKE ? AND ",
                       kCaseAtSchool,
                       " AND (? = 0 OR d.state = ?) AND d.id > ? ORDER BY d.id "
                       "LIMIT ?"),
          {region_prefix + "%", school, school, state, state, after, limit}));
  std::vector<int64_t> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(r.Int(0));
  return out;
}

absl::StatusOr<std::unordered_map<std::string, int64_t>> CountOpenCases(
    SqlConnection& c, const std::string& region_prefix,
    const std::string& school) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(
          absl::StrCat("SELECT d.region_code, COUNT(*) FROM dropout_cases d "
                       "WHERE d.region_code LIKE ? AND d.state NOT IN (3, 4) "
                       "AND ",
                       kCaseAtSchool, " GROUP BY d.region_code"),
          {region_prefix + "%", school, school}));
  std::unordered_map<std::string, int64_t> out;
  for (const auto& r : rows) out[r.Str(0)] = r.Int(1);
  return out;
}


absl::StatusOr<std::vector<DropoutCaseRecord>> DropoutCasesOfHouseholds(
    SqlConnection& c, const std::vector<const std::string*>& household_ids) {
  std::vector<DropoutCaseRecord> out;
  RETURN_IF_ERROR(QueryInChunks(
      c,
      absl::StrCat("SELECT ", kDropoutCaseColumns,
                   " FROM dropout_cases d JOIN members m ON m.id = "
                   "d.member_id WHERE m.household_id IN "),
      household_ids,
      [&](const SqlRow& r) { out.push_back(FromDropoutCaseRow(r)); }));
  std::sort(out.begin(), out.end(),
            [](const DropoutCaseRecord& a, const DropoutCaseRecord& b) {
              return a.id < b.id;
            });
  // The events, in id order, to their cases.
  std::vector<std::pair<int64_t, std::pair<int64_t, CaseEventRecord>>> events;
  RETURN_IF_ERROR(QueryInChunks(
      c,
      absl::StrCat("SELECT ", kCaseEventColumns,
                   ", ev.id, ev.case_id FROM dropout_case_events ev JOIN "
                   "dropout_cases d ON d.id = ev.case_id JOIN members m ON "
                   "m.id = d.member_id WHERE m.household_id IN "),
      household_ids, [&](const SqlRow& r) {
        events.push_back({r.Int(5), {r.Int(6), FromCaseEventRow(r)}});
      }));
  std::sort(events.begin(), events.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::unordered_map<int64_t, DropoutCaseRecord*> by_id;
  for (auto& d : out) by_id[d.id] = &d;
  for (auto& [id, e] : events) {
    if (auto it = by_id.find(e.first); it != by_id.end()) {
      it->second->history.push_back(std::move(e.second));
    }
  }
  return out;
}
}  // namespace eduaid::registry
