#include "services/common/peer.h"

#include <ctime>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/common/auth.h"
#include "services/common/status.h"

namespace eduaid {
namespace {
std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

ServiceTokenSource::ServiceTokenSource(std::string subject,
                                       std::string hs256_secret,
                                       std::string token_file)
    : subject_(std::move(subject)),
      secret_(std::move(hs256_secret)),
      file_(std::move(token_file)) {}

std::string ServiceTokenSource::Token() {
  int64_t now = time(nullptr);
  absl::MutexLock lock(&mu_);
  if (now < refresh_at_) return token_;
  if (!file_.empty()) {
    token_ = std::string(absl::StripAsciiWhitespace(ReadAll(file_)));
    refresh_at_ = now + 60;
  } else if (!secret_.empty()) {
    TokenClaims claims;
    claims.subject = subject_;
    claims.role = Role::kService;
    claims.region = "";
    claims.ttl = std::chrono::seconds(3600);
    token_ = MintHs256Token(claims, secret_);
    refresh_at_ = now + 1800;
  }
  return token_;
}

PeerChannel::PeerChannel(PeerOptions options, ServiceTokenSource* tokens)
    : options_(std::move(options)), tokens_(tokens) {
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (!options_.tls_ca_file.empty()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadAll(options_.tls_ca_file);
    if (!options_.tls_cert_file.empty()) {
      ssl.pem_cert_chain = ReadAll(options_.tls_cert_file);
      ssl.pem_private_key = ReadAll(options_.tls_key_file);
    }
    creds = grpc::SslCredentials(ssl);
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(32 << 20);
  // With a dns:/// target on a headless Service every pod is a backend.
  args.SetLoadBalancingPolicyName("round_robin");
  channel_ = grpc::CreateCustomChannel(options_.target, creds, args);
}

void PeerChannel::Prepare(grpc::ClientContext* ctx,
                          std::chrono::milliseconds deadline) const {
  if (deadline.count() == 0) deadline = options_.deadline;
  ctx->set_deadline(std::chrono::system_clock::now() + deadline);
  if (tokens_) {
    std::string token = tokens_->Token();
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  }
}

absl::Status PeerError(absl::string_view peer, const grpc::Status& status,
                       absl::string_view what) {
  const std::string cause =
      absl::StrCat(GrpcCodeName(status.error_code()), ": ",
                   status.error_message());
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::CANCELLED:
      return WithReason(absl::StatusCode::kUnavailable, "PEER_UNAVAILABLE",
                        absl::StrCat(peer, " could not ", what, ": ", cause,
                                     "; nothing was stored, retry later"));
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::ALREADY_EXISTS: {
      const absl::Status original = FromGrpcStatus(status);
      absl::Status out(original.code(),
                       absl::StrCat(peer, ": ", what, ": ",
                                    status.error_message()));
      original.ForEachPayload(
          [&out](absl::string_view url, const absl::Cord& payload) {
            out.SetPayload(url, payload);
          });
      return out;
    }
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
      return WithReason(
          absl::StatusCode::kInternal, "PEER_REFUSED",
          absl::StrCat(peer, " refused this service's credentials to ", what,
                       ": ", cause,
                       "; an operator must fix the service token or its "
                       "role (a retry will not help)"));
    default:
      return WithReason(absl::StatusCode::kInternal, "PEER_FAILED",
                        absl::StrCat(peer, " failed to ", what, ": ", cause));
  }
}

}  // namespace eduaid
