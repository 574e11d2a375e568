// What one call knows about itself: who calls, which method, and what the
// audit must say of it. The logic of every service takes a CallContext&;
// this header carries no gRPC or Prometheus so that logic headers need
// neither.
#ifndef EDUAID_COMMON_CALL_CONTEXT_H_
#define EDUAID_COMMON_CALL_CONTEXT_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "services/common/auth.h"

namespace eduaid {

// What one call knows about itself. Handlers fill `records` and
// `personal_data` so the audit says what was touched.
struct CallContext {
  Principal principal;
  std::string method;
  bool mutating = false;
  bool personal_data = false;
  std::string records;
  void AddRecord(absl::string_view id);
  // A list or bulk read that returned `count` records carrying a name or an
  // ID number (masked or not): audited once per call, with the count.
  void NoteBulkRead(size_t count);
  // A record outside the caller's scope, answered as if it did not exist
  // (so the answer is no existence oracle): audited as a denial all the
  // same, with `record` (an id, never personal data).
  void NoteHiddenDenial(absl::string_view record);
  bool bulk_read = false;
  bool hidden_denial = false;
};

}  // namespace eduaid

#endif  // EDUAID_COMMON_CALL_CONTEXT_H_
