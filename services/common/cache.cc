// Redis cache-aside: a bounded pool of synchronous hiredis connections
// guarded by a consecutive-failure circuit breaker.
//
// Hot path (Get while the breaker is closed): one atomic load for the
// breaker, one mutex-protected pop from the idle list, one GET, one push back.
// No allocation except hiredis' own buffers and the returned string.
#include "services/common/cache.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <list>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace eduaid {
namespace {

// ---------------------------------------------------------------------------
// URL parsing.

struct RedisEndpoint {
  std::string host;
  int port = 0;
  int db = 0;
  std::string user, password;  // AUTH when password is set
};

// Non-empty, decimal digits only (no sign, no spaces), fits in an int.
bool ParseDigits(std::string_view s, int* out) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

// Parses "redis://host:port" or "redis://host:port/db" ("[v6addr]:port" is
// accepted too). The error message never echoes the URL: a malformed URL may
// carry a password.
absl::StatusOr<RedisEndpoint> ParseRedisUrl(std::string_view url) {
  const auto bad = [](std::string_view why) {
    std::string msg = "malformed cache URL (want redis://host:port[/db]): ";
    msg.append(why.data(), why.size());
    return absl::InvalidArgumentError(msg);
  };
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, kScheme.size()) != kScheme) return bad("scheme");
  url.remove_prefix(kScheme.size());

  std::string_view authority = url;
  std::string_view db_part;
  bool has_db = false;
  if (size_t slash = url.find('/'); slash != std::string_view::npos) {
    authority = url.substr(0, slash);
    db_part = url.substr(slash + 1);
    has_db = true;
  }
  if (authority.find('@') != std::string_view::npos) {
    return bad("credentials are not supported");
  }

  std::string_view host;
  std::string_view port_part;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos || close + 1 >= authority.size() ||
        authority[close + 1] != ':') {
      return bad("host:port");
    }
    host = authority.substr(1, close - 1);
    port_part = authority.substr(close + 2);
  } else {
    size_t colon = authority.rfind(':');
    if (colon == std::string_view::npos) return bad("missing port");
    host = authority.substr(0, colon);
    port_part = authority.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad("host");
  }
  if (host.empty()) return bad("missing host");
  for (char c : host) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '?' || c == '#') {
      return bad("host");
    }
  }

  RedisEndpoint ep;
  ep.host = std::string(host);
  if (port_part.size() > 5 || !ParseDigits(port_part, &ep.port) ||
      ep.port < 1 || ep.port > 65535) {
    return bad("port");
  }
  if (has_db) {
    if (db_part.size() > 9 || !ParseDigits(db_part, &ep.db)) {
      return bad("db");
    }
  }
  return ep;
}

timeval ToTimeval(std::chrono::milliseconds d) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// hiredis writes with write(2): a Redis that went away would otherwise kill
// the process with SIGPIPE. Ignore it once, unless someone installed a
// handler already (servers want EPIPE, never SIGPIPE).
void IgnoreSigpipeOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current;
    if (sigaction(SIGPIPE, nullptr, &current) == 0 &&
        current.sa_handler == SIG_DFL) {
      signal(SIGPIPE, SIG_IGN);
    }
  });
}

// string_view::data() may be null for an empty view; hiredis wants a pointer.
const char* Data(std::string_view s) { return s.empty() ? "" : s.data(); }

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

// ---------------------------------------------------------------------------
// Connection pool.

// At most `size` connections exist at any time (idle, checked out, or being
// connected). Connections are created lazily; a connection that saw an I/O
// error is freed instead of being returned. Callers that find the pool at its
// limit queue in FIFO order and are handed connections (or free slots)
// directly, so nobody starves behind callers that arrive later.
class RedisPool {
 public:
  RedisPool(RedisEndpoint endpoint, int size,
            std::chrono::milliseconds connect_timeout,
            std::chrono::milliseconds command_timeout)
      : endpoint_(std::move(endpoint)),
        size_(size),
        connect_timeout_(ToTimeval(connect_timeout)),
        command_timeout_(ToTimeval(command_timeout)),
        wait_(absl::FromChrono(command_timeout)) {
    absl::MutexLock lock(&mu_);
    idle_.reserve(static_cast<size_t>(size));
  }

  ~RedisPool() {
    absl::MutexLock lock(&mu_);
    for (redisContext* c : idle_) redisFree(c);
    idle_.clear();
  }

  RedisPool(const RedisPool&) = delete;
  RedisPool& operator=(const RedisPool&) = delete;

