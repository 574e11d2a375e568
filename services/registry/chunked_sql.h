// Multi-row statements in a few fixed shapes, so each shape is prepared
// once and a batch of thousands of rows costs tens of round trips.
#ifndef EDUAID_SERVICES_REGISTRY_CHUNKED_SQL_H_
#define EDUAID_SERVICES_REGISTRY_CHUNKED_SQL_H_

#include <cstddef>
#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "services/common/sql.h"

namespace eduaid::registry {

// Blind indexes (or other keys) per IN list.
inline constexpr size_t kInListChunk = 400;

// "(?,?,...)" with `n` placeholders.
std::string Placeholders(size_t n);

// Runs `head` + n copies of `tuple` + `tail` in chunks of 100, 10 and 1
// rows (three statement shapes to prepare); `bind(i, params)` appends row
// i's values. Collects the first column of every row returned (the
// statement's RETURNING) into `returned`.
absl::Status InsertInChunks(
    SqlConnection& c, const std::string& head, const std::string& tuple,
    const std::string& tail, size_t n,
    const std::function<void(size_t, std::vector<SqlValue>&)>& bind,
    std::unordered_set<std::string>* returned);

// Runs `select` + "(?,...)" over `keys` in chunks of kInListChunk, calling
// `on_row` for every row returned.
absl::Status QueryInChunks(SqlConnection& c, const std::string& select,
                           const std::vector<const std::string*>& keys,
                           const std::function<void(const SqlRow&)>& on_row);

}  // namespace eduaid::registry

#endif  // EDUAID_SERVICES_REGISTRY_CHUNKED_SQL_H_
