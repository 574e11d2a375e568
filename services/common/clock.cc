#include "services/common/clock.h"

#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace eduaid {

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

int64_t NowSec() { return absl::ToUnixSeconds(absl::Now()); }

std::string FormatTimestamp(int64_t ms, TimestampPrecision precision) {
  if (ms == 0) return "";
  return absl::FormatTime(precision == TimestampPrecision::kMillis
                              ? "%Y-%m-%dT%H:%M:%E3SZ"
                              : "%Y-%m-%dT%H:%M:%SZ",
                          absl::FromUnixMillis(ms), absl::UTCTimeZone());
}

std::string DateCst(int64_t ms) {
  if (ms == 0) return "";
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixMillis(ms),
                          absl::FixedTimeZone(8 * 3600));
}

int DaysBetween(absl::string_view from, absl::string_view to) {
  absl::CivilDay a, b;
  if (!absl::ParseCivilTime(from, &a) || !absl::ParseCivilTime(to, &b)) {
    return 0;
  }
  return static_cast<int>(b - a);
}

std::string AddDays(absl::string_view date, int days) {
  absl::CivilDay d;
  if (!absl::ParseCivilTime(date, &d)) return "";
  return absl::FormatCivilTime(d + days);
}

}  // namespace eduaid