  enum class Outcome {
    kOk,         // `*out` is a usable connection
    kExhausted,  // every connection stayed busy for the whole wait
    kFailed,     // connecting (or SELECT) failed: Redis is unreachable
  };

  // Takes an idle connection, or opens a new one while under the limit, or
  // waits up to command_timeout for one of those to become possible. On kOk
  // the caller owns `*out` until Return() or Discard().
  Outcome Checkout(redisContext** out) {
    {
      absl::MutexLock lock(&mu_);
      if (head_ == nullptr && !idle_.empty()) {
        *out = idle_.back();
        idle_.pop_back();
        return Outcome::kOk;
      }
      if (head_ == nullptr && open_ < size_) {
        ++open_;  // reserve a slot, connect without holding the lock
      } else {
        Waiter w;  // on the stack: no allocation
        Enqueue(&w);
        if (!mu_.AwaitWithDeadline(absl::Condition(&w.ready),
                                   absl::Now() + wait_)) {
          Unlink(&w);
          return Outcome::kExhausted;
        }
        if (w.conn != nullptr) {
          *out = w.conn;
          return Outcome::kOk;
        }
        // Granted a slot: open_ already counts it.
      }
    }
    redisContext* c = Connect();
    if (c == nullptr) {
      ReleaseSlot();
      return Outcome::kFailed;
    }
    *out = c;
    return Outcome::kOk;
  }

  // Gives a healthy connection back (to the longest waiter, if any).
  void Return(redisContext* c) {
    absl::MutexLock lock(&mu_);
    if (Waiter* w = PopWaiter()) {
      w->conn = c;
      w->ready = true;
    } else {
      idle_.push_back(c);
    }
  }

  // Frees a connection that errored; its slot becomes free.
  void Discard(redisContext* c) {
    redisFree(c);
    ReleaseSlot();
  }

  // Frees every idle connection (after Redis went away they are all dead).
  void DrainIdle() {
    std::array<redisContext*, 64> batch;
    for (;;) {
      size_t n = 0;
      {
        absl::MutexLock lock(&mu_);
        while (!idle_.empty() && n < batch.size()) {
          batch[n++] = idle_.back();
          idle_.pop_back();
        }
        open_ -= static_cast<int>(n);
        while (open_ < size_ && head_ != nullptr) {
          ++open_;
          PopWaiter()->ready = true;  // a slot for it to connect with
        }
      }
      if (n == 0) break;
      for (size_t i = 0; i < n; ++i) redisFree(batch[i]);
    }
  }

 private:
  // A caller queued in Checkout(). Set `ready` (under mu_) when handing it
  // `conn`, or with conn == nullptr when handing it a free slot.
  struct Waiter {
    Waiter* prev = nullptr;
    Waiter* next = nullptr;
    redisContext* conn = nullptr;
    bool ready = false;
  };

  void Enqueue(Waiter* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    w->prev = tail_;
    if (tail_ != nullptr) {
      tail_->next = w;
    } else {
      head_ = w;
    }
    tail_ = w;
  }

  void Unlink(Waiter* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    (w->prev != nullptr ? w->prev->next : head_) = w->next;
    (w->next != nullptr ? w->next->prev : tail_) = w->prev;
    w->prev = w->next = nullptr;
  }

