// Personal data at rest: AES-256-GCM field encryption and an HMAC-SHA256
// blind index for equality look-ups (OpenSSL).
#ifndef EDUAID_COMMON_CRYPTO_H_
#define EDUAID_COMMON_CRYPTO_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace eduaid {

// Keys are 32 random bytes written as 64 hex characters. The encryption key
// and the blind-index key are derived from the master key with HMAC-SHA256
// and distinct labels, so one secret suffices.
//
// Ciphertext format: "<key id>:<base64(nonce 12 | ciphertext | tag 16)>",
// key id = first 8 hex characters of SHA-256(master key). Decrypt() accepts
// the current key and any previous key given at construction (rotation:
// re-encrypt with the new key while the old still decrypts). The blind index
// always uses the current key's index subkey, so rotating it means
// re-indexing; docs/RUNBOOK.md says how.
//
// Thread-safe (immutable after construction).
class FieldCrypto {
 public:
  // `master_hex`: 64 hex characters. `previous_hex`: older master keys
  // still accepted by Decrypt(). INVALID_ARGUMENT for malformed keys.
  static absl::StatusOr<std::unique_ptr<FieldCrypto>> Create(
      absl::string_view master_hex,
      const std::vector<std::string>& previous_hex = {});

  // Loads the master key from the environment variable `env_var` when set,
  // else from `key_file` (first line, 64 hex chars). With neither,
  // FAILED_PRECONDITION naming both. Previous keys from `<env_var>_PREVIOUS`
  // (comma-separated) when set.
  static absl::StatusOr<std::unique_ptr<FieldCrypto>> Load(
      const std::string& key_file, const char* env_var = "EDUAID_DATA_KEY");

  // Encrypts `plaintext`, binding it to `context` (associated data, e.g.
  // "registry.members.id_number") so a value copied to another column does
  // not decrypt there.
  std::string Encrypt(absl::string_view plaintext,
                      absl::string_view context) const;

  // DATA_LOSS when the value was tampered with, bound to another context, or
  // encrypted under an unknown key.
  absl::StatusOr<std::string> Decrypt(absl::string_view ciphertext,
                                      absl::string_view context) const;

  // Deterministic keyed hash (hex, 64 chars) for equality look-ups of
  // `value` under `context`; reveals nothing without the key.
  std::string BlindIndex(absl::string_view value,
                         absl::string_view context) const;

  // Same as BlindIndex, shorter (first 32 hex chars): for cache keys.
  std::string ShortIndex(absl::string_view value,
                         absl::string_view context) const;

 private:
  struct Key {
    std::string id;
    std::string enc;  // 32 bytes
    std::string idx;  // 32 bytes
    // HMAC-SHA256 states after the inner and outer pads of `idx`, so a
    // blind index costs two hash finalisations and no key schedule.
    std::shared_ptr<EVP_MD_CTX> idx_inner, idx_outer;
  };
  static absl::StatusOr<Key> DeriveKey(absl::string_view master_hex);
  std::vector<Key> keys_;  // keys_[0] is current
};

// Helpers.
std::string RandomBytes(size_t n);
std::string RandomHex(size_t bytes);
std::string Base64Encode(absl::string_view data, bool url_safe = false);
absl::StatusOr<std::string> Base64Decode(absl::string_view data,
                                         bool url_safe = false);
std::string Sha256Hex(absl::string_view data);
std::string HmacSha256(absl::string_view key, absl::string_view data);
std::string HexEncode(absl::string_view bytes);
absl::StatusOr<std::string> HexDecode(absl::string_view hex);

}  // namespace eduaid

#endif  // EDUAID_COMMON_CRYPTO_H_
