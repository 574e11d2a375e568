// The subsidy ledger's logic: policy, entitlements, batches, payments, the
// journal, notices and their chain, reports and postings. Built in-process
// by tests; served by LedgerService.
//
// Thread-safe: every method may run concurrently on the worker pool.
// Money is int64 fen throughout. Payee names and free-text notes are stored
// only encrypted (FieldCrypto) and masked for roles that may not see them.
//
// Each RPC method: OK fills `resp`. INVALID_ARGUMENT names the field and
// the rule; PERMISSION_DENIED for records outside the caller's region or a
// role that may not act; NOT_FOUND for an unknown id; FAILED_PRECONDITION
// with a reason (ReasonOf) when state forbids the change or a request_id is
// reused; UNAVAILABLE when the database or the registry cannot be reached
// (nothing was stored, a retry may succeed).
#ifndef EDUAID_SERVICES_LEDGER_LEDGER_H_
#define EDUAID_SERVICES_LEDGER_LEDGER_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "eduaid/ledger/v1/ledger.pb.h"
#include "eduaid/registry/v1/registry.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "services/common/call_context.h"
#include "services/common/sql.h"
#include "services/ledger/entitlement_store.h"
#include "services/ledger/grievance_store.h"
#include "services/ledger/group_commit.h"
#include "services/ledger/journal.h"
#include "services/ledger/notice_store.h"
#include "services/ledger/payment_store.h"
#include "services/ledger/policy.h"

namespace eduaid {
class Database;
class PeerChannel;
class RegistryClient;
class ServiceHost;
}  // namespace eduaid

namespace eduaid::ledger {

namespace rpb = ::eduaid::registry::v1;

// Schema migrations of the ledger database.
std::vector<Migration> Migrations();

struct LedgerOptions {
  // The registry peer (host:port or a gRPC target).
  std::string registry_target = "127.0.0.1:50051";
  // Deadline of each call to the registry.
  std::chrono::milliseconds registry_deadline{10000};
  // Payments per transaction when a batch executes. Each chunk rewrites the
  // same few index and journal pages, so larger chunks write (and fsync)
  // less; 5000 holds the writer for about 50 ms.
  int execute_chunk_size = 5000;
  // Pause between chunks, leaving the writer to online traffic (and letting
  // tests stop the server in the middle of a batch). 0 = none.
  int execute_chunk_pause_ms = 0;
  // Single payments sharing one transaction at most.
  int max_group_commit = 256;
  // The journal's head is anchored outside its table (audit log, a log
  // line) at start, at the end of every batch, and after other appends at
  // most this often.
  std::chrono::milliseconds journal_anchor_interval{60000};
};

class Ledger {
 public:
  // `host` must outlive the ledger, and its worker pool must be stopped
  // (the host destroyed) before the ledger is: batch execution runs there.
  Ledger(ServiceHost& host, LedgerOptions options);
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Installs the journal's append-only guards and resumes every batch left
  // EXECUTING (by a crash or a shutdown). Call once before serving.
  absl::Status Start();

  // Loads a policy file as the system principal (start-up). Idempotent;
  // FAILED_PRECONDITION (STANDARD_IMMUTABLE) when the file changes a
  // standard already loaded; NOT_FOUND / INVALID_ARGUMENT for a missing or
  // malformed file.
  absl::Status LoadPolicyFile(const std::string& path,
                              pb::LoadPolicyResponse* resp);