  Waiter* PopWaiter() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Waiter* w = head_;
    if (w != nullptr) Unlink(w);
    return w;
  }

  // A connected context with the command timeout set and the db selected,
  // or nullptr.
  redisContext* Connect() {
    redisContext* c = redisConnectWithTimeout(endpoint_.host.c_str(),
                                              endpoint_.port, connect_timeout_);
    if (c == nullptr) return nullptr;
    if (c->err != 0 || redisSetTimeout(c, command_timeout_) != REDIS_OK) {
      redisFree(c);
      return nullptr;
    }
    redisEnableKeepAlive(c);
    if (!endpoint_.password.empty()) {
      std::vector<const char*> argv = {"AUTH"};
      std::vector<size_t> lens = {4};
      if (!endpoint_.user.empty()) {
        argv.push_back(endpoint_.user.c_str());
        lens.push_back(endpoint_.user.size());
      }
      argv.push_back(endpoint_.password.c_str());
      lens.push_back(endpoint_.password.size());
      ReplyPtr r(static_cast<redisReply*>(redisCommandArgv(
          c, static_cast<int>(argv.size()), argv.data(), lens.data())));
      if (r == nullptr || r->type == REDIS_REPLY_ERROR) {
        redisFree(c);
        return nullptr;
      }
    }
    if (endpoint_.db != 0) {
      char db[16];
      auto [end, ec] = std::to_chars(db, db + sizeof db, endpoint_.db);
      (void)ec;
      const char* argv[] = {"SELECT", db};
      const size_t lens[] = {6, static_cast<size_t>(end - db)};
      ReplyPtr r(static_cast<redisReply*>(redisCommandArgv(c, 2, argv, lens)));
      if (r == nullptr || r->type == REDIS_REPLY_ERROR) {
        redisFree(c);
        return nullptr;
      }
    }
    return c;
  }

  // Gives the slot of a connection that no longer exists to the longest
  // waiter, or frees it.
  void ReleaseSlot() {
    absl::MutexLock lock(&mu_);
    if (Waiter* w = PopWaiter()) {
      w->ready = true;  // open_ unchanged: the slot passes to `w`
    } else {
      --open_;
    }
  }

  const RedisEndpoint endpoint_;
  const int size_;
  const timeval connect_timeout_;
  const timeval command_timeout_;
  const absl::Duration wait_;

  absl::Mutex mu_;
  std::vector<redisContext*> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // idle + checked out + connecting
  // FIFO of callers waiting in Checkout(); non-empty only while idle_ is
  // empty and open_ == size_.
  Waiter* head_ ABSL_GUARDED_BY(mu_) = nullptr;
  Waiter* tail_ ABSL_GUARDED_BY(mu_) = nullptr;
};

// ---------------------------------------------------------------------------
// Metrics.

enum Op { kGet = 0, kSet = 1, kDel = 2, kNumOps = 3 };
enum Result {
  kHit = 0,
  kMiss = 1,
  kOk = 2,
  kError = 3,
  kBypass = 4,
  kNumResults = 5
};

// Counters resolved once at construction; every pointer is null when the
// cache has no registry, or for (op, result) pairs that cannot happen.
struct CacheMetrics {
  std::array<std::array<prometheus::Counter*, kNumResults>, kNumOps> requests{};
  prometheus::Counter* bypass = nullptr;
  prometheus::Counter* errors = nullptr;
  prometheus::Gauge* breaker_open = nullptr;

  CacheMetrics(prometheus::Registry* registry, const std::string& service) {
    if (registry == nullptr) return;
    auto& requests_family = prometheus::BuildCounter()
                                .Name("eduaid_cache_requests_total")
                                .Help("Cache requests by operation and result.")
                                .Register(*registry);
    static constexpr const char* kOpNames[kNumOps] = {"get", "set", "del"};
    static constexpr const char* kResultNames[kNumResults] = {
        "hit", "miss", "ok", "error", "bypass"};
    for (int op = 0; op < kNumOps; ++op) {
      for (int res = 0; res < kNumResults; ++res) {
        const bool is_lookup = res == kHit || res == kMiss;
        if ((op == kGet) != is_lookup && res != kError && res != kBypass) {
          continue;  // get has no "ok"; set/del have no "hit"/"miss"
        }
        requests[op][res] =
            &requests_family.Add({{"service", service},
                                  {"op", kOpNames[op]},
                                  {"result", kResultNames[res]}});
      }
    }
    bypass = &prometheus::BuildCounter()
                  .Name("eduaid_cache_bypass_total")
                  .Help(
                      "Cache calls that skipped Redis because the breaker "
                      "was open.")
                  .Register(*registry)
                  .Add({{"service", service}});
    errors = &prometheus::BuildCounter()
                  .Name("eduaid_cache_errors_total")
                  .Help(
                      "Cache calls that failed (unreachable, timeout, "
                      "error reply, pool exhausted).")
                  .Register(*registry)
                  .Add({{"service", service}});
    breaker_open = &prometheus::BuildGauge()
                        .Name("eduaid_cache_breaker_open")
                        .Help("1 while the cache breaker bypasses Redis.")
                        .Register(*registry)
                        .Add({{"service", service}});
  }

  void Count(Op op, Result res) const {
    if (prometheus::Counter* c = requests[op][res]) c->Increment();
    if (res == kError && errors != nullptr) errors->Increment();
    if (res == kBypass && bypass != nullptr) bypass->Increment();
  }
  void SetBreakerOpen(bool open) const {
    if (breaker_open != nullptr) breaker_open->Set(open ? 1 : 0);
  }
};

// ---------------------------------------------------------------------------
// Breaker.

