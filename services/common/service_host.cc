#include "services/common/service_host.h"

#include <algorithm>
#include <ctime>
#include <fstream>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/idempotency.h"
#include "services/common/log.h"
#include "services/common/page_token.h"
#include "services/common/status_macros.h"

namespace eduaid {

absl::StatusOr<std::unique_ptr<ServiceHost>> ServiceHost::Create(
    const ServerConfig& config, const std::vector<Migration>& migrations) {
  std::unique_ptr<ServiceHost> host(new ServiceHost());
  host->config_ = config;
  host->runner_ = std::make_unique<ServerRunner>(config);
  RETURN_IF_ERROR(host->LoadKeys());
  RETURN_IF_ERROR(host->OpenDatabases(migrations));
  if (config.request_log_days > 0) host->StartRequestLogPruner();
  RETURN_IF_ERROR(host->ConnectCache());
  host->audit_ = std::make_unique<AuditLog>(
      host->audit_db_ ? host->audit_db_.get() : host->db_.get());
  host->requests_ =
      std::make_unique<RequestLog>(host->db_.get(), host->crypto_.get());
  host->runtime_ = std::make_unique<ServiceRuntime>(config, host->auth_.get(),
                                                    host->audit_.get(),
                                                    &host->runner_->registry());
  host->tokens_ = std::make_unique<ServiceTokenSource>(
      config.service, host->ServiceSecret(), config.service_token_file);
  return host;
}

absl::Status ServiceHost::LoadKeys() {
  const ServerConfig& config = config_;
  auto c = !config.data_key_hex.empty()
               ? FieldCrypto::Create(config.data_key_hex)
               : FieldCrypto::Load(config.data_key_file);
  if (!c.ok()) return c.status();
  crypto_ = std::move(*c);
  // Page tokens must verify on every replica: derive their key from the
  // data key, which all replicas share.
  SetPageTokenKey(crypto_->BlindIndex("page-token-key", "eduaid"));

  if (!config.jwt_secret.empty()) {
    if (!config.jwt_allow_hs256) {
      return absl::FailedPreconditionError(
          "an HS256 secret is configured but --jwt-allow-hs256=false");
    }
    AuthOptions opts;
    opts.enabled = !config.insecure_no_auth;
    opts.hs256_secret = config.jwt_secret;
    opts.max_lifetime = std::chrono::hours(config.jwt_max_lifetime_hours);
    auth_ = std::make_unique<Authenticator>(opts);
  } else {
    auto a = Authenticator::FromConfig(
        !config.insecure_no_auth, config.jwt_secret_file,
        config.jwt_public_keys, config.jwt_allow_hs256,
        std::chrono::hours(config.jwt_max_lifetime_hours));
    if (!a.ok()) return a.status();
    auth_ = std::move(*a);
  }
  if (config.insecure_no_auth) {
    Log(LogLevel::kWarn,
        "authentication is OFF (--insecure-no-auth): local experiments only");
  }
  return absl::OkStatus();
}

absl::Status ServiceHost::OpenDatabases(
    const std::vector<Migration>& migrations) {
  const ServerConfig& config = config_;
  DatabaseOptions dbo;
  dbo.service = config.service;
  dbo.metrics = &runner_->registry();
  dbo.pool_size = config.db_pool_size > 0 ? config.db_pool_size
                                          : std::clamp(config.workers, 2, 16);
  dbo.sqlite_synchronous = config.sqlite_synchronous;
  dbo.sqlite_writer_cache_mib = std::max(1, config.sqlite_cache_mib);
  ASSIGN_OR_RETURN(db_, Database::Open(config.database_url, dbo));
  RETURN_IF_ERROR(db_->Migrate(migrations));
  // On SQLite the audit log lives in a file of its own (<name>-audit.db):
  // its batched appends then never wait for the service's single writer,
  // and its pages, written once and rarely read, do not crowd the
  // service's page cache (a small cache of their own instead). PostgreSQL
  // keeps it as a table of the service's database.
  Database* audit_db = db_.get();
  if (absl::StartsWith(config.database_url, "sqlite://")) {
    std::string url = config.database_url;
    if (absl::EndsWith(url, ".db")) url.resize(url.size() - 3);
    url += "-audit.db";
    DatabaseOptions ao = dbo;
    ao.pool_size = 1;
    ao.sqlite_synchronous = "NORMAL";
    ao.sqlite_writer_cache_mib = 2;
    ao.sqlite_reader_cache_mib = 2;
    ao.metrics = nullptr;
    ASSIGN_OR_RETURN(audit_db_, Database::Open(url, ao));
    audit_db = audit_db_.get();
  }
  RETURN_IF_ERROR(audit_db->Migrate({AuditLog::TableMigration(1000)}));
  return db_->Migrate(
      {RequestLogRetentionMigration(1001), RequestLogSealMigration(1002)});
}

void ServiceHost::StartRequestLogPruner() {
  const int64_t keep_s = int64_t{config_.request_log_days} * 86400;
  pruner_ = std::thread([this, keep_s] {
    std::unique_lock<std::mutex> lock(pruner_mu_);
    // First pass a minute after start, then hourly.
    auto wait = std::chrono::minutes(1);
    while (!pruner_cv_.wait_for(lock, wait, [this] { return pruner_stop_; })) {
      lock.unlock();
      auto n = PruneRequestLog(
          *db_, static_cast<int64_t>(std::time(nullptr)) - keep_s);
      if (!n.ok()) {
        Log(LogLevel::kWarn, "request log pruning failed",
            {{"error", std::string(n.status().message())}});
      } else if (*n > 0) {
        Log(LogLevel::kInfo, "request log pruned",
            {{"deleted", std::to_string(*n)}});
      }
      lock.lock();
      wait = std::chrono::hours(1);
    }
  });
}

absl::Status ServiceHost::ConnectCache() {
  const ServerConfig& config = config_;
  CacheOptions co;
  co.url = config.redis_url;
  co.user = config.redis_user;
  if (const char* env = std::getenv("EDUAID_REDIS_PASSWORD"); env && *env) {
    co.password = env;
  } else if (!config.redis_password_file.empty()) {
    std::ifstream in(config.redis_password_file);
    if (!in) {
      return absl::FailedPreconditionError(
          "cannot read --redis-password-file " + config.redis_password_file);
    }
    std::getline(in, co.password);
  }
  co.service = config.service;
  co.metrics = &runner_->registry();
  co.pool_size = std::max(4, config.workers);
  co.local_capacity = config.local_cache_entries;
  ASSIGN_OR_RETURN(cache_, Cache::Create(co));
  return absl::OkStatus();
}

std::string ServiceHost::ServiceSecret() const {
  std::string secret = config_.jwt_secret;
  if (secret.empty()) {
    if (const char* env = std::getenv("EDUAID_JWT_SECRET")) secret = env;
  }
  if (secret.empty() && !config_.jwt_secret_file.empty()) {
    std::ifstream in(config_.jwt_secret_file);
    std::getline(in, secret);
  }
  return secret;
}

void ServiceHost::Drain() {
  if (runner_) runner_->Shutdown();
  if (runtime_) runtime_->pool().Drain();
}

ServiceHost::~ServiceHost() {
  if (pruner_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(pruner_mu_);
      pruner_stop_ = true;
    }
    pruner_cv_.notify_all();
    pruner_.join();
  }
  Drain();
  runtime_.reset();  // joins workers before the database goes
  audit_.reset();
}

