// What a caller may see of counts and lists, as an SQL condition on a
// member `m`: a region prefix and, for a school officer, its school.
#ifndef EDUAID_SERVICES_REGISTRY_MEMBER_SCOPE_H_
#define EDUAID_SERVICES_REGISTRY_MEMBER_SCOPE_H_

#include <string>
#include <vector>

#include "services/common/sql.h"

namespace eduaid::registry {

struct MemberScope {
  std::string region;  // a prefix; "" = every region
  std::string school;  // "" = any; else members currently enrolled there
};

// An SQL condition: member `m` lies in `scope`; appends its parameters to
// `params`. A county code is matched by equality, so a county's counts are
// an index range, not a scan of the province.
std::string MemberInScope(const MemberScope& scope,
                          std::vector<SqlValue>* params);

}  // namespace eduaid::registry

#endif  // EDUAID_SERVICES_REGISTRY_MEMBER_SCOPE_H_
