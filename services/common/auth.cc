#include "services/common/auth.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "services/common/crypto.h"

namespace eduaid {
namespace {

constexpr size_t kMaxCachedTokens = 10000;

absl::Status Unauthenticated(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("invalid token: ", why));
}

bool VerifyWithKey(EVP_PKEY* key, absl::string_view alg, absl::string_view data,
                   absl::string_view sig) {
  std::string der;
  if (alg == "ES256") {
    if (EVP_PKEY_base_id(key) != EVP_PKEY_EC || sig.size() != 64) return false;
    ECDSA_SIG* es = ECDSA_SIG_new();
    BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()),
                          32, nullptr);
    BIGNUM* s = BN_bin2bn(
        reinterpret_cast<const unsigned char*>(sig.data()) + 32, 32, nullptr);
    ECDSA_SIG_set0(es, r, s);
    unsigned char* buf = nullptr;
    int len = i2d_ECDSA_SIG(es, &buf);
    ECDSA_SIG_free(es);
    if (len <= 0) return false;
    der.assign(reinterpret_cast<char*>(buf), len);
    OPENSSL_free(buf);
    sig = der;
  } else if (alg == "RS256") {
    if (EVP_PKEY_base_id(key) != EVP_PKEY_RSA) return false;
  } else {
    return false;
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()),
                       sig.size(),
                       reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

// A string member of a JSON object: nullopt when absent, an error when
// present but not a string (a header like {"alg": 1} must be refused, not
// thrown on).
absl::StatusOr<std::optional<std::string>> StringMember(
    const nlohmann::json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end()) return std::optional<std::string>();
  if (!it->is_string()) {
    return Unauthenticated(absl::StrCat(name, " must be a string"));
  }
  return std::optional<std::string>(it->get<std::string>());
}

std::string ClaimsJson(const TokenClaims& c) {
  int64_t iat = c.issued_at ? c.issued_at : static_cast<int64_t>(time(nullptr));
  nlohmann::json j = {{"sub", c.subject},          {"role", RoleName(c.role)},
                      {"region", c.region},        {"iss", c.issuer},
                      {"aud", c.audience},         {"iat", iat},
                      {"exp", iat + c.ttl.count()}};
  if (!c.school.empty()) j["school"] = c.school;
  return j.dump();
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kProvinceOfficer:
      return "province_officer";
    case Role::kCityOfficer:
      return "city_officer";
    case Role::kCountyOfficer:
      return "county_officer";
    case Role::kSchoolOfficer:
      return "school_officer";
    case Role::kAuditor:
      return "auditor";
    case Role::kAgency:
      return "agency";
    case Role::kService:
      return "service";
    case Role::kTeacher:
      return "teacher";
  }
  return "unknown";
}

absl::StatusOr<Role> ParseRole(absl::string_view name) {
  for (Role r :
       {Role::kProvinceOfficer, Role::kCityOfficer, Role::kCountyOfficer,
        Role::kSchoolOfficer, Role::kAuditor, Role::kAgency, Role::kService,
        Role::kTeacher}) {
    if (name == RoleName(r)) return r;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown role '", name, "'"));
}

bool Principal::CanWrite() const {
  return role != Role::kAuditor && role != Role::kAgency;
}

bool Principal::SeesPersonalData() const { return role != Role::kAgency; }

bool Principal::Covers(absl::string_view region_code) const {
  return absl::StartsWith(region_code, region);
}

absl::Status CheckRegion(const Principal& p, absl::string_view region_code) {
  if (p.Covers(region_code)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "record lies outside the caller's region scope '", p.region, "'"));
}

bool Principal::CoversSchool(absl::string_view school_code) const {
  return role != Role::kSchoolOfficer ||
         (!school.empty() && school_code == school);
}

absl::Status CheckSchool(const Principal& p, absl::string_view school_code) {
  if (p.CoversSchool(school_code)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("record lies outside the caller's school '", p.school, "'"));
}

absl::Status CheckRecordScope(const Principal& p, absl::string_view region_code,
                              absl::string_view school_code) {
  absl::Status st = CheckRegion(p, region_code);
  if (!st.ok()) return st;
  return CheckSchool(p, school_code);
}

