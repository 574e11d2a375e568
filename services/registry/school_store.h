// Schools (table schools): the record, its columns and row reader, every
// statement on the table, and the proto mapping. A school's stages are
// stored as text ",2,3," so that "offers stage 3" is a LIKE.
#ifndef EDUAID_SERVICES_REGISTRY_SCHOOL_STORE_H_
#define EDUAID_SERVICES_REGISTRY_SCHOOL_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/registry/v1/registry.pb.h"
#include "services/common/sql.h"

namespace eduaid::registry {

namespace pb = ::eduaid::registry::v1;

struct SchoolRecord {
  std::string code;
  std::string name;
  std::string region_code;
  std::string stages;  // ",2,3,"
  bool rural = false;
};

// Columns in the order FromSchoolRow() reads them.
inline constexpr char kSchoolColumns[] =
    "code, name, region_code, stages, rural";
SchoolRecord FromSchoolRow(const SqlRow& row);
void ToProto(const SchoolRecord& s, pb::School* out);

// ",2,3," from the stages of a School.
std::string StagesToText(const google::protobuf::RepeatedField<int>& stages);

// Whether the school offers `stage`.
bool OffersStage(const SchoolRecord& s, int64_t stage);

// School `code`, or nullopt.
absl::StatusOr<std::optional<SchoolRecord>> FindSchool(SqlConnection& c,
                                                       const std::string& code);

// Creates or overwrites school `s.code()` (updated_at `now`).
absl::Status UpsertSchool(SqlConnection& c, const pb::School& s, int64_t now);

// Up to `limit` schools of the region prefix offering `stage` (0: any),
// with codes after `after_code`, in code order.
absl::StatusOr<std::vector<SchoolRecord>> ListSchoolsPage(
    SqlConnection& c, const std::string& region_prefix, int64_t stage,
    const std::string& after_code, int64_t limit);

}  // namespace eduaid::registry

#endif  // EDUAID_SERVICES_REGISTRY_SCHOOL_STORE_H_
