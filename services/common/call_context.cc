#include "services/common/call_context.h"

#include "absl/strings/str_cat.h"

namespace eduaid {

void CallContext::AddRecord(absl::string_view id) {
  if (records.size() > 512) return;
  if (!records.empty()) records.push_back(',');
  records.append(id.data(), id.size());
  if (records.size() > 512) records.append(",...");
}

void CallContext::NoteBulkRead(size_t count) {
  bulk_read = true;
  if (principal.SeesPersonalData()) personal_data = true;
  std::string note = absl::StrCat("listed=", count);
  records = records.empty() ? note : absl::StrCat(note, ",", records);
}

void CallContext::NoteHiddenDenial(absl::string_view record) {
  hidden_denial = true;
  AddRecord(absl::StrCat("out-of-scope:", record));
}

}  // namespace eduaid
