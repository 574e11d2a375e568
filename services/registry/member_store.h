// Household members (table members), the registry's students: the
// records, their columns and row readers, every statement on the table,
// and the proto mapping. ID numbers and names are stored only encrypted
// (under the contexts below) and looked up by blind index (`id_hash`).
#ifndef EDUAID_SERVICES_REGISTRY_MEMBER_STORE_H_
#define EDUAID_SERVICES_REGISTRY_MEMBER_STORE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eduaid/registry/v1/registry.pb.h"
#include "services/common/sql.h"
#include "services/registry/enrolment_store.h"
#include "services/registry/member_scope.h"

namespace eduaid {
class FieldCrypto;
}  // namespace eduaid

namespace eduaid::registry {

namespace pb = ::eduaid::registry::v1;

// Encryption contexts (associated data) of the encrypted columns, and of
// the blind index of ID numbers.
inline constexpr char kCtxId[] = "registry.members.id_number";
inline constexpr char kCtxName[] = "registry.members.name";
inline constexpr char kCtxHash[] = "registry.id_number";

// "m-<n>" <-> n.
std::string MemberIdString(int64_t id);
absl::StatusOr<int64_t> ParseMemberId(absl::string_view field,
                                      absl::string_view member_id);

// ------------------------------------------------------------ import

// A member as the household register states it (what an import writes).
struct MemberRecord {
  int64_t id = 0;
  std::string id_hash;
  std::string id_enc;
  std::string id_masked;
  std::string name_enc;
  std::string household_id;
  std::string region_code;
  std::string birth_month;  // "YYYY-MM"
  int64_t male = 0;
  int64_t relation = 0;  // Relation
};

// Inserts the members not yet registered (multi-row INSERTs that skip
// existing blind indexes) with updated_at `now`; adds the blind indexes of
// those created to `created`.
absl::Status InsertNewMembers(SqlConnection& c,
                              const std::vector<const MemberRecord*>& members,
                              int64_t now,
                              std::unordered_set<std::string>* created);

// Where an already registered member is: its id and region.
struct RegisteredMember {
  int64_t id = 0;
  std::string region_code;
};
// Columns in the order FromRegisteredMemberRow() reads them (the blind
// index first, the key of FindRegisteredMembers' answer).
inline constexpr char kRegisteredMemberColumns[] = "id_hash, region_code, id";
RegisteredMember FromRegisteredMemberRow(const SqlRow& row);

// The registered members among `id_hashes`, by blind index (chunked IN
// lists).
absl::StatusOr<std::unordered_map<std::string, RegisteredMember>>
FindRegisteredMembers(SqlConnection& c,
                      const std::vector<const std::string*>& id_hashes);

// Overwrites member `id` with what `m` states (not its blind index, masked
// ID or birth data, which the ID number fixes).
absl::Status UpdateImportedMember(SqlConnection& c, int64_t id,
                                  const MemberRecord& m, int64_t now);

// The blind indexes of the members of `household_id`.
absl::StatusOr<std::vector<std::string>> HouseholdMemberHashes(
    SqlConnection& c, const std::string& household_id);

// Moves every member of `household_id` to `region_code`.
absl::Status MoveHouseholdMembers(SqlConnection& c,
                                  const std::string& household_id,
                                  const std::string& region_code);

// ------------------------------------------------------------ look-ups

// The blind index of member `id`, or nullopt when there is none.
absl::StatusOr<std::optional<std::string>> FindMemberHash(SqlConnection& c,
                                                          int64_t id);

// What a write to a member's record needs to know of it.
struct MemberRef {
  int64_t id = 0;
  std::string id_hash;
  std::string region_code;
  std::string school_code;  // of the current enrolment, "" when none
};
inline constexpr char kMemberRefColumns[] =
    "m.id, m.id_hash, m.region_code, COALESCE((SELECT e.school_code FROM "
    "enrolments e WHERE e.id_hash = m.id_hash AND e.current = 1), '')";
MemberRef FromMemberRefRow(const SqlRow& row);

// Member `id`, or nullopt.
absl::StatusOr<std::optional<MemberRef>> FindMemberRef(SqlConnection& c,
                                                       int64_t id);

// The members among `ids`, by id (chunked IN lists).
absl::StatusOr<std::unordered_map<int64_t, MemberRef>> FindMemberRefs(
    SqlConnection& c, const std::vector<int64_t>& ids);

// Whether any blind index has the form of builds before the county prefix
// (32 hex characters), in members or enrolments.
absl::StatusOr<bool> HasUnprefixedBlindIndexes(SqlConnection& c);

// ------------------------------------------------------------ students

// A member with its household, as GetStudent and ListStudents show it.
struct StudentRecord {
  int64_t id = 0;
  std::string id_enc;
  std::string id_masked;
  std::string name_enc;
  std::string household_id;
  std::string region_code;
  int64_t household_status = 0;  // eduaid.common.v1.HouseholdStatus
  int64_t registration_year = 0;
  std::string birth_month;
  bool male = false;
  int64_t relation = 0;
};

// Columns (of members `m` JOIN households `h`) in the order
// FromStudentRow() reads them.
inline constexpr char kStudentColumns[] =
    "m.id, m.id_enc, m.id_masked, m.name_enc, m.household_id, "
    "m.region_code, h.status, h.registration_year, m.birth_month, m.male, "
    "m.relation";
inline constexpr size_t kStudentColumnCount = 11;
StudentRecord FromStudentRow(const SqlRow& row);

// The student fields of `m`. `id_number` and `name` are the clear (or
// masked) values the caller decided on; the birth date is the ID number's.
void ToProto(const StudentRecord& m, const std::string& id_number,
             const std::string& name, pb::Student* out);

// The member with blind index `id_hash`, or nullopt.
absl::StatusOr<std::optional<StudentRecord>> FindStudent(
    SqlConnection& c, const std::string& id_hash);

// One page of students with a current enrolment, in member id order.
struct StudentListFilter {
  std::string region;  // prefix
  std::string school;  // "" = any
  int64_t stage = 0;   // 0 = any
  int64_t status = 0;  // EnrolmentStatus of the current enrolment
  int64_t after = 0;   // member id
  int64_t limit = 0;
};
struct ListedStudent {
  StudentRecord member;
  EnrolmentRecord current;
};
absl::StatusOr<std::vector<ListedStudent>> ListStudentsPage(
    SqlConnection& c, const StudentListFilter& filter);

}  // namespace eduaid::registry

#endif  // EDUAID_SERVICES_REGISTRY_MEMBER_STORE_H_
