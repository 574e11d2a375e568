#include "services/registry/household_view_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"
#include "services/registry/chunked_sql.h"

namespace eduaid::registry {

std::pair<std::string, MemberState> FromMemberStateRow(const SqlRow& r) {
  MemberState m;
  m.member_id = r.Int(1);
  m.school_code = r.Str(2);
  m.enrolment_status = r.Int(3);
  m.out_of_school = r.Int(4) != 0;
  m.arranged = r.Int(5) != 0;
  return {r.Str(0), std::move(m)};
}

absl::StatusOr<std::vector<std::pair<std::string, MemberState>>> MemberStates(
    SqlConnection& c, const std::vector<const std::string*>& household_ids) {
  std::vector<std::pair<std::string, MemberState>> out;
  RETURN_IF_ERROR(QueryInChunks(
      c,
      absl::StrCat(
          "SELECT ", kMemberStateColumns,
          " FROM members m LEFT JOIN enrolments e ON e.id_hash = m.id_hash "
          "AND e.current = 1 LEFT JOIN out_of_school o ON o.member_id = m.id "
          "AND o.resolved_at IS NULL LEFT JOIN schooling_arrangements a ON "
          "a.member_id = m.id AND a.running = 1 WHERE m.household_id IN "),
      household_ids,
      [&](const SqlRow& r) { out.push_back(FromMemberStateRow(r)); }));
  return out;
}

absl::StatusOr<std::vector<HouseholdMemberRecord>> HouseholdMembers(
    SqlConnection& c, const std::vector<const std::string*>& household_ids) {
  std::vector<HouseholdMemberRecord> out;
  RETURN_IF_ERROR(QueryInChunks(
      c,
      absl::StrCat("SELECT ", kStudentColumns, ", ", kEnrolmentColumns,
                   " FROM members m JOIN households h ON h.household_id = "
                   "m.household_id LEFT JOIN enrolments e ON e.id_hash = "
                   "m.id_hash AND e.current = 1",
                   kEnrolmentSchoolJoin, " WHERE m.household_id IN "),
      household_ids, [&](const SqlRow& r) {
        HouseholdMemberRecord m{FromStudentRow(r), std::nullopt};
        if (!r.IsNull(kStudentColumnCount)) {
          m.current = FromEnrolmentRow(r, kStudentColumnCount);
        }
        out.push_back(std::move(m));
      }));
  std::sort(out.begin(), out.end(),
            [](const HouseholdMemberRecord& a, const HouseholdMemberRecord& b) {
              return a.member.id < b.member.id;
            });
  return out;
}

}  // namespace eduaid::registry
