#include "services/common/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace eduaid {

namespace {

// Algorithms fetched once: OpenSSL 3 otherwise looks them up on every use.
const EVP_CIPHER* Aes256Gcm() {
  static const EVP_CIPHER* cipher =
      EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

// One AES-256-GCM context per thread and direction, keyed once: the key
// schedule is kept while the same key is used (compared by value, never by
// address), and each message only sets its nonce.
EVP_CIPHER_CTX* ThreadGcm(const std::string& key, bool encrypt) {
  struct Slot {
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx{
        EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free};
    unsigned char key[32] = {};
    bool keyed = false;
    ~Slot() { OPENSSL_cleanse(key, sizeof key); }
  };
  thread_local Slot slots[2];
  Slot& s = slots[encrypt ? 1 : 0];
  if (!s.keyed || CRYPTO_memcmp(s.key, key.data(), sizeof s.key) != 0) {
    EVP_CipherInit_ex(s.ctx.get(), Aes256Gcm(), nullptr,
                      reinterpret_cast<const unsigned char*>(key.data()),
                      nullptr, encrypt ? 1 : 0);
    memcpy(s.key, key.data(), sizeof s.key);
    s.keyed = true;
  }
  return s.ctx.get();
}

// 12-byte random nonces, drawn from the CSPRNG 64 at a time per thread
// (one RAND_bytes call instead of one per field); refilled after a fork.
void NextNonce(unsigned char* out) {
  constexpr int kBatch = 64;
  thread_local unsigned char pool[12 * kBatch];
  thread_local int next = kBatch;
  thread_local pid_t owner = 0;
  const pid_t pid = getpid();
  if (next == kBatch || owner != pid) {
    RAND_bytes(pool, sizeof pool);
    next = 0;
    owner = pid;
  }
  memcpy(out, pool + 12 * next, 12);
  OPENSSL_cleanse(pool + 12 * next, 12);
  ++next;
}

const EVP_MD* Sha256() {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

}  // namespace

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n));
  return out;
}

std::string HexEncode(absl::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

absl::StatusOr<std::string> HexDecode(absl::string_view hex) {
  if (hex.size() % 2) return absl::InvalidArgumentError("odd hex length");
  std::string out(hex.size() / 2, '\0');
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = nib(hex[2 * i]), lo = nib(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return absl::InvalidArgumentError("not hex");
    out[i] = static_cast<char>(hi << 4 | lo);
  }
  return out;
}

std::string RandomHex(size_t bytes) { return HexEncode(RandomBytes(bytes)); }

std::string Base64Encode(absl::string_view data, bool url_safe) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(n);
  if (url_safe) {
    for (char& c : out) {
      if (c == '+') c = '-';
      if (c == '/') c = '_';
    }
    while (!out.empty() && out.back() == '=') out.pop_back();
  }
  return out;
}

absl::StatusOr<std::string> Base64Decode(absl::string_view data,
                                         bool url_safe) {
  std::string in(data);
  if (url_safe) {
    for (char& c : in) {
      if (c == '-')
        c = '+';
      else if (c == '_')
        c = '/';
      else if (c == '+' || c == '/')
        return absl::InvalidArgumentError("bad base64url");
    }
    while (in.size() % 4) in.push_back('=');
  }
  if (in.size() % 4) return absl::InvalidArgumentError("bad base64 length");
  for (char c : in) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' ||
          c == '=')) {
      return absl::InvalidArgumentError("bad base64 character");
    }
  }
  std::string out(in.size() / 4 * 3 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return absl::InvalidArgumentError("bad base64");
  size_t pad = 0;
  if (!in.empty() && in.back() == '=') ++pad;
  if (in.size() > 1 && in[in.size() - 2] == '=') ++pad;
  out.resize(n - pad);
  return out;
}

std::string Sha256Hex(absl::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return HexEncode(absl::string_view(reinterpret_cast<char*>(md), sizeof md));
}

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md,
       &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

absl::StatusOr<FieldCrypto::Key> FieldCrypto::DeriveKey(
    absl::string_view master_hex) {
  std::string hex(absl::StripAsciiWhitespace(master_hex));
  auto master = HexDecode(hex);
  if (!master.ok() || master->size() != 32) {
    return absl::InvalidArgumentError(
        "data key must be 64 hex characters (32 random bytes)");
  }
  Key key;
  key.id = Sha256Hex(*master).substr(0, 8);
  key.enc = HmacSha256(*master, "eduaid-field-encryption-v1");
  key.idx = HmacSha256(*master, "eduaid-blind-index-v1");
  unsigned char ipad[64], opad[64];
  for (int i = 0; i < 64; ++i) {
    unsigned char k = i < 32 ? static_cast<unsigned char>(key.idx[i]) : 0;
    ipad[i] = k ^ 0x36;
    opad[i] = k ^ 0x5c;
  }
  auto make = [](const unsigned char* pad) {
    std::shared_ptr<EVP_MD_CTX> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_DigestInit_ex(ctx.get(), Sha256(), nullptr);
    EVP_DigestUpdate(ctx.get(), pad, 64);
    return ctx;
  };
  key.idx_inner = make(ipad);
  key.idx_outer = make(opad);
  return key;
}

