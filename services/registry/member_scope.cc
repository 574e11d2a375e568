#include "services/registry/member_scope.h"

namespace eduaid::registry {

std::string MemberInScope(const MemberScope& scope,
                          std::vector<SqlValue>* params) {
  std::string sql;
  if (scope.region.empty()) {
    sql = "1 = 1";
  } else if (scope.region.size() == 6) {
    sql = "m.region_code = ?";
    params->emplace_back(scope.region);
  } else {
    sql = "m.region_code LIKE ?";
    params->emplace_back(scope.region + "%");
  }
  if (!scope.school.empty()) {
    sql +=
        " AND EXISTS (SELECT 1 FROM enrolments se WHERE se.id_hash = "
        "m.id_hash AND se.current = 1 AND se.school_code = ?)";
    params->emplace_back(scope.school);
  }
  return sql;
}

}  // namespace eduaid::registry
