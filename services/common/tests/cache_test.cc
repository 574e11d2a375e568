// Cache tests against a real redis-server (TestRedis).
#include "services/common/cache.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/common/testing/harness.h"

namespace eduaid {
namespace {

using ::std::chrono::milliseconds;
using ::std::chrono::seconds;
using ::testing::Optional;

// A plain hiredis connection for looking at Redis from the side.
class SideConnection {
 public:
  explicit SideConnection(int port) {
    timeval tv{2, 0};
    ctx_ = redisConnectWithTimeout("127.0.0.1", port, tv);
  }
  ~SideConnection() {
    if (ctx_ != nullptr) redisFree(ctx_);
  }
  bool ok() const { return ctx_ != nullptr && ctx_->err == 0; }

  // Runs a command; the reply as a string (integers in decimal), or nullopt
  // for nil / errors.
  std::optional<std::string> Command(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(redisCommandArgv(
        ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (r == nullptr) return std::nullopt;
    std::optional<std::string> out;
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) {
      out.emplace(r->str, r->len);
    } else if (r->type == REDIS_REPLY_INTEGER) {
      out = std::to_string(r->integer);
    }
    freeReplyObject(r);
    return out;
  }

  // connected_clients from INFO clients (this connection included), or -1.
  int ConnectedClients() {
    std::optional<std::string> info = Command({"INFO", "clients"});
    if (!info) return -1;
    constexpr std::string_view kField = "connected_clients:";
    size_t pos = info->find(kField);
    if (pos == std::string::npos) return -1;
    size_t end = info->find("\r\n", pos);
    int n = -1;
    if (!absl::SimpleAtoi(
            info->substr(pos + kField.size(), end - pos - kField.size()), &n)) {
      return -1;
    }
    return n;
  }

 private:
  redisContext* ctx_ = nullptr;
};

// The value of the counter or gauge `name` whose labels include `labels`
// (summed over matches), read back through Collect().
double MetricValue(prometheus::Registry& registry, const std::string& name,
                   const std::map<std::string, std::string>& labels) {
  double sum = 0;
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& m : family.metric) {
      size_t matched = 0;
      for (const prometheus::ClientMetric::Label& l : m.label) {
        auto it = labels.find(l.name);
        if (it != labels.end() && it->second == l.value) ++matched;
      }
      if (matched != labels.size()) continue;
      sum += family.type == prometheus::MetricType::Gauge ? m.gauge.value
                                                          : m.counter.value;
    }
  }
  return sum;
}

double Requests(prometheus::Registry& registry, const std::string& op,
                const std::string& result) {
  return MetricValue(registry, "eduaid_cache_requests_total",
                     {{"service", "test"}, {"op", op}, {"result", result}});
}

class CacheTest : public ::testing::Test {
 protected:
  CacheOptions Options() {
    CacheOptions o;
    o.url = redis_.url();
    o.service = "test";
    o.metrics = &registry_;
    return o;
  }

  std::unique_ptr<Cache> MakeCache(const CacheOptions& options) {
    absl::StatusOr<std::unique_ptr<Cache>> cache = Cache::Create(options);
    EXPECT_TRUE(cache.ok()) << cache.status();
    return cache.ok() ? *std::move(cache) : nullptr;
  }

