// Helpers shared by the ledger's implementation files (not a public API).
#ifndef EDUAID_SERVICES_LEDGER_LEDGER_INTERNAL_H_
#define EDUAID_SERVICES_LEDGER_LEDGER_INTERNAL_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/auth.h"
#include "services/ledger/policy.h"

#define LEDGER_RETURN_IF_ERROR(expr) \
  do {                               \
    absl::Status _st = (expr);       \
    if (!_st.ok()) return _st;       \
  } while (0)

namespace eduaid::ledger::internal {

// Associated data of the encrypted columns.
inline constexpr char kCtxPayeeName[] = "ledger.payee_name";
inline constexpr char kCtxNote[] = "ledger.note";
// Prefix of the associated data of a cached value; the cache key follows.
inline constexpr char kCtxCachePrefix[] = "ledger.cache|";

// Who the ledger itself acts as (policy loaded at start-up, anchors).
inline constexpr char kSystemActor[] = "system:ledger";
// The audit log's method of a journal anchor (no RPC has this name); its
// records are "journal:<entries>:<head hash>".
inline constexpr char kJournalAnchorMethod[] = "JournalAnchor";

// Largest batch.
inline constexpr int kMaxBatchPayments = 200000;

int64_t NowMs();
// RFC 3339 UTC ("" for 0).
std::string FormatTs(int64_t ms);
// The calendar date in China Standard Time ("" for 0).
std::string DateCst(int64_t ms);
// 学前, 小学, ...
const char* StageLabel(cpb::SchoolStage stage);

// Province, city or county officer.
bool IsOfficer(const Principal& p);
// PERMISSION_DENIED unless an officer; `action` completes "only ... may".
absl::Status RequireOfficer(const Principal& p, absl::string_view action);
// Officers, or the school officer of `school_code`.
absl::Status RequireOfficerOrSchool(const Principal& p,
                                    absl::string_view school_code,
                                    absl::string_view action);
// The school filter a list must apply for `p` ("" = none), or
// PERMISSION_DENIED when a school officer asks for another school or its
// token names no school. (Single records: CheckRecordScope.)
absl::StatusOr<std::string> ScopeSchoolFilter(const Principal& p,
                                              absl::string_view requested);

// A registry member id: 1..64 of [A-Za-z0-9._:-].
absl::Status ValidateMemberId(absl::string_view field, absl::string_view id);
// A positive record id.
absl::Status ValidateRecordId(absl::string_view field, int64_t id);
// True when the term has been set at all (year or season).
inline bool TermSet(const cpb::Term& t) {
  return t.year() != 0 || t.season() != cpb::SEASON_UNSPECIFIED;
}

// Columns read by FillEntitlement (table alias e).
inline constexpr char kEntitlementColumns[] =
    "e.id, e.member_id, e.programme_code, e.term, e.standard_id, "
    "e.region_code, e.school_code, e.school_name, e.stage, e.grade, "
    "e.boarder, e.amount_fen, e.state, e.reason, e.payee_name, e.due_date, "
    "e.batch_id, e.payment_id, e.cancel_reason, e.created_by, e.created_at, "
    "e.originator_subject";

// Columns read by FillPayment (p joined with entitlements e).
inline constexpr char kPaymentColumns[] =
    "p.id, p.entitlement_id, p.batch_id, p.member_id, p.programme_code, "
    "p.term, p.region_code, p.school_code, p.amount_fen, p.state, "
    "p.failure_reason, p.paid_at, p.paid_by, p.reversed_at, "
    "p.reversal_reason, e.payee_name, e.standard_id";

inline constexpr char kBatchColumns[] =
    "id, region_prefix, term, programme_code, school_code, state, note, "
    "created_by, approved_by, executed_by, created_at, approved_at, "
    "started_at, finished_at, payment_count, total_fen, paid_count, "
    "paid_fen, failed_count";

inline constexpr char kGrievanceColumns[] =
    "id, entitlement_id, payment_id, posting_id, posting_line, region_code, "
    "school_code, source, state, description, opened_by, opened_at, "
    "outcome, resolution, resolved_by, resolved_at";

}  // namespace eduaid::ledger::internal

#endif  // EDUAID_SERVICES_LEDGER_LEDGER_INTERNAL_H_
