// The journal outside its table: anchors of its head (audit log, log
// lines, gauges), the entries a payment posts, verification, the trial
// balance, listing, and the audit log's listing.
#include <algorithm>
#include <map>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/audit.h"
#include "services/common/clock.h"
#include "services/common/keyset_page.h"
#include "services/common/log.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/validate.h"
#include "services/ledger/journal.h"
#include "services/ledger/ledger.h"
#include "services/ledger/ledger_internal.h"

namespace eduaid::ledger {

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
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(head, ReadJournalHead(c));
    if (prior.entries() == 0) return absl::OkStatus();
    ASSIGN_OR_RETURN(std::string hash, JournalHashAt(c, prior.entries()));
    extends = head.entries() >= prior.entries() && !hash.empty() &&
              absl::StartsWith(hash, prior.head_hash());
    return absl::OkStatus();
  }));
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
    event.records =
        absl::StrCat(AnchorRecord(head), ";anchor=", AnchorRecord(prior));
    event.result = "DataLoss";
    host_.audit().Record(std::move(event));
    return absl::DataLossError(
        absl::StrCat("the journal (", head.entries(),
                     " entries) does not extend the anchor "
                     "of ",
                     prior.entries(), " entries"));
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
  ASSIGN_OR_RETURN(auto events, host_.audit().Query(
                                    "", internal::kJournalAnchorMethod, 0, 20));
  pb::JournalAnchor best;
  for (const auto& [id, e] : events) {
    if (e.subject != internal::kSystemActor || e.result != "OK") continue;
    std::optional<pb::JournalAnchor> a = ParseAnchorRecord(e.records);
    if (a && a->entries() > best.entries()) {
      best = std::move(*a);
      best.set_recorded_at(FormatTimestamp(e.ts_ms));
    }
  }
  return best;
}

// ---------------------------------------------------------------- postings

absl::Status Ledger::JournalPayment(SqlConnection& c, JournalAppender& journal,
                                    const PaymentRef& p, int64_t at_ms) {
  ASSIGN_OR_RETURN(auto standard, Standard(c, p.standard_id));
  JournalRecord base;
  base.at_ms = at_ms;
  base.region_code = p.region_code;
  base.programme_code = p.programme_code;
  base.term = p.term;
  base.member_id = p.member_id;
  base.payment_id = p.payment_id;
  for (const auto& [source, part] :
       SplitByShares(p.amount_fen, standard->shares())) {
    JournalRecord e = base;
    e.kind = pb::ENTRY_KIND_ACCRUAL;
    e.debit_account = FundAccount(source);
    e.credit_account = kPayableStudent;
    e.amount_fen = part;
    journal.Append(std::move(e));
  }
  base.kind = pb::ENTRY_KIND_DISBURSEMENT;
  base.debit_account = kPayableStudent;
  base.credit_account = kBankPaidOut;
  base.amount_fen = p.amount_fen;
  journal.Append(std::move(base));
  return absl::OkStatus();
}

// ---------------------------------------------------------------- reports

absl::StatusOr<std::vector<pb::JournalAnchor>> Ledger::AnchorsToVerify(
    const pb::VerifyJournalRequest& req) {
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
  ASSIGN_OR_RETURN(pb::JournalAnchor recorded, LastRecordedAnchor());
  if (recorded.entries() > 0) {
    recorded.set_source("audit_log");
    anchors.push_back(std::move(recorded));
  }
  absl::MutexLock lock(&anchor_mu_);
  if (last_anchor_.entries() > 0) {
    pb::JournalAnchor& a = anchors.emplace_back(last_anchor_);
    a.set_source("process");
  }
  return anchors;
}

absl::Status Ledger::VerifyJournal(CallContext& call,
                                   const pb::VerifyJournalRequest& req,
                                   pb::VerifyJournalResponse* resp) {
  ASSIGN_OR_RETURN(std::vector<pb::JournalAnchor> anchors,
                   AnchorsToVerify(req));
  ASSIGN_OR_RETURN(*resp, VerifyJournalChain(db_, anchors));
  if (!resp->ok()) {
    verify_failures_.Increment();
    Log(LogLevel::kError, "journal verification found a broken link",
        {{"entry_id", absl::StrCat(resp->first_broken_entry_id())},
         {"problem", resp->problem()}});
  }
  call.AddRecord(absl::StrCat("journal:", resp->entries_checked()));
  return absl::OkStatus();
}

namespace {

struct Sums {
  int64_t debit = 0;
  int64_t credit = 0;
};

// The trial balance of `accounts` ((region, account) -> sums): accounts,
// regions and totals. OUT_OF_RANGE when a sum exceeds int64.
absl::Status FillTrialBalance(
    const std::map<std::pair<std::string, std::string>, Sums>& accounts,
    pb::GetTrialBalanceResponse* resp) {
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

}  // namespace

absl::Status Ledger::GetTrialBalance(CallContext& call,
                                     const pb::GetTrialBalanceRequest& req,
                                     pb::GetTrialBalanceResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  ASSIGN_OR_RETURN(const std::string region,
                   ScopeRegionFilter(call.principal, req.region_prefix()));
  std::map<std::pair<std::string, std::string>, Sums> accounts;
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    for (bool debit : {true, false}) {
      ASSIGN_OR_RETURN(auto sums, JournalSumsBySide(c, region, debit));
      for (const AccountSum& a : sums) {
        Sums& s = accounts[{a.region_code, a.account}];
        (debit ? s.debit : s.credit) = a.amount_fen;
      }
    }
    return absl::OkStatus();
  }));
  return FillTrialBalance(accounts, resp);
}

absl::Status Ledger::ListJournalEntries(
    CallContext& call, const pb::ListJournalEntriesRequest& req,
    pb::ListJournalEntriesResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (req.payment_id() < 0) {
    return InvalidField("payment_id", "must not be negative");
  }
  ASSIGN_OR_RETURN(const std::string region,
                   ScopeRegionFilter(call.principal, req.region_prefix()));
  // A school officer sees the entries of its school's payments only.
  ASSIGN_OR_RETURN(const std::string school,
                   internal::ScopeSchoolFilter(call.principal, ""));
  ASSIGN_OR_RETURN(IdPage page,
                   IdPage::Open(req.page_token(),
                                absl::StrCat("journal|", region, "|",
                                             req.payment_id(), "|", school),
                                req.page_size(), 100, 1000));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto entries,
                     ListJournalRecords(c, region, req.payment_id(), school,
                                        page.after(), page.limit()));
    int64_t last = 0;
    for (size_t i = 0; i < page.Keep(entries.size()); ++i) {
      last = entries[i].id;
      ToProto(entries[i], resp->add_entries());
    }
    resp->set_next_page_token(page.NextToken(entries.size(), last));
    return absl::OkStatus();
  });
}

absl::Status Ledger::ListAuditEvents(CallContext& call,
                                     const pb::ListAuditEventsRequest& req,
                                     pb::ListAuditEventsResponse* resp) {
  return ListAuditPage(host_.audit(), call.principal, req.method(),
                       req.page_size(), req.page_token(), resp);
}

}  // namespace eduaid::ledger
