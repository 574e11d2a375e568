#include "services/common/keyset_page.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/page_token.h"
#include "services/common/status.h"
#include "services/common/validate.h"

namespace eduaid {

absl::StatusOr<int64_t> DecodeIdCursor(absl::string_view token,
                                       absl::string_view filters) {
  auto last = DecodePageToken(token, filters);
  if (!last.ok()) return last.status();
  if (last->empty()) return 0;
  int64_t v = 0;
  if (!absl::SimpleAtoi(*last, &v)) {
    return InvalidField("page_token", "is not a token this service issued");
  }
  return v;
}

std::string EncodeIdCursor(int64_t last_id, absl::string_view filters) {
  return EncodePageToken(absl::StrCat(last_id), filters);
}

absl::StatusOr<IdPage> IdPage::Open(absl::string_view token,
                                    std::string filters, int32_t page_size,
                                    int default_size, int max_size) {
  auto size = ValidatePageSize("page_size", page_size, default_size, max_size);
  if (!size.ok()) return size.status();
  auto after = DecodeIdCursor(token, filters);
  if (!after.ok()) return after.status();
  return IdPage(*after, *size, std::move(filters));
}

std::string IdPage::NextToken(size_t fetched, int64_t last_id) const {
  if (fetched <= static_cast<size_t>(size_)) return "";
  return EncodeIdCursor(last_id, filters_);
}

}  // namespace eduaid
