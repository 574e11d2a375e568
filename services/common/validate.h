// Input rules shared by every service. Each check returns INVALID_ARGUMENT
// naming the field and the rule (see status.h), never echoing personal data.
#ifndef EDUAID_COMMON_VALIDATE_H_
#define EDUAID_COMMON_VALIDATE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace eduaid {

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <=
// U+10FFFF).
bool IsValidUtf8(absl::string_view s);

// Number of code points in valid UTF-8 `s`.
size_t Utf8Length(absl::string_view s);

// Text field: valid UTF-8, no control characters, 1..max_chars code points
// when `required`, else 0..max_chars.
absl::Status ValidateText(absl::string_view field, absl::string_view value,
                          size_t max_chars, bool required = true);

// What a valid resident ID number (GB 11643-1999) tells.
struct IdNumberInfo {
  std::string region_code;  // 6 digits
  int birth_year = 0;
  int birth_month = 0;
  int birth_day = 0;
  bool male = false;               // odd sequence number
  std::string birth_date() const;  // "YYYY-MM-DD"
};

// Validates length (18), characters (17 digits + digit or X), region code
// shape (province code exists, 6 digits), a real birth date not in the
// future and after 1900-01-01, and the ISO 7064 MOD 11-2 check character.
// A lowercase x is accepted and normalised by NormalizeIdNumber().
absl::StatusOr<IdNumberInfo> ValidateIdNumber(absl::string_view field,
                                              absl::string_view id);

// Upper-cases a trailing x; trims surrounding ASCII spaces.
std::string NormalizeIdNumber(absl::string_view id);

// The check character for the first 17 digits (exposed for generators).
char IdCheckCharacter(absl::string_view first17);

// "411325************": only the issuing county is kept. Birth date,
// sequence and check character are hidden, so that the masked form with
// anything shown beside it (birth year, age, sex) leaves at least 10,000
// candidates (docs/SECURITY.md has the arithmetic).
std::string MaskIdNumber(absl::string_view id);

// Masks a Chinese name: first character kept, the rest as '*' ("张**").
std::string MaskName(absl::string_view name);

// A GB/T 2260 region code: 6 digits with a known province prefix.
absl::Status ValidateRegionCode(absl::string_view field,
                                absl::string_view code);

// A region prefix for filters and scopes: "", or 2, 4 or 6 digits with a
// known province prefix.
absl::Status ValidateRegionPrefix(absl::string_view field,
                                  absl::string_view prefix);

// A client request id (AIP-155): 1..64 characters of [A-Za-z0-9._:-].
absl::Status ValidateRequestId(absl::string_view field, absl::string_view id);

// A code (school, programme, course, ...): 1..max of [A-Za-z0-9-].
bool IsCode(absl::string_view s, size_t max);

// A registry member id ("m-123"): 1..64 of [A-Za-z0-9._:-];
// INVALID_ARGUMENT naming `field` otherwise.
absl::Status ValidateMemberId(absl::string_view field, absl::string_view id);

// A positive record id; INVALID_ARGUMENT naming `field` otherwise.
absl::Status ValidateRecordId(absl::string_view field, int64_t id);

// Page size (AIP-158): negative is INVALID_ARGUMENT; 0 means `def`; values
// above `max` are clamped to `max`.
absl::StatusOr<int> ValidatePageSize(absl::string_view field, int32_t size,
                                     int def = 100, int max = 1000);

// A date "YYYY-MM-DD" that exists in the calendar.
absl::Status ValidateDate(absl::string_view field, absl::string_view date);

// Today's date in China Standard Time (UTC+8) as "YYYY-MM-DD".
std::string TodayCst();

// Whole years of age on `on_date` ("YYYY-MM-DD") for a birth date.
int AgeOn(absl::string_view birth_date, absl::string_view on_date);

}  // namespace eduaid

#endif  // EDUAID_COMMON_VALIDATE_H_
