#include "services/vocational/grant_outbox.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/log.h"
#include "services/common/status.h"

namespace eduaid::vocational {
namespace {

constexpr char kCtxPayload[] = "vocational.grant_outbox.payload";
constexpr int kMaxRequestId = 64;

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

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
  absl::Status st = db_.Transact([&](SqlConnection& c) -> absl::Status {
    auto ins = c.Execute(
        "INSERT INTO meta(key, value) VALUES('instance_id', ?) "
        "ON CONFLICT(key) DO NOTHING",
        {RandomHex(4)});
    if (!ins.ok()) return ins.status();
    auto row = c.Query("SELECT value FROM meta WHERE key = 'instance_id'");
    if (!row.ok()) return row.status();
    if (row->empty()) return absl::InternalError("meta: instance_id missing");
    id = row->front().Str(0);
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
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
  const int64_t now = NowMs();
  auto ins = c.Execute(
      "INSERT INTO grant_outbox(application_id, programme_code, term, "
      "member_id, member_region, request_id, payload, state, attempts, "
      "next_attempt_ms, last_error, entitlement_id, outcome, created_at, "
      "delivered_at, originator_subject) "
      "VALUES(?,?,?,?,?,?,?,?,0,?,'',0,'',?,0,?) "
      "ON CONFLICT(application_id, programme_code, term) DO NOTHING",
      {application_id, request.programme_code(), term_key, request.member_id(),
       member_region, request.request_id(),
       crypto_.Encrypt(request.SerializeAsString(), kCtxPayload), kGrantPending,
       now, now, originator_subject});
  if (!ins.ok()) return ins.status();
  return *ins == 1;
}

absl::StatusOr<int64_t> GrantOutbox::RefreshBacklog() {
  int64_t pending = 0, rejected = 0;
  absl::Status st = db_.Read([&](SqlConnection& c) -> absl::Status {
    auto r = c.Query(
        "SELECT state, COUNT(*) FROM grant_outbox WHERE state IN (?, ?) "
        "GROUP BY state",
        {kGrantPending, kGrantRejected});
    if (!r.ok()) return r.status();
    for (const auto& row : *r) {
      (row.Int(0) == kGrantPending ? pending : rejected) = row.Int(1);
    }
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  backlog_.Set(static_cast<double>(pending));
  rejected_.Set(static_cast<double>(rejected));
  return pending;
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

absl::Status GrantOutbox::Mark(const char* sql, std::vector<SqlValue> params) {
  return db_.Transact([&](SqlConnection& c) -> absl::Status {
    return c.Execute(sql, params).status();
  });
}

GrantOutbox::Pass GrantOutbox::DeliverDue() {
  Pass pass;
  std::vector<SqlRow> rows;
  absl::Status st = db_.Read([&](SqlConnection& c) -> absl::Status {
    auto r = c.Query(
        "SELECT id, request_id, payload, attempts, originator_subject "
        "FROM grant_outbox "
        "WHERE state = ? AND next_attempt_ms <= ? ORDER BY id LIMIT ?",
        {kGrantPending, NowMs(), int64_t{options_.batch}});
    if (!r.ok()) return r.status();
    rows = std::move(*r);
    return absl::OkStatus();
  });
  if (!st.ok()) {
    Log(LogLevel::kWarn, "grant outbox: cannot read due rows",
        {{"error", std::string(st.message())}});
    pass.ledger_down = true;  // back off: the database is the problem
    return pass;
  }
  for (const SqlRow& row : rows) {
    const int64_t id = row.Int(0);
    lpb::CreateEntitlementRequest req;
    auto plain = crypto_.Decrypt(row.Str(2), kCtxPayload);
    if (!plain.ok() || !req.ParseFromString(*plain)) {
      (void)Mark(
          "UPDATE grant_outbox SET state = ?, last_error = ?, outcome = ? "
          "WHERE id = ? AND state = ?",
          {kGrantRejected, std::string("payload cannot be read (key?)"),
           std::string("not sent"), id, kGrantPending});
      deliveries_.Add({{"result", "rejected"}}).Increment();
      continue;
    }
    req.set_request_id(row.Str(1));
    // The column, not the payload, is authoritative: rows queued before it
    // existed carry the applying officer from the migration.
    req.set_originator_subject(row.Str(4));
    lpb::CreateEntitlementResponse resp;
    grpc::ClientContext ctx;
    ledger_->Prepare(&ctx);
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
      in_flight_ = &ctx;
    }
    grpc::Status call = stub_->CreateEntitlement(&ctx, req, &resp);
    bool stopping;
    {
      absl::MutexLock lock(&mu_);
      in_flight_ = nullptr;
      stopping = stopping_;
    }
    ++pass.sent;
    const absl::Status result = FromGrpcStatus(call);
    const int64_t now = NowMs();
    absl::Status mark;
    if (call.ok()) {
      // Unconditional: the ledger holds the entitlement now, whatever
      // happened to the row meanwhile (a withdrawal races a call in flight).
      mark = Mark(
          "UPDATE grant_outbox SET state = ?, entitlement_id = ?, outcome = ?, "
          "delivered_at = ?, attempts = attempts + 1, last_error = '' "
          "WHERE id = ?",
          {kGrantDelivered, resp.entitlement().entitlement_id(),
           std::string("created"), now, id});
      deliveries_.Add({{"result", "created"}}).Increment();
    } else if (call.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
               ReasonOf(result) == "ALREADY_ENTITLED") {
      mark = Mark(
          "UPDATE grant_outbox SET state = ?, outcome = ?, delivered_at = ?, "
          "attempts = attempts + 1, last_error = '' WHERE id = ?",
          {kGrantDelivered, std::string("already entitled in the ledger"), now,
           id});
      deliveries_.Add({{"result", "already_entitled"}}).Increment();
    } else if (!Retryable(call.error_code())) {
      std::string reason = ReasonOf(result);
      mark = Mark(
          "UPDATE grant_outbox SET state = ?, attempts = attempts + 1, "
          "last_error = ?, outcome = ? WHERE id = ? AND state = ?",
          {kGrantRejected,
           absl::StrCat(GrpcCodeName(call.error_code()), ": ",
                        call.error_message()),
           absl::StrCat("refused by the ledger",
                        reason.empty() ? "" : absl::StrCat(" (", reason, ")")),
           id, kGrantPending});
      deliveries_.Add({{"result", "rejected"}}).Increment();
      Log(LogLevel::kWarn, "grant refused by the ledger",
          {{"grant", std::to_string(id)},
           {"code", GrpcCodeName(call.error_code())},
           {"reason", reason}});
    } else {
      if (stopping) break;  // our own cancellation: not the ledger's fault
      const int64_t attempts = row.Int(3) + 1;
      mark = Mark(
          "UPDATE grant_outbox SET attempts = ?, last_error = ?, "
          "next_attempt_ms = ? WHERE id = ? AND state = ?",
          {attempts,
           absl::StrCat(GrpcCodeName(call.error_code()), ": ",
                        call.error_message()),
           now + Backoff(attempts).count(), id, kGrantPending});
      deliveries_.Add({{"result", "retry"}}).Increment();
      if (attempts == 1 || attempts % 10 == 0) {
        Log(LogLevel::kWarn, "grant delivery failed; will retry",
            {{"grant", std::to_string(id)},
             {"attempts", std::to_string(attempts)},
             {"code", GrpcCodeName(call.error_code())}});
      }
      if (Unreachable(call.error_code())) {
        pass.ledger_down = true;
        break;
      }
    }
    if (!mark.ok()) {
      // The row stays PENDING and is sent again with the same request id;
      // the ledger answers the repeat with its first answer.
      Log(LogLevel::kWarn, "grant outbox: cannot record a delivery",
          {{"grant", std::to_string(id)},
           {"error", std::string(mark.message())}});
    }
  }
  pass.more =
      !pass.ledger_down && static_cast<int>(rows.size()) == options_.batch;
  return pass;
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
