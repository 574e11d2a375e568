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
#include "services/common/auth.h"
#include "services/common/crypto.h"
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

// The idempotency records of one service (AIP-155): a mutating call's
// first answer, stored in the same transaction as its change, so a repeat
// returns it. Records are keyed by the caller as well as the request id (a
// replay never returns another caller's answer, and nobody can claim a
// request id another caller will use), and the stored answer is encrypted
// under the service's data key, bound to its record key: request_log holds
// no personal data in clear. Thread-safe; `db` and `crypto` must outlive it.
class RequestLog {
 public:
  RequestLog(Database* db, const FieldCrypto* crypto);

  // Runs `mutate` in one transaction of the database unless `caller` sent
  // `request_id` before:
  // - first time: `mutate(conn)` fills `response`; on OK the response is
  //   stored with a hash of `request` and the transaction commits; on error
  //   nothing is stored (a retry may run again).
  // - repeat by the same caller with the same request: `response` is
  //   filled from the store and `mutate` is not called.
  // - repeat by the same caller with a different request (or for another
  //   method): FAILED_PRECONDITION with reason REQUEST_ID_REUSED.
  // - the same request id from another caller is another request.
  // DATA_LOSS when a stored answer does not decrypt (tampered, or the data
  // key was lost). `request` is hashed by its deterministic serialization.
  absl::Status Run(
      const Principal& caller, absl::string_view method,
      absl::string_view request_id, const google::protobuf::Message& request,
      google::protobuf::Message* response,
      const std::function<absl::Status(SqlConnection&)>& mutate) const;

  // The two halves of Run() for callers that manage the transaction
  // themselves (the ledger's group commit). Within an open transaction:
  // Replay() answers true and fills `response` when `key` was stored
  // (REQUEST_ID_REUSED when with another method or hash), false when not;
  // Store() records the answer.
  absl::StatusOr<bool> Replay(SqlConnection& conn, absl::string_view key,
                              absl::string_view method,
                              absl::string_view request_hash,
                              google::protobuf::Message* response) const;
  absl::Status Store(SqlConnection& conn, absl::string_view key,
                     absl::string_view method, absl::string_view request_hash,
                     const google::protobuf::Message& response) const;

  // True when `caller` has a stored answer for `request_id`.
  absl::StatusOr<bool> Seen(const Principal& caller,
                            absl::string_view request_id) const;

  // The record key of `request_id` sent by `caller`: a short hash of the
  // caller's subject, role, region and school, then the request id.
  static std::string Key(const Principal& caller, absl::string_view request_id);

 private:
  Database* db_;
  const FieldCrypto* crypto_;
};

// Removes the records written before they were bound to their caller and
// encrypted (they held answers in clear); ServiceHost applies it.
Migration RequestLogSealMigration(int version);

// Hash of a message's deterministic serialization (hex).
std::string MessageHash(const google::protobuf::Message& message);

}  // namespace eduaid

#endif  // EDUAID_COMMON_IDEMPOTENCY_H_
