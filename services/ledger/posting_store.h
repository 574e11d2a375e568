// Public postings (公示; tables `postings` and `posting_lines`): the typed
// records, their columns beside their row readers, every statement on the
// two tables. Functions run inside the caller's transaction (or read).
#ifndef EDUAID_SERVICES_LEDGER_POSTING_STORE_H_
#define EDUAID_SERVICES_LEDGER_POSTING_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/ledger/v1/ledger.pb.h"
#include "services/common/sql.h"

namespace eduaid::ledger {

namespace pb = ::eduaid::ledger::v1;

struct PostingRecord {
  int64_t id = 0;
  std::string school_code;
  std::string school_name;
  std::string region_code;
  std::string term;  // TermKey form
  std::string published_on;
  std::string objection_until;
  std::string created_by;
  int64_t total_fen = 0;
};

// Columns in the order PostingFromRow() reads them.
inline constexpr char kPostingColumns[] =
    "id, school_code, school_name, region_code, term, published_on, "
    "objection_until, created_by, total_fen";
PostingRecord PostingFromRow(const SqlRow& row);
// Every field but the lines and the objection count.
void ToProto(const PostingRecord& p, pb::Posting* out);

struct PostingLineRecord {
  int32_t line_no = 0;
  std::string masked_name;
  std::string programme_code;
  int64_t amount_fen = 0;
  int64_t stage = 0;
  int64_t grade = 0;
  std::string standard_id;     // the entitlement's
  int64_t entitlement_id = 0;  // written only
};

// NOT_FOUND when `id` does not exist.
absl::StatusOr<PostingRecord> LoadPostingRecord(SqlConnection& c, int64_t id);
// The lines of a posting, in line order.
absl::StatusOr<std::vector<PostingLineRecord>> LoadPostingLines(
    SqlConnection& c, int64_t posting_id);

// Inserts the posting (`p.id` ignored) and returns its id.
absl::StatusOr<int64_t> InsertPosting(SqlConnection& c, const PostingRecord& p,
                                      int64_t now_ms);
absl::Status InsertPostingLine(SqlConnection& c, int64_t posting_id,
                               const PostingLineRecord& line);

// The entitlement behind a line, with its payment, region and school.
// INVALID_ARGUMENT naming line_no when the posting has no such line.
struct PostedEntitlement {
  int64_t entitlement_id = 0;
  int64_t payment_id = 0;
  std::string region_code;
  std::string school_code;
};
absl::StatusOr<PostedEntitlement> LoadPostedEntitlement(SqlConnection& c,
                                                        int64_t posting_id,
                                                        int32_t line_no);

}  // namespace eduaid::ledger

#endif  // EDUAID_SERVICES_LEDGER_POSTING_STORE_H_
