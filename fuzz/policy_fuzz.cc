// Fuzz target: the ledger's policy-file loader (protobuf text format plus the
// policy rules) never crashes; what it accepts has valid amounts.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "services/common/status.h"
#include "services/common/validate.h"
#include "services/ledger/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto policy = eduaid::ledger::ParsePolicyText(text);
  // Whatever the input, the error details that would go to a client are
  // valid UTF-8 (protobuf strings must be).
  for (const auto& v : eduaid::FieldViolationsOf(policy.status())) {
    if (!eduaid::IsValidUtf8(v.field) || !eduaid::IsValidUtf8(v.rule))
      std::abort();
  }
  if (policy.ok() && eduaid::ledger::ValidatePolicy(*policy).ok()) {
    for (const auto& s : policy->standards()) {
      (void)eduaid::ledger::StandardId(s);
      (void)eduaid::ledger::StandardContentHash(s);
    }
  }
  return 0;
}
