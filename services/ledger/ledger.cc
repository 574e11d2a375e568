// The ledger: construction, start-up, shared helpers, policy, and the
// journal's reports (verification, trial balance, listing) and the audit.
#include "services/ledger/ledger.h"

#include <algorithm>
#include <map>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "services/common/crypto.h"
#include "services/common/idempotency.h"
#include "services/common/log.h"
#include "services/common/page_token.h"
#include "services/common/status.h"
#include "services/common/validate.h"
#include "services/ledger/journal.h"
#include "services/ledger/ledger_internal.h"

namespace eduaid::ledger {

using internal::kCtxPayeeName;

namespace internal {

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

std::string FormatTs(int64_t ms) {
  if (ms == 0) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

std::string DateCst(int64_t ms) {
  if (ms == 0) return "";
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixMillis(ms),
                          absl::FixedTimeZone(8 * 3600));
}

const char* StageLabel(cpb::SchoolStage stage) {
  switch (stage) {
    case cpb::SCHOOL_STAGE_PRESCHOOL:
      return "学前";
    case cpb::SCHOOL_STAGE_PRIMARY:
      return "小学";
    case cpb::SCHOOL_STAGE_JUNIOR_HIGH:
      return "初中";
    case cpb::SCHOOL_STAGE_SENIOR_HIGH:
      return "普通高中";
    case cpb::SCHOOL_STAGE_SECONDARY_VOCATIONAL:
      return "中职";
    case cpb::SCHOOL_STAGE_HIGHER:
      return "高等教育";
    default:
      return "";
  }
}

bool IsOfficer(const Principal& p) {
  return p.role == Role::kProvinceOfficer || p.role == Role::kCityOfficer ||
         p.role == Role::kCountyOfficer;
}

absl::Status RequireOfficer(const Principal& p, absl::string_view action) {
  if (IsOfficer(p)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("only province, city or county officers may ", action,
                   " (caller is ", RoleName(p.role), ")"));
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

absl::Status ValidateMemberId(absl::string_view field, absl::string_view id) {
  if (id.empty() || id.size() > 64) {
    return InvalidField(field, "must be 1..64 characters");
  }
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                    c == ':' || c == '-';
    if (!ok) return InvalidField(field, "must be of A-Z a-z 0-9 . _ : -");
  }
  return absl::OkStatus();
}

absl::Status ValidateRecordId(absl::string_view field, int64_t id) {
  if (id <= 0) return InvalidField(field, "must be a positive id");
  return absl::OkStatus();
}

}  // namespace internal

using internal::FormatTs;
using internal::NowMs;

namespace {

constexpr char kStandardsCacheEntity[] = "standards";

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
      registry_(
          rpb::StudentRegistryService::NewStub(registry_channel_->channel())),
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
  absl::Status st = db_.Transact([&](SqlConnection& c) -> absl::Status {
    if (c.dialect() == SqlDialect::kPostgres) {
      // Replicas starting together queue here ("eduaidlj").
      auto lock = c.Query("SELECT pg_advisory_xact_lock(7306093556742253418)");
      if (!lock.ok()) return lock.status();
    }
    return c.ExecScript(JournalGuardsSql(c.dialect()));
  });
  if (!st.ok()) return st;
  auto anchor = LastRecordedAnchor();
  if (!anchor.ok()) return anchor.status();
  {
    absl::MutexLock lock(&anchor_mu_);
    last_anchor_ = *anchor;
  }
  // A journal that no longer extends its anchor is reported (log, metric,
  // audit, VerifyJournal) but does not stop the ledger from serving.
  {
    absl::MutexLock run(&anchor_run_mu_);
    st = AnchorJournal();
  }
  if (!st.ok() && st.code() != absl::StatusCode::kDataLoss) return st;
  std::vector<int64_t> resume;
  st = db_.Read([&](SqlConnection& c) -> absl::Status {
    auto rows = c.Query("SELECT id FROM batches WHERE state = ? ORDER BY id",
                        {int64_t{pb::BATCH_STATE_EXECUTING}});
    if (!rows.ok()) return rows.status();
    for (const SqlRow& r : *rows) resume.push_back(r.Int(0));
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  for (int64_t id : resume) {
    Log(LogLevel::kInfo, "resuming batch", {{"batch_id", absl::StrCat(id)}});
    ScheduleBatch(id);
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- anchors

namespace {

// "journal:<entries>:<hash>" of an anchor audit event.
std::string AnchorRecord(const pb::JournalAnchor& a) {
  return absl::StrCat("journal:", a.entries(), ":", a.head_hash());
}

std::optional<pb::JournalAnchor> ParseAnchorRecord(absl::string_view record) {
  std::vector<absl::string_view> parts = absl::StrSplit(record, ':');
  pb::JournalAnchor a;
  int64_t entries = 0;
  if (parts.size() != 3 || parts[0] != "journal" ||
      !absl::SimpleAtoi(parts[1], &entries) || entries < 0 ||
      parts[2].size() != 64) {
    return std::nullopt;
  }
  a.set_entries(entries);
  a.set_head_hash(std::string(parts[2]));
  return a;
}

}  // namespace

void Ledger::SetHeadGauges(int64_t entries, const std::string& hash) {
  gauge_entries_ = entries;
  journal_entries_.Set(static_cast<double>(entries));
  int64_t prefix = 0;
  if (hash.size() >= 12 && absl::SimpleHexAtoi(hash.substr(0, 12), &prefix)) {
    journal_head_prefix_.Set(static_cast<double>(prefix));
  }
}

void Ledger::NoteJournalHead(int64_t entries, const std::string& hash,
                             bool force) {
  {
    absl::MutexLock lock(&anchor_mu_);
    if (entries > gauge_entries_) SetHeadGauges(entries, hash);
    if (!force &&
        NowMs() - last_anchor_ms_ < options_.journal_anchor_interval.count()) {
      return;
    }
  }
  if (force) {
    anchor_run_mu_.Lock();
  } else if (!anchor_run_mu_.TryLock()) {
    return;  // another thread is anchoring right now
  }
  AnchorJournal().IgnoreError();  // logged and counted there
  anchor_run_mu_.Unlock();
}

absl::Status Ledger::AnchorJournal() {
  pb::JournalAnchor prior;
  {
    absl::MutexLock lock(&anchor_mu_);
    prior = last_anchor_;
    last_anchor_ms_ = NowMs();
  }
  pb::JournalAnchor head;
  bool extends = true;
  absl::Status st = db_.Read([&](SqlConnection& c) -> absl::Status {
    auto h = ReadJournalHead(c);
    if (!h.ok()) return h.status();
    head = std::move(*h);
    if (prior.entries() == 0) return absl::OkStatus();
    auto rows = c.Query("SELECT hash FROM journal WHERE id = ?",
                        {prior.entries()});
    if (!rows.ok()) return rows.status();
    extends = head.entries() >= prior.entries() && !rows->empty() &&
              absl::StartsWith((*rows)[0].Str(0), prior.head_hash());
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  AuditEvent event;
  event.subject = internal::kSystemActor;
  event.role = "system";
  event.method = internal::kJournalAnchorMethod;
  if (!extends) {
    verify_failures_.Increment();
    Log(LogLevel::kError,
        "the journal no longer extends its last anchor: entries vanished or "
        "were rewritten",
        {{"anchor_entries", absl::StrCat(prior.entries())},
         {"anchor_head_hash", prior.head_hash()},
         {"entries", absl::StrCat(head.entries())},
         {"head_hash", head.head_hash()}});
    event.records = absl::StrCat(AnchorRecord(head), ";anchor=",
                                 AnchorRecord(prior));
    event.result = "DataLoss";
    host_.audit().Record(std::move(event));
    return absl::DataLossError(absl::StrCat(
        "the journal (", head.entries(), " entries) does not extend the anchor "
        "of ", prior.entries(), " entries"));
  }
  absl::MutexLock lock(&anchor_mu_);
  if (head.entries() > gauge_entries_ || gauge_entries_ == 0) {
    SetHeadGauges(head.entries(), head.head_hash());
  }
  if (head.entries() == 0 || head.entries() <= last_anchor_.entries()) {
    return absl::OkStatus();  // nothing new to anchor
  }
  event.records = AnchorRecord(head);
  event.result = "OK";
  host_.audit().Record(std::move(event));
  Log(LogLevel::kInfo, "journal anchor",
      {{"entries", absl::StrCat(head.entries())},
       {"head_hash", head.head_hash()}});
  last_anchor_ = std::move(head);
  return absl::OkStatus();
}

absl::StatusOr<pb::JournalAnchor> Ledger::LastRecordedAnchor() {
  host_.audit().Flush();
  // Replicas anchor independently: the newest few, the largest of them.
  auto events =
      host_.audit().Query("", internal::kJournalAnchorMethod, 0, 20);
  if (!events.ok()) return events.status();
  pb::JournalAnchor best;
  for (const auto& [id, e] : *events) {
    if (e.subject != internal::kSystemActor || e.result != "OK") continue;
    std::optional<pb::JournalAnchor> a = ParseAnchorRecord(e.records);
    if (a && a->entries() > best.entries()) {
      best = std::move(*a);
      best.set_recorded_at(FormatTs(e.ts_ms));
    }
  }
  return best;
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
  host_.cache().Set(
      key, host_.crypto().Encrypt(
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

// ---------------------------------------------------------------- policy

absl::StatusOr<std::vector<pb::ProgrammeStandard>> Ledger::LoadStandards(
    SqlConnection& c) {
  auto rows = c.Query(
      "SELECT definition FROM standards ORDER BY programme_code, "
      "effective_from");
  if (!rows.ok()) return rows.status();
  std::vector<pb::ProgrammeStandard> out;
  out.reserve(rows->size());
  for (const SqlRow& r : *rows) {
    auto bytes = Base64Decode(r.Str(0));
    pb::ProgrammeStandard s;
    if (!bytes.ok() || !s.ParseFromString(*bytes)) {
      return absl::DataLossError("a stored standard cannot be read");
    }
    out.push_back(std::move(s));
  }
  return out;
}

absl::StatusOr<std::shared_ptr<const pb::ProgrammeStandard>> Ledger::Standard(
    SqlConnection& c, const std::string& id) {
  {
    absl::MutexLock lock(&standards_mu_);
    auto it = standards_.find(id);
    if (it != standards_.end()) return it->second;
  }
  auto rows =
      c.Query("SELECT definition FROM standards WHERE standard_id = ?", {id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return absl::InternalError(absl::StrCat("standard ", id, " is missing"));
  }
  auto bytes = Base64Decode((*rows)[0].Str(0));
  auto s = std::make_shared<pb::ProgrammeStandard>();
  if (!bytes.ok() || !s->ParseFromString(*bytes)) {
    return absl::DataLossError("a stored standard cannot be read");
  }
  // Standards never change once loaded, so this entry never goes stale.
  absl::MutexLock lock(&standards_mu_);
  return standards_.emplace(id, std::move(s)).first->second;
}

std::string Ledger::ProgrammeName(SqlConnection& c,
                                  const std::string& standard_id) {
  auto s = Standard(c, standard_id);
  return s.ok() ? (*s)->name() : std::string();
}

absl::Status Ledger::ApplyPolicy(SqlConnection& c, const std::string& actor,
                                 const pb::Policy& policy,
                                 pb::LoadPolicyResponse* resp) {
  const int64_t now = NowMs();
  for (int i = 0; i < policy.standards_size(); ++i) {
    pb::ProgrammeStandard s = policy.standards(i);
    const std::string id = StandardId(s);
    s.set_standard_id(id);
    s.set_policy_version(policy.version());
    const std::string hash = StandardContentHash(s);
    auto inserted = c.Query(
        "INSERT INTO standards (standard_id, programme_code, effective_from, "
        "content_hash, definition, policy_version, loaded_by, loaded_at) "
        "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (standard_id) DO NOTHING "
        "RETURNING standard_id",
        {id, s.programme_code(), s.effective_from(), hash,
         Base64Encode(s.SerializeAsString()), policy.version(), actor, now});
    if (!inserted.ok()) return inserted.status();
    if (!inserted->empty()) {
      resp->set_standards_created(resp->standards_created() + 1);
      resp->add_created_standard_ids(id);
      continue;
    }
    auto prior = c.Query(
        "SELECT content_hash FROM standards WHERE standard_id = ?", {id});
    if (!prior.ok()) return prior.status();
    if (!prior->empty() && (*prior)[0].Str(0) == hash) {
      resp->set_standards_unchanged(resp->standards_unchanged() + 1);
      continue;
    }
    return WithReason(
        absl::StatusCode::kFailedPrecondition, "STANDARD_IMMUTABLE",
        absl::StrCat("policy.standards[", i, "]: standard ", id,
                     " was loaded before with different content; a standard "
                     "never changes once loaded: publish a new one with a "
                     "later effective_from"));
  }
  return absl::OkStatus();
}

absl::Status Ledger::LoadPolicyFile(const std::string& path,
                                    pb::LoadPolicyResponse* resp) {
  auto policy = ReadPolicyFile(path);
  if (!policy.ok()) return policy.status();
  if (absl::Status s = ValidatePolicy(*policy); !s.ok()) {
    return absl::Status(s.code(),
                        absl::StrCat("policy file ", path, ": ", s.message()));
  }
  absl::Status st = db_.Transact([&](SqlConnection& c) {
    resp->Clear();
    return ApplyPolicy(c, internal::kSystemActor, *policy, resp);
  });
  if (!st.ok()) return st;
  host_.cache().Invalidate({CacheKey("ledger", kStandardsCacheEntity, "all")});
  Log(LogLevel::kInfo, "policy loaded",
      {{"file", path},
       {"version", policy->version()},
       {"created", absl::StrCat(resp->standards_created())},
       {"unchanged", absl::StrCat(resp->standards_unchanged())}});
  return absl::OkStatus();
}

absl::Status Ledger::LoadPolicy(CallContext& call,
                                const pb::LoadPolicyRequest& req,
                                pb::LoadPolicyResponse* resp) {
  LEDGER_RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  LEDGER_RETURN_IF_ERROR(ValidatePolicy(req.policy()));
  LEDGER_RETURN_IF_ERROR(CheckRole(call.principal, {Role::kProvinceOfficer}));
  absl::Status st = host_.requests().Run(
      call.principal, "LoadPolicy", req.request_id(), req, resp,
      [&](SqlConnection& c) {
        return ApplyPolicy(c, call.principal.subject, req.policy(), resp);
      });
  if (!st.ok()) return st;
  host_.cache().Invalidate({CacheKey("ledger", kStandardsCacheEntity, "all")});
  call.AddRecord(absl::StrCat("policy:", req.policy().version()));
  return absl::OkStatus();
}

absl::Status Ledger::ListProgrammes(CallContext& call,
                                    const pb::ListProgrammesRequest& req,
                                    pb::ListProgrammesResponse* resp) {
  const bool by_term = internal::TermSet(req.term());
  if (by_term) LEDGER_RETURN_IF_ERROR(ValidateTerm("term", req.term()));
  pb::ListProgrammesResponse all;
  const std::string key = CacheKey("ledger", kStandardsCacheEntity, "all");
  std::optional<std::string> cached = CacheGet(key);
  if (!cached || !all.ParseFromString(*cached)) {
    all.Clear();
    absl::Status st = db_.Read([&](SqlConnection& c) -> absl::Status {
      auto standards = LoadStandards(c);
      if (!standards.ok()) return standards.status();
      for (auto& s : *standards) *all.add_standards() = std::move(s);
      return absl::OkStatus();
    });
    if (!st.ok()) return st;
    CachePut(key, all.SerializeAsString());
  }
  if (!by_term) {
    *resp = std::move(all);
    return absl::OkStatus();
  }
  std::vector<pb::ProgrammeStandard> list(all.standards().begin(),
                                          all.standards().end());
  for (const auto& s : list) {
    if (StandardFor(list, s.programme_code(), req.term()) == &s) {
      *resp->add_standards() = s;
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- journal

absl::Status Ledger::VerifyJournal(CallContext& call,
                                   const pb::VerifyJournalRequest& req,
                                   pb::VerifyJournalResponse* resp) {
  if (!internal::IsOfficer(call.principal) &&
      call.principal.role != Role::kAuditor) {
    return absl::PermissionDeniedError(
        "only officers and auditors may verify the journal");
  }
  std::vector<pb::JournalAnchor> anchors;
  if (req.expected_entries() < 0) {
    return InvalidField("expected_entries", "must not be negative");
  }
  if (req.expected_entries() > 0 || !req.expected_head_hash().empty()) {
    const std::string& h = req.expected_head_hash();
    const bool hex = std::all_of(h.begin(), h.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
    if (h.size() < 12 || h.size() > 64 || !hex) {
      return InvalidField("expected_head_hash",
                          "must be 12..64 lower-case hex characters");
    }
    if (req.expected_entries() == 0) {
      return InvalidField("expected_entries",
                          "must be positive with expected_head_hash");
    }
    pb::JournalAnchor& a = anchors.emplace_back();
    a.set_entries(req.expected_entries());
    a.set_head_hash(h);
    a.set_source("request");
  }
  // The audit log's anchor, and this process's own: deleting the audit
  // rows does not hide vanished entries from a running ledger.
  auto recorded = LastRecordedAnchor();
  if (!recorded.ok()) return recorded.status();
  if (recorded->entries() > 0) {
    recorded->set_source("audit_log");
    anchors.push_back(std::move(*recorded));
  }
  {
    absl::MutexLock lock(&anchor_mu_);
    if (last_anchor_.entries() > 0) {
      pb::JournalAnchor& a = anchors.emplace_back(last_anchor_);
      a.set_source("process");
    }
  }
  auto result = VerifyJournalChain(db_, anchors);
  if (!result.ok()) return result.status();
  *resp = std::move(*result);
  if (!resp->ok()) {
    verify_failures_.Increment();
    Log(LogLevel::kError, "journal verification found a broken link",
        {{"entry_id", absl::StrCat(resp->first_broken_entry_id())},
         {"problem", resp->problem()}});
  }
  call.AddRecord(absl::StrCat("journal:", resp->entries_checked()));
  return absl::OkStatus();
}

absl::Status Ledger::GetTrialBalance(CallContext& call,
                                     const pb::GetTrialBalanceRequest& req,
                                     pb::GetTrialBalanceResponse* resp) {
  LEDGER_RETURN_IF_ERROR(
      ValidateRegionPrefix("region_prefix", req.region_prefix()));
  auto region = ScopeRegionFilter(call.principal, req.region_prefix());
  if (!region.ok()) return region.status();
  struct Sums {
    int64_t debit = 0;
    int64_t credit = 0;
  };
  std::map<std::pair<std::string, std::string>, Sums> accounts;
  absl::Status st = db_.Read([&](SqlConnection& c) -> absl::Status {
    for (int side = 0; side < 2; ++side) {
      const char* column = side == 0 ? "debit_account" : "credit_account";
      auto rows = c.Query(
          absl::StrCat("SELECT region_code, ", column,
                       ", SUM(amount_fen) FROM journal WHERE region_code "
                       "LIKE ? GROUP BY region_code, ",
                       column),
          {*region + "%"});
      if (!rows.ok()) return rows.status();
      for (const SqlRow& r : *rows) {
        Sums& s = accounts[{r.Str(0), r.Str(1)}];
        (side == 0 ? s.debit : s.credit) = r.Int(2);
      }
    }
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  std::map<std::string, Sums> regions;
  Sums total;
  bool overflow = false;
  for (const auto& [key, s] : accounts) {
    auto* a = resp->add_accounts();
    a->set_region_code(key.first);
    a->set_account(key.second);
    a->set_debit_fen(s.debit);
    a->set_credit_fen(s.credit);
    a->set_balance_fen(s.debit - s.credit);
    Sums& r = regions[key.first];
    overflow |= !CheckedAdd(r.debit, s.debit, &r.debit) ||
                !CheckedAdd(r.credit, s.credit, &r.credit) ||
                !CheckedAdd(total.debit, s.debit, &total.debit) ||
                !CheckedAdd(total.credit, s.credit, &total.credit);
  }
  if (overflow) {
    return absl::OutOfRangeError("trial balance sums exceed int64 fen");
  }
  bool balanced = total.debit == total.credit;
  for (const auto& [code, s] : regions) {
    auto* r = resp->add_regions();
    r->set_region_code(code);
    r->set_debit_fen(s.debit);
    r->set_credit_fen(s.credit);
    r->set_balance_fen(s.debit - s.credit);
    balanced &= s.debit == s.credit;
  }
  resp->set_total_debit_fen(total.debit);
  resp->set_total_credit_fen(total.credit);
  resp->set_balanced(balanced);
  return absl::OkStatus();
}

absl::Status Ledger::ListJournalEntries(
    CallContext& call, const pb::ListJournalEntriesRequest& req,
    pb::ListJournalEntriesResponse* resp) {
  LEDGER_RETURN_IF_ERROR(
      ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (req.payment_id() < 0) {
    return InvalidField("payment_id", "must not be negative");
  }
  auto size = ValidatePageSize("page_size", req.page_size(), 100, 1000);
  if (!size.ok()) return size.status();
  auto region = ScopeRegionFilter(call.principal, req.region_prefix());
  if (!region.ok()) return region.status();
  // A school officer sees the entries of its school's payments only.
  auto school = internal::ScopeSchoolFilter(call.principal, "");
  if (!school.ok()) return school.status();
  const std::string filters =
      absl::StrCat("journal|", *region, "|", req.payment_id(), "|", *school);
  auto after_key = DecodePageToken(req.page_token(), filters);
  if (!after_key.ok()) return after_key.status();
  int64_t after = 0;
  if (!after_key->empty() && !absl::SimpleAtoi(*after_key, &after)) {
    return InvalidField("page_token", "is malformed");
  }
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    auto rows = c.Query(
        absl::StrCat("SELECT ", kJournalColumns,
                     " FROM journal WHERE id > ? AND region_code LIKE ? AND "
                     "(? = 0 OR payment_id = ?) AND (? = '' OR payment_id IN "
                     "(SELECT id FROM payments WHERE school_code = ?)) "
                     "ORDER BY id LIMIT ?"),
        {after, *region + "%", req.payment_id(), req.payment_id(), *school,
         *school, int64_t{*size + 1}});
    if (!rows.ok()) return rows.status();
    int64_t last = 0;
    for (size_t i = 0; i < rows->size() && i < static_cast<size_t>(*size);
         ++i) {
      JournalRecord e = FromJournalRow((*rows)[i]);
      last = e.id;
      ToProto(e, resp->add_entries());
    }
    if (rows->size() > static_cast<size_t>(*size)) {
      resp->set_next_page_token(EncodePageToken(absl::StrCat(last), filters));
    }
    return absl::OkStatus();
  });
}

absl::Status Ledger::ListAuditEvents(CallContext& call,
                                     const pb::ListAuditEventsRequest& req,
                                     pb::ListAuditEventsResponse* resp) {
  return ListAuditPage(host_.audit(), call.principal, req.method(),
                       req.page_size(), req.page_token(), resp);
}

// ---------------------------------------------------------------- records

absl::StatusOr<pb::Entitlement> Ledger::LoadEntitlement(
    SqlConnection& c, CallContext& call, int64_t entitlement_id) {
  auto rows = c.Query(absl::StrCat("SELECT ", internal::kEntitlementColumns,
                                   " FROM entitlements e WHERE e.id = ?"),
                      {entitlement_id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return absl::NotFoundError(
        absl::StrCat("entitlement ", entitlement_id, " does not exist"));
  }
  pb::Entitlement e;
  FillEntitlement(c, call, (*rows)[0], &e);
  return e;
}

void Ledger::FillEntitlement(SqlConnection& c, CallContext& call,
                             const SqlRow& r, pb::Entitlement* e) {
  e->set_entitlement_id(r.Int(0));
  e->set_member_id(r.Str(1));
  e->set_programme_code(r.Str(2));
  if (auto term = ParseTermKey(r.Str(3))) *e->mutable_term() = *term;
  e->set_standard_id(r.Str(4));
  e->set_programme_name(ProgrammeName(c, r.Str(4)));
  e->set_region_code(r.Str(5));
  e->set_school_code(r.Str(6));
  e->set_school_name(r.Str(7));
  e->set_stage(static_cast<cpb::SchoolStage>(r.Int(8)));
  e->set_grade(static_cast<int32_t>(r.Int(9)));
  e->set_boarder(r.Int(10) != 0);
  e->set_amount_fen(r.Int(11));
  e->set_state(static_cast<pb::EntitlementState>(r.Int(12)));
  e->set_reason(r.Str(13));
  e->set_payee_name(ShowName(call, r.Str(14)));
  e->set_due_date(r.Str(15));
  e->set_batch_id(r.Int(16));
  e->set_payment_id(r.Int(17));
  e->set_cancel_reason(r.Str(18));
  e->set_created_by(r.Str(19));
  e->set_created_at(FormatTs(r.Int(20)));
  e->set_originator_subject(r.Str(21));
}

}  // namespace eduaid::ledger
