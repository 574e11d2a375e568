// Helpers for service tests: a ServerConfig on free ports with fixed test
// keys, and tokens of any role signed with the test secret.
#ifndef EDUAID_COMMON_TESTING_SERVICE_TESTING_H_
#define EDUAID_COMMON_TESTING_SERVICE_TESTING_H_

#include <memory>
#include <string>

#include "grpcpp/grpcpp.h"
#include "services/common/auth.h"
#include "services/common/server.h"

namespace eduaid::testing {

inline constexpr char kTestJwtSecret[] = "eduaid-test-secret-not-for-production";
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

// A client context with the bearer token and a 10 s deadline.
std::unique_ptr<grpc::ClientContext> ClientContextWith(const std::string& token);

}  // namespace eduaid::testing

#endif  // EDUAID_COMMON_TESTING_SERVICE_TESTING_H_
