// Helpers shared by the vocational service's implementation files (not a
// public API).
#ifndef EDUAID_SERVICES_VOCATIONAL_VOCATIONAL_INTERNAL_H_
#define EDUAID_SERVICES_VOCATIONAL_VOCATIONAL_INTERNAL_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eduaid/common/v1/common.pb.h"
#include "eduaid/vocational/v1/vocational.pb.h"
#include "services/common/auth.h"
#include "services/common/school_scope.h"
#include "services/common/sql.h"

#define VOC_RETURN_IF_ERROR(expr) \
  do {                            \
    absl::Status _st = (expr);    \
    if (!_st.ok()) return _st;    \
  } while (0)

namespace eduaid::vocational::internal {

namespace cpb = ::eduaid::common::v1;

// Associated data of the encrypted columns and cache entries.
inline constexpr char kCtxApplicantName[] = "vocational.applications.name";
inline constexpr char kCtxOfferName[] = "vocational.offers.name";

// Stored application states (the values of pb::ApplicationState).
inline constexpr int64_t kEnrolled = 1;
inline constexpr int64_t kWaitlisted = 2;
inline constexpr int64_t kWithdrawn = 3;
inline constexpr int64_t kCompleted = 4;

// Stored course kinds (pb::CourseKind).
inline constexpr int64_t kMajor = 1;
inline constexpr int64_t kClass = 2;

int64_t NowMs();
// RFC 3339 UTC with milliseconds ("" for 0).
std::string FormatTs(int64_t ms);
// The calendar date in China Standard Time of `ms`.
std::string DateCst(int64_t ms);
// Days from `from` to `to` (YYYY-MM-DD); negative when `to` is earlier.
int DaysBetween(absl::string_view from, absl::string_view to);
// `date` plus `days`.
std::string AddDays(absl::string_view date, int days);

// 1..max of [A-Za-z0-9-].
bool IsCode(absl::string_view s, size_t max);
// A registry member id: 1..64 of [A-Za-z0-9._:-].
absl::Status ValidateMemberId(absl::string_view field, absl::string_view id);
// NOT_FOUND naming `field`: the one answer for a member id the registry
// does not know and for one whose household lies outside the caller's
// scope.
absl::Status MemberNotInScope(absl::string_view field);
// A positive record id.
absl::Status ValidateRecordId(absl::string_view field, int64_t id);
// 2000..2100 and a season, naming `<field>.year` / `<field>.season`.
absl::Status ValidateTerm(absl::string_view field, const cpb::Term& term);

// "2026-AUTUMN" / "2027-SPRING".
std::string TermKey(const cpb::Term& term);
// The inverse of TermKey (an unset term for anything else).
cpb::Term ParseTermKey(absl::string_view key);
// Chronological rank: spring Y < autumn Y < spring Y+1.
int TermOrdinal(const cpb::Term& term);
// "2026年秋季学期".
std::string TermLabel(const cpb::Term& term);
// The first day of the term: autumn Y -> "Y-09-01", spring Y -> "Y-02-01".
std::string TermStart(const cpb::Term& term);

// Province, city or county officer, or another eduaid service.
bool IsOfficerOrService(const Principal& p);

// The school scope of lists: services/common/school_scope.h.
using ::eduaid::SchoolClause;
using ::eduaid::SchoolScope;
using ::eduaid::SchoolScopeOf;

// The last id of a page token issued for `filters` (0 for ""), or
// INVALID_ARGUMENT naming page_token.
absl::StatusOr<int64_t> DecodeIdCursor(absl::string_view token,
                                       absl::string_view filters);

// The words of waitlist tier `tier` for a course of `kind`, and the rule.
std::string TierLabel(int64_t kind, int64_t tier);
int64_t TierCount(int64_t kind);
std::string WaitlistRule(int64_t kind);
// The tier of an applicant: household status, and whether the applicant
// holds a vocational offer (majors only).
int64_t TierOf(int64_t kind, cpb::HouseholdStatus status, bool holds_offer);

// Columns read by FillGrant (table grant_outbox).
inline constexpr char kGrantColumns[] =
    "id, application_id, member_id, programme_code, term, state, request_id, "
    "attempts, last_error, entitlement_id, outcome, created_at, delivered_at, "
    "next_attempt_ms, member_region, originator_subject";
void FillGrant(const SqlRow& r, ::eduaid::vocational::v1::Grant* g);

// `s` cut to at most `max_chars` code points (valid UTF-8 stays valid).
std::string TruncateUtf8(absl::string_view s, size_t max_chars);

}  // namespace eduaid::vocational::internal

#endif  // EDUAID_SERVICES_VOCATIONAL_VOCATIONAL_INTERNAL_H_
