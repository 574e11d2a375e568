// Keyset paging (AIP-158) over an ascending integer id, the way every List*
// of the suite pages: read `limit()` rows with id > `after()` in id order,
// keep the first `Keep(n)`, and answer `NextToken(n, last_id)`.
//
//   ASSIGN_OR_RETURN(IdPage page, IdPage::Open(req.page_token(), filters,
//                                               req.page_size(), 100, 1000));
//   ... "WHERE ... AND id > ? ORDER BY id LIMIT ?" {page.after(), page.limit()}
//   for (size_t i = 0; i < page.Keep(rows.size()); ++i) { ... }
//   resp->set_next_page_token(page.NextToken(rows.size(), last_id));
#ifndef EDUAID_COMMON_KEYSET_PAGE_H_
#define EDUAID_COMMON_KEYSET_PAGE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace eduaid {

// The id a page token carries (0 for ""), or INVALID_ARGUMENT naming
// page_token when it is malformed, forged or issued for other `filters`.
absl::StatusOr<int64_t> DecodeIdCursor(absl::string_view token,
                                       absl::string_view filters);

// A token continuing after `last_id` under `filters`.
std::string EncodeIdCursor(int64_t last_id, absl::string_view filters);

class IdPage {
 public:
  // Validates page_size (negative: INVALID_ARGUMENT naming page_size; 0:
  // `default_size`; above `max_size`: clamped) and decodes the token.
  static absl::StatusOr<IdPage> Open(absl::string_view token,
                                     std::string filters, int32_t page_size,
                                     int default_size = 100,
                                     int max_size = 1000);

  // The last id of the previous page (0 on the first page).
  int64_t after() const { return after_; }
  // Rows to fetch: one more than the page, which tells whether more exist.
  int64_t limit() const { return int64_t{size_} + 1; }
  int size() const { return size_; }
  const std::string& filters() const { return filters_; }

  // How many of `fetched` rows belong to this page.
  size_t Keep(size_t fetched) const {
    return fetched < static_cast<size_t>(size_) ? fetched
                                                : static_cast<size_t>(size_);
  }
  // The next page's token when more rows exist ("" on the last page).
  std::string NextToken(size_t fetched, int64_t last_id) const;

 private:
  IdPage(int64_t after, int size, std::string filters)
      : after_(after), size_(size), filters_(std::move(filters)) {}
  int64_t after_;
  int size_;
  std::string filters_;
};

}  // namespace eduaid

#endif  // EDUAID_COMMON_KEYSET_PAGE_H_
