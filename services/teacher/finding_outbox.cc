#include "services/teacher/finding_outbox.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/log.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/term.h"
#include "services/teacher/finding_rules.h"

namespace eduaid::teacher {
namespace {

// A considered answer about this request; anything else may pass.
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

std::string ErrorOf(const grpc::Status& s) {
  return absl::StrCat(GrpcCodeName(s.error_code()), ": ", s.error_message());
}

FindingOutbox::Outcome Failure(const grpc::Status& s) {
  FindingOutbox::Outcome o;
  o.kind = Retryable(s.error_code()) ? FindingOutbox::Outcome::kRetry
                                     : FindingOutbox::Outcome::kFailed;
  o.error = ErrorOf(s);
  return o;
}

FindingOutbox::Outcome Done(std::string target, int64_t id = 0) {
  FindingOutbox::Outcome o;
  o.kind = FindingOutbox::Outcome::kDelivered;
  o.target = std::move(target);
  o.result_id = id;
  return o;
}

FindingOutbox::Outcome Unreadable() {
  FindingOutbox::Outcome o;
  o.kind = FindingOutbox::Outcome::kFailed;
  o.error = "the queued request cannot be read";
  return o;
}

}  // namespace

FindingOutbox::FindingOutbox(Database& db, const FieldCrypto& crypto,
                             const PeerChannel& registry,
                             const PeerChannel& ledger,
                             prometheus::Registry& metrics,
                             FindingOutboxOptions options)
    : db_(db),
      crypto_(crypto),
      registry_(registry),
      ledger_(ledger),
      registry_stub_(rpb::StudentRegistryService::NewStub(registry.channel())),
      ledger_stub_(lpb::SubsidyLedgerService::NewStub(ledger.channel())),
      options_(options),
      backlog_(prometheus::BuildGauge()
                   .Name("eduaid_teacher_finding_outbox_backlog")
                   .Help("Visit findings and follow-ups queued and not yet "
                         "delivered to the registry or the ledger")
                   .Register(metrics)
                   .Add({})),
      failed_(prometheus::BuildGauge()
                  .Name("eduaid_teacher_finding_outbox_failed")
                  .Help("Visit findings a peer refused; each waits for an "
                        "operator (fix the cause, then RetryFindings)")
                  .Register(metrics)
                  .Add({})),
      deliveries_(prometheus::BuildCounter()
                      .Name("eduaid_teacher_finding_deliveries_total")
                      .Help("Attempts to deliver visit findings, by result")
                      .Register(metrics)) {}

FindingOutbox::~FindingOutbox() { Stop(); }

void FindingOutbox::Start() {
  absl::MutexLock lock(&mu_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
}

void FindingOutbox::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (in_flight_ != nullptr) in_flight_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

void FindingOutbox::Notify() {
  absl::MutexLock lock(&mu_);
  wake_ = true;
}

bool FindingOutbox::Begin(grpc::ClientContext* ctx, const PeerChannel& peer) {
  peer.Prepare(ctx);
  absl::MutexLock lock(&mu_);
  if (stopping_) return false;
  in_flight_ = ctx;
  return true;
}

void FindingOutbox::End() {
  absl::MutexLock lock(&mu_);
  in_flight_ = nullptr;
}

std::chrono::milliseconds FindingOutbox::Backoff(int64_t attempts) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  double ms = static_cast<double>(options_.retry_initial.count());
  for (int64_t i = 0; i < attempts && ms < options_.retry_max.count(); ++i) {
    ms *= 2;
  }
  ms = std::min(ms, static_cast<double>(options_.retry_max.count()));
  ms *= std::uniform_real_distribution<double>(0.8, 1.2)(rng);
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

FindingOutbox::Outcome FindingOutbox::NotReceived(const std::string& payload) {
  lpb::RecordFollowUpRequest req;
  if (!req.ParseFromString(payload)) return Unreadable();
  lpb::RecordFollowUpResponse resp;
  grpc::ClientContext ctx;
  if (!Begin(&ctx, ledger_)) return Outcome{};
  grpc::Status s = ledger_stub_->RecordFollowUp(&ctx, req, &resp);
  End();
  if (!s.ok()) return Failure(s);
  std::string target =
      absl::StrCat("ledger follow-up ", resp.follow_up().follow_up_id());
  if (resp.grievance().grievance_id() != 0) {
    absl::StrAppend(&target, " / grievance ", resp.grievance().grievance_id());
  }
  return Done(target, resp.follow_up().follow_up_id());
}

FindingOutbox::Outcome FindingOutbox::Dropout(const std::string& payload) {
  rpb::OpenDropoutCaseRequest req;
  if (!req.ParseFromString(payload)) return Unreadable();
  rpb::OpenDropoutCaseResponse resp;
  grpc::ClientContext ctx;
  if (!Begin(&ctx, registry_)) return Outcome{};
  grpc::Status s = registry_stub_->OpenDropoutCase(&ctx, req, &resp);
  End();
  if (s.error_code() == grpc::StatusCode::ALREADY_EXISTS ||
      ReasonOf(FromGrpcStatus(s)) == "CASE_ALREADY_OPEN") {
    // The member already has an open case: the finding is that case's.
    return Done(absl::StrCat("registry dropout case already open (",
                             s.error_message(), ")"));
  }
  // NOT_OUT_OF_SCHOOL (the roster says enrolled) and the like: FAILED until
  // an officer fixes the record and calls RetryFindings.
  if (!s.ok()) return Failure(s);
  return Done(
      absl::StrCat("registry dropout case ", resp.dropout_case().case_id()),
      resp.dropout_case().case_id());
}

FindingOutbox::Outcome FindingOutbox::NewChild(const std::string& payload) {
  rpb::ImportHouseholdsRequest req;
  if (!req.ParseFromString(payload) || req.rows_size() != 1) {
    return Unreadable();
  }
  rpb::ImportHouseholdsResponse resp;
  grpc::ClientContext ctx;
  if (!Begin(&ctx, registry_)) return Outcome{};
  grpc::Status s = registry_stub_->ImportHouseholds(&ctx, req, &resp);
  End();
  if (!s.ok()) return Failure(s);
  if (resp.rejected_rows() > 0) {
    Outcome o;
    o.kind = Outcome::kFailed;
    o.error = "the registry refused the row";
    for (const auto& e : resp.errors()) {
      absl::StrAppend(&o.error, ": ", e.field(), " ", e.rule());
    }
    return o;
  }
  return Done(absl::StrCat("registry member of household ",
                           req.rows(0).household_id(),
                           resp.members_created() > 0 ? " (new)"
                                                      : " (already known)"));
}

FindingOutbox::Outcome FindingOutbox::Special(const std::string& payload) {
  rpb::ReportSpecialNeedRequest req;
  if (!req.ParseFromString(payload)) return Unreadable();
  rpb::ReportSpecialNeedResponse resp;
  grpc::ClientContext ctx;
  if (!Begin(&ctx, registry_)) return Outcome{};
  grpc::Status s = registry_stub_->ReportSpecialNeed(&ctx, req, &resp);
  End();
  if (!s.ok()) return Failure(s);
  return Done(absl::StrCat(
      "registry ",
      req.need() == rpb::SPECIAL_NEED_LEFT_BEHIND ? "left-behind record"
                                                  : "disability record",
      " of ", req.member_id(), resp.created() ? " (new)" : " (for review)"));
}

FindingOutbox::Outcome FindingOutbox::TermPayments(const DeliveryRecord& row,
                                                   lpb::HouseholdLedger* out) {
  lpb::GetHouseholdsRequest req;
  req.add_household_ids(row.household_id);
  if (auto term = ParseTermKey(row.term_key)) *req.mutable_term() = *term;
  lpb::GetHouseholdsResponse resp;
  grpc::ClientContext ctx;
  if (!Begin(&ctx, ledger_)) return Outcome{};
  grpc::Status s = ledger_stub_->GetHouseholds(&ctx, req, &resp);
  End();
  if (!s.ok()) return Failure(s);
  if (resp.households_size() == 0) {
    Outcome o;
    o.kind = Outcome::kFailed;
    o.error = "the ledger does not know the household";
    return o;
  }
  *out = resp.households(0);
  return Done("");
}

FindingOutbox::Outcome FindingOutbox::FollowUps(const DeliveryRecord& row,
                                                const std::string& payload) {
  lpb::RecordFollowUpRequest tmpl;
  if (!tmpl.ParseFromString(payload)) return Unreadable();
  lpb::HouseholdLedger ledger;
  Outcome read = TermPayments(row, &ledger);
  if (read.kind != Outcome::kDelivered) return read;
  std::vector<int64_t> excluded;
  absl::Status st = db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(excluded, FindingPaymentIds(c, row.visit_id));
    return absl::OkStatus();
  });
  if (!st.ok()) return Outcome{Outcome::kRetry, "", 0, std::string(st.message())};
  const auto due = FollowUpsDue(TermPaymentsOf(ledger), tmpl.visited_on(),
                                excluded, tmpl.source_ref());
  int done = 0;
  std::string refused;
  for (const TermPayment& p : due) {
    lpb::RecordFollowUpRequest req = tmpl;
    req.set_request_id(absl::StrCat(row.request_id, "-p", p.payment_id));
    req.set_payment_id(p.payment_id);
    lpb::RecordFollowUpResponse resp;
    grpc::ClientContext ctx;
    if (!Begin(&ctx, ledger_)) return Outcome{};
    grpc::Status s = ledger_stub_->RecordFollowUp(&ctx, req, &resp);
    End();
    if (!s.ok() && Retryable(s.error_code())) return Failure(s);
    if (!s.ok()) {  // e.g. followed up by hand meanwhile: not this visit's
      absl::StrAppend(&refused, " payment ", p.payment_id, ": ", ErrorOf(s));
      continue;
    }
    FollowUpRecord f{row.visit_id, p.payment_id, p.member_id, p.programme_code,
                     resp.follow_up().follow_up_id()};
    st = db_.Transact([&](SqlConnection& c) { return InsertFollowUp(c, f); });
    if (!st.ok()) return Outcome{Outcome::kRetry, "", 0, std::string(st.message())};
    ++done;
  }
  Outcome o = Done(absl::StrCat("ledger follow-ups of ", done, " payment",
                                done == 1 ? "" : "s"));
  o.error = refused;
  return o;
}

