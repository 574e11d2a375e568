#include "services/common/rate_limit.h"

#include <algorithm>

namespace eduaid {

TokenBuckets::TokenBuckets(double rate, double burst, size_t max_keys)
    : rate_(rate), burst_(std::max(1.0, burst)), max_keys_(max_keys) {}

TokenBuckets::Bucket& TokenBuckets::Refill(absl::string_view key,
                                           int64_t now_ns) {
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) {
      // Full buckets say nothing a new bucket would not: drop them first,
      // and everything if that is not enough (a flood of distinct keys).
      absl::erase_if(buckets_, [&](const auto& kv) {
        const Bucket& b = kv.second;
        return b.tokens + (now_ns - b.last_ns) * 1e-9 * rate_ >= burst_;
      });
      if (buckets_.size() >= max_keys_) buckets_.clear();
    }
    it = buckets_.emplace(std::string(key), Bucket{burst_, now_ns}).first;
  }
  Bucket& b = it->second;
  b.tokens = std::min(burst_, b.tokens + (now_ns - b.last_ns) * 1e-9 * rate_);
  b.last_ns = now_ns;
  return b;
}

bool TokenBuckets::Take(absl::string_view key, int64_t now_ns) {
  if (rate_ <= 0) return true;
  absl::MutexLock lock(&mu_);
  Bucket& b = Refill(key, now_ns);
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

bool TokenBuckets::Has(absl::string_view key, int64_t now_ns) {
  if (rate_ <= 0) return true;
  absl::MutexLock lock(&mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) return true;
  const Bucket& b = it->second;
  return b.tokens + (now_ns - b.last_ns) * 1e-9 * rate_ >= 1;
}

size_t TokenBuckets::size() const {
  absl::MutexLock lock(&mu_);
  return buckets_.size();
}

}  // namespace eduaid
