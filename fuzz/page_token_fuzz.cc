// Fuzz target: the page-token decoder rejects anything it did not issue and
// never crashes; what it issued round-trips.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "services/common/page_token.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);
  auto decoded = eduaid::DecodePageToken(s, "students|4113|");
  (void)decoded;
  std::string token = eduaid::EncodePageToken(s, "students|4113|");
  auto back = eduaid::DecodePageToken(token, "students|4113|");
  if (!back.ok() || *back != s) {
    if (token.size() <= 1024) std::abort();
  }
  return 0;
}
