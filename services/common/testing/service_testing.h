// Helpers for service tests: a ServerConfig on free ports with fixed test
// keys, and tokens of any role signed with the test secret.
#ifndef EDUAID_COMMON_TESTING_SERVICE_TESTING_H_
#define EDUAID_COMMON_TESTING_SERVICE_TESTING_H_

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "services/common/auth.h"
#include "services/common/server.h"

namespace eduaid::testing {

inline constexpr char kTestJwtSecret[] =
    "eduaid-test-secret-not-for-production";
inline constexpr char kTestDataKey[] =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

// Ports 0 (chosen by the kernel), metrics and health on, workers 4, the
// test secret and data key, rate limit off.
ServerConfig TestServerConfig(const std::string& service,
                              const std::string& grpc_service,
                              const std::string& database_url,
                              const std::string& redis_url);

// A token for `role` in `region`, signed with kTestJwtSecret; `ttl_seconds`
// may be negative for an expired token.
std::string TestToken(Role role, const std::string& region,
                      int ttl_seconds = 3600, const std::string& subject = "");

// A school officer's token for `school` of county `region` (subject
// "school-officer-<school>"), signed with kTestJwtSecret. An empty `school`
// mints the token servers must refuse.
std::string SchoolOfficerToken(const std::string& school,
                               const std::string& region);

// A client context with the bearer token and a 10 s deadline.
std::unique_ptr<grpc::ClientContext> ClientContextWith(
    const std::string& token);

// The body of GET http://127.0.0.1:<port><path> ("" on failure).
std::string HttpGet(int port, const std::string& path);

// The grpc.health.v1 status of `service` at 127.0.0.1:<port> over
// plaintext: "SERVING", "NOT_SERVING", or the error code name.
std::string HealthStatus(int port, const std::string& service);

// The value of the sample of `metric` whose labels include every
// `name="value"` pair in `labels`, summed over matches; -1 when none.
double MetricValue(const std::string& metrics_text, const std::string& metric,
                   const std::vector<std::string>& labels);

}  // namespace eduaid::testing

#endif  // EDUAID_COMMON_TESTING_SERVICE_TESTING_H_
