// Calls from one eduaid service to another: a channel (TLS/mTLS when
// configured), a service token on every call, and a deadline on every call.
#ifndef EDUAID_COMMON_PEER_H_
#define EDUAID_COMMON_PEER_H_

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"

namespace eduaid {

// Where a service's own bearer token comes from: minted locally with the
// HS256 secret (local runs), or read from a file that a Secret mounts and
// rotates (production, ES256/RS256 tokens issued elsewhere).
class ServiceTokenSource {
 public:
  // `subject` names the calling service ("ledger").
  ServiceTokenSource(std::string subject, std::string hs256_secret,
                     std::string token_file);
  // A token valid for at least a minute more ("" when none configured).
  std::string Token();

 private:
  const std::string subject_, secret_, file_;
  absl::Mutex mu_;
  std::string token_ ABSL_GUARDED_BY(mu_);
  int64_t refresh_at_ ABSL_GUARDED_BY(mu_) = 0;
};

struct PeerOptions {
  std::string target;         // "127.0.0.1:50051" or "dns:///registry:50051"
  std::string tls_ca_file;    // set for TLS
  std::string tls_cert_file;  // set with key for mTLS
  std::string tls_key_file;
  std::chrono::milliseconds deadline{3000};
};

class PeerChannel {
 public:
  PeerChannel(PeerOptions options, ServiceTokenSource* tokens);
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  // Sets the deadline (options.deadline when zero) and the bearer token.
  void Prepare(grpc::ClientContext* ctx,
               std::chrono::milliseconds deadline = {}) const;

 private:
  PeerOptions options_;
  ServiceTokenSource* tokens_;
  std::shared_ptr<grpc::Channel> channel_;
};

// A peer's failure as this service reports it to its own caller, keeping
// the failure's meaning (one mapping for every service). `peer` names the
// peer for a reader ("the registry (dns:///registry:50051)"), `what` the
// step that failed ("list the region's students").
//  - UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, CANCELLED:
//    UNAVAILABLE (reason PEER_UNAVAILABLE): a retry may cure it, and the
//    caller is told nothing was stored.
//  - NOT_FOUND, INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE,
//    ALREADY_EXISTS: the same code, the peer's message behind `peer` and
//    `what`, its details (field violations, ErrorInfo) kept: the answer is
//    about the caller's request, and a retry would get the same.
//  - PERMISSION_DENIED, UNAUTHENTICATED: INTERNAL (reason PEER_REFUSED):
//    the peer refused this service's own credentials, which an operator
//    must fix; the caller's own rights are not in question.
//  - anything else (INTERNAL, UNKNOWN, UNIMPLEMENTED, DATA_LOSS): INTERNAL
//    (reason PEER_FAILED) with the peer's code and message as the cause.
absl::Status PeerError(absl::string_view peer, const grpc::Status& status,
                       absl::string_view what);

}  // namespace eduaid

#endif  // EDUAID_COMMON_PEER_H_
