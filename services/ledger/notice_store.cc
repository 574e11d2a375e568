#include "services/ledger/notice_store.h"

#include "absl/strings/str_cat.h"
#include "services/common/household_ids.h"
#include "services/common/status_macros.h"

namespace eduaid::ledger {

absl::StatusOr<NoticeFacts> LoadNoticeFacts(SqlConnection& c,
                                            int64_t payment_id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT p.id, p.region_code, p.term, p.amount_fen, p.paid_at, "
              "p.state, e.school_name, e.standard_id, e.payee_name, "
              "p.programme_code, p.school_code FROM payments p JOIN "
              "entitlements e ON e.id = p.entitlement_id WHERE p.id = ?",
              {payment_id}));
  if (rows.empty()) {
    return absl::NotFoundError(
        absl::StrCat("payment ", payment_id, " does not exist"));
  }
  const SqlRow& r = rows[0];
  NoticeFacts n;
  n.payment_id = r.Int(0);
  n.region_code = r.Str(1);
  n.term = r.Str(2);
  n.amount_fen = r.Int(3);
  n.paid_at_ms = r.Int(4);
  n.state = r.Int(5);
  n.school_name = r.Str(6);
  n.standard_id = r.Str(7);
  n.payee_name_enc = r.Str(8);
  n.programme_code = r.Str(9);
  n.school_code = r.Str(10);
  return n;
}

namespace {

// Columns in the order AckFromRow() reads them (payment_id first).
constexpr char kAckColumns[] =
    "payment_id, acknowledged_on, party, method, note, recorded_by";

AckRecord AckFromRow(const SqlRow& a) {
  AckRecord ack;
  ack.acknowledged_on = a.Str(1);
  ack.party = static_cast<pb::AckParty>(a.Int(2));
  ack.method = static_cast<pb::AckMethod>(a.Int(3));
  ack.note_enc = a.Str(4);
  ack.recorded_by = a.Str(5);
  return ack;
}

std::vector<SqlValue> Ids(const std::vector<int64_t>& ids) {
  return std::vector<SqlValue>(ids.begin(), ids.end());
}

}  // namespace

absl::StatusOr<std::optional<AckRecord>> LoadAck(SqlConnection& c,
                                                 int64_t payment_id) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query(absl::StrCat("SELECT ", kAckColumns,
                                        " FROM notice_acks WHERE payment_id = ?"),
                           {payment_id}));
  if (rows.empty()) return std::nullopt;
  return AckFromRow(rows[0]);
}

absl::StatusOr<std::map<int64_t, AckRecord>> AcksOfPayments(
    SqlConnection& c, const std::vector<int64_t>& payment_ids) {
  std::map<int64_t, AckRecord> out;
  if (payment_ids.empty()) return out;
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kAckColumns,
                           " FROM notice_acks WHERE payment_id IN ",
                           SqlInList(payment_ids.size())),
              Ids(payment_ids)));
  for (const SqlRow& r : rows) out.emplace(r.Int(0), AckFromRow(r));
  return out;
}

absl::Status InsertAck(SqlConnection& c, int64_t payment_id,
                       const AckRecord& ack, int64_t now_ms) {
  return c
      .Execute(
          "INSERT INTO notice_acks (payment_id, acknowledged_on, party, "
          "method, note, recorded_by, recorded_at) VALUES "
          "(?,?,?,?,?,?,?)",
          {payment_id, ack.acknowledged_on, int64_t{ack.party},
           int64_t{ack.method}, ack.note_enc, ack.recorded_by, now_ms})
      .status();
}

FollowUpRecord FollowUpFromRow(const SqlRow& r) {
  FollowUpRecord f;
  f.id = r.Int(0);
  f.payment_id = r.Int(1);
  f.visited_on = r.Str(2);
  f.visitor = r.Str(3);
  f.outcome = static_cast<pb::FollowUpOutcome>(r.Int(4));
  f.note_enc = r.Str(5);
  f.recorded_by = r.Str(6);
  f.grievance_id = r.Int(7);
  f.source_ref = r.Str(8);
  return f;
}

void ToProto(const FollowUpRecord& r, pb::FollowUp* f) {
  f->set_follow_up_id(r.id);
  f->set_payment_id(r.payment_id);
  f->set_visited_on(r.visited_on);
  f->set_visitor(r.visitor);
  f->set_outcome(r.outcome);
  f->set_recorded_by(r.recorded_by);
  f->set_grievance_id(r.grievance_id);
  f->set_source_ref(r.source_ref);
}

absl::StatusOr<int64_t> InsertFollowUp(SqlConnection& c,
                                       const FollowUpRecord& f,
                                       int64_t now_ms) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("INSERT INTO follow_ups (payment_id, visited_on, visitor, "
              "outcome, note, grievance_id, recorded_by, recorded_at, source_ref) "
              "VALUES (?,?,?,?,?,?,?,?,?) RETURNING id",
              {f.payment_id, f.visited_on, f.visitor, int64_t{f.outcome},
               f.note_enc, f.grievance_id, f.recorded_by, now_ms,
               f.source_ref}));
  return rows[0].Int(0);
}

absl::StatusOr<std::vector<FollowUpRecord>> FollowUpsOfPayment(
    SqlConnection& c, int64_t payment_id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kFollowUpColumns,
                           " FROM follow_ups WHERE payment_id = ? ORDER BY id"),
              {payment_id}));
  std::vector<FollowUpRecord> out;
  out.reserve(rows.size());
  for (const SqlRow& r : rows) out.push_back(FollowUpFromRow(r));
  return out;
}

absl::StatusOr<std::vector<FollowUpRecord>> FollowUpsOfPayments(
    SqlConnection& c, const std::vector<int64_t>& payment_ids) {
  std::vector<FollowUpRecord> out;
  if (payment_ids.empty()) return out;
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kFollowUpColumns,
                           " FROM follow_ups WHERE payment_id IN ",
                           SqlInList(payment_ids.size()), " ORDER BY id"),
              Ids(payment_ids)));
  out.reserve(rows.size());
  for (const SqlRow& r : rows) out.push_back(FollowUpFromRow(r));
  return out;
}

}  // namespace eduaid::ledger
