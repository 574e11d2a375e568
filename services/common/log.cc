#include "services/common/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace eduaid {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::string* g_service = new std::string("eduaid");
std::mutex g_mu;

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}
}  // namespace

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }

void SetLogService(absl::string_view service) {
  std::lock_guard<std::mutex> lock(g_mu);
  *g_service = std::string(service);
}

void Log(
    LogLevel level, absl::string_view message,
    std::initializer_list<std::pair<absl::string_view, std::string>> fields) {
  if (static_cast<int>(level) < g_level.load(std::memory_order_relaxed)) return;
  nlohmann::json j;
  j["ts"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                             absl::UTCTimeZone());
  j["level"] = LevelName(level);
  j["msg"] = std::string(message);
  for (const auto& [k, v] : fields) j[std::string(k)] = v;
  std::lock_guard<std::mutex> lock(g_mu);
  j["service"] = *g_service;
  std::string line =
      j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line.push_back('\n');
  fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace eduaid
