#include "services/ledger/group_commit.h"

#include <ctime>

#include "absl/strings/str_cat.h"
#include "services/common/crypto.h"
#include "services/common/idempotency.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"

namespace eduaid::ledger {
namespace {

// Errors that concern one change only: its savepoint is rolled back and
// the group goes on. Anything else means the database failed.
bool IsLocalError(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kAlreadyExists:
      return true;
    default:
      return false;
  }
}

}  // namespace

GroupCommitter::GroupCommitter(Database& db, const RequestLog& requests,
                               int max_group, prometheus::Histogram* group_size)
    : db_(db),
      requests_(requests),
      max_group_(static_cast<size_t>(max_group < 1 ? 1 : max_group)),
      group_size_(group_size) {}

absl::Status GroupCommitter::Run(
    const Principal& caller, absl::string_view method,
    absl::string_view request_id, const google::protobuf::Message& request,
    google::protobuf::Message* response,
    std::function<absl::Status(SqlConnection&)> mutate) {
  Job job;
  job.method = std::string(method);
  job.request_key = RequestLog::Key(caller, request_id);
  job.request_hash = MessageHash(request);
  job.response = response;
  job.mutate = std::move(mutate);

  absl::MutexLock lock(&mu_);
  queue_.push_back(&job);
  auto can_lead_or_done = [this, &job]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return job.done || !leader_active_;
  };
  mu_.Await(absl::Condition(&can_lead_or_done));
  while (!job.done) {
    // Leader: write the oldest waiting changes (ours among them, sooner or
    // later) in one transaction, without holding the queue lock.
    leader_active_ = true;
    std::deque<Job*> group;
    while (!queue_.empty() && group.size() < max_group_) {
      group.push_back(queue_.front());
      queue_.pop_front();
    }
    mu_.Unlock();
    CommitGroup(group);
    mu_.Lock();
    for (Job* j : group) j->done = true;
    leader_active_ = false;
  }
  return job.result;
}

void GroupCommitter::CommitGroup(std::deque<Job*>& group) {
  if (group_size_ != nullptr) {
    group_size_->Observe(static_cast<double>(group.size()));
  }
  absl::Status st = db_.Transact([&](SqlConnection& conn) -> absl::Status {
    for (Job* job : group) {
      if (absl::Status fatal = RunJob(conn, job); !fatal.ok()) return fatal;
    }
    return absl::OkStatus();
  });
  if (!st.ok()) {
    for (Job* job : group) {
      job->result = st;
      job->response->Clear();
    }
  }
}

absl::Status GroupCommitter::RunJob(SqlConnection& conn, Job* job) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    // Prepared statements (cached per connection), not scripts: a script
    // is parsed again on every call, twice per job.
    if (absl::Status s = conn.Execute("SAVEPOINT group_job").status();
        !s.ok()) {
      return s;
    }
    absl::Status result = Attempt(conn, job);
    if (result.ok()) {
      job->result = result;
      return conn.Execute("RELEASE SAVEPOINT group_job").status();
    }
    if (!IsLocalError(result)) return result;
    // Undo this change only; a failed rollback means the transaction is
    // gone, and with it the whole group.
    if (absl::Status s =
            conn.Execute("ROLLBACK TO SAVEPOINT group_job").status();
        !s.ok()) {
      return s;
    }
    if (absl::Status s = conn.Execute("RELEASE SAVEPOINT group_job").status();
        !s.ok()) {
      return s;
    }
    job->response->Clear();
    job->result = result;
    // A unique-key conflict without a reason means a concurrent transaction
    // (another replica) committed the same change first: look again, and
    // find its answer or the state it left.
    if (result.code() != absl::StatusCode::kAlreadyExists ||
        !ReasonOf(result).empty()) {
      break;
    }
  }
  return absl::OkStatus();
}

absl::Status GroupCommitter::Attempt(SqlConnection& conn, Job* job) {
  ASSIGN_OR_RETURN(const bool replayed,
                   requests_.Replay(conn, job->request_key, job->method,
                                    job->request_hash, job->response));
  if (replayed) return absl::OkStatus();
  job->response->Clear();
  RETURN_IF_ERROR(job->mutate(conn));
  return requests_.Store(conn, job->request_key, job->method, job->request_hash,
                         *job->response);
}

}  // namespace eduaid::ledger
