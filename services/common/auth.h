// Authentication (signed JWT bearer tokens) and the region-scoped access
// policy shared by all services. See docs/SECURITY.md for the policy table.
#ifndef EDUAID_COMMON_AUTH_H_
#define EDUAID_COMMON_AUTH_H_

#include <openssl/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace eduaid {

enum class Role {
  kProvinceOfficer,
  kCityOfficer,
  kCountyOfficer,
  kSchoolOfficer,
  kAuditor,  // read-only, everything in scope, unmasked
  kAgency,   // read-only, personal data masked
  kService,  // another eduaid service
  kTeacher,  // a teacher: `sub` is the teacher id (t-12); own households only
};

const char* RoleName(Role role);  // "county_officer", ...
absl::StatusOr<Role> ParseRole(absl::string_view name);

// Who is calling, from a verified token.
struct Principal {
  std::string subject;        // "sub"
  Role role = Role::kAgency;  // "role"
  std::string region;         // "region": a region code prefix ("" = all)
  std::string school;         // "school": school code, for school officers

  // Officers and services may change records in their region.
  bool CanWrite() const;
  // Everyone but agencies sees personal data unmasked.
  bool SeesPersonalData() const;
  // True when `region_code` lies within this principal's region.
  bool Covers(absl::string_view region_code) const;
  // True unless this is a school officer and `school_code` is not the
  // officer's school (a record of no school is not a school officer's).
  bool CoversSchool(absl::string_view school_code) const;
};

// PERMISSION_DENIED unless `p` covers `region_code`. The message names the
// principal's scope, never the record.
absl::Status CheckRegion(const Principal& p, absl::string_view region_code);

// PERMISSION_DENIED unless `p` covers `school_code` (school officers are
// held to the school of their token's mandatory `school` claim; other roles
// pass). The message names the principal's school, never the record.
absl::Status CheckSchool(const Principal& p, absl::string_view school_code);

// PERMISSION_DENIED unless `p` covers both the region and the school of a
// record (the usual check of a record that names a school).
absl::Status CheckRecordScope(const Principal& p, absl::string_view region_code,
                              absl::string_view school_code);

// PERMISSION_DENIED unless `p` may write.
absl::Status CheckWrite(const Principal& p);

// PERMISSION_DENIED unless `p` has one of `roles`.
absl::Status CheckRole(const Principal& p, std::initializer_list<Role> roles);

// The region prefix a list call may use: `filter` when it lies inside the
// principal's scope, the principal's scope when `filter` is empty,
// PERMISSION_DENIED when `filter` reaches outside it.
absl::StatusOr<std::string> ScopeRegionFilter(const Principal& p,
                                              absl::string_view filter);

struct AuthOptions {
  bool enabled = true;                       // off only with --insecure-no-auth
  std::string hs256_secret;                  // raw bytes; for local runs
  std::vector<std::string> public_keys_pem;  // ES256 / RS256 verification
  std::string issuer = "eduaid";
  std::string audience = "eduaid";
  std::chrono::seconds leeway{30};
  // Longest a token may live (exp - iat, and exp - now): a leaked token
  // is worth at most this. Service tokens are minted for an hour.
  std::chrono::seconds max_lifetime{std::chrono::hours(24)};
  // HS256 (a shared secret) is for local runs; production refuses it
  // (--jwt-allow-hs256=false) so a stray EDUAID_JWT_SECRET cannot open a
  // second way in.
  bool allow_hs256 = true;
};

// Verifies tokens. Thread-safe; verified tokens are cached until they
// expire (bounded), so the hot path is a hash look-up.
class Authenticator {
 public:
  explicit Authenticator(AuthOptions options);

  ~Authenticator();

  // Loads the HS256 secret from $EDUAID_JWT_SECRET or `secret_file`, and
  // public keys from `public_key_files` (comma-separated PEM files).
  // FAILED_PRECONDITION when auth is enabled and no key is configured, when
  // a public key file does not hold a public key, or when an HS256 secret
  // is configured while `allow_hs256` is false.
  static absl::StatusOr<std::unique_ptr<Authenticator>> FromConfig(
      bool enabled, const std::string& secret_file,
      const std::string& public_key_files, bool allow_hs256 = true,
      std::chrono::seconds max_lifetime = std::chrono::hours(24));

  // UNAUTHENTICATED with a reason for a missing, malformed, badly signed,
  // expired or wrongly addressed token. With auth disabled, returns a
  // province officer of all regions named "local".
  absl::StatusOr<Principal> Verify(absl::string_view authorization_header);

  bool enabled() const { return options_.enabled; }

 private:
  absl::StatusOr<Principal> VerifyUncached(absl::string_view token,
                                           int64_t* exp);
  // The steps of VerifyUncached, in order: the signature over
  // "<header>.<payload>" (UNAUTHENTICATED unless it verifies with an
  // accepted algorithm and key), exp/nbf/iat (returns exp), then issuer,
  // audience and the principal's claims.
  absl::Status VerifySignature(const std::string& alg,
                               const std::string& signed_part,
                               const std::string& sig) const;
  absl::StatusOr<int64_t> CheckTimes(const nlohmann::json& claims) const;
  absl::StatusOr<Principal> PrincipalOf(const nlohmann::json& claims) const;
  AuthOptions options_;
  // The PEM public keys, parsed once (EVP_PKEY is immutable after parsing
  // and safe to share between threads for verification).
  std::vector<EVP_PKEY*> public_keys_;
  absl::Mutex mu_;
  struct Cached {
    Principal principal;
    int64_t exp;
  };
  absl::flat_hash_map<std::string, Cached> cache_ ABSL_GUARDED_BY(mu_);
};

// Claims of a token to mint.
struct TokenClaims {
  std::string subject;
  Role role = Role::kCountyOfficer;
  std::string region;
  std::string school;
  std::string issuer = "eduaid";
  std::string audience = "eduaid";
  std::chrono::seconds ttl{3600};
  int64_t issued_at = 0;  // 0 = now
};

// An HS256 token (local runs and tests).
std::string MintHs256Token(const TokenClaims& claims, absl::string_view secret);

// An ES256 token signed with a PEM private key (production-like tests).
absl::StatusOr<std::string> MintEs256Token(const TokenClaims& claims,
                                           absl::string_view private_key_pem);

}  // namespace eduaid

#endif  // EDUAID_COMMON_AUTH_H_
