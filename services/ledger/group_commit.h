// Group commit for idempotent single-record writes (the single-payment
// path): concurrent callers' changes share one transaction, and so one
// fsync, while each keeps the exactly-once contract of RequestLog::Run().
#ifndef EDUAID_SERVICES_LEDGER_GROUP_COMMIT_H_
#define EDUAID_SERVICES_LEDGER_GROUP_COMMIT_H_

#include <deque>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/message.h"
#include "prometheus/histogram.h"
#include "services/common/auth.h"
#include "services/common/idempotency.h"
#include "services/common/sql.h"

namespace eduaid::ledger {

// Thread-safe. Callers block in Run() until their change committed (or
// failed); one of the waiting callers acts as the leader that writes a
// whole group, as LevelDB's write queue does.
class GroupCommitter {
 public:
  // `db` and `requests` must outlive the committer. At most `max_group`
  // changes share a transaction. `group_size` (optional) observes the size
  // of each group.
  GroupCommitter(Database& db, const RequestLog& requests, int max_group,
                 prometheus::Histogram* group_size);

  // The contract of RequestLog::Run() (services/common/idempotency.h), on
  // the same request_log records (bound to `caller`, sealed):
  // - first time: `mutate(conn)` runs inside a savepoint of the group's
  //   transaction and fills `response`; on OK the response is stored with
  //   a hash of `request`. On a domain error (INVALID_ARGUMENT, NOT_FOUND,
  //   FAILED_PRECONDITION, PERMISSION_DENIED, OUT_OF_RANGE, ALREADY_EXISTS)
  //   the change is rolled back to its savepoint, nothing is stored, and the
  //   rest of the group goes on.
  // - repeat with the same request: `response` from the store.
  // - repeat with a different request: FAILED_PRECONDITION, reason
  //   REQUEST_ID_REUSED.
  // Any other error (the database failing) aborts the whole group's
  // transaction and every member of the group gets it: nothing of theirs
  // was stored, and a retry may succeed. OK is returned only after commit.
  absl::Status Run(const Principal& caller, absl::string_view method,
                   absl::string_view request_id,
                   const google::protobuf::Message& request,
                   google::protobuf::Message* response,
                   std::function<absl::Status(SqlConnection&)> mutate);

 private:
  struct Job {
    std::string method;
    std::string request_key;  // RequestLog::Key(caller, request_id)
    std::string request_hash;
    google::protobuf::Message* response = nullptr;
    std::function<absl::Status(SqlConnection&)> mutate;
    absl::Status result;
    bool done = false;
  };

  // Runs one job inside the open transaction, in its own savepoint. Returns
  // a non-OK status only for errors that must abort the whole group; the
  // job's own outcome goes to job->result.
  absl::Status RunJob(SqlConnection& conn, Job* job);
  // One attempt: look up the request log, else mutate and log.
  absl::Status Attempt(SqlConnection& conn, Job* job);
  void CommitGroup(std::deque<Job*>& group);

  Database& db_;
  const RequestLog& requests_;
  const size_t max_group_;
  prometheus::Histogram* const group_size_;
  absl::Mutex mu_;
  std::deque<Job*> queue_ ABSL_GUARDED_BY(mu_);
  bool leader_active_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace eduaid::ledger

#endif  // EDUAID_SERVICES_LEDGER_GROUP_COMMIT_H_