// Consecutive-failure breaker. Closed: one atomic load per call.
// Open: calls are bypassed until `open_for` passed; then exactly one caller
// (the probe) goes through; its success closes the breaker, its failure
// re-opens it for another `open_for`.
//
// Only unreachability counts as failure (connect error, I/O error, timeout):
// an error *reply* is fast and says Redis is up, so it counts as success.
class Breaker {
 public:
  enum class Admission { kPass, kProbe, kBypass };

  Breaker(int threshold, std::chrono::milliseconds open_for,
          const CacheMetrics* metrics)
      : threshold_(threshold),
        open_for_ns_(
            std::chrono::duration_cast<std::chrono::nanoseconds>(open_for)
                .count()),
        metrics_(metrics) {}

  Admission Admit() {
    int64_t until = open_until_ns_.load(std::memory_order_acquire);
    if (until == 0) return Admission::kPass;
    if (NowNanos() < until) return Admission::kBypass;
    if (probing_.exchange(true, std::memory_order_acq_rel)) {
      return Admission::kBypass;  // someone else is probing
    }
    // Re-check: the breaker may have closed, or re-opened, meanwhile.
    until = open_until_ns_.load(std::memory_order_acquire);
    if (until == 0 || NowNanos() < until) {
      probing_.store(false, std::memory_order_release);
      return until == 0 ? Admission::kPass : Admission::kBypass;
    }
    return Admission::kProbe;
  }

  void OnSuccess(Admission a) {
    if (failures_.load(std::memory_order_relaxed) != 0) {
      failures_.store(0, std::memory_order_relaxed);
    }
    if (a == Admission::kProbe) {
      open_until_ns_.store(0, std::memory_order_release);
      metrics_->SetBreakerOpen(false);
      probing_.store(false, std::memory_order_release);
    }
  }

  // Returns true when this failure opened (or re-opened) the breaker.
  bool OnFailure(Admission a) {
    if (a == Admission::kProbe) {
      open_until_ns_.store(Deadline(), std::memory_order_release);
      probing_.store(false, std::memory_order_release);
      return true;
    }
    int n = failures_.fetch_add(1, std::memory_order_relaxed) + 1;
    return n >= threshold_ && Open();
  }

  // The call ended without saying anything about Redis (pool exhausted).
  void OnNoVerdict(Admission a) {
    if (a == Admission::kProbe) {
      probing_.store(false, std::memory_order_release);
    }
  }

  // Opens a closed breaker; false if it was open already.
  bool Open() {
    int64_t expected = 0;
    if (!open_until_ns_.compare_exchange_strong(expected, Deadline(),
                                                std::memory_order_acq_rel)) {
      return false;
    }
    metrics_->SetBreakerOpen(true);
    return true;
  }

  bool open() const {
    return open_until_ns_.load(std::memory_order_acquire) != 0;
  }

 private:
  int64_t Deadline() const {
    return std::max<int64_t>(1, NowNanos() + open_for_ns_);
  }

  const int threshold_;
  const int64_t open_for_ns_;
  const CacheMetrics* const metrics_;
  std::atomic<int> failures_{0};
  std::atomic<int64_t> open_until_ns_{0};  // steady-clock ns; 0 = closed
  std::atomic<bool> probing_{false};
};

// ---------------------------------------------------------------------------
// Implementations.

// URL was empty: nothing is stored, nothing is counted.
class DisabledCache final : public Cache {
 public:
  std::optional<std::string> Get(std::string_view) override {
    return std::nullopt;
  }
  void Set(std::string_view, std::string_view, std::chrono::seconds) override {}
  void Invalidate(const std::vector<std::string>&) override {}
  bool bypassed() const override { return false; }
};

class RedisCache final : public Cache {
 public:
  RedisCache(const CacheOptions& options, RedisEndpoint endpoint)
      : default_ttl_(options.default_ttl),
        metrics_(options.metrics, options.service),
        breaker_(options.breaker_failures, options.breaker_open, &metrics_),
        pool_(std::move(endpoint), options.pool_size, options.connect_timeout,
              options.command_timeout) {
    metrics_.SetBreakerOpen(false);
  }

  // Opens the first connection so that an unreachable Redis starts with the
  // breaker open instead of costing the first RPCs a connect timeout each.
  void Warm() {
    redisContext* c = nullptr;
    if (pool_.Checkout(&c) == RedisPool::Outcome::kOk) {
      pool_.Return(c);
    } else {
      breaker_.Open();
    }
  }

