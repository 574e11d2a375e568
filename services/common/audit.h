// The audit log every service keeps in its own database: who called what,
// on which records, when, with what result; every change, every read of
// unmasked personal data, and every denial. Writes are batched off the
// request path by a background thread.
#ifndef EDUAID_COMMON_AUDIT_H_
#define EDUAID_COMMON_AUDIT_H_

#include <condition_variable>
#include <deque>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "services/common/auth.h"
#include "services/common/page_token.h"
#include "services/common/sql.h"
#include "services/common/status.h"
#include "services/common/validate.h"

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

  // Queues `event` (never blocks on the database). The queue is bounded
  // (kMaxQueued): past it the event is dropped and counted, and the count
  // is itself written as one event ("audit-overflow", records dropped=N)
  // and added to the drop counter.
  void Record(AuditEvent event);

  // A call refused before its caller was known (no or a bad token, or a
  // peer over its failure limit): counted per (peer, method, result) and
  // written as one event per key and flush ("(unauthenticated)", records
  // "peer=...,calls=N"), so a flood of bad tokens costs a few rows, not
  // one per call. At most kMaxDenialKeys keys are held; the rest are
  // counted under peer "(other)".
  void RecordDenial(absl::string_view peer, absl::string_view method,
                    absl::string_view result);

  // Counts dropped events in a metric (optional; set before use).
  void SetDropCounter(prometheus::Counter* counter) { drop_counter_ = counter; }

  static constexpr size_t kMaxQueued = 50000;
  static constexpr size_t kMaxDenialKeys = 1024;
  static constexpr size_t kMaxBatch = 1024;  // events a transaction

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
  // Turns the aggregated denials and the drop count into events.
  void DrainAggregates(std::vector<AuditEvent>& batch);
  std::deque<AuditEvent> queue_;              // guarded by mu_
  struct DenialKey {
    std::string peer, method, result;
    bool operator==(const DenialKey& o) const {
      return peer == o.peer && method == o.method && result == o.result;
    }
    template <typename H>
    friend H AbslHashValue(H h, const DenialKey& k) {
      return H::combine(std::move(h), k.peer, k.method, k.result);
    }
  };
  absl::flat_hash_map<DenialKey, int64_t> denials_;  // guarded by mu_
  int64_t dropped_ = 0;                              // guarded by mu_
  prometheus::Counter* drop_counter_ = nullptr;
  bool stopping_ = false;                     // guarded by mu_
  int64_t flushed_seq_ = 0, queued_seq_ = 0;  // guarded by mu_
  std::thread thread_;
};

// One page of the audit log for an auditor or a province officer, newest
// first, within the caller's region scope, optionally for one method; fills
// any service's ListAuditEventsResponse (whose events carry id, at, subject,
// role, region, method, records, result, personal_data). INVALID_ARGUMENT
// for a bad method filter, page size or page token; PERMISSION_DENIED for
// other roles.
template <class Response>
absl::Status ListAuditPage(AuditLog& log, const Principal& caller,
                           const std::string& method, int32_t page_size,
                           const std::string& page_token, Response* resp) {
  absl::Status st = CheckRole(caller, {Role::kAuditor, Role::kProvinceOfficer});
  if (!st.ok()) return st;
  st = ValidateText("method", method, 64, /*required=*/false);
  if (!st.ok()) return st;
  auto size = ValidatePageSize("page_size", page_size, 100, 1000);
  if (!size.ok()) return size.status();
  const std::string filters = "audit|" + caller.region + "|" + method;
  auto cursor = DecodePageToken(page_token, filters);
  if (!cursor.ok()) return cursor.status();
  int64_t before = 0;
  if (!cursor->empty() && !absl::SimpleAtoi(*cursor, &before)) {
    return InvalidField("page_token", "is not a token this service issued");
  }
  log.Flush();
  auto events = log.Query(caller.region, method, before, *size + 1);
  if (!events.ok()) return events.status();
  for (size_t i = 0; i < events->size() && i < static_cast<size_t>(*size);
       ++i) {
    const auto& [id, e] = (*events)[i];
    auto* out = resp->add_events();
    out->set_id(id);
    out->set_at(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ",
                                 absl::FromUnixMillis(e.ts_ms),
                                 absl::UTCTimeZone()));
    out->set_subject(e.subject);
    out->set_role(e.role);
    out->set_region(e.region);
    out->set_method(e.method);
    out->set_records(e.records);
    out->set_result(e.result);
    out->set_personal_data(e.personal_data);
  }
  if (events->size() > static_cast<size_t>(*size)) {
    resp->set_next_page_token(
        EncodePageToken(std::to_string(resp->events(*size - 1).id()), filters));
  }
  return absl::OkStatus();
}

}  // namespace eduaid

#endif  // EDUAID_COMMON_AUDIT_H_