FindingOutbox::Outcome FindingOutbox::Deliver(const DeliveryRecord& row,
                                              const std::string& payload) {
  switch (static_cast<Route>(row.route)) {
    case Route::kLedgerNotReceived:
      return NotReceived(payload);
    case Route::kRegistryDropout:
      return Dropout(payload);
    case Route::kRegistryNewChild:
      return NewChild(payload);
    case Route::kRegistrySpecial:
      return Special(payload);
    case Route::kLedgerFollowUps:
      return FollowUps(row, payload);
  }
  return Unreadable();
}

void FindingOutbox::Record(const DeliveryRecord& row, const Outcome& o) {
  const int64_t now = NowMs();
  absl::Status st = db_.Transact([&](SqlConnection& c) -> absl::Status {
    switch (o.kind) {
      case Outcome::kDelivered:
        return MarkDeliveryDone(c, row.id, o.target, o.result_id, now);
      case Outcome::kFailed:
        return MarkDeliveryFailed(c, row.id, o.error, now);
      case Outcome::kRetry:
        return MarkDeliveryRetry(c, row.id, row.attempts + 1, o.error,
                                 now + Backoff(row.attempts + 1).count());
    }
    return absl::OkStatus();
  });
  const char* result = o.kind == Outcome::kDelivered ? "delivered"
                       : o.kind == Outcome::kFailed  ? "failed"
                                                     : "retry";
  deliveries_.Add({{"result", result}}).Increment();
  if (o.kind != Outcome::kDelivered &&
      (row.attempts == 0 || (row.attempts + 1) % 10 == 0)) {
    Log(LogLevel::kWarn, "visit finding not delivered",
        {{"request_id", row.request_id}, {"result", result},
         {"error", o.error}});
  }
  if (!st.ok()) {
    // The row stays PENDING and goes again with the same request id.
    Log(LogLevel::kWarn, "finding outbox: cannot record a delivery",
        {{"request_id", row.request_id}, {"error", std::string(st.message())}});
  }
}

