// Fuzz target: the ledger's policy-file loader (protobuf text format plus the
// policy rules) never crashes; what it accepts has valid amounts.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "services/ledger/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto policy = eduaid::ledger::ParsePolicyText(text);
  if (policy.ok() && eduaid::ledger::ValidatePolicy(*policy).ok()) {
    for (const auto& s : policy->standards()) {
      (void)eduaid::ledger::StandardId(s);
      (void)eduaid::ledger::StandardContentHash(s);
    }
  }
  return 0;
}
