#include "services/registry/special_group_store.h"

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/status_macros.h"
#include "services/registry/chunked_sql.h"
#include "services/registry/member_store.h"

namespace eduaid::registry {
LeftBehindRecord FromLeftBehindRow(const SqlRow& r, size_t at) {
  return LeftBehindRecord{r.Str(at),     r.Str(at + 1),      r.Str(at + 2),
                          r.Int(at + 3), r.Int(at + 4) != 0, r.Str(at + 5),
                          r.Str(at + 6)};
}

void ToProto(const LeftBehindRecord& l, const std::string& carer_name,
             const std::string& report_note, pb::LeftBehind* out) {
  out->set_carer_name(carer_name);
  out->set_carer_relation(l.carer_relation);
  out->set_parents_location(l.parents_location);
  out->set_updated_at(
      FormatTimestamp(l.updated_at * 1000, TimestampPrecision::kSeconds));
  out->set_unconfirmed(l.unconfirmed);
  out->set_reported_by(l.reported_by);
  out->set_report_note(report_note);
}

absl::StatusOr<std::optional<LeftBehindRecord>> FindLeftBehind(
    SqlConnection& c, int64_t member_id) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query(absl::StrCat("SELECT ", kLeftBehindColumns,
                                        " FROM left_behind lb WHERE "
                                        "lb.member_id = ?"),
                           {member_id}));
  if (rows.empty()) return std::nullopt;
  return FromLeftBehindRow(rows.front());
}

absl::Status UpsertLeftBehind(SqlConnection& c, int64_t member_id,
                              const LeftBehindRecord& l) {
  return c
      .Execute(
          "INSERT INTO left_behind(member_id, carer_name_enc, "
          "carer_relation, parents_location, updated_at) VALUES(?,?,?,?,?) "
          "ON CONFLICT(member_id) DO UPDATE SET carer_name_enc = "
          "excluded.carer_name_enc, carer_relation = "
          "excluded.carer_relation, "
          "parents_location = excluded.parents_location, updated_at = "
          "excluded.updated_at, unconfirmed = 0",
          {member_id, l.carer_name_enc, l.carer_relation, l.parents_location,
           l.updated_at})
      .status();
}

absl::Status DeleteLeftBehind(SqlConnection& c, int64_t member_id) {
  return c.Execute("DELETE FROM left_behind WHERE member_id = ?", {member_id})
      .status();
}

DisabilityPlanRecord FromDisabilityPlanRow(const SqlRow& r, size_t at) {
  return DisabilityPlanRecord{r.Str(at),     r.Int(at + 1), r.Str(at + 2),
                              r.Str(at + 3), r.Int(at + 4), r.Int(at + 5) != 0,
                              r.Str(at + 6), r.Str(at + 7)};
}

void ToProto(const DisabilityPlanRecord& d, const std::string& report_note,
             pb::DisabilityPlan* out) {
  out->set_unconfirmed(d.unconfirmed);
  out->set_reported_by(d.reported_by);
  out->set_report_note(report_note);
  out->set_category(d.category);
  out->set_placement(static_cast<pb::Placement>(d.placement));
  out->set_school_code(d.school_code);
  out->set_note(d.note);
  out->set_updated_at(
      FormatTimestamp(d.updated_at * 1000, TimestampPrecision::kSeconds));
}

absl::StatusOr<std::optional<DisabilityPlanRecord>> FindDisabilityPlan(
    SqlConnection& c, int64_t member_id) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query(absl::StrCat("SELECT ", kDisabilityPlanColumns,
                                        " FROM disability_plans dp WHERE "
                                        "dp.member_id = ?"),
                           {member_id}));
  if (rows.empty()) return std::nullopt;
  return FromDisabilityPlanRow(rows.front());
}

absl::Status UpsertDisabilityPlan(SqlConnection& c, int64_t member_id,
                                  const DisabilityPlanRecord& d) {
  return c
      .Execute(
          "INSERT INTO disability_plans(member_id, category, placement, "
          "school_code, note, updated_at) VALUES(?,?,?,?,?,?) "
          "ON CONFLICT(member_id) DO UPDATE SET category = "
          "excluded.category, placement = excluded.placement, school_code = "
          "excluded.school_code, note = excluded.note, updated_at = "
          "excluded.updated_at, unconfirmed = 0",
          {member_id, d.category, d.placement, d.school_code, d.note,
           d.updated_at})
      .status();
}

