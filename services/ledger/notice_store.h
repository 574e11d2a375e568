// What work point 3.3 records after a payment: the notice's facts (read
// from payments joined with entitlements), its acknowledgement (table
// `notice_acks`) and follow-up visits (table `follow_ups`). Typed records,
// their columns beside their row readers, every statement on the two
// tables. Rendering is in notice/notice_format.h.
#ifndef EDUAID_SERVICES_LEDGER_NOTICE_STORE_H_
#define EDUAID_SERVICES_LEDGER_NOTICE_STORE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/ledger/v1/ledger.pb.h"
#include "services/common/sql.h"

namespace eduaid::ledger {

namespace pb = ::eduaid::ledger::v1;

// A payment as its notice shows it.
struct NoticeFacts {
  int64_t payment_id = 0;
  std::string region_code;
  std::string term;  // TermKey form
  int64_t amount_fen = 0;
  int64_t paid_at_ms = 0;
  int64_t state = 0;  // pb::PaymentState
  std::string school_name;
  std::string standard_id;
  std::string payee_name_enc;
  std::string programme_code;
  std::string school_code;
};
// NOT_FOUND when the payment does not exist.
absl::StatusOr<NoticeFacts> LoadNoticeFacts(SqlConnection& c,
                                            int64_t payment_id);

struct AckRecord {
  std::string acknowledged_on;
  pb::AckParty party = pb::ACK_PARTY_UNSPECIFIED;
  pb::AckMethod method = pb::ACK_METHOD_UNSPECIFIED;
  std::string note_enc;  // encrypted (kCtxNote), "" when none
  std::string recorded_by;
};
// The acknowledgements of the notices of `payment_ids`, by payment id.
absl::StatusOr<std::map<int64_t, AckRecord>> AcksOfPayments(
    SqlConnection& c, const std::vector<int64_t>& payment_ids);
// The acknowledgement of a payment's notice, if any.
absl::StatusOr<std::optional<AckRecord>> LoadAck(SqlConnection& c,
                                                 int64_t payment_id);
absl::Status InsertAck(SqlConnection& c, int64_t payment_id,
                       const AckRecord& ack, int64_t now_ms);

struct FollowUpRecord {
  int64_t id = 0;
  int64_t payment_id = 0;
  std::string visited_on;
  std::string visitor;
  pb::FollowUpOutcome outcome = pb::FOLLOW_UP_OUTCOME_UNSPECIFIED;
  std::string note_enc;  // encrypted (kCtxNote), "" when none
  std::string recorded_by;
  int64_t grievance_id = 0;
  // What recorded it when not an officer by hand ("teacher visit 12").
  std::string source_ref;
};

// Columns in the order FollowUpFromRow() reads them.
inline constexpr char kFollowUpColumns[] =
    "id, payment_id, visited_on, visitor, outcome, note, recorded_by, "
    "grievance_id, source_ref";
FollowUpRecord FollowUpFromRow(const SqlRow& row);
// Every field but note, which the caller shows or hides.
void ToProto(const FollowUpRecord& f, pb::FollowUp* out);

// Inserts the visit (`f.id` ignored); returns its id.
absl::StatusOr<int64_t> InsertFollowUp(SqlConnection& c,
                                       const FollowUpRecord& f, int64_t now_ms);
// The visits of a payment, in id order.
absl::StatusOr<std::vector<FollowUpRecord>> FollowUpsOfPayment(
    SqlConnection& c, int64_t payment_id);
// The visits of any of `payment_ids`, in id order.
absl::StatusOr<std::vector<FollowUpRecord>> FollowUpsOfPayments(
    SqlConnection& c, const std::vector<int64_t>& payment_ids);

}  // namespace eduaid::ledger

#endif  // EDUAID_SERVICES_LEDGER_NOTICE_STORE_H_