  // ---- RPCs. Each method's success and its errors are documented on the
  // RPC of the same name in protos/eduaid/ledger/v1/ledger.proto; the error
  // codes follow the class comment. Mutating methods require `request_id`
  // and are idempotent by it; reads apply the caller's region (and school)
  // scope to every record and list.
  absl::Status LoadPolicy(CallContext& call, const pb::LoadPolicyRequest& req,
                          pb::LoadPolicyResponse* resp);
  absl::Status ListProgrammes(CallContext& call,
                              const pb::ListProgrammesRequest& req,
                              pb::ListProgrammesResponse* resp);
  absl::Status GenerateEntitlements(CallContext& call,
                                    const pb::GenerateEntitlementsRequest& req,
                                    pb::GenerateEntitlementsResponse* resp);
  absl::Status CreateEntitlement(CallContext& call,
                                 const pb::CreateEntitlementRequest& req,
                                 pb::CreateEntitlementResponse* resp);
  absl::Status ListEntitlements(CallContext& call,
                                const pb::ListEntitlementsRequest& req,
                                pb::ListEntitlementsResponse* resp);
  absl::Status CancelEntitlement(CallContext& call,
                                 const pb::CancelEntitlementRequest& req,
                                 pb::CancelEntitlementResponse* resp);
  absl::Status CreateBatch(CallContext& call, const pb::CreateBatchRequest& req,
                           pb::CreateBatchResponse* resp);
  absl::Status ApproveBatch(CallContext& call,
                            const pb::ApproveBatchRequest& req,
                            pb::ApproveBatchResponse* resp);
  absl::Status ExecuteBatch(CallContext& call,
                            const pb::ExecuteBatchRequest& req,
                            pb::ExecuteBatchResponse* resp);
  absl::Status CancelBatch(CallContext& call, const pb::CancelBatchRequest& req,
                           pb::CancelBatchResponse* resp);
  absl::Status GetBatch(CallContext& call, const pb::GetBatchRequest& req,
                        pb::GetBatchResponse* resp);
  absl::Status ListBatches(CallContext& call, const pb::ListBatchesRequest& req,
                           pb::ListBatchesResponse* resp);
  absl::Status DisburseEntitlement(CallContext& call,
                                   const pb::DisburseEntitlementRequest& req,
                                   pb::DisburseEntitlementResponse* resp);
  absl::Status ListPayments(CallContext& call,
                            const pb::ListPaymentsRequest& req,
                            pb::ListPaymentsResponse* resp);
  absl::Status ReversePayment(CallContext& call,
                              const pb::ReversePaymentRequest& req,
                              pb::ReversePaymentResponse* resp);
  absl::Status GetNotice(CallContext& call, const pb::GetNoticeRequest& req,
                         pb::GetNoticeResponse* resp);
  absl::Status AcknowledgeNotice(CallContext& call,
                                 const pb::AcknowledgeNoticeRequest& req,
                                 pb::AcknowledgeNoticeResponse* resp);
  absl::Status RecordFollowUp(CallContext& call,
                              const pb::RecordFollowUpRequest& req,
                              pb::RecordFollowUpResponse* resp);
  absl::Status OpenGrievance(CallContext& call,
                             const pb::OpenGrievanceRequest& req,
                             pb::OpenGrievanceResponse* resp);
  absl::Status ResolveGrievance(CallContext& call,
                                const pb::ResolveGrievanceRequest& req,
                                pb::ResolveGrievanceResponse* resp);
  absl::Status ListGrievances(CallContext& call,
                              const pb::ListGrievancesRequest& req,
                              pb::ListGrievancesResponse* resp);
  absl::Status GetPaymentChain(CallContext& call,
                               const pb::GetPaymentChainRequest& req,
                               pb::GetPaymentChainResponse* resp);
  absl::Status GetHouseholds(CallContext& call,
                             const pb::GetHouseholdsRequest& req,
                             pb::GetHouseholdsResponse* resp);
  absl::Status Reconcile(CallContext& call, const pb::ReconcileRequest& req,
                         pb::ReconcileResponse* resp);
  absl::Status CreatePosting(CallContext& call,
                             const pb::CreatePostingRequest& req,
                             pb::CreatePostingResponse* resp);
  absl::Status GetPosting(CallContext& call, const pb::GetPostingRequest& req,
                          pb::GetPostingResponse* resp);
  absl::Status FileObjection(CallContext& call,
                             const pb::FileObjectionRequest& req,
                             pb::FileObjectionResponse* resp);
  absl::Status VerifyJournal(CallContext& call,
                             const pb::VerifyJournalRequest& req,
                             pb::VerifyJournalResponse* resp);
  absl::Status GetTrialBalance(CallContext& call,
                               const pb::GetTrialBalanceRequest& req,
                               pb::GetTrialBalanceResponse* resp);
  absl::Status ListJournalEntries(CallContext& call,
                                  const pb::ListJournalEntriesRequest& req,
                                  pb::ListJournalEntriesResponse* resp);
  absl::Status ListAuditEvents(CallContext& call,
                               const pb::ListAuditEventsRequest& req,
                               pb::ListAuditEventsResponse* resp);

