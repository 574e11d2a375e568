// The audit log every service keeps in its own database: who called what,
// on which records, when, with what result; every change, every read of
// unmasked personal data, and every denial. Writes are batched off the
// request path by a background thread.
#ifndef EDUAID_COMMON_AUDIT_H_
#define EDUAID_COMMON_AUDIT_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/sql.h"

namespace eduaid {

struct AuditEvent {
  int64_t ts_ms = 0;
  std::string subject;
  std::string role;
  std::string region;  // the caller's scope
  std::string method;
  std::string records;  // record ids touched (never personal data in clear)
  std::string result;   // grpc code name, e.g. "OK", "PermissionDenied"
  bool personal_data = false;  // unmasked personal data was returned
};

class AuditLog {
 public:
  // The table; add to the service's migrations with a version of its own.
  static Migration TableMigration(int version);

  // `db` must outlive the log.
  explicit AuditLog(Database* db);
  ~AuditLog();  // flushes

  // Queues `event` (never blocks on the database).
  void Record(AuditEvent event);

  // Writes everything queued so far.
  void Flush();

  // Events newest first, optionally only those by callers whose scope starts
  // with `region_prefix` or for `method`; at most `limit`, with ids below
  // `before_id` when it is > 0. Returns (id, event) pairs.
  absl::StatusOr<std::vector<std::pair<int64_t, AuditEvent>>> Query(
      const std::string& region_prefix, const std::string& method,
      int64_t before_id, int limit);

 private:
  void Loop();
  absl::Status Write(std::vector<AuditEvent>& batch);
  Database* db_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<AuditEvent> queue_;             // guarded by mu_
  bool stopping_ = false;                     // guarded by mu_
  int64_t flushed_seq_ = 0, queued_seq_ = 0;  // guarded by mu_
  std::thread thread_;
};

}  // namespace eduaid

#endif  // EDUAID_COMMON_AUDIT_H_
