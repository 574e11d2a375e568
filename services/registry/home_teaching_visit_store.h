// The home-teaching log of 送教上门 arrangements (table
// home_teaching_visits; the content stored encrypted): the record, its
// columns and row reader, every statement on the table, and the proto
// mapping.
#ifndef EDUAID_SERVICES_REGISTRY_HOME_TEACHING_VISIT_STORE_H_
#define EDUAID_SERVICES_REGISTRY_HOME_TEACHING_VISIT_STORE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/registry/v1/registry.pb.h"
#include "services/common/sql.h"

namespace eduaid::registry {

namespace pb = ::eduaid::registry::v1;

// Encryption context of home_teaching_visits.content_enc.
inline constexpr char kCtxVisitContent[] =
    "registry.home_teaching_visits.content";

struct HomeTeachingVisitRecord {
  int64_t id = 0;
  int64_t arrangement_id = 0;
  std::string visit_date;
  std::string teacher;
  std::string content_enc;
  int64_t minutes = 0;
  std::string recorded_by;
  int64_t recorded_at = 0;  // seconds
};
// Columns (of home_teaching_visits `v`) in the order
// FromHomeTeachingVisitRow() reads them.
inline constexpr char kHomeTeachingVisitColumns[] =
    "v.id, v.arrangement_id, v.visit_date, v.teacher, v.content_enc, "
    "v.minutes, v.recorded_by, v.recorded_at";
HomeTeachingVisitRecord FromHomeTeachingVisitRow(const SqlRow& row);
// `content` decrypted by the caller.
void ToProto(const HomeTeachingVisitRecord& v, const std::string& content,
             pb::HomeTeachingVisit* out);

// Inserts `v` (id ignored); its id.
absl::StatusOr<int64_t> InsertHomeTeachingVisit(
    SqlConnection& c, const HomeTeachingVisitRecord& v);

// Up to `limit` visits of `arrangement_id`, newest first (visit date, then
// id, descending), after the visit `(after_date, after_id)` of the previous
// page (after_id 0: from the newest).
absl::StatusOr<std::vector<HomeTeachingVisitRecord>> ListHomeTeachingVisitsPage(
    SqlConnection& c, int64_t arrangement_id, const std::string& after_date,
    int64_t after_id, int64_t limit);

// How many visits `arrangement_id` has, and their minutes.
absl::StatusOr<std::pair<int64_t, int64_t>> CountHomeTeachingVisits(
    SqlConnection& c, int64_t arrangement_id);

}  // namespace eduaid::registry

#endif  // EDUAID_SERVICES_REGISTRY_HOME_TEACHING_VISIT_STORE_H_