 private:
  // What paid payments added to the figures, counted after commit.
  struct Disbursed {
    // (programme, region) -> fen.
    std::map<std::pair<std::string, std::string>, int64_t> fen;
    int64_t failures = 0;
  };
  // The result of one chunk of a batch.
  struct ChunkResult {
    bool finished = false;
    int64_t started_at_ms = 0;
    int64_t finished_at_ms = 0;
    Disbursed disbursed;
    // The journal's head after the chunk.
    int64_t head_entries = 0;
    std::string head_hash;
  };
  // What the journal needs to know of a payment.
  struct PaymentRef {
    int64_t payment_id = 0;
    std::string member_id;
    std::string programme_code;
    std::string term;
    std::string region_code;
    std::string standard_id;
    int64_t amount_fen = 0;
  };

  // ---- policy (ledger_policy.cc)
  absl::Status ApplyPolicy(SqlConnection& c, const std::string& actor,
                           const pb::Policy& policy,
                           pb::LoadPolicyResponse* resp);
  // The immutable standard `id` (cached in-process forever, shared).
  absl::StatusOr<std::shared_ptr<const pb::ProgrammeStandard>> Standard(
      SqlConnection& c, const std::string& id);
  std::string ProgrammeName(SqlConnection& c, const std::string& standard_id);
  // Every standard (a read of its own).
  absl::StatusOr<std::vector<pb::ProgrammeStandard>> ReadStandards();

  // ---- registry (ledger_generation.cc)
  // Every enrolled registered student the registry lists under `region`
  // (and `stage` when set). The registry's errors through PeerError.
  absl::StatusOr<std::vector<rpb::Student>> FetchStudents(
      const std::string& region, cpb::SchoolStage stage);
  // Generation's writes for one student, counted into `resp` and `counts`.
  absl::Status GenerateForStudent(
      SqlConnection& c, CallContext& call, const rpb::Student& s,
      const std::vector<const pb::ProgrammeStandard*>& selected,
      const cpb::Term& term, int64_t now,
      std::map<std::string, pb::ProgrammeCount>& counts, int64_t& total,
      pb::GenerateEntitlementsResponse* resp);

  // ---- entitlements (ledger_entitlements.cc)
  absl::StatusOr<pb::Entitlement> InsertManualEntitlement(
      SqlConnection& c, CallContext& call,
      const pb::CreateEntitlementRequest& req, const std::string& originator);
  absl::StatusOr<pb::Entitlement> CancelEntitlementIn(
      SqlConnection& c, CallContext& call,
      const pb::CancelEntitlementRequest& req);

  // ---- reconciliation (ledger_reconcile.cc)
  // The state counts and sums of entitlements, payments and the journal.
  absl::Status ReconcileFigures(SqlConnection& c, const std::string& term,
                                const std::string& region,
                                pb::ReconcileResponse* resp);
  // The five gap lists.
  absl::Status ReconcileGaps(SqlConnection& c,
                             const std::vector<rpb::Student>& students,
                             const cpb::Term& term, const std::string& region,
                             const std::string& as_of, size_t max_items,
                             pb::ReconcileResponse* resp);

  // ---- batches (ledger_batches.cc)
  absl::StatusOr<pb::Batch> CreateBatchIn(SqlConnection& c, CallContext& call,
                                          const pb::CreateBatchRequest& req,
                                          const std::string& region);
  absl::StatusOr<pb::Batch> ApproveBatchIn(SqlConnection& c, CallContext& call,
                                           int64_t batch_id);
  absl::StatusOr<pb::Batch> CancelBatchIn(SqlConnection& c, CallContext& call,
                                          const pb::CancelBatchRequest& req);
  // Queues the next step of an EXECUTING batch on the worker pool unless
  // one is queued or running already.
  void ScheduleBatch(int64_t batch_id);
  void RunBatchStep(int64_t batch_id);
  // Pays the next chunk of PENDING payments in one transaction, or marks the
  // batch EXECUTED when none is left.
  absl::StatusOr<ChunkResult> ExecuteChunk(int64_t batch_id);
  absl::Status ExecuteChunkIn(SqlConnection& c, int64_t batch_id,
                              ChunkResult& out);
  void CountDisbursed(const Disbursed& d);

