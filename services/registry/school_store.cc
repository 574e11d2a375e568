#include "services/registry/school_store.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/status_macros.h"

namespace eduaid::registry {

namespace cpb = ::eduaid::common::v1;

SchoolRecord FromSchoolRow(const SqlRow& r) {
  return SchoolRecord{r.Str(0), r.Str(1), r.Str(2), r.Str(3), r.Int(4) != 0};
}

void ToProto(const SchoolRecord& s, pb::School* out) {
  out->set_code(s.code);
  out->set_name(s.name);
  out->set_region_code(s.region_code);
  for (absl::string_view part :
       absl::StrSplit(s.stages, ',', absl::SkipEmpty())) {
    int v = 0;
    if (absl::SimpleAtoi(part, &v)) {
      out->add_stages(static_cast<cpb::SchoolStage>(v));
    }
  }
  out->set_rural(s.rural);
}

std::string StagesToText(const google::protobuf::RepeatedField<int>& stages) {
  std::string out = ",";
  for (int s : stages) absl::StrAppend(&out, s, ",");
  return out;
}

bool OffersStage(const SchoolRecord& s, int64_t stage) {
  return absl::StrContains(s.stages, absl::StrCat(",", stage, ","));
}

absl::StatusOr<std::optional<SchoolRecord>> FindSchool(
    SqlConnection& c, const std::string& code) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query(absl::StrCat("SELECT ", kSchoolColumns,
                                        " FROM schools WHERE code = ?"),
                           {code}));
  if (rows.empty()) return std::nullopt;
  return FromSchoolRow(rows.front());
}

absl::Status UpsertSchool(SqlConnection& c, const pb::School& s, int64_t now) {
  return c
      .Execute(
          "INSERT INTO schools(code, name, region_code, stages, rural, "
          "updated_at) VALUES(?,?,?,?,?,?) ON CONFLICT(code) DO UPDATE SET "
          "name = excluded.name, region_code = excluded.region_code, "
          "stages = excluded.stages, rural = excluded.rural, "
          "updated_at = excluded.updated_at",
          {s.code(), s.name(), s.region_code(), StagesToText(s.stages()),
           int64_t{s.rural()}, now})
      .status();
}

absl::StatusOr<std::vector<SchoolRecord>> ListSchoolsPage(
    SqlConnection& c, const std::string& region_prefix, int64_t stage,
    const std::string& after_code, int64_t limit) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(
          absl::StrCat("SELECT ", kSchoolColumns,
                       " FROM schools WHERE region_code LIKE ? AND (? = 0 OR "
                       "stages LIKE ?) AND code > ? ORDER BY code LIMIT ?"),
          {region_prefix + "%", stage, absl::StrCat("%,", stage, ",%"),
           after_code, limit}));
  std::vector<SchoolRecord> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(FromSchoolRow(r));
  return out;
}

}  // namespace eduaid::registry
