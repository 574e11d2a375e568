// The transactional outbox of a visit's findings and follow-ups (回访).
// RecordVisit writes one visit_outbox row per delivery in the SAME
// transaction as the visit (visit_store.h), with a request id derived from
// the visit ("visit-<id>-f<i>", "visit-<id>-fu") and the request to send,
// encrypted (a new child's row carries an ID number). A background thread
// owned by FindingOutbox sends due rows to the registry or the ledger:
//   NOT_RECEIVED         -> ledger RecordFollowUp (opens one grievance)
//   NOT_IN_SCHOOL / HIGH -> registry OpenDropoutCase (an open case counts)
//   NEW_CHILD            -> registry ImportHouseholds, one row
//   LEFT_BEHIND / DISAB. -> registry ReportSpecialNeed
//   the visit's 回访      -> ledger GetHouseholds (the term's payments), then
//                           RecordFollowUp RECEIVED_IN_FULL per payment due
// A peer answers a repeated request id with its first answer, so a row
// sent twice (a lost reply, a crash between the call and the bookkeeping)
// acts once. Retryable failures back off (initial * 2^attempts, capped,
// +-20% jitter); a considered refusal marks the row FAILED until
// RetryFindings requeues it.
#ifndef EDUAID_SERVICES_TEACHER_FINDING_OUTBOX_H_
#define EDUAID_SERVICES_TEACHER_FINDING_OUTBOX_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "eduaid/ledger/v1/ledger.grpc.pb.h"
#include "eduaid/registry/v1/registry.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/common/crypto.h"
#include "services/common/peer.h"
#include "services/common/sql.h"
#include "services/teacher/visit_store.h"

namespace eduaid::teacher {

namespace lpb = ::eduaid::ledger::v1;
namespace rpb = ::eduaid::registry::v1;

inline constexpr char kCtxOutbox[] = "teacher.visit_outbox.payload";

struct FindingOutboxOptions {
  // Start the delivery thread with the service (tests may start it later
  // with TeacherSupport::StartFindingDelivery()).
  bool start = true;
  int batch = 50;
  // Idle wait between passes when nobody calls Notify().
  std::chrono::milliseconds poll{1000};
  std::chrono::milliseconds retry_initial{500};
  std::chrono::milliseconds retry_max{60000};
};

class FindingOutbox {
 public:
  // Everything referenced must outlive the outbox. Nothing runs until
  // Start().
  FindingOutbox(Database& db, const FieldCrypto& crypto,
                const PeerChannel& registry, const PeerChannel& ledger,
                prometheus::Registry& metrics, FindingOutboxOptions options);
  ~FindingOutbox();
  FindingOutbox(const FindingOutbox&) = delete;
  FindingOutbox& operator=(const FindingOutbox&) = delete;

  // Starts the delivery thread (once).
  void Start();
  // Cancels a call in flight and joins; undelivered rows wait for the next
  // start. Idempotent.
  void Stop();
  // Wakes the thread (after a commit that queued rows). Never blocks on I/O.
  void Notify();

  // The answer of one delivery: DELIVERED (target, result id), FAILED
  // (error) or a retryable failure (error).
  struct Outcome {
    enum Kind { kDelivered, kFailed, kRetry } kind = kRetry;
    std::string target;
    int64_t result_id = 0;
    std::string error;
  };

 private:
  void Loop();
  // Sends the due rows; true when the batch was full (run again at once).
  bool DeliverDue();
  Outcome Deliver(const DeliveryRecord& row, const std::string& payload);
  Outcome NotReceived(const std::string& payload);
  Outcome Dropout(const std::string& payload);
  Outcome NewChild(const std::string& payload);
  Outcome Special(const std::string& payload);
  Outcome FollowUps(const DeliveryRecord& row, const std::string& payload);
  // The ledger's payments to the household in the row's term.
  Outcome TermPayments(const DeliveryRecord& row,
                       lpb::HouseholdLedger* out);
  void Record(const DeliveryRecord& row, const Outcome& o);
  std::chrono::milliseconds Backoff(int64_t attempts);
  // A call context with the peer's deadline and token, registered for
  // cancellation by Stop(); false when stopping.
  bool Begin(grpc::ClientContext* ctx, const PeerChannel& peer);
  void End();
  void RefreshGauges();

  Database& db_;
  const FieldCrypto& crypto_;
  const PeerChannel& registry_;
  const PeerChannel& ledger_;
  const std::unique_ptr<rpb::StudentRegistryService::Stub> registry_stub_;
  const std::unique_ptr<lpb::SubsidyLedgerService::Stub> ledger_stub_;
  const FindingOutboxOptions options_;
  prometheus::Gauge& backlog_;
  prometheus::Gauge& failed_;
  prometheus::Family<prometheus::Counter>& deliveries_;

  absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* in_flight_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::thread thread_;
};

}  // namespace eduaid::teacher

#endif  // EDUAID_SERVICES_TEACHER_FINDING_OUTBOX_H_