  // ---- payments (ledger_payments.cc)
  // Appends the accrual entries (one per funding source) and the
  // disbursement entry of one payment.
  absl::Status JournalPayment(SqlConnection& c, JournalAppender& journal,
                              const PaymentRef& payment, int64_t at_ms);
  // The single payment of DisburseEntitlement, in its transaction.
  absl::Status DisburseIn(SqlConnection& c, CallContext& call,
                          int64_t entitlement_id, Disbursed& disbursed,
                          pb::JournalAnchor& head, pb::Payment* out);
  absl::Status ReverseIn(SqlConnection& c, CallContext& call,
                         const pb::ReversePaymentRequest& req,
                         pb::JournalAnchor& head,
                         pb::ReversePaymentResponse* resp);
  absl::StatusOr<pb::Payment> LoadPayment(SqlConnection& c, CallContext& call,
                                          int64_t payment_id);
  // The record as the caller may see it (name shown or masked).
  pb::Payment PaymentProto(SqlConnection& c, CallContext& call,
                           const PaymentRecord& p);

  // ---- notices and follow-ups (ledger_notices.cc)
  // The notice of a paid (or reversed) payment, after the caller's region
  // and school checks.
  absl::StatusOr<pb::Notice> BuildNotice(SqlConnection& c, CallContext& call,
                                         int64_t payment_id);
  // The notice of a paid (or reversed) payment as the caller may see it.
  pb::Notice NoticeProto(SqlConnection& c, CallContext& call,
                         const NoticeFacts& f,
                         const std::optional<AckRecord>& ack);
  // The payment's place after the caller's checks for recording what
  // happened after it was paid (`action` completes "only ... may").
  absl::StatusOr<PaymentPlace> PaidPaymentFor(SqlConnection& c,
                                              CallContext& call,
                                              int64_t payment_id,
                                              absl::string_view action);
  absl::Status RecordFollowUpIn(SqlConnection& c, CallContext& call,
                                const pb::RecordFollowUpRequest& req,
                                pb::RecordFollowUpResponse* resp);
  absl::Status FillPaymentChain(SqlConnection& c, CallContext& call,
                                int64_t payment_id,
                                pb::GetPaymentChainResponse* resp);
  // A follow-up as the caller may see it (note shown or hidden).
  pb::FollowUp FollowUpProto(CallContext& call, const FollowUpRecord& f);

  // ---- households (ledger_households.cc)
  // Every record of the members of `households` (member id -> household
  // id) of `term` ("" = all), added to `out` (household id -> its answer).
  absl::Status FillHouseholds(
      SqlConnection& c, CallContext& call, const std::string& term,
      const std::map<std::string, std::string>& household_of,
      std::map<std::string, pb::HouseholdLedger>& out);

  // ---- grievances (ledger_grievances.cc)
  // Opens grievance `g` with `description` (stored encrypted) by the
  // caller.
  absl::StatusOr<pb::Grievance> InsertGrievance(SqlConnection& c,
                                                CallContext& call,
                                                GrievanceRecord g,
                                                const std::string& description);
  absl::StatusOr<pb::Grievance> OpenGrievanceIn(
      SqlConnection& c, CallContext& call, const pb::OpenGrievanceRequest& req);
  absl::StatusOr<pb::Grievance> LoadGrievance(SqlConnection& c,
                                              CallContext& call, int64_t id);
  pb::Grievance GrievanceProto(CallContext& call, const GrievanceRecord& g);
  absl::StatusOr<pb::Grievance> ResolveGrievanceIn(
      SqlConnection& c, CallContext& call,
      const pb::ResolveGrievanceRequest& req);

  // ---- postings (ledger_postings.cc)
  absl::StatusOr<pb::Posting> LoadPosting(SqlConnection& c, int64_t posting_id);
  absl::StatusOr<pb::Posting> CreatePostingIn(
      SqlConnection& c, CallContext& call, const pb::CreatePostingRequest& req,
      int objection_days);
  absl::StatusOr<pb::Grievance> FileObjectionIn(
      SqlConnection& c, CallContext& call, const pb::FileObjectionRequest& req);

