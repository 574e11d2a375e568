// The transactional outbox of ledger grants. An enrolment writes one outbox
// row per (application, programme, term) in the SAME transaction as the
// enrolment itself, so a grant is never lost and never raised for an
// enrolment that rolled back. A background thread owned by GrantOutbox
// delivers due rows to the ledger's CreateEntitlement with a request id
// that is fixed per row, retrying with exponential backoff while the
// ledger is unreachable. The ledger answers a repeated request id with its
// first answer and refuses a second entitlement of the same (member,
// programme, term), so a row sent twice (a lost reply, a crash between the
// call and the bookkeeping, two replicas racing) is applied once.
//
// The payload (which carries the payee's name) is stored encrypted.
#ifndef EDUAID_SERVICES_VOCATIONAL_GRANT_OUTBOX_H_
#define EDUAID_SERVICES_VOCATIONAL_GRANT_OUTBOX_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "eduaid/ledger/v1/ledger.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/common/crypto.h"
#include "services/common/peer.h"
#include "services/common/sql.h"
#include "services/vocational/grant_store.h"

namespace eduaid::vocational {

namespace lpb = ::eduaid::ledger::v1;

struct GrantOutboxOptions {
  // Rows sent per pass.
  int batch = 50;
  // Idle wait between passes when nothing is due and nobody calls Notify().
  std::chrono::milliseconds poll{1000};
  // Backoff of a row after a retryable failure: initial * 2^attempts,
  // capped, with +-20% jitter; the same bounds pace the whole loop while
  // the ledger is unreachable.
  std::chrono::milliseconds retry_initial{250};
  std::chrono::milliseconds retry_max{30000};
};

class GrantOutbox {
 public:
  // `db`, `crypto` and `metrics` must outlive the outbox; `ledger` is the
  // channel to the ledger (owned). Nothing runs until Start().
  GrantOutbox(Database& db, const FieldCrypto& crypto,
              std::unique_ptr<PeerChannel> ledger,
              prometheus::Registry& metrics, GrantOutboxOptions options);
  // Stops the delivery thread (see Stop()).
  ~GrantOutbox();
  GrantOutbox(const GrantOutbox&) = delete;
  GrantOutbox& operator=(const GrantOutbox&) = delete;

  // Loads (creating it on first start) the id of this service's database,
  // which makes request ids unique across deployments sharing a ledger,
  // sets the backlog gauge and starts the delivery thread. UNAVAILABLE when
  // the database cannot be reached. Call once.
  absl::Status Start();

  // Stops the delivery thread: cancels a call in flight and joins. Rows
  // not yet delivered stay in the outbox for the next start. Idempotent;
  // thread-safe.
  void Stop();

  // Wakes the delivery thread (call after a transaction that queued rows
  // committed). Thread-safe; never blocks on I/O.
  void Notify();

  // Inside the caller's transaction `c`: queues `request` (its request_id
  // and originator_subject are set here) as the grant of `programme_code`
  // for `application_id` in `term_key`, unless that grant was queued
  // before. Returns true when a row was added. `member_region` scopes the
  // row for lists; `originator_subject` is the officer whose call caused
  // the grant, stored with the row and sent to the ledger, which then
  // refuses that person as its payer. Requires Start() to have succeeded
  // (FAILED_PRECONDITION otherwise).
  absl::StatusOr<bool> Enqueue(SqlConnection& c, int64_t application_id,
                               const std::string& member_region,
                               const std::string& term_key,
                               const std::string& originator_subject,
                               lpb::CreateEntitlementRequest request);

  // The request id of the grant of (application, programme, term): the
  // same on every attempt. Requires Start().
  std::string RequestIdFor(int64_t application_id,
                           const std::string& programme_code,
                           const std::string& term_key) const;

  // Counts PENDING rows and sets eduaid_vocational_outbox_backlog (and
  // REJECTED rows, eduaid_vocational_outbox_rejected). Returns the backlog.
  absl::StatusOr<int64_t> RefreshBacklog();

 private:
  struct Pass {
    int sent = 0;
    bool more = false;         // a full batch was due: run again at once
    bool ledger_down = false;  // a retryable failure stopped the pass
  };
  void Loop();
  Pass DeliverDue();
  // Sends one due row; false when the pass must stop (stopping, or the
  // ledger cannot be reached).
  bool DeliverOne(const DueGrant& row, Pass* pass);
  // Records the ledger's answer `call` to row `row`; false as DeliverOne.
  bool RecordAnswer(const DueGrant& row, const grpc::Status& call,
                    const lpb::CreateEntitlementResponse& resp, bool stopping,
                    Pass* pass);
  // A retryable failure: the row waits its backoff (counted and logged).
  absl::Status MarkForRetry(const DueGrant& row, const grpc::Status& call,
                            int64_t now_ms);
  // Backoff after `attempts` failures, with jitter.
  std::chrono::milliseconds Backoff(int64_t attempts);
  // Runs one bookkeeping write (a grant_store Mark*) in its own
  // transaction.
  absl::Status Mark(const std::function<absl::Status(SqlConnection&)>& write);

  Database& db_;
  const FieldCrypto& crypto_;
  const std::unique_ptr<PeerChannel> ledger_;
  const std::unique_ptr<lpb::SubsidyLedgerService::Stub> stub_;
  const GrantOutboxOptions options_;

  prometheus::Gauge& backlog_;
  prometheus::Gauge& rejected_;
  prometheus::Family<prometheus::Counter>& deliveries_;

  // Set once by Start() before the thread runs; read-only afterwards.
  std::string instance_id_;

  absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  // The ledger call in flight, cancelled by Stop().
  grpc::ClientContext* in_flight_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::thread thread_ ABSL_GUARDED_BY(mu_);
};

}  // namespace eduaid::vocational

#endif  // EDUAID_SERVICES_VOCATIONAL_GRANT_OUTBOX_H_
