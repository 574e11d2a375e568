#include "services/registry/household_store.h"

#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"
#include "services/registry/chunked_sql.h"

namespace eduaid::registry {

HouseholdRecord FromHouseholdRow(const SqlRow& r) {
  HouseholdRecord h;
  h.household_id = r.Str(0);
  h.region_code = r.Str(1);
  h.registration_year = r.Int(2);
  h.status = r.Int(3);
  return h;
}

absl::Status InsertNewHouseholds(
    SqlConnection& c, const std::vector<const HouseholdRecord*>& households,
    int64_t now, std::unordered_set<std::string>* created) {
  return InsertInChunks(
      c,
      "INSERT INTO households(household_id, region_code, "
      "registration_year, status, updated_at) VALUES ",
      "(?,?,?,?,?)",
      " ON CONFLICT(household_id) DO NOTHING RETURNING household_id",
      households.size(),
      [&](size_t i, std::vector<SqlValue>& v) {
        const HouseholdRecord& h = *households[i];
        v.emplace_back(h.household_id);
        v.emplace_back(h.region_code);
        v.emplace_back(h.registration_year);
        v.emplace_back(h.status);
        v.emplace_back(now);
      },
      created);
}

absl::StatusOr<std::unordered_map<std::string, HouseholdRecord>> FindHouseholds(
    SqlConnection& c, const std::vector<const std::string*>& ids) {
  std::unordered_map<std::string, HouseholdRecord> out;
  absl::Status st =
      QueryInChunks(c,
                    absl::StrCat("SELECT ", kHouseholdColumns,
                                 " FROM households WHERE household_id IN "),
                    ids, [&](const SqlRow& r) {
                      HouseholdRecord h = FromHouseholdRow(r);
                      std::string key = h.household_id;
                      out[key] = std::move(h);
                    });
  RETURN_IF_ERROR(st);
  return out;
}

absl::Status UpdateHousehold(SqlConnection& c, const HouseholdRecord& h,
                             int64_t now) {
  return c
      .Execute(
          "UPDATE households SET region_code = ?, registration_year = ?, "
          "status = ?, updated_at = ? WHERE household_id = ?",
          {h.region_code, h.registration_year, h.status, now, h.household_id})
      .status();
}

absl::StatusOr<std::vector<HouseholdRecord>> ListHouseholdsPage(
    SqlConnection& c, const std::string& region_prefix,
    const std::string& after, int64_t limit) {
  // A county is an equality (the households_region index); a wider prefix
  // a range of it.
  const bool county = region_prefix.size() == 6;
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kHouseholdColumns,
                           " FROM households WHERE ",
                           county ? "region_code = ?" : "region_code LIKE ?",
                           " AND household_id > ? ORDER BY household_id "
                           "LIMIT ?"),
              {county ? region_prefix : region_prefix + "%", after, limit}));
  std::vector<HouseholdRecord> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(FromHouseholdRow(r));
  return out;
}

}  // namespace eduaid::registry
