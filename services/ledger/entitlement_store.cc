#include "services/ledger/entitlement_store.h"

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/household_ids.h"
#include "services/common/status_macros.h"
#include "services/common/term.h"

namespace eduaid::ledger {

EntitlementRecord EntitlementFromRow(const SqlRow& r) {
  EntitlementRecord e;
  e.id = r.Int(0);
  e.member_id = r.Str(1);
  e.programme_code = r.Str(2);
  e.term = r.Str(3);
  e.standard_id = r.Str(4);
  e.region_code = r.Str(5);
  e.school_code = r.Str(6);
  e.school_name = r.Str(7);
  e.stage = static_cast<cpb::SchoolStage>(r.Int(8));
  e.grade = static_cast<int32_t>(r.Int(9));
  e.boarder = r.Int(10) != 0;
  e.amount_fen = r.Int(11);
  e.state = static_cast<pb::EntitlementState>(r.Int(12));
  e.reason = r.Str(13);
  e.payee_name_enc = r.Str(14);
  e.due_date = r.Str(15);
  e.batch_id = r.Int(16);
  e.payment_id = r.Int(17);
  e.cancel_reason = r.Str(18);
  e.created_by = r.Str(19);
  e.created_at_ms = r.Int(20);
  e.originator_subject = r.Str(21);
  return e;
}

void ToProto(const EntitlementRecord& r, pb::Entitlement* e) {
  e->set_entitlement_id(r.id);
  e->set_member_id(r.member_id);
  e->set_programme_code(r.programme_code);
  if (auto term = ParseTermKey(r.term)) *e->mutable_term() = *term;
  e->set_standard_id(r.standard_id);
  e->set_region_code(r.region_code);
  e->set_school_code(r.school_code);
  e->set_school_name(r.school_name);
  e->set_stage(r.stage);
  e->set_grade(r.grade);
  e->set_boarder(r.boarder);
  e->set_amount_fen(r.amount_fen);
  e->set_state(r.state);
  e->set_reason(r.reason);
  e->set_due_date(r.due_date);
  e->set_batch_id(r.batch_id);
  e->set_payment_id(r.payment_id);
  e->set_cancel_reason(r.cancel_reason);
  e->set_created_by(r.created_by);
  e->set_created_at(FormatTimestamp(r.created_at_ms));
  e->set_originator_subject(r.originator_subject);
}

absl::StatusOr<EntitlementRecord> LoadEntitlementRecord(SqlConnection& c,
                                                        int64_t id) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query(absl::StrCat("SELECT ", kEntitlementColumns,
                                        " FROM entitlements e WHERE e.id = ?"),
                           {id}));
  if (rows.empty()) {
    return absl::NotFoundError(
        absl::StrCat("entitlement ", id, " does not exist"));
  }
  return EntitlementFromRow(rows[0]);
}

absl::StatusOr<std::vector<EntitlementRecord>> ListEntitlementRecords(
    SqlConnection& c, const EntitlementFilter& f, int64_t after,
    int64_t limit) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(
          absl::StrCat(
              "SELECT ", kEntitlementColumns,
              " FROM entitlements e WHERE e.id > ? AND e.region_code LIKE ? "
              "AND (? = '' OR e.term = ?) AND (? = '' OR e.programme_code = "
              "?) AND (? = 0 OR e.state = ?) AND (? = '' OR e.member_id = ?) "
              "AND (? = '' OR e.school_code = ?) ORDER BY e.id LIMIT ?"),
          {after, f.region_prefix + "%", f.term, f.term, f.programme_code,
           f.programme_code, f.state, f.state, f.member_id, f.member_id,
           f.school_code, f.school_code, limit}));
  std::vector<EntitlementRecord> out;
  out.reserve(rows.size());
  for (const SqlRow& r : rows) out.push_back(EntitlementFromRow(r));
  return out;
}

absl::StatusOr<std::vector<EntitlementRecord>> EntitlementsOfMembers(
    SqlConnection& c, const std::vector<std::string>& member_ids,
    const std::string& term) {
  std::vector<EntitlementRecord> out;
  if (member_ids.empty()) return out;
  std::vector<SqlValue> params(member_ids.begin(), member_ids.end());
  params.emplace_back(term);
  params.emplace_back(term);
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kEntitlementColumns,
                           " FROM entitlements e WHERE e.member_id IN ",
                           SqlInList(member_ids.size()),
                           " AND (? = '' OR e.term = ?) ORDER BY e.id"),
              params));
  out.reserve(rows.size());
  for (const SqlRow& r : rows) out.push_back(EntitlementFromRow(r));
  return out;
}

