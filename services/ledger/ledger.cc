// The ledger: construction, start-up, and the helpers every topic file
// shares (personal data, the encrypted cache, records as the caller sees
// them). The RPCs are in ledger_<topic>.cc.
#include "services/ledger/ledger.h"

#include <algorithm>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "services/common/clients/registry_client.h"
#include "services/common/clock.h"
#include "services/common/crypto.h"
#include "services/common/log.h"
#include "services/common/peer.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/validate.h"
#include "services/ledger/batch_store.h"
#include "services/ledger/journal.h"
#include "services/ledger/ledger_internal.h"

namespace eduaid::ledger {

using internal::kCtxPayeeName;

namespace internal {

bool IsOfficer(const Principal& p) {
  return p.role == Role::kProvinceOfficer || p.role == Role::kCityOfficer ||
         p.role == Role::kCountyOfficer;
}

absl::Status RequireOfficerOrSchool(const Principal& p,
                                    absl::string_view school_code,
                                    absl::string_view action) {
  if (IsOfficer(p)) return absl::OkStatus();
  if (p.role == Role::kSchoolOfficer && p.CoversSchool(school_code)) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat("only officers, or the school's own officer, may ", action));
}

absl::Status RequireRecorder(const Principal& p, absl::string_view school_code,
                             absl::string_view action) {
  if (p.role == Role::kService) return absl::OkStatus();
  return RequireOfficerOrSchool(p, school_code, action);
}

absl::StatusOr<std::string> ScopeSchoolFilter(const Principal& p,
                                              absl::string_view requested) {
  if (p.role != Role::kSchoolOfficer) return std::string(requested);
  // A school officer is held to the school its token names; a token that
  // names none reaches no school (never every school).
  if (p.school.empty()) {
    return absl::PermissionDeniedError(
        "a school officer's token must name its school");
  }
  if (!requested.empty() && requested != p.school) {
    return absl::PermissionDeniedError(
        "a school officer sees only their own school");
  }
  return p.school;
}

}  // namespace internal

namespace {

prometheus::Histogram::BucketBoundaries BatchBuckets() {
  return {0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600};
}

}  // namespace

Ledger::Ledger(ServiceHost& host, LedgerOptions options)
    : host_(host),
      db_(host.db()),
      options_(std::move(options)),
      registry_channel_(
          host.Peer(options_.registry_target, options_.registry_deadline)),
      registry_(std::make_unique<RegistryClient>(*registry_channel_,
                                                 options_.registry_target)),
      group_commit_(host.db(), host.requests(), options_.max_group_commit,
                    &prometheus::BuildHistogram()
                         .Name("eduaid_ledger_group_commit_size")
                         .Help("Single payments committed per transaction")
                         .Register(host.metrics())
                         .Add({},
                              prometheus::Histogram::BucketBoundaries{
                                  1, 2, 4, 8, 16, 32, 64, 128, 256})),
      disbursed_fen_(prometheus::BuildCounter()
                         .Name("eduaid_ledger_disbursed_fen_total")
                         .Help("Fen disbursed, by programme and county")
                         .Register(host.metrics())),
      batch_duration_(prometheus::BuildHistogram()
                          .Name("eduaid_ledger_batch_duration_seconds")
                          .Help("From the start of a batch's execution to "
                                "its end, restarts included")
                          .Register(host.metrics())
                          .Add({}, BatchBuckets())),
      payment_failures_(prometheus::BuildCounter()
                            .Name("eduaid_ledger_payment_failures_total")
                            .Help("Payments that failed or were refused")
                            .Register(host.metrics())),
      verify_failures_(prometheus::BuildCounter()
                           .Name("eduaid_ledger_journal_verify_failures_total")
                           .Help("Journal verifications that found a broken "
                                 "link")
                           .Register(host.metrics())
                           .Add({})),
      journal_entries_(prometheus::BuildGauge()
                           .Name("eduaid_ledger_journal_entries")
                           .Help("Entries in the journal (its head id), as "
                                 "this process last saw it: an anchor kept "
                                 "outside the database")
                           .Register(host.metrics())
                           .Add({})),
      journal_head_prefix_(
          prometheus::BuildGauge()
              .Name("eduaid_ledger_journal_head_hash_prefix")
              .Help("The first 12 hex digits (48 bits) of the journal head's "
                    "hash as a number; with eduaid_ledger_journal_entries an "
                    "anchor for VerifyJournal")
              .Register(host.metrics())
              .Add({})) {
  // Every failure reason exists from the start, so that rate() and alerts
  // see a zero rather than no series.
  for (const char* reason :
       {"entitlement_cancelled", "refused", "error", "execution_error"}) {
    payment_failures_.Add({{"reason", reason}});
  }
}