SpecialGroupRecord FromSpecialGroupRow(const SqlRow& r) {
  SpecialGroupRecord s;
  s.member_id = r.Int(0);
  s.id_masked = r.Str(1);
  s.name_enc = r.Str(2);
  s.region_code = r.Str(3);
  size_t at = kSpecialGroupMemberColumnCount;
  if (!r.IsNull(at)) s.left_behind = FromLeftBehindRow(r, at + 1);
  at += 1 + kLeftBehindColumnCount;
  if (!r.IsNull(at)) s.disability_plan = FromDisabilityPlanRow(r, at + 1);
  return s;
}

void ToProto(const SpecialGroupRecord& s, const SpecialGroupText& text,
             pb::SpecialGroupEntry* out) {
  out->set_member_id(MemberIdString(s.member_id));
  out->set_id_number(s.id_masked);
  out->set_name(text.name);
  out->set_region_code(s.region_code);
  if (s.left_behind) {
    ToProto(*s.left_behind, text.carer_name, text.left_behind_note,
            out->mutable_left_behind());
  }
  if (s.disability_plan) {
    ToProto(*s.disability_plan, text.disability_note,
            out->mutable_disability_plan());
  }
}

namespace {

// ListSpecialGroupsPage's condition per SpecialGroupFilter.
const char* SpecialGroupCondition(int64_t filter) {
  switch (filter) {
    case pb::SPECIAL_GROUP_FILTER_LEFT_BEHIND:
      return "lb.member_id IS NOT NULL";
    case pb::SPECIAL_GROUP_FILTER_DISABLED:
      return "dp.member_id IS NOT NULL";
    case pb::SPECIAL_GROUP_FILTER_DISABLED_WITHOUT_PLAN:
      return "dp.member_id IS NOT NULL AND dp.placement = 0";
    case pb::SPECIAL_GROUP_FILTER_UNCONFIRMED:
      return "(lb.unconfirmed = 1 OR dp.unconfirmed = 1)";
    default:
      return "(lb.member_id IS NOT NULL OR dp.member_id IS NOT NULL)";
  }
}

}  // namespace

absl::StatusOr<std::vector<SpecialGroupRecord>> ListSpecialGroupsPage(
    SqlConnection& c, const MemberScope& scope, int64_t filter, int64_t after,
    int64_t limit) {
  std::vector<SqlValue> params;
  const std::string in_scope = MemberInScope(scope, &params);
  params.emplace_back(after);
  params.emplace_back(limit);
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(
          absl::StrCat(
              "SELECT ", kSpecialGroupMemberColumns, ", lb.member_id, ",
              kLeftBehindColumns, ", dp.member_id, ", kDisabilityPlanColumns,
              " FROM members m LEFT JOIN left_behind lb ON lb.member_id = m.id "
              "LEFT JOIN disability_plans dp ON dp.member_id = m.id "
              "WHERE ",
              SpecialGroupCondition(filter), " AND ", in_scope,
              " AND m.id > ? ORDER BY m.id LIMIT ?"),
          params));
  std::vector<SpecialGroupRecord> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(FromSpecialGroupRow(r));
  return out;
}

absl::StatusOr<std::pair<int64_t, int64_t>> CountSpecialGroups(
    SqlConnection& c, const MemberScope& scope) {
  std::vector<SqlValue> params;
  const std::string in_scope = MemberInScope(scope, &params);
  std::vector<SqlValue> both = params;
  both.insert(both.end(), params.begin(), params.end());
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT (SELECT COUNT(*) FROM left_behind lb JOIN "
                           "members m ON m.id = lb.member_id WHERE ",
                           in_scope,
                           "), (SELECT COUNT(*) FROM disability_plans dp JOIN "
                           "members m ON m.id = dp.member_id WHERE ",
                           in_scope, ")"),
              both));
  return std::make_pair(rows.front().Int(0), rows.front().Int(1));
}