absl::StatusOr<std::vector<EntitlementRecord>> ListOverdueEntitlements(
    SqlConnection& c, const std::string& term, const std::string& region_prefix,
    const std::string& as_of) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kEntitlementColumns,
                           " FROM entitlements e WHERE e.term = ? AND "
                           "e.region_code LIKE ? AND e.state IN (?, ?) AND "
                           "e.due_date < ? ORDER BY e.due_date, e.id"),
              {term, region_prefix + "%", int64_t{pb::ENTITLEMENT_STATE_OPEN},
               int64_t{pb::ENTITLEMENT_STATE_BATCHED}, as_of}));
  std::vector<EntitlementRecord> out;
  out.reserve(rows.size());
  for (const SqlRow& r : rows) out.push_back(EntitlementFromRow(r));
  return out;
}

absl::StatusOr<bool> HoldsExclusive(SqlConnection& c,
                                    const std::string& member_id,
                                    const std::string& term,
                                    const std::string& exclusive_group,
                                    const std::string& programme_code) {
  if (exclusive_group.empty()) return false;
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT id FROM entitlements WHERE member_id = ? AND term = ? "
              "AND exclusive_group = ? AND programme_code <> ? AND state <> ? "
              "LIMIT 1",
              {member_id, term, exclusive_group, programme_code,
               int64_t{pb::ENTITLEMENT_STATE_CANCELLED}}));
  return !rows.empty();
}

absl::StatusOr<std::optional<int64_t>> InsertEntitlement(
    SqlConnection& c, const NewEntitlement& e) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("INSERT INTO entitlements (member_id, programme_code, term, "
              "standard_id, exclusive_group, region_code, school_code, "
              "school_name, stage, grade, boarder, amount_fen, state, reason, "
              "payee_name, due_date, created_by, created_at, updated_at, "
              "originator_subject) VALUES "
              "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
              "ON CONFLICT (member_id, programme_code, term) DO NOTHING "
              "RETURNING id",
              {e.member_id,
               e.programme_code,
               e.term,
               e.standard_id,
               e.exclusive_group,
               e.region_code,
               e.school_code,
               e.school_name,
               int64_t{e.stage},
               int64_t{e.grade},
               int64_t{e.boarder ? 1 : 0},
               e.amount_fen,
               int64_t{e.state},
               e.reason,
               e.payee_name_enc,
               e.due_date,
               e.created_by,
               e.now_ms,
               e.now_ms,
               e.originator_subject}));
  if (rows.empty()) return std::nullopt;
  return rows[0].Int(0);
}

absl::StatusOr<HeldEntitlement> LoadHeldEntitlement(
    SqlConnection& c, const std::string& member_id,
    const std::string& programme_code, const std::string& term) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT id, state, school_code, school_name, reason FROM "
              "entitlements WHERE member_id = ? AND programme_code = ? AND "
              "term = ?",
              {member_id, programme_code, term}));
  if (rows.empty()) return absl::AbortedError("entitlement vanished; retry");
  const SqlRow& r = rows[0];
  return HeldEntitlement{r.Int(0), r.Int(1), r.Str(2), r.Str(3), r.Str(4)};
}

absl::Status MoveEntitlementToSchool(
    SqlConnection& c, int64_t id, const ::eduaid::registry::v1::Enrolment& en,
    const std::string& reason, int64_t now_ms) {
  return c
      .Execute(
          "UPDATE entitlements SET school_code = ?, school_name = ?, "
          "stage = ?, grade = ?, boarder = ?, reason = ?, "
          "updated_at = ? WHERE id = ? AND state = ?",
          {en.school_code(), en.school_name(), int64_t{en.stage()},
           int64_t{en.grade()}, int64_t{en.boarder() ? 1 : 0}, reason, now_ms,
           id, int64_t{pb::ENTITLEMENT_STATE_OPEN}})
      .status();
}

absl::StatusOr<int64_t> CancelEntitlementRow(SqlConnection& c, int64_t id,
                                             pb::EntitlementState from_state,
                                             const std::string& reason,
                                             int64_t now_ms) {
  return c.Execute(
      "UPDATE entitlements SET state = ?, cancel_reason = ?, "
      "updated_at = ? WHERE id = ? AND state = ?",
      {int64_t{pb::ENTITLEMENT_STATE_CANCELLED}, reason, now_ms, id,
       int64_t{from_state}});
}

absl::Status CancelReversedEntitlement(SqlConnection& c, int64_t id,
                                       const std::string& reason,
                                       int64_t now_ms) {
  return c
      .Execute(
          "UPDATE entitlements SET state = ?, cancel_reason = ?, "
          "updated_at = ? WHERE id = ?",
          {int64_t{pb::ENTITLEMENT_STATE_CANCELLED}, reason, now_ms, id})
      .status();
}

