// Fuzz target: resident ID validation, masking and UTF-8 checks never crash,
// and a number that validates always has a consistent check character.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "services/common/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);
  auto info = eduaid::ValidateIdNumber("id_number", s);
  if (info.ok()) {
    std::string id = eduaid::NormalizeIdNumber(s);
    if (id.size() != 18 || eduaid::IdCheckCharacter(id) != id[17]) std::abort();
    if (eduaid::MaskIdNumber(id).substr(6, 8) != "********") std::abort();
  }
  bool utf8 = eduaid::IsValidUtf8(s);
  (void)eduaid::Utf8Length(s);
  if (utf8) (void)eduaid::MaskName(s);
  (void)eduaid::ValidateText("name", s, 50);
  (void)eduaid::ValidateRegionPrefix("region_prefix", s);
  (void)eduaid::ValidateRequestId("request_id", s);
  (void)eduaid::ValidateDate("date", s);
  return 0;
}
