#include "services/ledger/payment_store.h"

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/household_ids.h"
#include "services/common/status_macros.h"
#include "services/common/term.h"

namespace eduaid::ledger {

PaymentRecord PaymentFromRow(const SqlRow& r) {
  PaymentRecord p;
  p.id = r.Int(0);
  p.entitlement_id = r.Int(1);
  p.batch_id = r.Int(2);
  p.member_id = r.Str(3);
  p.programme_code = r.Str(4);
  p.term = r.Str(5);
  p.region_code = r.Str(6);
  p.school_code = r.Str(7);
  p.amount_fen = r.Int(8);
  p.state = static_cast<pb::PaymentState>(r.Int(9));
  p.failure_reason = r.Str(10);
  p.paid_at_ms = r.Int(11);
  p.paid_by = r.Str(12);
  p.reversed_at_ms = r.Int(13);
  p.reversal_reason = r.Str(14);
  p.payee_name_enc = r.Str(15);
  p.standard_id = r.Str(16);
  return p;
}

void ToProto(const PaymentRecord& r, pb::Payment* p) {
  p->set_payment_id(r.id);
  p->set_entitlement_id(r.entitlement_id);
  p->set_batch_id(r.batch_id);
  p->set_member_id(r.member_id);
  p->set_programme_code(r.programme_code);
  if (auto term = ParseTermKey(r.term)) *p->mutable_term() = *term;
  p->set_region_code(r.region_code);
  p->set_school_code(r.school_code);
  p->set_amount_fen(r.amount_fen);
  p->set_state(r.state);
  p->set_failure_reason(r.failure_reason);
  p->set_paid_at(FormatTimestamp(r.paid_at_ms));
  p->set_paid_by(r.paid_by);
  p->set_reversed_at(FormatTimestamp(r.reversed_at_ms));
  p->set_reversal_reason(r.reversal_reason);
}

absl::StatusOr<PaymentRecord> LoadPaymentRecord(SqlConnection& c, int64_t id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kPaymentColumns,
                           " FROM payments p JOIN entitlements e ON e.id = "
                           "p.entitlement_id WHERE p.id = ?"),
              {id}));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("payment ", id, " does not exist"));
  }
  return PaymentFromRow(rows[0]);
}

absl::StatusOr<std::vector<PaymentRecord>> ListPaymentRecords(
    SqlConnection& c, const PaymentFilter& f, int64_t after, int64_t limit) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(
          absl::StrCat(
              "SELECT ", kPaymentColumns,
              " FROM payments p JOIN entitlements e ON e.id = "
              "p.entitlement_id WHERE p.id > ? AND p.region_code LIKE ? AND "
              "(? = '' OR p.term = ?) AND (? = 0 OR p.batch_id = ?) AND "
              "(? = 0 OR p.state = ?) AND (? = '' OR p.member_id = ?) AND "
              "(? = '' OR p.programme_code = ?) AND (? = '' OR p.school_code "
              "= ?) ORDER BY p.id LIMIT ?"),
          {after, f.region_prefix + "%", f.term, f.term, f.batch_id, f.batch_id,
           f.state, f.state, f.member_id, f.member_id, f.programme_code,
           f.programme_code, f.school_code, f.school_code, limit}));
  std::vector<PaymentRecord> out;
  out.reserve(rows.size());
  for (const SqlRow& r : rows) out.push_back(PaymentFromRow(r));
  return out;
}

absl::StatusOr<std::vector<PaymentRecord>> PaymentsOfMembers(
    SqlConnection& c, const std::vector<std::string>& member_ids,
    const std::string& term) {
  std::vector<PaymentRecord> out;
  if (member_ids.empty()) return out;
  std::vector<SqlValue> params(member_ids.begin(), member_ids.end());
  params.emplace_back(term);
  params.emplace_back(term);
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kPaymentColumns,
                           " FROM payments p JOIN entitlements e ON e.id = "
                           "p.entitlement_id WHERE p.member_id IN ",
                           SqlInList(member_ids.size()),
                           " AND (? = '' OR p.term = ?) ORDER BY p.id"),
              params));
  out.reserve(rows.size());
  for (const SqlRow& r : rows) out.push_back(PaymentFromRow(r));
  return out;
}