absl::StatusOr<std::vector<std::pair<int64_t, LeftBehindRecord>>>
LeftBehindOfHouseholds(SqlConnection& c,
                       const std::vector<const std::string*>& household_ids) {
  std::vector<std::pair<int64_t, LeftBehindRecord>> out;
  RETURN_IF_ERROR(QueryInChunks(
      c,
      absl::StrCat("SELECT lb.member_id, ", kLeftBehindColumns,
                   " FROM left_behind lb JOIN members m ON m.id = "
                   "lb.member_id WHERE m.household_id IN "),
      household_ids, [&](const SqlRow& r) {
        out.emplace_back(r.Int(0), FromLeftBehindRow(r, 1));
      }));
  return out;
}

absl::StatusOr<std::vector<std::pair<int64_t, DisabilityPlanRecord>>>
DisabilityPlansOfHouseholds(
    SqlConnection& c, const std::vector<const std::string*>& household_ids) {
  std::vector<std::pair<int64_t, DisabilityPlanRecord>> out;
  RETURN_IF_ERROR(QueryInChunks(
      c,
      absl::StrCat("SELECT dp.member_id, ", kDisabilityPlanColumns,
                   " FROM disability_plans dp JOIN members m ON m.id = "
                   "dp.member_id WHERE m.household_id IN "),
      household_ids, [&](const SqlRow& r) {
        out.emplace_back(r.Int(0), FromDisabilityPlanRow(r, 1));
      }));
  return out;
}

absl::StatusOr<bool> ReportLeftBehind(SqlConnection& c, int64_t member_id,
                                      const std::string& reported_by,
                                      const std::string& report_note_enc,
                                      int64_t now) {
  ASSIGN_OR_RETURN(
      auto created,
      c.Query("INSERT INTO left_behind(member_id, carer_name_enc, "
              "carer_relation, parents_location, updated_at, unconfirmed, "
              "reported_by, report_note_enc) VALUES(?, '', '', '', ?, 1, ?, ?) "
              "ON CONFLICT(member_id) DO NOTHING RETURNING member_id",
              {member_id, now, reported_by, report_note_enc}));
  if (!created.empty()) return true;
  RETURN_IF_ERROR(c.Execute("UPDATE left_behind SET unconfirmed = 1, "
                            "reported_by = ?, report_note_enc = ?, "
                            "updated_at = ? WHERE member_id = ?",
                            {reported_by, report_note_enc, now, member_id})
                      .status());
  return false;
}

absl::StatusOr<bool> ReportDisability(SqlConnection& c, int64_t member_id,
                                      const std::string& reported_by,
                                      const std::string& report_note_enc,
                                      int64_t now) {
  ASSIGN_OR_RETURN(
      auto created,
      c.Query("INSERT INTO disability_plans(member_id, category, placement, "
              "school_code, note, updated_at, unconfirmed, reported_by, "
              "report_note_enc) VALUES(?, '', 0, '', '', ?, 1, ?, ?) "
              "ON CONFLICT(member_id) DO NOTHING RETURNING member_id",
              {member_id, now, reported_by, report_note_enc}));
  if (!created.empty()) return true;
  RETURN_IF_ERROR(c.Execute("UPDATE disability_plans SET unconfirmed = 1, "
                            "reported_by = ?, report_note_enc = ?, "
                            "updated_at = ? WHERE member_id = ?",
                            {reported_by, report_note_enc, now, member_id})
                      .status());
  return false;
}

LeftBehindRecord ConfirmedLeftBehind(const pb::LeftBehind& l,
                                     const FieldCrypto& crypto) {
  LeftBehindRecord r;
  r.carer_name_enc = crypto.Encrypt(l.carer_name(), kCtxCarer);
  r.carer_relation = l.carer_relation();
  r.parents_location = l.parents_location();
  r.updated_at = NowSec();
  return r;
}

DisabilityPlanRecord ConfirmedPlan(const pb::DisabilityPlan& plan,
                                   bool needs_school) {
  DisabilityPlanRecord r;
  r.category = plan.category();
  r.placement = plan.placement();
  r.school_code = needs_school ? plan.school_code() : std::string();
  r.note = plan.note();
  r.updated_at = NowSec();
  return r;
}

}  // namespace eduaid::registry