absl::Status CheckWrite(const Principal& p) {
  if (p.CanWrite()) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("role ", RoleName(p.role), " is read-only"));
}

absl::Status CheckRole(const Principal& p, std::initializer_list<Role> roles) {
  for (Role r : roles) {
    if (p.role == r) return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat("role ", RoleName(p.role), " may not call this method"));
}

absl::StatusOr<std::string> ScopeRegionFilter(const Principal& p,
                                              absl::string_view filter) {
  if (filter.empty()) return p.region;
  if (absl::StartsWith(filter, p.region)) return std::string(filter);
  return absl::PermissionDeniedError(absl::StrCat(
      "region filter reaches outside the caller's scope '", p.region, "'"));
}

Authenticator::Authenticator(AuthOptions options)
    : options_(std::move(options)) {
  for (const auto& pem : options_.public_keys_pem) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (key) public_keys_.push_back(key);
  }
  if (!options_.allow_hs256) options_.hs256_secret.clear();
}

Authenticator::~Authenticator() {
  for (EVP_PKEY* key : public_keys_) EVP_PKEY_free(key);
}

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::FromConfig(
    bool enabled, const std::string& secret_file,
    const std::string& public_key_files, bool allow_hs256,
    std::chrono::seconds max_lifetime) {
  AuthOptions opts;
  opts.enabled = enabled;
  opts.max_lifetime = max_lifetime;
  opts.allow_hs256 = allow_hs256;
  if (const char* env = std::getenv("EDUAID_JWT_SECRET"); env && *env) {
    opts.hs256_secret = env;
  } else if (!secret_file.empty()) {
    std::ifstream in(secret_file);
    if (!in) {
      return absl::FailedPreconditionError("cannot read JWT secret file " +
                                           secret_file);
    }
    std::getline(in, opts.hs256_secret);
    opts.hs256_secret =
        std::string(absl::StripAsciiWhitespace(opts.hs256_secret));
  }
  for (auto file : absl::StrSplit(public_key_files, ',', absl::SkipEmpty())) {
    std::ifstream in{std::string(file)};
    if (!in) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot read public key file ", file));
    }
    std::stringstream ss;
    ss << in.rdbuf();
    opts.public_keys_pem.push_back(ss.str());
    BIO* bio = BIO_new_mem_buf(opts.public_keys_pem.back().data(),
                               static_cast<int>(ss.str().size()));
    EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (!key) {
      return absl::FailedPreconditionError(
          absl::StrCat("public key file ", file, " holds no PEM public key"));
    }
    EVP_PKEY_free(key);
  }
  if (!allow_hs256 && !opts.hs256_secret.empty()) {
    return absl::FailedPreconditionError(
        "an HS256 secret is configured (EDUAID_JWT_SECRET or "
        "--jwt-secret-file) but --jwt-allow-hs256=false: remove the secret "
        "or allow HS256 (local runs only)");
  }
  if (enabled && opts.hs256_secret.empty() && opts.public_keys_pem.empty()) {
    return absl::FailedPreconditionError(
        "authentication is on but no key is configured: set "
        "EDUAID_JWT_SECRET, --jwt-secret-file or --jwt-public-keys "
        "(or --insecure-no-auth for a local experiment)");
  }
  return std::make_unique<Authenticator>(std::move(opts));
}

absl::StatusOr<Principal> Authenticator::Verify(
    absl::string_view authorization_header) {
  if (!options_.enabled) {
    return Principal{"local", Role::kProvinceOfficer, "", ""};
  }
  if (authorization_header.empty()) {
    return absl::UnauthenticatedError(
        "missing bearer token (authorization: Bearer <jwt>)");
  }
  absl::string_view token = authorization_header;
  if (!absl::ConsumePrefix(&token, "Bearer ") &&
      !absl::ConsumePrefix(&token, "bearer ")) {
    return Unauthenticated("authorization header must be 'Bearer <jwt>'");
  }
  int64_t now = time(nullptr);
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(token);
    if (it != cache_.end()) {
      if (it->second.exp + options_.leeway.count() >= now) {
        return it->second.principal;
      }
      cache_.erase(it);
      return Unauthenticated("token has expired");
    }
  }
  int64_t exp = 0;
  auto principal = VerifyUncached(token, &exp);
  if (principal.ok()) {
    absl::MutexLock lock(&mu_);
    if (cache_.size() >= kMaxCachedTokens) cache_.clear();
    cache_[std::string(token)] = {*principal, exp};
  }
  return principal;
}