  testing::TestRedis redis_;
  prometheus::Registry registry_;
};

TEST(CacheKeyTest, Format) {
  EXPECT_EQ(CacheKey("registry", "student", "42"),
            "eduaid:registry:student:42");
}

TEST_F(CacheTest, SetGetMiss) {
  auto cache = MakeCache(Options());
  ASSERT_NE(cache, nullptr);
  EXPECT_FALSE(cache->bypassed());

  const std::string key = CacheKey("test", "course", "1");
  EXPECT_EQ(cache->Get(key), std::nullopt);
  cache->Set(key, "algebra");
  EXPECT_THAT(cache->Get(key), Optional(std::string("algebra")));
  cache->Set(key, "geometry");
  EXPECT_THAT(cache->Get(key), Optional(std::string("geometry")));

  EXPECT_EQ(Requests(registry_, "get", "miss"), 1);
  EXPECT_EQ(Requests(registry_, "get", "hit"), 2);
  EXPECT_EQ(Requests(registry_, "set", "ok"), 2);
  EXPECT_EQ(Requests(registry_, "get", "error"), 0);
  EXPECT_EQ(MetricValue(registry_, "eduaid_cache_breaker_open",
                        {{"service", "test"}}),
            0);

  // The default TTL is applied when none is given.
  SideConnection side(redis_.port());
  ASSERT_TRUE(side.ok());
  std::optional<std::string> ttl = side.Command({"TTL", key});
  ASSERT_TRUE(ttl.has_value());
  int ttl_s = 0;
  ASSERT_TRUE(absl::SimpleAtoi(*ttl, &ttl_s));
  EXPECT_GT(ttl_s, 290);
  EXPECT_LE(ttl_s, 300);
}

TEST_F(CacheTest, TtlExpires) {
  auto cache = MakeCache(Options());
  ASSERT_NE(cache, nullptr);
  const std::string key = CacheKey("test", "session", "ttl");
  cache->Set(key, "short-lived", seconds{1});
  EXPECT_THAT(cache->Get(key), Optional(std::string("short-lived")));
  std::this_thread::sleep_for(milliseconds{1500});
  EXPECT_EQ(cache->Get(key), std::nullopt);
}

TEST_F(CacheTest, BinaryAndChineseValuesAreByteExact) {
  auto cache = MakeCache(Options());
  ASSERT_NE(cache, nullptr);

  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  binary += std::string("\0\r\n$-1\r\n\0", 10);
  const std::string chinese = "你好，世界！教育辅助系统：张三的成绩单";
  const std::string binary_key = std::string("eduaid:test:bin:\0\xff\r\n", 20);
  const std::string chinese_key = CacheKey("test", "学生", "李四");

  cache->Set(binary_key, binary);
  cache->Set(chinese_key, chinese);
  cache->Set(CacheKey("test", "empty", "1"), "");

  std::optional<std::string> got = cache->Get(binary_key);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->size(), binary.size());
  EXPECT_EQ(*got, binary);
  EXPECT_THAT(cache->Get(chinese_key), Optional(chinese));
  EXPECT_THAT(cache->Get(CacheKey("test", "empty", "1")),
              Optional(std::string()));

  // Stored under exactly these bytes.
  SideConnection side(redis_.port());
  ASSERT_TRUE(side.ok());
  EXPECT_THAT(side.Command({"GET", chinese_key}), Optional(chinese));
  EXPECT_THAT(side.Command({"GET", binary_key}), Optional(binary));
}

TEST_F(CacheTest, InvalidateDeletesAllGivenKeys) {
  auto cache = MakeCache(Options());
  ASSERT_NE(cache, nullptr);
  std::vector<std::string> keys;
  for (int i = 0; i < 5; ++i) {
    keys.push_back(CacheKey("test", "grade", std::to_string(i)));
    cache->Set(keys.back(), absl::StrCat("v", i));
  }
  cache->Invalidate({keys[0], keys[2], keys[4], CacheKey("test", "x", "gone")});
  EXPECT_EQ(cache->Get(keys[0]), std::nullopt);
  EXPECT_THAT(cache->Get(keys[1]), Optional(std::string("v1")));
  EXPECT_EQ(cache->Get(keys[2]), std::nullopt);
  EXPECT_THAT(cache->Get(keys[3]), Optional(std::string("v3")));
  EXPECT_EQ(cache->Get(keys[4]), std::nullopt);
  EXPECT_EQ(Requests(registry_, "del", "ok"), 1);  // one DEL for all keys

  cache->Invalidate({});  // no-op, not counted
  EXPECT_EQ(Requests(registry_, "del", "ok"), 1);
}

TEST_F(CacheTest, SelectsDatabaseFromUrl) {
  CacheOptions options = Options();
  options.url = redis_.url() + "/3";
  auto cache = MakeCache(options);
  ASSERT_NE(cache, nullptr);
  const std::string key = CacheKey("test", "db", "3");
  cache->Set(key, "in-db-3");
  EXPECT_THAT(cache->Get(key), Optional(std::string("in-db-3")));

  SideConnection side(redis_.port());
  ASSERT_TRUE(side.ok());
  EXPECT_EQ(side.Command({"GET", key}), std::nullopt);  // not in db 0
  ASSERT_TRUE(side.Command({"SELECT", "3"}).has_value());
  EXPECT_THAT(side.Command({"GET", key}), Optional(std::string("in-db-3")));
}

