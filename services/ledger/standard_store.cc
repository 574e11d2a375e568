#include "services/ledger/standard_store.h"

#include "absl/strings/str_cat.h"
#include "services/common/crypto.h"
#include "services/common/status_macros.h"

namespace eduaid::ledger {
namespace {

absl::StatusOr<pb::ProgrammeStandard> ParseDefinition(const std::string& b64) {
  auto bytes = Base64Decode(b64);
  pb::ProgrammeStandard s;
  if (!bytes.ok() || !s.ParseFromString(*bytes)) {
    return absl::DataLossError("a stored standard cannot be read");
  }
  return s;
}

}  // namespace

absl::StatusOr<std::vector<pb::ProgrammeStandard>> LoadAllStandards(
    SqlConnection& c) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query("SELECT definition FROM standards ORDER BY "
                           "programme_code, effective_from"));
  std::vector<pb::ProgrammeStandard> out;
  out.reserve(rows.size());
  for (const SqlRow& r : rows) {
    ASSIGN_OR_RETURN(pb::ProgrammeStandard s, ParseDefinition(r.Str(0)));
    out.push_back(std::move(s));
  }
  return out;
}

absl::StatusOr<pb::ProgrammeStandard> LoadStandard(SqlConnection& c,
                                                   const std::string& id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT definition FROM standards WHERE standard_id = ?", {id}));
  if (rows.empty()) {
    return absl::InternalError(absl::StrCat("standard ", id, " is missing"));
  }
  return ParseDefinition(rows[0].Str(0));
}

absl::StatusOr<bool> InsertStandard(SqlConnection& c,
                                    const pb::ProgrammeStandard& s,
                                    const std::string& content_hash,
                                    const std::string& policy_version,
                                    const std::string& loaded_by,
                                    int64_t now_ms) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("INSERT INTO standards (standard_id, programme_code, "
              "effective_from, content_hash, definition, policy_version, "
              "loaded_by, loaded_at) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT "
              "(standard_id) DO NOTHING RETURNING standard_id",
              {s.standard_id(), s.programme_code(), s.effective_from(),
               content_hash, Base64Encode(s.SerializeAsString()),
               policy_version, loaded_by, now_ms}));
  return !rows.empty();
}

absl::StatusOr<std::optional<std::string>> StandardHash(SqlConnection& c,
                                                        const std::string& id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT content_hash FROM standards WHERE standard_id = ?",
              {id}));
  if (rows.empty()) return std::nullopt;
  return rows[0].Str(0);
}

}  // namespace eduaid::ledger
