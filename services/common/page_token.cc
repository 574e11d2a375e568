#include "services/common/page_token.h"

#include <mutex>

#include "absl/strings/str_cat.h"
#include "services/common/crypto.h"
#include "services/common/status.h"

namespace eduaid {
namespace {

std::mutex g_mu;
std::string& Key() {
  static std::string* key = new std::string(RandomBytes(32));
  return *key;
}

std::string Mac(absl::string_view body, absl::string_view filters) {
  std::string key;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    key = Key();
  }
  return HmacSha256(key, absl::StrCat(body, "\n", filters)).substr(0, 12);
}

}  // namespace

void SetPageTokenKey(absl::string_view key) {
  std::lock_guard<std::mutex> lock(g_mu);
  Key() = std::string(key);
}

std::string EncodePageToken(absl::string_view last_key,
                            absl::string_view filters) {
  std::string body = absl::StrCat("v1|", last_key);
  return Base64Encode(absl::StrCat(Mac(body, filters), body), true);
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view token,
                                            absl::string_view filters) {
  if (token.empty()) return std::string();
  if (token.size() > 1024) {
    return InvalidField("page_token", "is too long");
  }
  auto raw = Base64Decode(token, true);
  if (!raw.ok() || raw->size() < 15) {
    return InvalidField("page_token", "is not a token this service issued");
  }
  absl::string_view mac = absl::string_view(*raw).substr(0, 12);
  absl::string_view body = absl::string_view(*raw).substr(12);
  if (body.substr(0, 3) != "v1|" || Mac(body, filters) != mac) {
    return InvalidField("page_token",
                        "was not issued for this request's filters");
  }
  return std::string(body.substr(3));
}

}  // namespace eduaid
