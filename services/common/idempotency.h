// Request ids (AIP-155) for every mutating RPC: the first answer is stored in
// the same transaction as the change, so a repeat returns it; a repeat with
// a different payload is rejected.
#ifndef EDUAID_COMMON_IDEMPOTENCY_H_
#define EDUAID_COMMON_IDEMPOTENCY_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "services/common/sql.h"

namespace eduaid {

// The table; add to the service's migrations with a version of its own.
Migration RequestLogMigration(int version);

// An index on the records' age for PruneRequestLog (ServiceHost applies it
// to every service's database; it creates the table if missing).
Migration RequestLogRetentionMigration(int version);

// Deletes request records created before `before_unix` (in chunks, each
// its own short transaction, so the writer is never held long); returns
// how many went. A repeat of a pruned request id runs again as new, so
// keep records longer than any client retries (ServiceHost: 30 days).
absl::StatusOr<int64_t> PruneRequestLog(Database& db, int64_t before_unix);

// Runs `mutate` in one transaction of `db` unless `request_id` was seen:
// - first time: `mutate(conn)` fills `response`; on OK the response is
//   stored with a hash of `request` and the transaction commits; on error
//   nothing is stored (a retry may run again).
// - repeat with the same request: `response` is filled from the store and
//   `mutate` is not called.
// - repeat with a different request (or another method):
//   FAILED_PRECONDITION with reason REQUEST_ID_REUSED.
// `request` is hashed by its deterministic serialization.
absl::Status RunIdempotent(
    Database& db, absl::string_view method, absl::string_view request_id,
    const google::protobuf::Message& request,
    google::protobuf::Message* response,
    const std::function<absl::Status(SqlConnection&)>& mutate);

// Hash of a message's deterministic serialization (hex).
std::string MessageHash(const google::protobuf::Message& message);

}  // namespace eduaid

#endif  // EDUAID_COMMON_IDEMPOTENCY_H_
