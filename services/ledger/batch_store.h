// Batches (table `batches`) and the statements a batch runs over its
// payments and entitlements: creation, approval, execution in chunks and
// cancellation. The typed record, its columns beside its row reader, and
// the proto mapping. Functions run inside the caller's transaction.
#ifndef EDUAID_SERVICES_LEDGER_BATCH_STORE_H_
#define EDUAID_SERVICES_LEDGER_BATCH_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/ledger/v1/ledger.pb.h"
#include "services/common/sql.h"

namespace eduaid::ledger {

namespace pb = ::eduaid::ledger::v1;

struct BatchRecord {
  int64_t id = 0;
  std::string region_prefix;
  std::string term;  // TermKey form
  std::string programme_code;
  std::string school_code;
  pb::BatchState state = pb::BATCH_STATE_UNSPECIFIED;
  std::string note;
  std::string created_by;
  std::string approved_by;
  std::string executed_by;
  int64_t created_at_ms = 0;
  int64_t approved_at_ms = 0;
  int64_t started_at_ms = 0;
  int64_t finished_at_ms = 0;
  int64_t payment_count = 0;
  int64_t total_fen = 0;
  int64_t paid_count = 0;
  int64_t paid_fen = 0;
  int64_t failed_count = 0;
};

// Columns in the order BatchFromRow() reads them.
inline constexpr char kBatchColumns[] =
    "id, region_prefix, term, programme_code, school_code, state, note, "
    "created_by, approved_by, executed_by, created_at, approved_at, "
    "started_at, finished_at, payment_count, total_fen, paid_count, "
    "paid_fen, failed_count";

BatchRecord BatchFromRow(const SqlRow& row);
void ToProto(const BatchRecord& b, pb::Batch* out);

// The batch as a proto. NOT_FOUND when `id` does not exist.
absl::StatusOr<pb::Batch> LoadBatch(SqlConnection& c, int64_t id);

// Ids of batches with id > `after` under `region_prefix`, of `state` (0 =
// any) and `school_code` ("" = any), up to `limit`, in id order.
absl::StatusOr<std::vector<int64_t>> ListBatchIds(
    SqlConnection& c, const std::string& region_prefix, int64_t state,
    const std::string& school_code, int64_t after, int64_t limit);

// Ids of the batches in `state` (start-up resumes EXECUTING ones).
absl::StatusOr<std::vector<int64_t>> BatchIdsInState(SqlConnection& c,
                                                     pb::BatchState state);

// True when some standard has `programme_code`.
absl::StatusOr<bool> ProgrammeKnown(SqlConnection& c,
                                    const std::string& programme_code);

// What a new batch selects: OPEN entitlements with an amount of `term`
// under `region_prefix` (and of `programme_code`, `school_code` when set),
// at most `limit`.
struct BatchSelection {
  std::string region_prefix;
  std::string term;
  std::string programme_code;
  std::string school_code;
  std::string note;
  std::string created_by;
  int64_t limit = 0;
};
// Inserts the batch (CREATED) and a PENDING payment per selected
// entitlement; returns the batch id and fills *count and *total_fen.
absl::StatusOr<int64_t> InsertBatchWithPayments(SqlConnection& c,
                                                const BatchSelection& s,
                                                int64_t now_ms, int64_t* count,
                                                int64_t* total_fen);
// Marks the batch's entitlements BATCHED (linking their payments) and
// stores the batch's totals. ABORTED when not exactly `count` entitlements
// moved (they changed meanwhile).
absl::Status BatchEntitlements(SqlConnection& c, int64_t batch_id,
                               int64_t count, int64_t total_fen,
                               int64_t now_ms);

// How many entitlements of the batch `subject` originated.
absl::StatusOr<int64_t> CountOriginatedBy(SqlConnection& c, int64_t batch_id,
                                          const std::string& subject);

// CREATED -> APPROVED by `approver`; rows changed (0 or 1).
absl::StatusOr<int64_t> ApproveBatchRow(SqlConnection& c, int64_t id,
                                        const std::string& approver,
                                        int64_t now_ms);
// APPROVED -> EXECUTING by `executor`; rows changed (0 or 1).
absl::StatusOr<int64_t> StartBatchRow(SqlConnection& c, int64_t id,
                                      const std::string& executor,
                                      int64_t now_ms);

// Cancels the batch (from `from`), appending `note`, reopens its batched
// entitlements, unlinks the others and deletes its PENDING payments. Rows
// of the batch changed (0 or 1); nothing else is done when 0.
absl::StatusOr<int64_t> CancelBatchRows(SqlConnection& c, int64_t id,
                                        pb::BatchState from,
                                        const std::string& note,
                                        int64_t now_ms);

// ---- execution

// An EXECUTING batch's executor and start (state 0 when not executing).
struct ExecutingBatch {
  int64_t state = 0;
  std::string executed_by;
  int64_t started_at_ms = 0;
};
absl::StatusOr<ExecutingBatch> LoadExecutingBatch(SqlConnection& c, int64_t id);

// A PENDING payment of a batch with its entitlement's state and standard.
struct PendingPayment {
  int64_t payment_id = 0;
  int64_t entitlement_id = 0;
  std::string member_id;
  std::string programme_code;
  std::string term;
  std::string region_code;
  int64_t amount_fen = 0;
  int64_t entitlement_state = 0;
  std::string standard_id;
};
// The next `limit` PENDING payments of the batch, in id order.
absl::StatusOr<std::vector<PendingPayment>> NextPendingPayments(
    SqlConnection& c, int64_t batch_id, int64_t limit);

// Marks the batch EXECUTED (from EXECUTING).
absl::Status FinishBatch(SqlConnection& c, int64_t batch_id, int64_t now_ms);
// Fails a PENDING payment whose entitlement was cancelled.
absl::Status FailCancelledPayment(SqlConnection& c, int64_t payment_id);
// Marks the batch's PENDING payments with ids first..last PAID, and their
// BATCHED entitlements PAID. INTERNAL unless exactly `paid` of each moved.
absl::Status PayPendingRange(SqlConnection& c, int64_t batch_id, int64_t first,
                             int64_t last, int64_t paid,
                             const std::string& paid_by, int64_t now_ms);
// Adds a chunk's outcome to the batch's counters.
absl::Status AddBatchCounters(SqlConnection& c, int64_t batch_id, int64_t paid,
                              int64_t paid_fen, int64_t failed);

}  // namespace eduaid::ledger

#endif  // EDUAID_SERVICES_LEDGER_BATCH_STORE_H_