absl::StatusOr<PayableEntitlement> LoadPayableEntitlement(SqlConnection& c,
                                                          int64_t id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT id, member_id, programme_code, term, region_code, "
              "school_code, amount_fen, state, originator_subject, "
              "standard_id, batch_id, payment_id, payee_name FROM "
              "entitlements WHERE id = ?",
              {id}));
  if (rows.empty()) {
    return absl::NotFoundError(
        absl::StrCat("entitlement ", id, " does not exist"));
  }
  const SqlRow& r = rows[0];
  PayableEntitlement e;
  e.id = r.Int(0);
  e.member_id = r.Str(1);
  e.programme_code = r.Str(2);
  e.term = r.Str(3);
  e.region_code = r.Str(4);
  e.school_code = r.Str(5);
  e.amount_fen = r.Int(6);
  e.state = r.Int(7);
  e.originator_subject = r.Str(8);
  e.standard_id = r.Str(9);
  e.batch_id = r.Int(10);
  e.payment_id = r.Int(11);
  e.payee_name_enc = r.Str(12);
  return e;
}

absl::StatusOr<int64_t> MarkEntitlementPaid(SqlConnection& c, int64_t id,
                                            int64_t payment_id,
                                            int64_t now_ms) {
  return c.Execute(
      "UPDATE entitlements SET state = ?, payment_id = ?, updated_at = ? "
      "WHERE id = ? AND state = ?",
      {int64_t{pb::ENTITLEMENT_STATE_PAID}, payment_id, now_ms, id,
       int64_t{pb::ENTITLEMENT_STATE_OPEN}});
}

absl::StatusOr<std::vector<HeldForReconcile>> ListHeldForReconcile(
    SqlConnection& c, const std::string& term,
    const std::string& region_prefix) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT member_id, programme_code, exclusive_group, id, state, "
              "cancel_reason FROM entitlements WHERE term = ? AND "
              "region_code LIKE ?",
              {term, region_prefix + "%"}));
  std::vector<HeldForReconcile> out;
  out.reserve(rows.size());
  for (const SqlRow& r : rows) {
    out.push_back({r.Str(0), r.Str(1), r.Str(2), r.Int(3), r.Int(4), r.Str(5)});
  }
  return out;
}

absl::StatusOr<std::vector<PostableEntitlement>> ListPostableEntitlements(
    SqlConnection& c, const std::string& school_code, const std::string& term,
    const std::string& region_prefix) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT id, payee_name, programme_code, amount_fen, stage, "
              "grade, region_code, school_name FROM entitlements WHERE "
              "school_code = ? AND term = ? AND region_code LIKE ? AND state "
              "IN (?, ?, ?, ?) ORDER BY id",
              {school_code, term, region_prefix + "%",
               int64_t{pb::ENTITLEMENT_STATE_OPEN},
               int64_t{pb::ENTITLEMENT_STATE_BATCHED},
               int64_t{pb::ENTITLEMENT_STATE_PAID},
               int64_t{pb::ENTITLEMENT_STATE_WAIVED}}));
  std::vector<PostableEntitlement> out;
  out.reserve(rows.size());
  for (const SqlRow& r : rows) {
    out.push_back({r.Int(0), r.Str(1), r.Str(2), r.Int(3), r.Int(4), r.Int(5),
                   r.Str(6), r.Str(7)});
  }
  return out;
}

absl::StatusOr<EntitlementPlace> LoadEntitlementPlace(SqlConnection& c,
                                                      int64_t id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT payment_id, region_code, school_code FROM entitlements "
              "WHERE id = ?",
              {id}));
  if (rows.empty()) {
    return absl::NotFoundError(
        absl::StrCat("entitlement ", id, " does not exist"));
  }
  return EntitlementPlace{rows[0].Int(0), rows[0].Str(1), rows[0].Str(2)};
}

absl::StatusOr<std::vector<StateSum>> EntitlementSumsByState(
    SqlConnection& c, const std::string& term,
    const std::string& region_prefix) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT state, COUNT(*), COALESCE(SUM(amount_fen), 0) FROM "
              "entitlements WHERE term = ? AND region_code LIKE ? GROUP BY "
              "state ORDER BY state",
              {term, region_prefix + "%"}));
  std::vector<StateSum> out;
  for (const SqlRow& r : rows) out.push_back({r.Int(0), r.Int(1), r.Int(2)});
  return out;
}

}  // namespace eduaid::ledger
