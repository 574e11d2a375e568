// Subsidy standards as data: parsing and validation of the policy file,
// terms and their dates, the amount a standard grants for a term, and the
// split of an amount over funding sources. Pure functions; thread-safe.
#ifndef EDUAID_SERVICES_LEDGER_POLICY_H_
#define EDUAID_SERVICES_LEDGER_POLICY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eduaid/ledger/v1/ledger.pb.h"
#include "services/common/clock.h"
#include "services/common/term.h"

namespace eduaid::ledger {

namespace pb = ::eduaid::ledger::v1;
namespace cpb = ::eduaid::common::v1;

// The largest amount one standard, entitlement or payment may carry:
// 1,000,000 yuan. Sums of up to 10^9 such amounts still fit in int64.
inline constexpr int64_t kMaxAmountFen = 100'000'000;

// Parses a policy in protobuf text format. INVALID_ARGUMENT naming the line
// and column of the first syntax error.
absl::StatusOr<pb::Policy> ParsePolicyText(const std::string& text);

// Reads and parses a policy file. NOT_FOUND when it cannot be read.
absl::StatusOr<pb::Policy> ReadPolicyFile(const std::string& path);

// Checks every rule of a policy; INVALID_ARGUMENT with a violation per
// broken rule, naming fields as "policy.standards[2].rates[0].yearly_fen".
absl::Status ValidatePolicy(const pb::Policy& policy);

// "<programme_code>@<effective_from>".
std::string StandardId(const pb::ProgrammeStandard& s);

// Hash of the standard's content (output-only fields cleared): equal hashes
// mean the same standard.
std::string StandardContentHash(const pb::ProgrammeStandard& s);

// A programme code: 1..40 of [A-Z0-9_].
bool IsProgrammeCode(absl::string_view code);

// A school code as the registry defines it: 1..20 of [A-Za-z0-9-].
bool IsSchoolCode(absl::string_view code);

// The common term rules (services/common/term.h), and with
// `max_year_ahead` also INVALID_ARGUMENT naming `<field>.year` when the term
// starts more than that many years after the current year.
using ::eduaid::ValidateTerm;
absl::Status ValidateTerm(absl::string_view field, const cpb::Term& term,
                          int max_year_ahead);

// True when `s` is in effect for a term starting on `term_start`.
bool InEffect(const pb::ProgrammeStandard& s, absl::string_view term_start);

// The standard of `code` in effect for `term`: the one with the latest
// effective_from not after the term's start whose effective_to (if any) is
// not before it. nullptr when none.
const pb::ProgrammeStandard* StandardFor(
    const std::vector<pb::ProgrammeStandard>& standards, absl::string_view code,
    const cpb::Term& term);

// The rate of `s` for `stage`, or nullptr.
const pb::StageRate* RateFor(const pb::ProgrammeStandard& s,
                             cpb::SchoolStage stage);

// What `s` grants a student of `stage` (boarding or not) for `term`, in fen:
// 0 when the stage has no rate, the student is not a boarder where boarders
// only qualify, or the schedule pays nothing in that term.
int64_t AmountForTerm(const pb::ProgrammeStandard& s, cpb::SchoolStage stage,
                      bool boarder, const cpb::Term& term);

// True when the standard admits a household of `status`.
bool AdmitsHousehold(const pb::ProgrammeStandard& s,
                     cpb::HouseholdStatus status);

// Splits `amount_fen` over the funding sources of `shares` exactly: each
// source gets floor(amount * bp / 10000) and the last source with a share
// gets the remainder, so the parts always sum to the amount. Sources with a
// zero part are left out. Source names: central, provincial, city, county.
std::vector<std::pair<std::string, int64_t>> SplitByShares(
    int64_t amount_fen, const pb::FundingShares& shares);

// a + b into *out; false (and *out unchanged) on int64 overflow.
bool CheckedAdd(int64_t a, int64_t b, int64_t* out);

}  // namespace eduaid::ledger

#endif  // EDUAID_SERVICES_LEDGER_POLICY_H_