std::unique_ptr<PeerChannel> ServiceHost::Peer(
    const std::string& target, std::chrono::milliseconds deadline) {
  PeerOptions o;
  o.target = target;
  o.deadline = deadline;
  o.tls_ca_file = config_.peer_tls_ca_file;
  o.tls_cert_file = config_.peer_tls_cert_file;
  o.tls_key_file = config_.peer_tls_key_file;
  return std::make_unique<PeerChannel>(o, tokens_.get());
}

int ServiceMain(
    int argc, char** argv, ServerConfig config,
    const std::vector<Migration>& migrations,
    const std::function<void(CLI::App&)>& add_flags,
    const std::function<absl::StatusOr<
        std::vector<std::shared_ptr<grpc::Service>>>(ServiceHost&)>& build) {
  BlockTerminationSignals();
  CLI::App app{absl::StrCat("eduaid ", config.service, " service (",
                            config.grpc_service, ")")};
  AddCommonFlags(app, config);
  app.add_option("--service-token-file", config.service_token_file,
                 "This service's bearer token for calls to peers");
  app.add_option("--peer-tls-ca", config.peer_tls_ca_file,
                 "CA for peers' certificates (enables TLS to peers)");
  app.add_option("--peer-tls-cert", config.peer_tls_cert_file,
                 "Client certificate for mTLS to peers");
  app.add_option("--peer-tls-key", config.peer_tls_key_file,
                 "Client key for mTLS to peers");
  if (add_flags) add_flags(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  auto host = ServiceHost::Create(config, migrations);
  if (!host.ok()) {
    Log(LogLevel::kError, "cannot start",
        {{"error", std::string(host.status().message())}});
    return 1;
  }
  auto services = build(**host);
  if (!services.ok()) {
    Log(LogLevel::kError, "cannot start",
        {{"error", std::string(services.status().message())}});
    return 1;
  }
  std::vector<grpc::Service*> raw;
  for (auto& s : *services) raw.push_back(s.get());
  absl::Status st = (*host)->Start(raw);
  if (!st.ok()) {
    Log(LogLevel::kError, "cannot start",
        {{"error", std::string(st.message())}});
    return 1;
  }
  int rc = (*host)->runner().RunUntilSignal();
  // Stop taking calls and let queued work finish before the services go,
  // then the services (their background threads may still use the host),
  // then the host.
  (*host)->Drain();
  services->clear();
  host->reset();
  return rc;
}

}  // namespace eduaid
