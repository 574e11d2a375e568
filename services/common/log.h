// Structured logs: one JSON object per line on stderr. Never pass personal
// data (ID numbers, names) to these functions; log record ids and masks.
#ifndef EDUAID_COMMON_LOG_H_
#define EDUAID_COMMON_LOG_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/string_view.h"

namespace eduaid {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

void SetLogLevel(LogLevel level);
void SetLogService(absl::string_view service);

// Log(kInfo, "server started", {{"port", "50051"}}).
void Log(LogLevel level, absl::string_view message,
         std::initializer_list<std::pair<absl::string_view, std::string>>
             fields = {});

}  // namespace eduaid

#endif  // EDUAID_COMMON_LOG_H_
