// Payments (table `payments`, read joined with their entitlement): the
// typed record, its columns beside its row reader, the statements of single
// payments and reversals, the reports' payment queries, and the proto
// mapping. (A batch's statements on payments are in batch_store.h.)
#ifndef EDUAID_SERVICES_LEDGER_PAYMENT_STORE_H_
#define EDUAID_SERVICES_LEDGER_PAYMENT_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/ledger/v1/ledger.pb.h"
#include "services/common/sql.h"

namespace eduaid::ledger {

namespace pb = ::eduaid::ledger::v1;

struct PaymentRecord {
  int64_t id = 0;
  int64_t entitlement_id = 0;
  int64_t batch_id = 0;
  std::string member_id;
  std::string programme_code;
  std::string term;  // TermKey form
  std::string region_code;
  std::string school_code;
  int64_t amount_fen = 0;
  pb::PaymentState state = pb::PAYMENT_STATE_UNSPECIFIED;
  std::string failure_reason;
  int64_t paid_at_ms = 0;
  std::string paid_by;
  int64_t reversed_at_ms = 0;
  std::string reversal_reason;
  std::string payee_name_enc;  // the entitlement's, encrypted
  std::string standard_id;     // the entitlement's
};

// Columns (payments p joined with entitlements e) in the order
// PaymentFromRow() reads them.
inline constexpr char kPaymentColumns[] =
    "p.id, p.entitlement_id, p.batch_id, p.member_id, p.programme_code, "
    "p.term, p.region_code, p.school_code, p.amount_fen, p.state, "
    "p.failure_reason, p.paid_at, p.paid_by, p.reversed_at, "
    "p.reversal_reason, e.payee_name, e.standard_id";

PaymentRecord PaymentFromRow(const SqlRow& row);

// Every field but programme_name and payee_name, which the caller fills.
void ToProto(const PaymentRecord& p, pb::Payment* out);

// NOT_FOUND when `id` does not exist.
absl::StatusOr<PaymentRecord> LoadPaymentRecord(SqlConnection& c, int64_t id);

// The filters of ListPayments ("" / 0 = any).
struct PaymentFilter {
  std::string region_prefix;
  std::string term;
  int64_t batch_id = 0;
  int64_t state = 0;
  std::string member_id;
  std::string programme_code;
  std::string school_code;
};
// Up to `limit` payments with id > `after`, in id order.
absl::StatusOr<std::vector<PaymentRecord>> ListPaymentRecords(
    SqlConnection& c, const PaymentFilter& f, int64_t after, int64_t limit);

// The payments of `member_ids` (of `term` unless ""), in id order.
absl::StatusOr<std::vector<PaymentRecord>> PaymentsOfMembers(
    SqlConnection& c, const std::vector<std::string>& member_ids,
    const std::string& term);

// Inserts a single payment, PAID at `now_ms` by `paid_by` (batch 0), and
// fills p->id. p's other fields are written as they are.
absl::Status InsertPaidPayment(SqlConnection& c, PaymentRecord* p);

// Marks a PAID payment REVERSED; rows changed (0 or 1).
absl::StatusOr<int64_t> MarkPaymentReversed(SqlConnection& c, int64_t id,
                                            const std::string& reversed_by,
                                            const std::string& reason,
                                            int64_t now_ms);

// Where a payment belongs (grievances, notices): its entitlement, region,
// school and state. NOT_FOUND when it does not exist.
struct PaymentPlace {
  int64_t entitlement_id = 0;
  std::string region_code;
  std::string school_code;
  int64_t state = 0;
};
absl::StatusOr<PaymentPlace> LoadPaymentPlace(SqlConnection& c, int64_t id);

// (state, count, sum of amount_fen) of `term` under `region_prefix`.
struct PaymentStateSum {
  int64_t state = 0;
  int64_t count = 0;
  int64_t amount_fen = 0;
};
absl::StatusOr<std::vector<PaymentStateSum>> PaymentSumsByState(
    SqlConnection& c, const std::string& term,
    const std::string& region_prefix);

// A paid payment as the reconciliation's gap lists show it.
struct PaidPayment {
  int64_t id = 0;
  int64_t entitlement_id = 0;
  std::string member_id;
  std::string programme_code;
  std::string region_code;
  std::string school_code;
  int64_t amount_fen = 0;
  int64_t paid_at_ms = 0;
  int64_t stage = 0;
  std::string payee_name_enc;
  std::string standard_id;  // only from ListPaidPayments
};
// Every PAID payment of `term` under `region_prefix`, by paid_at.
absl::StatusOr<std::vector<PaidPayment>> ListPaidPayments(
    SqlConnection& c, const std::string& term,
    const std::string& region_prefix);
// The same, without a notice acknowledgement (`follow_up` false) or
// without a follow-up visit (`follow_up` true).
absl::StatusOr<std::vector<PaidPayment>> ListPaidPaymentsWithout(
    SqlConnection& c, const std::string& term, const std::string& region_prefix,
    bool follow_up);

}  // namespace eduaid::ledger

#endif  // EDUAID_SERVICES_LEDGER_PAYMENT_STORE_H_
