#include "services/registry/chunked_sql.h"

#include <algorithm>

#include "services/common/status_macros.h"

namespace eduaid::registry {

std::string Placeholders(size_t n) {
  std::string out = "(?";
  for (size_t j = 1; j < n; ++j) out += ",?";
  out += ")";
  return out;
}

absl::Status InsertInChunks(
    SqlConnection& c, const std::string& head, const std::string& tuple,
    const std::string& tail, size_t n,
    const std::function<void(size_t, std::vector<SqlValue>&)>& bind,
    std::unordered_set<std::string>* returned) {
  std::vector<SqlValue> params;
  std::string sql;
  for (size_t i = 0; i < n;) {
    const size_t k = n - i >= 100 ? 100 : n - i >= 10 ? 10 : 1;
    sql = head;
    for (size_t j = 0; j < k; ++j) {
      if (j > 0) sql += ',';
      sql += tuple;
    }
    sql += tail;
    params.clear();
    for (size_t j = 0; j < k; ++j) bind(i + j, params);
    ASSIGN_OR_RETURN(auto rows, c.Query(sql, params));
    for (const auto& r : rows) returned->insert(r.Str(0));
    i += k;
  }
  return absl::OkStatus();
}

absl::Status QueryInChunks(SqlConnection& c, const std::string& select,
                           const std::vector<const std::string*>& keys,
                           const std::function<void(const SqlRow&)>& on_row) {
  std::vector<SqlValue> params;
  for (size_t i = 0; i < keys.size(); i += kInListChunk) {
    const size_t k = std::min(kInListChunk, keys.size() - i);
    params.clear();
    for (size_t j = 0; j < k; ++j) params.emplace_back(*keys[i + j]);
    ASSIGN_OR_RETURN(auto rows, c.Query(select + Placeholders(k), params));
    for (const auto& r : rows) on_row(r);
  }
  return absl::OkStatus();
}

}  // namespace eduaid::registry
