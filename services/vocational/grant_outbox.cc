#include "services/vocational/grant_outbox.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/log.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"

namespace eduaid::vocational {
namespace {

constexpr char kCtxPayload[] = "vocational.grant_outbox.payload";
constexpr int kMaxRequestId = 64;

// Failures a later attempt may cure: the ledger (or the way to it) is down,
// slow, overloaded or misconfigured. Everything else is the ledger's
// considered answer about this grant.
bool Retryable(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::ALREADY_EXISTS:
      return false;
    default:
      return true;
  }
}

// The failures that say the ledger cannot be reached at all: stop the pass
// instead of timing out on every remaining row.
bool Unreachable(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE ||
         code == grpc::StatusCode::DEADLINE_EXCEEDED ||
         code == grpc::StatusCode::CANCELLED ||
         code == grpc::StatusCode::RESOURCE_EXHAUSTED ||
         code == grpc::StatusCode::UNAUTHENTICATED ||
         code == grpc::StatusCode::PERMISSION_DENIED;
}

}  // namespace

GrantOutbox::GrantOutbox(Database& db, const FieldCrypto& crypto,
                         std::unique_ptr<PeerChannel> ledger,
                         prometheus::Registry& metrics,
                         GrantOutboxOptions options)
    : db_(db),
      crypto_(crypto),
      ledger_(std::move(ledger)),
      stub_(lpb::SubsidyLedgerService::NewStub(ledger_->channel())),
      options_(options),
      backlog_(prometheus::BuildGauge()
                   .Name("eduaid_vocational_outbox_backlog")
                   .Help("Grants written to the outbox and not yet delivered "
                         "to the ledger")
                   .Register(metrics)
                   .Add({})),
      rejected_(prometheus::BuildGauge()
                    .Name("eduaid_vocational_outbox_rejected")
                    .Help("Grants the ledger refused for good; each waits for "
                          "an operator (fix the cause, then RetryGrants)")
                    .Register(metrics)
                    .Add({})),
      deliveries_(prometheus::BuildCounter()
                      .Name("eduaid_vocational_grant_deliveries_total")
                      .Help("Attempts to deliver outbox grants to the ledger, "
                            "by result")
                      .Register(metrics)) {}

GrantOutbox::~GrantOutbox() { Stop(); }

absl::Status GrantOutbox::Start() {
  {
    absl::MutexLock lock(&mu_);
    if (started_) return absl::OkStatus();
  }
  std::string id;
  RETURN_IF_ERROR(db_.Transact([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(id, LoadInstanceId(c, RandomHex(4)));
    return absl::OkStatus();
  }));
  absl::MutexLock lock(&mu_);
  if (started_ || stopping_) return absl::OkStatus();
  instance_id_ = id;
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void GrantOutbox::Stop() {
  std::thread thread;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (in_flight_ != nullptr) in_flight_->TryCancel();
    thread = std::move(thread_);
  }
  if (thread.joinable()) thread.join();
}

void GrantOutbox::Notify() {
  absl::MutexLock lock(&mu_);
  wake_ = true;
}

std::string GrantOutbox::RequestIdFor(int64_t application_id,
                                      const std::string& programme_code,
                                      const std::string& term_key) const {
  std::string id = absl::StrCat("voc-", instance_id_, "-a", application_id, "-",
                                programme_code, "-", term_key);
  if (id.size() <= kMaxRequestId) return id;
  return absl::StrCat("voc-", instance_id_, "-",
                      Sha256Hex(id).substr(0, kMaxRequestId - 13));
}

absl::StatusOr<bool> GrantOutbox::Enqueue(
    SqlConnection& c, int64_t application_id, const std::string& member_region,
    const std::string& term_key, const std::string& originator_subject,
    lpb::CreateEntitlementRequest request) {
  if (instance_id_.empty()) {
    return absl::FailedPreconditionError("grant outbox not started");
  }
  request.set_request_id(
      RequestIdFor(application_id, request.programme_code(), term_key));
  request.set_originator_subject(originator_subject);
  NewGrant g;
  g.application_id = application_id;
  g.programme_code = request.programme_code();
  g.term = term_key;
  g.member_id = request.member_id();
  g.member_region = member_region;
  g.request_id = request.request_id();
  g.payload = crypto_.Encrypt(request.SerializeAsString(), kCtxPayload);
  g.originator_subject = originator_subject;
  g.now_ms = NowMs();
  return InsertGrant(c, g);
}

absl::StatusOr<int64_t> GrantOutbox::RefreshBacklog() {
  GrantCounts n;
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(n, CountOpenGrants(c));
    return absl::OkStatus();
  }));
  backlog_.Set(static_cast<double>(n.pending));
  rejected_.Set(static_cast<double>(n.rejected));
  return n.pending;
}
std::chrono::milliseconds GrantOutbox::Backoff(int64_t attempts) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  double ms = static_cast<double>(options_.retry_initial.count());
  for (int64_t i = 0; i < attempts && ms < options_.retry_max.count(); ++i) {
    ms *= 2;
  }
  ms = std::min(ms, static_cast<double>(options_.retry_max.count()));
  ms *= std::uniform_real_distribution<double>(0.8, 1.2)(rng);
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

absl::Status GrantOutbox::Mark(
    const std::function<absl::Status(SqlConnection&)>& write) {
  return db_.Transact(write);
}

