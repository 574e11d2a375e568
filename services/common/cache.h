// Redis cache-aside for hot reads (hiredis).
//
// Keys are "eduaid:<service>:<entity>:<id>" (CacheKey). A cache failure is
// never the caller's failure: every method swallows Redis errors, counts them
// in eduaid_cache_errors_total and, after `breaker_failures` consecutive
// failures, opens a breaker that bypasses Redis entirely for `breaker_open`
// (counted in eduaid_cache_bypass_total), then lets one probe through.
//
// Connections come from one bounded pool (never one per thread); each
// command has a short timeout so a stalled Redis cannot stall an RPC.
#ifndef EDUAID_COMMON_CACHE_H_
#define EDUAID_COMMON_CACHE_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace prometheus {
class Registry;
}

namespace eduaid {

struct CacheOptions {
  // "redis://host:port" or "redis://host:port/db". Empty disables the cache
  // (every Get misses, nothing is counted as an error).
  std::string url;
  std::string service;  // label value and key prefix part, e.g. "registry"
  // AUTH on every connection when `password` is set (requirepass, or an ACL
  // user with `user`). A refused AUTH counts as Redis being down.
  std::string user, password;
  int pool_size = 8;
  std::chrono::milliseconds connect_timeout{100};
  std::chrono::milliseconds command_timeout{50};
  int breaker_failures = 3;
  std::chrono::milliseconds breaker_open{2000};
  std::chrono::seconds default_ttl{300};
  prometheus::Registry* metrics = nullptr;  // optional
  // An in-process tier in front of Redis (0 = none): at most this many
  // entries, each kept at most `local_ttl` (and never past its own TTL).
  // Writes through this process invalidate it at once; writes through other
  // replicas are seen within `local_ttl`.
  size_t local_capacity = 0;
  std::chrono::milliseconds local_ttl{2000};
};

// "eduaid:<service>:<entity>:<id>". `id` must never be personal data in
// clear text (use a blind index).
std::string CacheKey(std::string_view service, std::string_view entity,
                     std::string_view id);

// Thread-safe.
class Cache {
 public:
  virtual ~Cache() = default;

  // Never fails for an unreachable Redis (the breaker starts open and
  // probes later); INVALID_ARGUMENT for a malformed URL.
  static absl::StatusOr<std::unique_ptr<Cache>> Create(
      const CacheOptions& options);

  // The cached value, or nullopt on a miss, an error or while bypassed.
  // Counts eduaid_cache_requests_total{result="hit"|"miss"|"error"|"bypass"}.
  virtual std::optional<std::string> Get(std::string_view key) = 0;

  // Stores `value` with `ttl` (default_ttl when zero). Best effort.
  virtual void Set(std::string_view key, std::string_view value,
                   std::chrono::seconds ttl = std::chrono::seconds{0}) = 0;

  // Deletes `keys`. Call after the transaction that changed them committed.
  // Best effort; a failed delete is counted, and the TTL bounds staleness.
  virtual void Invalidate(const std::vector<std::string>& keys) = 0;

  // True while the breaker bypasses Redis.
  virtual bool bypassed() const = 0;

  // The value from the in-process tier only, or nullopt. Never blocks, so a
  // gRPC callback thread may call it.
  virtual std::optional<std::string> GetLocal(std::string_view key) {
    return std::nullopt;
  }
};

}  // namespace eduaid

#endif  // EDUAID_COMMON_CACHE_H_