  std::optional<std::string> Get(std::string_view key) override {
    const char* argv[] = {"GET", Data(key)};
    const size_t lens[] = {3, key.size()};
    std::optional<std::string> value;
    Run(kGet, 2, argv, lens, [&value](const redisReply& r) {
      if (r.type == REDIS_REPLY_STRING) {
        value.emplace(r.str, r.len);
        return kHit;
      }
      return r.type == REDIS_REPLY_NIL ? kMiss : kError;
    });
    return value;
  }

  void Set(std::string_view key, std::string_view value,
           std::chrono::seconds ttl) override {
    if (ttl.count() <= 0) ttl = default_ttl_;
    char ttl_buf[24];
    auto [end, ec] = std::to_chars(ttl_buf, ttl_buf + sizeof ttl_buf,
                                   static_cast<long long>(ttl.count()));
    (void)ec;
    const char* argv[] = {"SET", Data(key), Data(value), "EX", ttl_buf};
    const size_t lens[] = {3, key.size(), value.size(), 2,
                           static_cast<size_t>(end - ttl_buf)};
    Run(kSet, 5, argv, lens, [](const redisReply& r) {
      return r.type == REDIS_REPLY_STATUS ? kOk : kError;
    });
  }

  void Invalidate(const std::vector<std::string>& keys) override {
    if (keys.empty()) return;
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    argv.reserve(keys.size() + 1);
    lens.reserve(keys.size() + 1);
    argv.push_back("DEL");
    lens.push_back(3);
    for (const std::string& k : keys) {
      argv.push_back(k.data());
      lens.push_back(k.size());
    }
    Run(kDel, static_cast<int>(argv.size()), argv.data(), lens.data(),
        [](const redisReply& r) {
          return r.type == REDIS_REPLY_INTEGER ? kOk : kError;
        });
  }

  bool bypassed() const override { return breaker_.open(); }

 private:
  // Runs one command through the breaker and the pool; `classify` maps a
  // reply to the result counted for `op`.
  template <typename Classify>
  void Run(Op op, int argc, const char** argv, const size_t* lens,
           Classify classify) {
    const Breaker::Admission admission = breaker_.Admit();
    if (admission == Breaker::Admission::kBypass) {
      metrics_.Count(op, kBypass);
      return;
    }
    redisContext* c = nullptr;
    switch (pool_.Checkout(&c)) {
      case RedisPool::Outcome::kOk:
        break;
      case RedisPool::Outcome::kExhausted:
        breaker_.OnNoVerdict(admission);
        metrics_.Count(op, kError);
        return;
      case RedisPool::Outcome::kFailed:
        Fail(admission);
        metrics_.Count(op, kError);
        return;
    }
    ReplyPtr reply(
        static_cast<redisReply*>(redisCommandArgv(c, argc, argv, lens)));
    if (reply == nullptr) {  // I/O error or timeout: the connection is dead
      pool_.Discard(c);
      Fail(admission);
      metrics_.Count(op, kError);
      return;
    }
    pool_.Return(c);
    breaker_.OnSuccess(admission);
    metrics_.Count(op, classify(*reply));
  }

  void Fail(Breaker::Admission admission) {
    // Whatever killed one connection most likely killed the idle ones too
    // (Redis restarted): drop them so the next call or probe reconnects.
    breaker_.OnFailure(admission);
    pool_.DrainIdle();
  }

  const std::chrono::seconds default_ttl_;
  const CacheMetrics metrics_;
  Breaker breaker_;
  RedisPool pool_;
};

}  // namespace

std::string CacheKey(std::string_view service, std::string_view entity,
                     std::string_view id) {
  constexpr std::string_view kPrefix = "eduaid:";
  std::string key;
  key.reserve(kPrefix.size() + service.size() + entity.size() + id.size() + 2);
  key.append(kPrefix).append(service).append(1, ':').append(entity);
  key.append(1, ':').append(id);
  return key;
}