GrantOutbox::Pass GrantOutbox::DeliverDue() {
  Pass pass;
  std::vector<DueGrant> rows;
  absl::Status st = db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(rows, DueGrants(c, NowMs(), int64_t{options_.batch}));
    return absl::OkStatus();
  });
  if (!st.ok()) {
    Log(LogLevel::kWarn, "grant outbox: cannot read due rows",
        {{"error", std::string(st.message())}});
    pass.ledger_down = true;  // back off: the database is the problem
    return pass;
  }
  for (const DueGrant& row : rows) {
    if (!DeliverOne(row, &pass)) break;
  }
  pass.more =
      !pass.ledger_down && static_cast<int>(rows.size()) == options_.batch;
  return pass;
}

bool GrantOutbox::DeliverOne(const DueGrant& row, Pass* pass) {
  const int64_t id = row.id;
  lpb::CreateEntitlementRequest req;
  auto plain = crypto_.Decrypt(row.payload, kCtxPayload);
  if (!plain.ok() || !req.ParseFromString(*plain)) {
    (void)Mark([id](SqlConnection& c) { return MarkUnreadable(c, id); });
    deliveries_.Add({{"result", "rejected"}}).Increment();
    return true;
  }
  req.set_request_id(row.request_id);
  // The column, not the payload, is authoritative: rows queued before it
  // existed carry the applying officer from the migration.
  req.set_originator_subject(row.originator_subject);
  lpb::CreateEntitlementResponse resp;
  grpc::ClientContext ctx;
  ledger_->Prepare(&ctx);
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return false;
    in_flight_ = &ctx;
  }
  grpc::Status call = stub_->CreateEntitlement(&ctx, req, &resp);
  bool stopping;
  {
    absl::MutexLock lock(&mu_);
    in_flight_ = nullptr;
    stopping = stopping_;
  }
  ++pass->sent;
  return RecordAnswer(row, call, resp, stopping, pass);
}

absl::Status GrantOutbox::MarkForRetry(const DueGrant& row,
                                       const grpc::Status& call,
                                       int64_t now_ms) {
  const int64_t attempts = row.attempts + 1;
  const int64_t next = now_ms + Backoff(attempts).count();
  const std::string error =
      absl::StrCat(GrpcCodeName(call.error_code()), ": ", call.error_message());
  absl::Status mark = Mark([&](SqlConnection& c) {
    return MarkRetry(c, row.id, attempts, error, next);
  });
  deliveries_.Add({{"result", "retry"}}).Increment();
  if (attempts == 1 || attempts % 10 == 0) {
    Log(LogLevel::kWarn, "grant delivery failed; will retry",
        {{"grant", std::to_string(row.id)},
         {"attempts", std::to_string(attempts)},
         {"code", GrpcCodeName(call.error_code())}});
  }
  return mark;
}

bool GrantOutbox::RecordAnswer(const DueGrant& row, const grpc::Status& call,
                               const lpb::CreateEntitlementResponse& resp,
                               bool stopping, Pass* pass) {
  const int64_t id = row.id;
  const absl::Status result = FromGrpcStatus(call);
  const int64_t now = NowMs();
  const std::string error =
      absl::StrCat(GrpcCodeName(call.error_code()), ": ", call.error_message());
  bool go_on = true;
  absl::Status mark;
  if (call.ok()) {
    const int64_t entitlement = resp.entitlement().entitlement_id();
    mark = Mark([&](SqlConnection& c) {
      return MarkDelivered(c, id, entitlement, now);
    });
    deliveries_.Add({{"result", "created"}}).Increment();
  } else if (call.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
             ReasonOf(result) == "ALREADY_ENTITLED") {
    mark =
        Mark([&](SqlConnection& c) { return MarkAlreadyEntitled(c, id, now); });
    deliveries_.Add({{"result", "already_entitled"}}).Increment();
  } else if (!Retryable(call.error_code())) {
    const std::string reason = ReasonOf(result);
    const std::string outcome =
        absl::StrCat("refused by the ledger",
                     reason.empty() ? "" : absl::StrCat(" (", reason, ")"));
    mark = Mark(
        [&](SqlConnection& c) { return MarkRefused(c, id, error, outcome); });
    deliveries_.Add({{"result", "rejected"}}).Increment();
    Log(LogLevel::kWarn, "grant refused by the ledger",
        {{"grant", std::to_string(id)},
         {"code", GrpcCodeName(call.error_code())},
         {"reason", reason}});
  } else {
    if (stopping) return false;  // our own cancellation: not the ledger's fault
    mark = MarkForRetry(row, call, now);
    if (Unreachable(call.error_code())) {
      pass->ledger_down = true;
      go_on = false;
    }
  }
  if (!mark.ok()) {
    // The row stays PENDING and is sent again with the same request id;
    // the ledger answers the repeat with its first answer.
    Log(LogLevel::kWarn, "grant outbox: cannot record a delivery",
        {{"grant", std::to_string(id)},
         {"error", std::string(mark.message())}});
  }
  return go_on;
}

void GrantOutbox::Loop() {
  int64_t down_passes = 0;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      wake_ = false;
    }
    Pass pass = DeliverDue();
    (void)RefreshBacklog();
    absl::MutexLock lock(&mu_);
    if (pass.ledger_down) {
      // Only Stop() cuts a backoff short: new grants must not hammer a
      // ledger that is down.
      auto wait = Backoff(down_passes++);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::FromChrono(wait));
      continue;
    }
    down_passes = 0;
    if (pass.more) continue;
    auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return wake_ || stopping_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&woken),
                         absl::FromChrono(options_.poll));
  }
}

}  // namespace eduaid::vocational
