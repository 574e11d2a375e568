#include "services/common/testing/service_testing.h"

#include <chrono>

namespace eduaid::testing {

ServerConfig TestServerConfig(const std::string& service,
                              const std::string& grpc_service,
                              const std::string& database_url,
                              const std::string& redis_url) {
  ServerConfig c;
  c.service = service;
  c.grpc_service = grpc_service;
  c.bind = "127.0.0.1";
  c.grpc_port = 0;
  c.metrics_port = 0;
  c.health_port = 0;
  c.workers = 4;
  c.drain_grace_seconds = 0;
  c.drain_seconds = 2;
  c.rate_limit_per_second = 0;
  c.database_url = database_url;
  c.redis_url = redis_url;
  c.data_key_hex = kTestDataKey;
  c.jwt_secret = kTestJwtSecret;
  return c;
}

std::string TestToken(Role role, const std::string& region, int ttl_seconds,
                      const std::string& subject) {
  TokenClaims claims;
  claims.subject = subject.empty() ? std::string("test-") + RoleName(role) + "-" + region : subject;
  claims.role = role;
  claims.region = region;
  claims.ttl = std::chrono::seconds(ttl_seconds);
  if (ttl_seconds < 0) {
    claims.issued_at = time(nullptr) - 7200;
    claims.ttl = std::chrono::seconds(3600 + 0);
  }
  return MintHs256Token(claims, kTestJwtSecret);
}

std::unique_ptr<grpc::ClientContext> ClientContextWith(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return ctx;
}

}  // namespace eduaid::testing