absl::StatusOr<std::unique_ptr<FieldCrypto>> FieldCrypto::Create(
    absl::string_view master_hex,
    const std::vector<std::string>& previous_hex) {
  auto crypto = std::unique_ptr<FieldCrypto>(new FieldCrypto());
  auto key = DeriveKey(master_hex);
  if (!key.ok()) return key.status();
  crypto->keys_.push_back(*key);
  for (const auto& prev : previous_hex) {
    auto k = DeriveKey(prev);
    if (!k.ok()) return k.status();
    crypto->keys_.push_back(*k);
  }
  return crypto;
}

absl::StatusOr<std::unique_ptr<FieldCrypto>> FieldCrypto::Load(
    const std::string& key_file, const char* env_var) {
  std::vector<std::string> previous;
  std::string prev_var = std::string(env_var) + "_PREVIOUS";
  if (const char* prev = std::getenv(prev_var.c_str()); prev && *prev) {
    for (auto part : absl::StrSplit(prev, ',', absl::SkipEmpty())) {
      previous.emplace_back(part);
    }
  }
  if (const char* env = std::getenv(env_var); env && *env) {
    return Create(env, previous);
  }
  if (!key_file.empty()) {
    std::ifstream in(key_file);
    std::string line;
    if (in && std::getline(in, line)) return Create(line, previous);
    return absl::FailedPreconditionError("cannot read data key file " +
                                         key_file);
  }
  return absl::FailedPreconditionError(std::string("no data key: set ") +
                                       env_var + " or --data-key-file");
}

std::string FieldCrypto::Encrypt(absl::string_view plaintext,
                                 absl::string_view context) const {
  const Key& key = keys_[0];
  std::string buf(12 + plaintext.size() + 16, '\0');
  auto* out = reinterpret_cast<unsigned char*>(buf.data());
  NextNonce(out);
  auto* ctx = ThreadGcm(key.enc, /*encrypt=*/true);
  int len = 0;
  EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, out);
  EVP_EncryptUpdate(ctx, nullptr, &len,
                    reinterpret_cast<const unsigned char*>(context.data()),
                    static_cast<int>(context.size()));
  EVP_EncryptUpdate(ctx, out + 12, &len,
                    reinterpret_cast<const unsigned char*>(plaintext.data()),
                    static_cast<int>(plaintext.size()));
  EVP_EncryptFinal_ex(ctx, out + 12 + len, &len);
  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16,
                      out + 12 + plaintext.size());
  return key.id + ":" + Base64Encode(buf);
}

absl::StatusOr<std::string> FieldCrypto::Decrypt(
    absl::string_view ciphertext, absl::string_view context) const {
  size_t colon = ciphertext.find(':');
  if (colon == absl::string_view::npos) {
    return absl::DataLossError("encrypted field has no key id");
  }
  absl::string_view id = ciphertext.substr(0, colon);
  const Key* key = nullptr;
  for (const auto& k : keys_) {
    if (k.id == id) key = &k;
  }
  if (!key) return absl::DataLossError("encrypted field uses an unknown key");
  auto raw = Base64Decode(ciphertext.substr(colon + 1));
  if (!raw.ok() || raw->size() < 28) {
    return absl::DataLossError("encrypted field is malformed");
  }
  const auto* in = reinterpret_cast<const unsigned char*>(raw->data());
  size_t n = raw->size() - 28;
  std::string plain(n, '\0');
  auto* ctx = ThreadGcm(key->enc, /*encrypt=*/false);
  int len = 0;
  EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, in);
  EVP_DecryptUpdate(ctx, nullptr, &len,
                    reinterpret_cast<const unsigned char*>(context.data()),
                    static_cast<int>(context.size()));
  EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(plain.data()), &len,
                    in + 12, static_cast<int>(n));
  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16,
                      const_cast<unsigned char*>(in + 12 + n));
  int ok = EVP_DecryptFinal_ex(
      ctx, reinterpret_cast<unsigned char*>(plain.data()) + len, &len);
  if (ok <= 0) {
    return absl::DataLossError("encrypted field failed authentication");
  }
  return plain;
}

std::string FieldCrypto::BlindIndex(absl::string_view value,
                                    absl::string_view context) const {
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(
      EVP_MD_CTX_new(), EVP_MD_CTX_free);
  const Key& key = keys_[0];
  unsigned char inner[32], outer[32];
  unsigned int n = 0;
  const char zero = '\0';
  EVP_MD_CTX_copy_ex(md.get(), key.idx_inner.get());
  EVP_DigestUpdate(md.get(), context.data(), context.size());
  EVP_DigestUpdate(md.get(), &zero, 1);
  EVP_DigestUpdate(md.get(), value.data(), value.size());
  EVP_DigestFinal_ex(md.get(), inner, &n);
  EVP_MD_CTX_copy_ex(md.get(), key.idx_outer.get());
  EVP_DigestUpdate(md.get(), inner, sizeof inner);
  EVP_DigestFinal_ex(md.get(), outer, &n);
  return HexEncode(
      absl::string_view(reinterpret_cast<char*>(outer), sizeof outer));
}

std::string FieldCrypto::ShortIndex(absl::string_view value,
                                    absl::string_view context) const {
  return BlindIndex(value, context).substr(0, 32);
}

}  // namespace eduaid