TEST(CacheDisabledTest, EmptyUrlDisablesAndCountsNothing) {
  prometheus::Registry registry;
  CacheOptions options;
  options.service = "test";
  options.metrics = &registry;
  absl::StatusOr<std::unique_ptr<Cache>> cache = Cache::Create(options);
  ASSERT_TRUE(cache.ok()) << cache.status();
  (*cache)->Set("k", "v");
  EXPECT_EQ((*cache)->Get("k"), std::nullopt);
  (*cache)->Invalidate({"k"});
  EXPECT_FALSE((*cache)->bypassed());
  for (const char* op : {"get", "set", "del"}) {
    for (const char* result : {"hit", "miss", "ok", "error", "bypass"}) {
      EXPECT_EQ(Requests(registry, op, result), 0) << op << " " << result;
    }
  }
  EXPECT_EQ(MetricValue(registry, "eduaid_cache_bypass_total", {}), 0);
}

TEST(CacheUrlTest, MalformedUrlIsInvalidArgument) {
  for (const char* url :
       {"localhost:6379", "http://localhost:6379", "redis://",
        "redis://localhost", "redis://localhost:", "redis://:6379",
        "redis://localhost:port", "redis://localhost:0",
        "redis://localhost:65536", "redis://localhost:-1",
        "redis://localhost:6379/x", "redis://localhost:6379/0/1",
        "redis://user:secret@localhost:6379", "redis://local host:6379",
        "redis://[::1:6379", "rediss://localhost:6379"}) {
    CacheOptions options;
    options.url = url;
    absl::StatusOr<std::unique_ptr<Cache>> cache = Cache::Create(options);
    EXPECT_EQ(cache.status().code(), absl::StatusCode::kInvalidArgument) << url;
    // A password in a malformed URL must not leak into the message.
    EXPECT_EQ(cache.status().message().find("secret"), std::string::npos);
  }
}

TEST(CacheUrlTest, UnreachableRedisStartsBypassed) {
  prometheus::Registry registry;
  CacheOptions options;
  options.url = absl::StrCat("redis://127.0.0.1:", testing::FreePort(), "/1");
  options.service = "test";
  options.metrics = &registry;
  absl::StatusOr<std::unique_ptr<Cache>> cache = Cache::Create(options);
  ASSERT_TRUE(cache.ok()) << cache.status();
  EXPECT_TRUE((*cache)->bypassed());
  EXPECT_EQ((*cache)->Get("k"), std::nullopt);
  EXPECT_EQ(Requests(registry, "get", "bypass"), 1);
  EXPECT_EQ(
      MetricValue(registry, "eduaid_cache_breaker_open", {{"service", "test"}}),
      1);
}

TEST_F(CacheTest, BreakerOpensWhileRedisIsDownAndClosesAfterwards) {
  CacheOptions options = Options();
  options.breaker_failures = 3;
  options.breaker_open = milliseconds{200};
  auto cache = MakeCache(options);
  ASSERT_NE(cache, nullptr);
  const std::string key = CacheKey("test", "course", "breaker");
  cache->Set(key, "v");
  ASSERT_THAT(cache->Get(key), Optional(std::string("v")));

  redis_.Stop();

  // breaker_failures consecutive failures open the breaker.
  for (int i = 0; i < options.breaker_failures; ++i) {
    EXPECT_FALSE(cache->bypassed()) << i;
    EXPECT_EQ(cache->Get(key), std::nullopt);
  }
  EXPECT_TRUE(cache->bypassed());
  EXPECT_EQ(Requests(registry_, "get", "error"), options.breaker_failures);
  EXPECT_EQ(MetricValue(registry_, "eduaid_cache_breaker_open",
                        {{"service", "test"}}),
            1);

  // While open, every call returns at once without touching Redis.
  const double bypass_before = MetricValue(
      registry_, "eduaid_cache_bypass_total", {{"service", "test"}});
  constexpr int kCalls = 20;
  for (int i = 0; i < kCalls; ++i) {
    EXPECT_EQ(cache->Get(key), std::nullopt);
    cache->Set(key, "ignored");
    cache->Invalidate({key});
  }
  const double bypassed_calls =
      MetricValue(registry_, "eduaid_cache_bypass_total",
                  {{"service", "test"}}) -
      bypass_before;
  // Everything was bypassed, except at most one probe per elapsed open
  // period on a very slow machine (a probe fails and is counted as error).
  const double errors = Requests(registry_, "get", "error") +
                        Requests(registry_, "set", "error") +
                        Requests(registry_, "del", "error") -
                        options.breaker_failures;
  EXPECT_EQ(bypassed_calls + errors, 3 * kCalls);
  EXPECT_GT(bypassed_calls, 0);
  EXPECT_LE(errors, 3);
  EXPECT_EQ(Requests(registry_, "get", "bypass") +
                Requests(registry_, "set", "bypass") +
                Requests(registry_, "del", "bypass"),
            bypassed_calls);
  EXPECT_TRUE(cache->bypassed());

  // Redis is back; after the open period one probe closes the breaker.
  redis_.Start();
  std::this_thread::sleep_for(options.breaker_open + milliseconds{100});
  EXPECT_EQ(cache->Get(key), std::nullopt);  // probe: a miss, Redis is empty
  EXPECT_FALSE(cache->bypassed());
  EXPECT_EQ(MetricValue(registry_, "eduaid_cache_breaker_open",
                        {{"service", "test"}}),
            0);
  cache->Set(key, "back");
  EXPECT_THAT(cache->Get(key), Optional(std::string("back")));
  cache->Invalidate({key});
  EXPECT_EQ(cache->Get(key), std::nullopt);
  EXPECT_FALSE(cache->bypassed());
}