  // ---- journal anchors and reports (ledger_journal.cc)
  // After a commit that appended to the journal (`entries`, `hash`: the
  // head it left): updates the gauges and, when `force` or the last anchor
  // is older than the interval, anchors the head (AnchorJournal). `force`
  // waits for a running anchor; otherwise a running one suffices.
  void NoteJournalHead(int64_t entries, const std::string& hash, bool force);
  // Records the database's journal head as an anchor (audit log event
  // kJournalAnchorMethod, a log line, the gauges) when it extends the last
  // anchor. DATA_LOSS when it does not (entries vanished or were
  // rewritten): logged, counted in the verify failures and recorded as a
  // failed anchor; the last good anchor stays.
  absl::Status AnchorJournal();
  // The largest of the newest anchors the audit log holds (entries 0 when
  // none).
  absl::StatusOr<pb::JournalAnchor> LastRecordedAnchor();
  // The anchors VerifyJournal checks: the request's, the audit log's and
  // this process's.
  absl::StatusOr<std::vector<pb::JournalAnchor>> AnchorsToVerify(
      const pb::VerifyJournalRequest& req);
  void SetHeadGauges(int64_t entries, const std::string& hash)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(anchor_mu_);

  // ---- records and personal data (ledger.cc)
  absl::StatusOr<pb::Entitlement> LoadEntitlement(SqlConnection& c,
                                                  CallContext& call,
                                                  int64_t entitlement_id);
  // The record as the caller may see it (name shown or masked).
  pb::Entitlement EntitlementProto(SqlConnection& c, CallContext& call,
                                   const EntitlementRecord& e);
  // Cache-aside through Redis with every value encrypted and bound to its
  // key (the key is the associated data): Redis never holds a value in
  // clear, and an entry copied under another key does not decrypt there
  // (a miss), so what a hit returns is what this ledger stored under that
  // key.
  std::optional<std::string> CacheGet(const std::string& key);
  void CachePut(const std::string& key, absl::string_view value);
  std::string Encrypt(absl::string_view value, absl::string_view context) const;
  std::string Decrypt(absl::string_view value, absl::string_view context) const;
  // A payee name for the caller: full for roles that see personal data in
  // reads (marking the call as such), masked otherwise and always in the
  // answers of mutating calls (which are stored for replay).
  std::string ShowName(CallContext& call, const std::string& encrypted) const;
  // Encrypted free text for the caller ("(hidden)" for agencies).
  std::string ShowText(CallContext& call, const std::string& encrypted) const;

  ServiceHost& host_;
  Database& db_;
  const LedgerOptions options_;
  std::unique_ptr<PeerChannel> registry_channel_;
  std::unique_ptr<RegistryClient> registry_;
  GroupCommitter group_commit_;

  prometheus::Family<prometheus::Counter>& disbursed_fen_;
  prometheus::Histogram& batch_duration_;
  prometheus::Family<prometheus::Counter>& payment_failures_;
  prometheus::Counter& verify_failures_;
  prometheus::Gauge& journal_entries_;
  prometheus::Gauge& journal_head_prefix_;

  // Held while an anchor is taken (one at a time per process).
  absl::Mutex anchor_run_mu_;
  absl::Mutex anchor_mu_;
  pb::JournalAnchor last_anchor_ ABSL_GUARDED_BY(anchor_mu_);
  int64_t last_anchor_ms_ ABSL_GUARDED_BY(anchor_mu_) = 0;
  int64_t gauge_entries_ ABSL_GUARDED_BY(anchor_mu_) = 0;

  absl::Mutex standards_mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const pb::ProgrammeStandard>>
      standards_ ABSL_GUARDED_BY(standards_mu_);

  absl::Mutex batches_mu_;
  // Batches with a step queued or running in this process.
  absl::flat_hash_set<int64_t> running_ ABSL_GUARDED_BY(batches_mu_);
};

}  // namespace eduaid::ledger

#endif  // EDUAID_SERVICES_LEDGER_LEDGER_H_