namespace {

// The region and school claims agree with the role.
absl::Status CheckScopeClaims(const Principal& p) {
  if (p.role == Role::kSchoolOfficer) {
    if (p.school.empty()) {
      return Unauthenticated("school claim is required for school_officer");
    }
    if (p.region.size() != 6) {
      return Unauthenticated(
          "region claim of a school_officer must be its 6-digit county");
    }
  }
  if (p.role == Role::kTeacher) {
    // The teacher service reads the teacher's record by this id.
    absl::string_view id = p.subject;
    int64_t n = 0;
    if (!absl::ConsumePrefix(&id, "t-") || !absl::SimpleAtoi(id, &n) ||
        n <= 0) {
      return Unauthenticated("sub of a teacher must be a teacher id (t-12)");
    }
    if (p.region.size() != 6) {
      return Unauthenticated(
          "region claim of a teacher must be the 6-digit county of the "
          "teacher's school");
    }
  }
  for (char c : p.region) {
    if (c < '0' || c > '9')
      return Unauthenticated("region claim must be digits");
  }
  if (p.region.empty() && p.role != Role::kProvinceOfficer &&
      p.role != Role::kAuditor && p.role != Role::kService) {
    return Unauthenticated("region claim is required for this role");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Principal> Authenticator::VerifyUncached(absl::string_view token,
                                                        int64_t* exp_out) {
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) return Unauthenticated("not a JWT");
  auto header_raw = Base64Decode(parts[0], true);
  auto payload_raw = Base64Decode(parts[1], true);
  auto sig = Base64Decode(parts[2], true);
  if (!header_raw.ok() || !payload_raw.ok() || !sig.ok()) {
    return Unauthenticated("bad base64url");
  }
  nlohmann::json header =
      nlohmann::json::parse(*header_raw, nullptr, /*allow_exceptions=*/false);
  nlohmann::json claims =
      nlohmann::json::parse(*payload_raw, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object() || !claims.is_object()) {
    return Unauthenticated("header or claims are not JSON objects");
  }
  auto alg = StringMember(header, "alg");
  if (!alg.ok()) return alg.status();
  absl::Status st = VerifySignature(
      alg->value_or(""), absl::StrCat(parts[0], ".", parts[1]), *sig);
  if (!st.ok()) return st;
  auto exp = CheckTimes(claims);
  if (!exp.ok()) return exp.status();
  auto principal = PrincipalOf(claims);
  if (principal.ok()) *exp_out = *exp;
  return principal;
}

absl::Status Authenticator::VerifySignature(const std::string& alg,
                                            const std::string& signed_part,
                                            const std::string& sig) const {
  bool verified = false;
  if (alg == "HS256") {
    if (!options_.allow_hs256) {
      return Unauthenticated("HS256 tokens are not accepted here");
    }
    if (!options_.hs256_secret.empty()) {
      std::string mac = HmacSha256(options_.hs256_secret, signed_part);
      verified = mac.size() == sig.size() &&
                 CRYPTO_memcmp(mac.data(), sig.data(), mac.size()) == 0;
    }
  } else if (alg == "ES256" || alg == "RS256") {
    for (EVP_PKEY* key : public_keys_) {
      verified = VerifyWithKey(key, alg, signed_part, sig);
      if (verified) break;
    }
  } else {
    return Unauthenticated("unsupported alg (want HS256, ES256 or RS256)");
  }
  if (!verified) return Unauthenticated("signature does not verify");
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Authenticator::CheckTimes(
    const nlohmann::json& claims) const {
  int64_t now = time(nullptr);
  if (!claims.contains("exp") || !claims["exp"].is_number_integer()) {
    return Unauthenticated("exp claim is required");
  }
  int64_t exp = claims["exp"].get<int64_t>();
  if (exp + options_.leeway.count() < now) {
    return Unauthenticated("token has expired");
  }
  if (exp - now > options_.max_lifetime.count() + options_.leeway.count()) {
    return Unauthenticated("token lives longer than this server accepts");
  }
  for (const char* time_claim : {"nbf", "iat"}) {
    if (claims.contains(time_claim) &&
        !claims[time_claim].is_number_integer()) {
      return Unauthenticated(
          absl::StrCat(time_claim, " claim must be an integer"));
    }
  }
  if (claims.contains("nbf") &&
      claims["nbf"].get<int64_t>() - options_.leeway.count() > now) {
    return Unauthenticated("token is not valid yet");
  }
  if (claims.contains("iat") &&
      exp - claims["iat"].get<int64_t>() > options_.max_lifetime.count()) {
    return Unauthenticated("token lives longer than this server accepts");
  }
  return exp;
}

absl::StatusOr<Principal> Authenticator::PrincipalOf(
    const nlohmann::json& claims) const {
  std::string text[5];
  const char* names[5] = {"iss", "sub", "role", "region", "school"};
  for (int i = 0; i < 5; ++i) {
    auto member = StringMember(claims, names[i]);
    if (!member.ok()) return member.status();
    text[i] = member->value_or("");
  }
  if (text[0] != options_.issuer) {
    return Unauthenticated("wrong issuer");
  }
  bool aud_ok = false;
  if (claims.contains("aud")) {
    const auto& aud = claims["aud"];
    if (aud.is_string()) aud_ok = aud.get<std::string>() == options_.audience;
    if (aud.is_array()) {
      for (const auto& a : aud) {
        if (a.is_string() && a.get<std::string>() == options_.audience)
          aud_ok = true;
      }
    }
  }
  if (!aud_ok) return Unauthenticated("wrong audience");
  Principal p;
  p.subject = text[1];
  if (p.subject.empty()) return Unauthenticated("sub claim is required");
  auto role = ParseRole(text[2]);
  if (!role.ok()) return Unauthenticated("role claim is missing or unknown");
  p.role = *role;
  p.region = text[3];
  p.school = text[4];
  absl::Status scope = CheckScopeClaims(p);
  if (!scope.ok()) return scope;
  return p;
}

std::string MintHs256Token(const TokenClaims& claims,
                           absl::string_view secret) {
  std::string head = Base64Encode(R"({"alg":"HS256","typ":"JWT"})", true);
  std::string body = Base64Encode(ClaimsJson(claims), true);
  std::string signed_part = head + "." + body;
  return signed_part + "." +
         Base64Encode(HmacSha256(secret, signed_part), true);
}

absl::StatusOr<std::string> MintEs256Token(const TokenClaims& claims,
                                           absl::string_view private_key_pem) {
  BIO* bio = BIO_new_mem_buf(private_key_pem.data(),
                             static_cast<int>(private_key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!key) return absl::InvalidArgumentError("cannot read private key");
  std::string head = Base64Encode(R"({"alg":"ES256","typ":"JWT"})", true);
  std::string body = Base64Encode(ClaimsJson(claims), true);
  std::string signed_part = head + "." + body;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  std::string der;
  bool ok =
      EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestSign(ctx, nullptr, &len,
                     reinterpret_cast<const unsigned char*>(signed_part.data()),
                     signed_part.size()) == 1;
  if (ok) {
    der.resize(len);
    ok = EVP_DigestSign(
             ctx, reinterpret_cast<unsigned char*>(der.data()), &len,
             reinterpret_cast<const unsigned char*>(signed_part.data()),
             signed_part.size()) == 1;
    der.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  if (!ok) return absl::InternalError("signing failed");
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (!es) return absl::InternalError("bad ECDSA signature");
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(es),
               reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(es),
               reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(es);
  return signed_part + "." + Base64Encode(raw, true);
}

}  // namespace eduaid