absl::Status InsertPaidPayment(SqlConnection& c, PaymentRecord* p) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("INSERT INTO payments (entitlement_id, batch_id, member_id, "
              "programme_code, term, region_code, school_code, amount_fen, "
              "state, paid_at, paid_by, created_at) VALUES "
              "(?,0,?,?,?,?,?,?,?,?,?,?) RETURNING id",
              {p->entitlement_id, p->member_id, p->programme_code, p->term,
               p->region_code, p->school_code, p->amount_fen,
               int64_t{pb::PAYMENT_STATE_PAID}, p->paid_at_ms, p->paid_by,
               p->paid_at_ms}));
  p->id = rows[0].Int(0);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> MarkPaymentReversed(SqlConnection& c, int64_t id,
                                            const std::string& reversed_by,
                                            const std::string& reason,
                                            int64_t now_ms) {
  return c.Execute(
      "UPDATE payments SET state = ?, reversed_at = ?, reversed_by = ?, "
      "reversal_reason = ? WHERE id = ? AND state = ?",
      {int64_t{pb::PAYMENT_STATE_REVERSED}, now_ms, reversed_by, reason, id,
       int64_t{pb::PAYMENT_STATE_PAID}});
}

absl::StatusOr<PaymentPlace> LoadPaymentPlace(SqlConnection& c, int64_t id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT entitlement_id, region_code, school_code, state FROM "
              "payments WHERE id = ?",
              {id}));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("payment ", id, " does not exist"));
  }
  return PaymentPlace{rows[0].Int(0), rows[0].Str(1), rows[0].Str(2),
                      rows[0].Int(3)};
}

absl::StatusOr<std::vector<PaymentStateSum>> PaymentSumsByState(
    SqlConnection& c, const std::string& term,
    const std::string& region_prefix) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT state, COUNT(*), COALESCE(SUM(amount_fen), 0) FROM "
              "payments WHERE term = ? AND region_code LIKE ? GROUP BY state "
              "ORDER BY state",
              {term, region_prefix + "%"}));
  std::vector<PaymentStateSum> out;
  for (const SqlRow& r : rows) out.push_back({r.Int(0), r.Int(1), r.Int(2)});
  return out;
}

namespace {

// Columns of a PaidPayment (p joined with e), in the order PaidFromRow()
// reads them; e.standard_id only in ListPaidPayments.
constexpr char kPaidColumns[] =
    "p.id, p.entitlement_id, p.member_id, p.programme_code, p.region_code, "
    "p.school_code, p.amount_fen, p.paid_at, e.stage, e.payee_name";

PaidPayment PaidFromRow(const SqlRow& r) {
  PaidPayment p;
  p.id = r.Int(0);
  p.entitlement_id = r.Int(1);
  p.member_id = r.Str(2);
  p.programme_code = r.Str(3);
  p.region_code = r.Str(4);
  p.school_code = r.Str(5);
  p.amount_fen = r.Int(6);
  p.paid_at_ms = r.Int(7);
  p.stage = r.Int(8);
  p.payee_name_enc = r.Str(9);
  if (r.size() > 10) p.standard_id = r.Str(10);
  return p;
}

}  // namespace

absl::StatusOr<std::vector<PaidPayment>> ListPaidPayments(
    SqlConnection& c, const std::string& term,
    const std::string& region_prefix) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kPaidColumns,
                           ", e.standard_id FROM payments p JOIN "
                           "entitlements e ON e.id = p.entitlement_id WHERE "
                           "p.term = ? AND p.region_code LIKE ? AND p.state = "
                           "? ORDER BY p.paid_at, p.id"),
              {term, region_prefix + "%", int64_t{pb::PAYMENT_STATE_PAID}}));
  std::vector<PaidPayment> out;
  out.reserve(rows.size());
  for (const SqlRow& r : rows) out.push_back(PaidFromRow(r));
  return out;
}

absl::StatusOr<std::vector<PaidPayment>> ListPaidPaymentsWithout(
    SqlConnection& c, const std::string& term, const std::string& region_prefix,
    bool follow_up) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat(
                  "SELECT ", kPaidColumns,
                  " FROM payments p JOIN entitlements e ON e.id = "
                  "p.entitlement_id WHERE p.term = ? AND p.region_code LIKE ? "
                  "AND p.state = ? AND NOT EXISTS (SELECT 1 FROM ",
                  follow_up ? "follow_ups x" : "notice_acks x",
                  " WHERE x.payment_id = p.id) ORDER BY p.paid_at, p.id"),
              {term, region_prefix + "%", int64_t{pb::PAYMENT_STATE_PAID}}));
  std::vector<PaidPayment> out;
  out.reserve(rows.size());
  for (const SqlRow& r : rows) out.push_back(PaidFromRow(r));
  return out;
}

}  // namespace eduaid::ledger