// The in-process tier: a sharded LRU with per-entry expiry, in front of
// another cache. Thread-safe; each shard has its own mutex.
class LayeredCache final : public Cache {
 public:
  LayeredCache(std::unique_ptr<Cache> inner, const CacheOptions& options)
      : inner_(std::move(inner)),
        per_shard_(std::max<size_t>(1, options.local_capacity / kShards)),
        ttl_ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(
                    options.local_ttl)
                    .count()) {
    if (options.metrics) {
      auto& family = prometheus::BuildCounter()
                         .Name("eduaid_cache_local_requests_total")
                         .Help("Look-ups in the in-process cache tier")
                         .Register(*options.metrics);
      local_hit_ =
          &family.Add({{"service", options.service}, {"result", "hit"}});
      local_miss_ =
          &family.Add({{"service", options.service}, {"result", "miss"}});
    }
  }

  std::optional<std::string> GetLocal(std::string_view key) override {
    Shard& sh = ShardOf(key);
    std::lock_guard<std::mutex> lock(sh.mu);
    auto it = sh.map.find(std::string(key));
    if (it == sh.map.end() || it->second->expires_ns < NowNanos()) {
      if (local_miss_) local_miss_->Increment();
      return std::nullopt;
    }
    sh.lru.splice(sh.lru.begin(), sh.lru, it->second);
    if (local_hit_) local_hit_->Increment();
    return it->second->value;
  }

  std::optional<std::string> Get(std::string_view key) override {
    if (auto v = GetLocal(key)) return v;
    auto v = inner_->Get(key);
    if (v) Remember(key, *v, ttl_ns_);
    return v;
  }

  void Set(std::string_view key, std::string_view value,
           std::chrono::seconds ttl) override {
    int64_t ttl_ns = ttl_ns_;
    if (ttl.count() > 0) {
      ttl_ns = std::min<int64_t>(ttl_ns, ttl.count() * 1000000000LL);
    }
    Remember(key, value, ttl_ns);
    inner_->Set(key, value, ttl);
  }

  void Invalidate(const std::vector<std::string>& keys) override {
    for (const auto& k : keys) {
      Shard& sh = ShardOf(k);
      std::lock_guard<std::mutex> lock(sh.mu);
      auto it = sh.map.find(k);
      if (it != sh.map.end()) {
        sh.lru.erase(it->second);
        sh.map.erase(it);
      }
    }
    inner_->Invalidate(keys);
  }

  bool bypassed() const override { return inner_->bypassed(); }

 private:
  static constexpr size_t kShards = 16;
  struct Entry {
    std::string key, value;
    int64_t expires_ns;
  };
  struct Shard {
    std::mutex mu;
    std::list<Entry> lru;  // front = most recent
    std::unordered_map<std::string, std::list<Entry>::iterator> map;
  };
  Shard& ShardOf(std::string_view key) {
    return shards_[std::hash<std::string_view>()(key) % kShards];
  }
  void Remember(std::string_view key, std::string_view value, int64_t ttl_ns) {
    Shard& sh = ShardOf(key);
    std::lock_guard<std::mutex> lock(sh.mu);
    std::string k(key);
    auto it = sh.map.find(k);
    if (it != sh.map.end()) {
      sh.lru.erase(it->second);
      sh.map.erase(it);
    }
    sh.lru.push_front(Entry{k, std::string(value), NowNanos() + ttl_ns});
    sh.map.emplace(std::move(k), sh.lru.begin());
    while (sh.map.size() > per_shard_) {
      sh.map.erase(sh.lru.back().key);
      sh.lru.pop_back();
    }
  }

  std::unique_ptr<Cache> inner_;
  const size_t per_shard_;
  const int64_t ttl_ns_;
  prometheus::Counter* local_hit_ = nullptr;
  prometheus::Counter* local_miss_ = nullptr;
  Shard shards_[kShards];
};

absl::StatusOr<std::unique_ptr<Cache>> Cache::Create(
    const CacheOptions& options) {
  if (options.local_capacity > 0) {
    CacheOptions inner = options;
    inner.local_capacity = 0;
    auto c = Create(inner);
    if (!c.ok()) return c.status();
    return std::make_unique<LayeredCache>(std::move(*c), options);
  }
  if (options.url.empty()) return std::make_unique<DisabledCache>();
  absl::StatusOr<RedisEndpoint> endpoint = ParseRedisUrl(options.url);
  if (!endpoint.ok()) return endpoint.status();
  endpoint->user = options.user;
  endpoint->password = options.password;
  if (options.pool_size < 1 || options.breaker_failures < 1 ||
      options.connect_timeout.count() <= 0 ||
      options.command_timeout.count() <= 0 ||
      options.breaker_open.count() < 0 || options.default_ttl.count() <= 0) {
    return absl::InvalidArgumentError(
        "cache options: pool_size, breaker_failures, timeouts and "
        "default_ttl must be positive");
  }
  IgnoreSigpipeOnce();
  auto cache = std::make_unique<RedisCache>(options, *std::move(endpoint));
  cache->Warm();
  return cache;
}

}  // namespace eduaid