Ledger::~Ledger() = default;

absl::Status Ledger::Start() {
  RETURN_IF_ERROR(db_.Transact([&](SqlConnection& c) -> absl::Status {
    if (c.dialect() == SqlDialect::kPostgres) {
      // Replicas starting together queue here ("eduaidlj").
      RETURN_IF_ERROR(
          c.Query("SELECT pg_advisory_xact_lock(7306093556742253418)")
              .status());
    }
    return c.ExecScript(JournalGuardsSql(c.dialect()));
  }));
  ASSIGN_OR_RETURN(pb::JournalAnchor anchor, LastRecordedAnchor());
  {
    absl::MutexLock lock(&anchor_mu_);
    last_anchor_ = std::move(anchor);
  }
  absl::Status st;
  // A journal that no longer extends its anchor is reported (log, metric,
  // audit, VerifyJournal) but does not stop the ledger from serving.
  {
    absl::MutexLock run(&anchor_run_mu_);
    st = AnchorJournal();
  }
  if (!st.ok() && st.code() != absl::StatusCode::kDataLoss) return st;
  std::vector<int64_t> resume;
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(resume, BatchIdsInState(c, pb::BATCH_STATE_EXECUTING));
    return absl::OkStatus();
  }));
  for (int64_t id : resume) {
    Log(LogLevel::kInfo, "resuming batch", {{"batch_id", absl::StrCat(id)}});
    ScheduleBatch(id);
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- helpers

std::string Ledger::Encrypt(absl::string_view value,
                            absl::string_view context) const {
  return host_.crypto().Encrypt(value, context);
}

std::string Ledger::Decrypt(absl::string_view value,
                            absl::string_view context) const {
  if (value.empty()) return "";
  auto plain = host_.crypto().Decrypt(value, context);
  return plain.ok() ? *plain : std::string("(unreadable)");
}

std::optional<std::string> Ledger::CacheGet(const std::string& key) {
  std::optional<std::string> sealed = host_.cache().Get(key);
  if (!sealed) return std::nullopt;
  auto plain = host_.crypto().Decrypt(
      *sealed, absl::StrCat(internal::kCtxCachePrefix, key));
  // A value written under another key, or tampered with: a miss; the
  // caller reloads from the database and overwrites it.
  if (!plain.ok()) return std::nullopt;
  return std::move(*plain);
}

void Ledger::CachePut(const std::string& key, absl::string_view value) {
  host_.cache().Set(key,
                    host_.crypto().Encrypt(
                        value, absl::StrCat(internal::kCtxCachePrefix, key)));
}

std::string Ledger::ShowName(CallContext& call,
                             const std::string& encrypted) const {
  const std::string name = Decrypt(encrypted, kCtxPayeeName);
  // Answers of mutating calls are kept for idempotent replay: never store
  // a name in clear there.
  if (call.mutating || !call.principal.SeesPersonalData()) {
    return MaskName(name);
  }
  call.personal_data = true;
  return name;
}

std::string Ledger::ShowText(CallContext& call,
                             const std::string& encrypted) const {
  if (encrypted.empty()) return "";
  if (!call.principal.SeesPersonalData()) return "(hidden)";
  // Answers of mutating calls are stored for replay: no free text there.
  if (call.mutating) return "(recorded)";
  call.personal_data = true;
  return Decrypt(encrypted, internal::kCtxNote);
}

// ---------------------------------------------------------------- records

absl::StatusOr<pb::Entitlement> Ledger::LoadEntitlement(
    SqlConnection& c, CallContext& call, int64_t entitlement_id) {
  ASSIGN_OR_RETURN(EntitlementRecord e,
                   LoadEntitlementRecord(c, entitlement_id));
  return EntitlementProto(c, call, e);
}

pb::Entitlement Ledger::EntitlementProto(SqlConnection& c, CallContext& call,
                                         const EntitlementRecord& r) {
  pb::Entitlement e;
  ToProto(r, &e);
  e.set_programme_name(ProgrammeName(c, r.standard_id));
  e.set_payee_name(ShowName(call, r.payee_name_enc));
  return e;
}

}  // namespace eduaid::ledger
