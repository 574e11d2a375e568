// Time as the services use it: instants are int64 milliseconds since the
// Unix epoch everywhere in code (columns that store seconds convert at the
// store); calendar dates are "YYYY-MM-DD" strings in China Standard Time.
#ifndef EDUAID_COMMON_CLOCK_H_
#define EDUAID_COMMON_CLOCK_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace eduaid {

// Now, in milliseconds / whole seconds since the epoch.
int64_t NowMs();
int64_t NowSec();

enum class TimestampPrecision { kSeconds, kMillis };

// RFC 3339 in UTC of the instant `ms` ("2026-12-07T08:00:00Z", or with
// ".123" before the Z at kMillis); "" for 0, which means "not set".
std::string FormatTimestamp(int64_t ms,
                            TimestampPrecision precision =
                                TimestampPrecision::kMillis);

// The calendar date in China Standard Time (UTC+8) of the instant `ms`;
// "" for 0.
std::string DateCst(int64_t ms);

// Days from `from` to `to` (both YYYY-MM-DD); negative when `to` is
// earlier, 0 when either is malformed.
int DaysBetween(absl::string_view from, absl::string_view to);

// `date` (YYYY-MM-DD) plus `days` (may be negative); "" when malformed.
std::string AddDays(absl::string_view date, int days);

}  // namespace eduaid

#endif  // EDUAID_COMMON_CLOCK_H_
