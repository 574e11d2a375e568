// School terms (eduaid.common.v1.Term): validation, the stored key form
// ("2026-AUTUMN"), order, labels and start dates. One copy for every
// service.
#ifndef EDUAID_COMMON_TERM_H_
#define EDUAID_COMMON_TERM_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "eduaid/common/v1/common.pb.h"

namespace eduaid {

// Year 2000..2100 and season AUTUMN or SPRING; INVALID_ARGUMENT naming
// `<field>.year` or `<field>.season`.
absl::Status ValidateTerm(absl::string_view field,
                          const ::eduaid::common::v1::Term& term);

// True when the term has been set at all (year or season).
bool TermSet(const ::eduaid::common::v1::Term& term);

// "2026-AUTUMN" / "2027-SPRING" (the form stored in columns).
std::string TermKey(const ::eduaid::common::v1::Term& term);

// The inverse of TermKey; nullopt for anything else.
std::optional<::eduaid::common::v1::Term> ParseTermKey(absl::string_view key);

// Chronological rank: spring Y < autumn Y < spring Y+1.
int TermOrdinal(const ::eduaid::common::v1::Term& term);

// "2026年秋季学期".
std::string TermLabel(const ::eduaid::common::v1::Term& term);

// The first day of the term: autumn Y -> "Y-09-01", spring Y -> "Y-02-01".
std::string TermStart(const ::eduaid::common::v1::Term& term);

}  // namespace eduaid

#endif  // EDUAID_COMMON_TERM_H_
