#include "services/common/testing/service_testing.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <sstream>

#include "grpc/health/v1/health.grpc.pb.h"

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
  claims.subject = subject.empty()
                       ? std::string("test-") + RoleName(role) + "-" + region
                       : subject;
  claims.role = role;
  claims.region = region;
  claims.ttl = std::chrono::seconds(ttl_seconds);
  if (ttl_seconds < 0) {
    claims.issued_at = time(nullptr) - 7200;
    claims.ttl = std::chrono::seconds(3600 + 0);
  }
  return MintHs256Token(claims, kTestJwtSecret);
}

std::string SchoolOfficerToken(const std::string& school,
                               const std::string& region) {
  TokenClaims claims;
  claims.subject = "school-officer-" + school;
  claims.role = Role::kSchoolOfficer;
  claims.region = region;
  claims.school = school;
  return MintHs256Token(claims, kTestJwtSecret);
}

std::unique_ptr<grpc::ClientContext> ClientContextWith(
    const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(10));
  return ctx;
}

std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "";
  }
  std::string req = "GET " + path +
                    " HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  if (write(fd, req.data(), req.size()) < 0) {
    close(fd);
    return "";
  }
  std::string resp;
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) resp.append(buf, n);
  close(fd);
  size_t body = resp.find("\r\n\r\n");
  return body == std::string::npos ? "" : resp.substr(body + 4);
}

std::string HealthStatus(int port, const std::string& service) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                     grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  grpc::health::v1::HealthCheckResponse resp;
  grpc::Status st = stub->Check(&ctx, req, &resp);
  if (!st.ok()) return "error:" + std::to_string(st.error_code());
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
      resp.status());
}

double MetricValue(const std::string& text, const std::string& metric,
                   const std::vector<std::string>& labels) {
  std::istringstream in(text);
  std::string line;
  double sum = 0;
  bool found = false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, metric.size(), metric) != 0) continue;
    char next = line.size() > metric.size() ? line[metric.size()] : ' ';
    if (next != '{' && next != ' ') continue;
    bool all = true;
    for (const auto& l : labels) {
      if (line.find(l) == std::string::npos) all = false;
    }
    if (!all) continue;
    size_t sp = line.rfind(' ');
    sum += std::stod(line.substr(sp + 1));
    found = true;
  }
  return found ? sum : -1;
}

}  // namespace eduaid::testing
