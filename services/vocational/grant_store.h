// The grant outbox's rows (table grant_outbox, and the instance id in
// meta): the typed grant record, its columns beside its row reader, every
// statement on the table (queueing, delivery bookkeeping, lists, retries,
// cancellation), and the proto mapping. Every function runs inside the
// caller's transaction or read on `c` and returns the database's error
// unchanged.
#ifndef EDUAID_SERVICES_VOCATIONAL_GRANT_STORE_H_
#define EDUAID_SERVICES_VOCATIONAL_GRANT_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/vocational/v1/vocational.pb.h"
#include "services/common/school_scope.h"
#include "services/common/sql.h"

namespace eduaid::vocational {

namespace pb = ::eduaid::vocational::v1;

// Stored states of an outbox row (the values of pb::GrantState).
inline constexpr int64_t kGrantPending = 1;
inline constexpr int64_t kGrantDelivered = 2;
inline constexpr int64_t kGrantRejected = 3;
inline constexpr int64_t kGrantCancelled = 4;

struct GrantRecord {
  int64_t id = 0, application_id = 0;
  std::string member_id, programme_code, term;  // term in TermKey form
  int64_t state = 0;
  std::string request_id;
  int64_t attempts = 0;
  std::string last_error;
  int64_t entitlement_id = 0;
  std::string outcome;
  int64_t created_at = 0, delivered_at = 0, next_attempt_ms = 0;
  std::string member_region, originator_subject;
};

// Columns in the order GrantFromRow() reads them.
inline constexpr char kGrantColumns[] =
    "id, application_id, member_id, programme_code, term, state, request_id, "
    "attempts, last_error, entitlement_id, outcome, created_at, delivered_at, "
    "next_attempt_ms, member_region, originator_subject";

GrantRecord GrantFromRow(const SqlRow& r);
pb::Grant ToProto(const GrantRecord& g);

// ---- the outbox
// The id of this service's database, created on first call.
absl::StatusOr<std::string> LoadInstanceId(SqlConnection& c,
                                           const std::string& fresh_id);
struct NewGrant {
  int64_t application_id = 0;
  std::string programme_code, term, member_id, member_region, request_id;
  std::string payload;  // encrypted CreateEntitlementRequest
  std::string originator_subject;
  int64_t now_ms = 0;
};
// True when added; false when (application, programme, term) was queued.
absl::StatusOr<bool> InsertGrant(SqlConnection& c, const NewGrant& g);
// A pending row due for delivery.
struct DueGrant {
  int64_t id = 0;
  std::string request_id, payload;
  int64_t attempts = 0;
  std::string originator_subject;
};
absl::StatusOr<std::vector<DueGrant>> DueGrants(SqlConnection& c,
                                                int64_t now_ms, int64_t limit);
// Pending and rejected rows.
struct GrantCounts {
  int64_t pending = 0, rejected = 0;
};
absl::StatusOr<GrantCounts> CountOpenGrants(SqlConnection& c);
// Delivered as entitlement `entitlement_id` (unconditionally: the ledger
// holds it, whatever happened to the row meanwhile).
absl::Status MarkDelivered(SqlConnection& c, int64_t id, int64_t entitlement_id,
                           int64_t now_ms);
// Delivered: the ledger had the entitlement already.
absl::Status MarkAlreadyEntitled(SqlConnection& c, int64_t id, int64_t now_ms);
// Pending -> rejected without an attempt (the payload cannot be read).
absl::Status MarkUnreadable(SqlConnection& c, int64_t id);
// Pending -> rejected by the ledger.
absl::Status MarkRefused(SqlConnection& c, int64_t id,
                         const std::string& last_error,
                         const std::string& outcome);
// Pending: another attempt at `next_attempt_ms`.
absl::Status MarkRetry(SqlConnection& c, int64_t id, int64_t attempts,
                       const std::string& last_error, int64_t next_attempt_ms);

// ---- what the RPCs read and change
absl::StatusOr<std::vector<GrantRecord>> GrantsOfApplication(
    SqlConnection& c, int64_t application_id);
// The grants of any of `application_ids`, in id order.
absl::StatusOr<std::vector<GrantRecord>> GrantsOfApplications(
    SqlConnection& c, const std::vector<int64_t>& application_ids);
// Grants under the region prefix, of the application (0 = any), in the
// state (0 = any), of the school scope's majors.
struct GrantFilter {
  std::string region_prefix;
  int64_t application_id = 0;
  int64_t state = 0;
  SchoolScope school;
};
absl::StatusOr<std::vector<GrantRecord>> ListGrantPage(SqlConnection& c,
                                                       const GrantFilter& f,
                                                       int64_t after,
                                                       int64_t limit);
// Pending grants under the region prefix and school scope.
absl::StatusOr<int64_t> CountBacklog(SqlConnection& c,
                                     const std::string& region_prefix,
                                     const SchoolScope& school);
// Pending grants of a withdrawn application are never sent.
absl::Status CancelPendingGrants(SqlConnection& c, int64_t application_id);
// (state, member_region) of a grant; nullopt when there is none.
struct GrantScope {
  int64_t state = 0;
  std::string member_region;
};
absl::StatusOr<std::optional<GrantScope>> ReadGrantScope(SqlConnection& c,
                                                         int64_t id);
// Rejected -> pending, due now; the rows changed (0 or 1).
absl::StatusOr<int64_t> RequeueRejected(SqlConnection& c, int64_t id,
                                        int64_t now_ms);

}  // namespace eduaid::vocational

#endif  // EDUAID_SERVICES_VOCATIONAL_GRANT_STORE_H_