TEST_F(CacheTest, StalledRedisTimesOutWithoutOpeningBreaker) {
  CacheOptions options = Options();
  options.command_timeout = milliseconds{50};
  auto cache = MakeCache(options);
  ASSERT_NE(cache, nullptr);
  const std::string key = CacheKey("test", "course", "stall");
  cache->Set(key, "v");

  // A Lua busy loop blocks the whole server for ~1 s.
  std::thread staller([port = redis_.port()] {
    SideConnection side(port);
    side.Command({"EVAL",
                  "local s = redis.call('TIME') "
                  "while true do local n = redis.call('TIME') "
                  "if (n[1] - s[1]) * 1000000 + (n[2] - s[2]) > 1000000 "
                  "then break end end return 1",
                  "0"});
  });
  std::this_thread::sleep_for(milliseconds{200});
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(cache->Get(key), std::nullopt);
  auto elapsed = std::chrono::steady_clock::now() - start;
  staller.join();

  EXPECT_EQ(Requests(registry_, "get", "error"), 1);
  // Bounded by the command timeout, not by the 1 s stall (loose bound).
  EXPECT_LT(elapsed, milliseconds{700});
  EXPECT_FALSE(cache->bypassed());  // one failure < breaker_failures
  EXPECT_THAT(cache->Get(key), Optional(std::string("v")));
}

TEST_F(CacheTest, ConcurrentUseStaysWithinPool) {
  CacheOptions options = Options();
  options.pool_size = 4;
  // This test is about correctness and the pool bound, not latency: on an
  // oversubscribed CI box 16 threads queueing for 4 connections can exceed
  // the production 50 ms. Timeouts have their own test.
  options.command_timeout = milliseconds{1000};
  auto cache = MakeCache(options);
  ASSERT_NE(cache, nullptr);

  SideConnection monitor(redis_.port());
  ASSERT_TRUE(monitor.ok());
  std::atomic<bool> done{false};
  std::atomic<int> max_clients{0};
  std::thread watcher([&] {
    while (!done.load()) {
      int n = monitor.ConnectedClients();
      if (n > max_clients.load()) max_clients.store(n);
      std::this_thread::sleep_for(milliseconds{2});
    }
  });

  constexpr int kThreads = 16;
  constexpr int kIterations = 500;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIterations; ++i) {
        const std::string key =
            CacheKey("test", "load", absl::StrCat(t, ":", i % 50));
        const std::string value = absl::StrCat("值", t, "-", i);
        cache->Set(key, value);
        if (cache->Get(key) != value) failures.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  done.store(true);
  watcher.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Requests(registry_, "get", "hit"), kThreads * kIterations);
  EXPECT_EQ(Requests(registry_, "set", "ok"), kThreads * kIterations);
  EXPECT_EQ(
      Requests(registry_, "get", "error") + Requests(registry_, "set", "error"),
      0);
  EXPECT_GT(max_clients.load(), 0);
  EXPECT_LE(max_clients.load(), options.pool_size + 1);
  EXPECT_LE(monitor.ConnectedClients(), options.pool_size + 1);
  EXPECT_FALSE(cache->bypassed());
}

}  // namespace
}  // namespace eduaid
