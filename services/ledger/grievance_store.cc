#include "services/ledger/grievance_store.h"

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/household_ids.h"
#include "services/common/status_macros.h"

namespace eduaid::ledger {

GrievanceRecord GrievanceFromRow(const SqlRow& r) {
  GrievanceRecord g;
  g.id = r.Int(0);
  g.entitlement_id = r.Int(1);
  g.payment_id = r.Int(2);
  g.posting_id = r.Int(3);
  g.posting_line = static_cast<int32_t>(r.Int(4));
  g.region_code = r.Str(5);
  g.school_code = r.Str(6);
  g.source = static_cast<pb::GrievanceSource>(r.Int(7));
  g.state = static_cast<pb::GrievanceState>(r.Int(8));
  g.description_enc = r.Str(9);
  g.opened_by = r.Str(10);
  g.opened_at_ms = r.Int(11);
  g.outcome = static_cast<pb::GrievanceOutcome>(r.Int(12));
  g.resolution_enc = r.Str(13);
  g.resolved_by = r.Str(14);
  g.resolved_at_ms = r.Int(15);
  return g;
}

void ToProto(const GrievanceRecord& r, pb::Grievance* g) {
  g->set_grievance_id(r.id);
  g->set_entitlement_id(r.entitlement_id);
  g->set_payment_id(r.payment_id);
  g->set_posting_id(r.posting_id);
  g->set_posting_line(r.posting_line);
  g->set_region_code(r.region_code);
  g->set_school_code(r.school_code);
  g->set_source(r.source);
  g->set_state(r.state);
  g->set_opened_by(r.opened_by);
  g->set_opened_at(FormatTimestamp(r.opened_at_ms));
  g->set_outcome(r.outcome);
  g->set_resolved_by(r.resolved_by);
  g->set_resolved_at(FormatTimestamp(r.resolved_at_ms));
}

namespace {

std::vector<GrievanceRecord> FromRows(const std::vector<SqlRow>& rows) {
  std::vector<GrievanceRecord> out;
  out.reserve(rows.size());
  for (const SqlRow& r : rows) out.push_back(GrievanceFromRow(r));
  return out;
}

}  // namespace

absl::StatusOr<GrievanceRecord> LoadGrievanceRecord(SqlConnection& c,
                                                    int64_t id) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query(absl::StrCat("SELECT ", kGrievanceColumns,
                                        " FROM grievances WHERE id = ?"),
                           {id}));
  if (rows.empty()) {
    return absl::NotFoundError(
        absl::StrCat("grievance ", id, " does not exist"));
  }
  return GrievanceFromRow(rows[0]);
}

absl::StatusOr<int64_t> InsertGrievance(SqlConnection& c,
                                        const GrievanceRecord& g) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("INSERT INTO grievances (entitlement_id, payment_id, "
              "posting_id, posting_line, region_code, school_code, source, "
              "state, description, opened_by, opened_at) VALUES "
              "(?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
              {g.entitlement_id, g.payment_id, g.posting_id,
               int64_t{g.posting_line}, g.region_code, g.school_code,
               int64_t{g.source}, int64_t{pb::GRIEVANCE_STATE_OPEN},
               g.description_enc, g.opened_by, g.opened_at_ms}));
  return rows[0].Int(0);
}

absl::StatusOr<int64_t> ResolveGrievanceRow(SqlConnection& c, int64_t id,
                                            pb::GrievanceOutcome outcome,
                                            const std::string& resolution_enc,
                                            const std::string& resolved_by,
                                            int64_t now_ms) {
  return c.Execute(
      "UPDATE grievances SET state = ?, outcome = ?, resolution = ?, "
      "resolved_by = ?, resolved_at = ? WHERE id = ? AND state = ?",
      {int64_t{pb::GRIEVANCE_STATE_RESOLVED}, int64_t{outcome}, resolution_enc,
       resolved_by, now_ms, id, int64_t{pb::GRIEVANCE_STATE_OPEN}});
}

absl::StatusOr<std::vector<GrievanceRecord>> ListGrievanceRecords(
    SqlConnection& c, const std::string& region_prefix, int64_t state,
    const std::string& school_code, int64_t after, int64_t limit) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kGrievanceColumns,
                           " FROM grievances WHERE id > ? AND region_code "
                           "LIKE ? AND (? = 0 OR state = ?) AND (? = '' OR "
                           "school_code = ?) ORDER BY id LIMIT ?"),
              {after, region_prefix + "%", state, state, school_code,
               school_code, limit}));
  return FromRows(rows);
}

absl::StatusOr<std::vector<GrievanceRecord>> GrievancesOfEntitlement(
    SqlConnection& c, int64_t entitlement_id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kGrievanceColumns,
                           " FROM grievances WHERE entitlement_id = ? ORDER "
                           "BY id"),
              {entitlement_id}));
  return FromRows(rows);
}

absl::StatusOr<std::vector<GrievanceRecord>> GrievancesOfEntitlements(
    SqlConnection& c, const std::vector<int64_t>& entitlement_ids) {
  if (entitlement_ids.empty()) return std::vector<GrievanceRecord>{};
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kGrievanceColumns,
                           " FROM grievances WHERE entitlement_id IN ",
                           SqlInList(entitlement_ids.size()), " ORDER BY id"),
              std::vector<SqlValue>(entitlement_ids.begin(),
                                    entitlement_ids.end())));
  return FromRows(rows);
}

absl::StatusOr<int64_t> CountObjections(SqlConnection& c, int64_t posting_id) {
  ASSIGN_OR_RETURN(
      auto rows, c.Query("SELECT COUNT(*) FROM grievances WHERE posting_id = ?",
                         {posting_id}));
  return rows[0].Int(0);
}

}  // namespace eduaid::ledger
