// A visit's structured findings, the payments it followed up (回访), the
// outbox rows that deliver them, and the visits of a household as the
// household view reads them. Tables: visit_findings, visit_follow_ups,
// visit_outbox (migration 8), visits (read only here).
#ifndef EDUAID_SERVICES_TEACHER_VISIT_STORE_H_
#define EDUAID_SERVICES_TEACHER_VISIT_STORE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/teacher/v1/teacher.pb.h"
#include "services/common/sql.h"

namespace eduaid::teacher {

namespace pb = ::eduaid::teacher::v1;

// ---------------------------------------------------------------- findings

// Where a delivery goes (visit_outbox.route).
enum class Route : int {
  kLedgerNotReceived = 1,  // ledger RecordFollowUp NOT_RECEIVED
  kRegistryDropout = 2,    // registry OpenDropoutCase
  kRegistryNewChild = 3,   // registry ImportHouseholds (one row)
  kRegistrySpecial = 4,    // registry ReportSpecialNeed
  kLedgerFollowUps = 5,    // ledger follow-ups RECEIVED_IN_FULL (回访)
};

// The finding index of a visit's follow-up delivery.
inline constexpr int kFollowUpIdx = -1;

struct FindingRecord {
  int64_t visit_id = 0;
  int idx = 0;
  int kind = 0;  // pb::FindingKind
  std::string member_id;
  std::string programme_code;
  int64_t payment_id = 0;
  int risk = 0;            // pb::DropoutRisk
  std::string detail_enc;  // the whole pb::VisitFinding, encrypted
  // Its delivery (LEFT JOIN visit_outbox): state 0 = none (NOT_ROUTED).
  int state = 0;
  std::string target;
  std::string error;
  int64_t result_id = 0;
};

// Columns in the order FromFindingRow() reads them.
inline constexpr char kFindingColumns[] =
    "f.visit_id, f.idx, f.kind, f.member_id, f.programme_code, f.payment_id, "
    "f.risk, f.detail_enc, COALESCE(o.state, 0), COALESCE(o.target, ''), "
    "COALESCE(o.last_error, ''), COALESCE(o.result_id, 0)";
FindingRecord FromFindingRow(const SqlRow& row);

// Kind, member, programme, payment, risk, delivery; the personal fields
// (id_number, name, relation, note) come from the decrypted detail.
void ToProto(const FindingRecord& f, pb::VisitFinding* out);

absl::Status InsertFinding(SqlConnection& c, const FindingRecord& f);

// Findings of `visit_ids` in (visit, idx) order.
absl::StatusOr<std::vector<FindingRecord>> LoadFindings(
    SqlConnection& c, const std::vector<int64_t>& visit_ids);

// Payment ids a visit's findings name (its NOT_RECEIVED follow-ups).
absl::StatusOr<std::vector<int64_t>> FindingPaymentIds(SqlConnection& c,
                                                       int64_t visit_id);

// ---------------------------------------------------------------- follow-ups

struct FollowUpRecord {
  int64_t visit_id = 0;
  int64_t payment_id = 0;
  std::string member_id;
  std::string programme_code;
  int64_t follow_up_id = 0;
};

inline constexpr char kFollowUpColumns[] =
    "visit_id, payment_id, member_id, programme_code, follow_up_id";
FollowUpRecord FromFollowUpRow(const SqlRow& row);

// Once per (visit, payment): a repeat is ignored.
absl::Status InsertFollowUp(SqlConnection& c, const FollowUpRecord& f);

absl::StatusOr<std::vector<FollowUpRecord>> LoadFollowUps(
    SqlConnection& c, const std::vector<int64_t>& visit_ids);

// ---------------------------------------------------------------- outbox

struct DeliveryRecord {
  int64_t id = 0;
  int64_t visit_id = 0;
  int idx = 0;  // kFollowUpIdx for the follow-ups
  int route = 0;
  std::string request_id;
  std::string payload_enc;  // the request to send, encrypted
  std::string household_id;
  std::string region_code;
  std::string term_key;
  int64_t attempts = 0;
};

inline constexpr char kDeliveryColumns[] =
    "id, visit_id, idx, route, request_id, payload_enc, household_id, "
    "region_code, term_key, attempts";
DeliveryRecord FromDeliveryRow(const SqlRow& row);

// A PENDING row, due now.
absl::Status InsertDelivery(SqlConnection& c, const DeliveryRecord& d,
                            int64_t now_ms);

// PENDING rows due at `now_ms`, oldest first.
absl::StatusOr<std::vector<DeliveryRecord>> DueDeliveries(SqlConnection& c,
                                                          int64_t now_ms,
                                                          int64_t limit);

absl::Status MarkDeliveryDone(SqlConnection& c, int64_t id,
                              const std::string& target, int64_t result_id,
                              int64_t now_ms);
absl::Status MarkDeliveryFailed(SqlConnection& c, int64_t id,
                                const std::string& error, int64_t now_ms);
absl::Status MarkDeliveryRetry(SqlConnection& c, int64_t id, int64_t attempts,
                               const std::string& error, int64_t next_ms);

// The delivery state of a visit's follow-ups row (0 when it has none).
absl::StatusOr<int> FollowUpDeliveryState(SqlConnection& c, int64_t visit_id);

// FAILED rows of `visit_id` (0 = any) in counties under `region` back to
// PENDING, due now; how many.
absl::StatusOr<int64_t> RequeueFailed(SqlConnection& c, int64_t visit_id,
                                      const std::string& region,
                                      int64_t now_ms);

// PENDING and FAILED rows.
struct DeliveryCounts {
  int64_t pending = 0, failed = 0;
};
absl::StatusOr<DeliveryCounts> CountOpenDeliveries(SqlConnection& c);

// ---------------------------------------------------------------- visits

struct VisitRecord {
  int64_t id = 0;
  int64_t campaign_id = 0;
  std::string household_id;
  std::string detail_enc;  // the whole pb::Visit, encrypted
};

inline constexpr char kVisitColumns[] =
    "id, campaign_id, household_id, detail_enc";
VisitRecord FromVisitRow(const SqlRow& row);

// The visits of a household, newest first.
absl::StatusOr<std::vector<VisitRecord>> LoadHouseholdVisits(
    SqlConnection& c, const std::string& household_id);

// One visit; empty when absent.
absl::StatusOr<std::vector<VisitRecord>> LoadVisit(SqlConnection& c,
                                                   int64_t visit_id);

// (campaign id, due date) of the campaigns the household is in, in
// campaign order (its rows: LoadHousehold, campaign_store.h).
absl::StatusOr<std::vector<std::pair<int64_t, std::string>>>
CampaignsOfHousehold(SqlConnection& c, const std::string& household_id);

}  // namespace eduaid::teacher

#endif  // EDUAID_SERVICES_TEACHER_VISIT_STORE_H_