bool FindingOutbox::DeliverDue() {
  std::vector<DeliveryRecord> rows;
  absl::Status st = db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(rows, DueDeliveries(c, NowMs(), options_.batch));
    return absl::OkStatus();
  });
  if (!st.ok()) return false;
  for (const DeliveryRecord& row : rows) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return false;
    }
    auto plain = crypto_.Decrypt(row.payload_enc, kCtxOutbox);
    Outcome o = plain.ok() ? Deliver(row, *plain) : Unreadable();
    {
      absl::MutexLock lock(&mu_);
      if (stopping_ && o.kind == Outcome::kRetry) return false;
    }
    Record(row, o);
  }
  return static_cast<int>(rows.size()) == options_.batch;
}

void FindingOutbox::RefreshGauges() {
  (void)db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(const DeliveryCounts n, CountOpenDeliveries(c));
    backlog_.Set(static_cast<double>(n.pending));
    failed_.Set(static_cast<double>(n.failed));
    return absl::OkStatus();
  });
}

void FindingOutbox::Loop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      wake_ = false;
    }
    const bool more = DeliverDue();
    RefreshGauges();
    if (more) continue;
    absl::MutexLock lock(&mu_);
    auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return wake_ || stopping_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&woken),
                         absl::FromChrono(options_.poll));
  }
}

}  // namespace eduaid::teacher
