// Token buckets per key (a principal, a peer address), bounded in memory:
// a flood of new keys can never grow the map past `max_keys`.
#ifndef EDUAID_COMMON_RATE_LIMIT_H_
#define EDUAID_COMMON_RATE_LIMIT_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace eduaid {

// Thread-safe. Each key starts with `burst` tokens and regains `rate` a
// second, up to `burst`. A rate <= 0 turns the limiter off (every Take()
// succeeds, nothing is stored).
class TokenBuckets {
 public:
  TokenBuckets(double rate, double burst, size_t max_keys = 16384);

  // Takes one token of `key`; false (and nothing taken) when it has none.
  bool Take(absl::string_view key, int64_t now_ns);

  // True when `key` has at least one token (takes none).
  bool Has(absl::string_view key, int64_t now_ns);

  // Keys currently held (for tests: it never exceeds max_keys).
  size_t size() const;

 private:
  struct Bucket {
    double tokens;
    int64_t last_ns;
  };
  // The bucket of `key`, refilled to `now_ns`; makes room when full.
  Bucket& Refill(absl::string_view key, int64_t now_ns)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const double rate_, burst_;
  const size_t max_keys_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace eduaid

#endif  // EDUAID_COMMON_RATE_LIMIT_H_
