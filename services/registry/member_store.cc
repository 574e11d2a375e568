#include "services/registry/member_store.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/validate.h"
#include "services/registry/chunked_sql.h"
#include "services/registry/rules.h"

namespace eduaid::registry {

namespace cpb = ::eduaid::common::v1;

std::string MemberIdString(int64_t id) { return absl::StrCat("m-", id); }

absl::StatusOr<int64_t> ParseMemberId(absl::string_view field,
                                      absl::string_view member_id) {
  int64_t v = 0;
  if (!absl::ConsumePrefix(&member_id, "m-") ||
      !absl::SimpleAtoi(member_id, &v) || v <= 0) {
    return InvalidField(field, "must be a member id like m-123");
  }
  return v;
}

// ------------------------------------------------------------ import

absl::Status InsertNewMembers(SqlConnection& c,
                              const std::vector<const MemberRecord*>& members,
                              int64_t now,
                              std::unordered_set<std::string>* created) {
  return InsertInChunks(
      c,
      "INSERT INTO members(id_hash, id_enc, id_masked, name_enc, "
      "household_id, region_code, birth_month, male, relation, "
      "updated_at) VALUES ",
      "(?,?,?,?,?,?,?,?,?,?)",
      " ON CONFLICT(id_hash) DO NOTHING RETURNING id_hash", members.size(),
      [&](size_t i, std::vector<SqlValue>& v) {
        const MemberRecord& m = *members[i];
        v.emplace_back(m.id_hash);
        v.emplace_back(m.id_enc);
        v.emplace_back(m.id_masked);
        v.emplace_back(m.name_enc);
        v.emplace_back(m.household_id);
        v.emplace_back(m.region_code);
        v.emplace_back(m.birth_month);
        v.emplace_back(m.male);
        v.emplace_back(m.relation);
        v.emplace_back(now);
      },
      created);
}

RegisteredMember FromRegisteredMemberRow(const SqlRow& r) {
  // Column 0, the blind index, is the key of the answer.
  return RegisteredMember{r.Int(2), r.Str(1)};
}

absl::StatusOr<std::unordered_map<std::string, RegisteredMember>>
FindRegisteredMembers(SqlConnection& c,
                      const std::vector<const std::string*>& id_hashes) {
  std::unordered_map<std::string, RegisteredMember> out;
  absl::Status st = QueryInChunks(
      c,
      absl::StrCat("SELECT ", kRegisteredMemberColumns,
                   " FROM members WHERE id_hash IN "),
      id_hashes,
      [&](const SqlRow& r) { out[r.Str(0)] = FromRegisteredMemberRow(r); });
  RETURN_IF_ERROR(st);
  return out;
}

absl::Status UpdateImportedMember(SqlConnection& c, int64_t id,
                                  const MemberRecord& m, int64_t now) {
  return c
      .Execute(
          "UPDATE members SET id_enc = ?, name_enc = ?, household_id = ?, "
          "region_code = ?, relation = ?, updated_at = ? WHERE id = ?",
          {m.id_enc, m.name_enc, m.household_id, m.region_code, m.relation, now,
           id})
      .status();
}

absl::StatusOr<std::vector<std::string>> HouseholdMemberHashes(
    SqlConnection& c, const std::string& household_id) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query("SELECT id_hash FROM members WHERE household_id = ?",
                           {household_id}));
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.Str(0));
  return out;
}

absl::Status MoveHouseholdMembers(SqlConnection& c,
                                  const std::string& household_id,
                                  const std::string& region_code) {
  return c
      .Execute("UPDATE members SET region_code = ? WHERE household_id = ?",
               {region_code, household_id})
      .status();
}

// ------------------------------------------------------------ look-ups

absl::StatusOr<std::optional<std::string>> FindMemberHash(SqlConnection& c,
                                                          int64_t id) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query("SELECT id_hash FROM members WHERE id = ?", {id}));
  if (rows.empty()) return std::nullopt;
  return rows.front().Str(0);
}

MemberRef FromMemberRefRow(const SqlRow& r) {
  return MemberRef{r.Int(0), r.Str(1), r.Str(2), r.Str(3)};
}

absl::StatusOr<std::optional<MemberRef>> FindMemberRef(SqlConnection& c,
                                                       int64_t id) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query(absl::StrCat("SELECT ", kMemberRefColumns,
                                        " FROM members m WHERE m.id = ?"),
                           {id}));
  if (rows.empty()) return std::nullopt;
  return FromMemberRefRow(rows.front());
}

absl::StatusOr<std::unordered_map<int64_t, MemberRef>> FindMemberRefs(
    SqlConnection& c, const std::vector<int64_t>& ids) {
  std::unordered_map<int64_t, MemberRef> out;
  std::vector<SqlValue> params;
  for (size_t i = 0; i < ids.size(); i += kInListChunk) {
    const size_t k = std::min(kInListChunk, ids.size() - i);
    params.assign(ids.begin() + i, ids.begin() + i + k);
    ASSIGN_OR_RETURN(
        auto rows, c.Query(absl::StrCat("SELECT ", kMemberRefColumns,
                                        " FROM members m WHERE m.id IN ",
                                        Placeholders(k)),
                           params));
    for (const auto& r : rows) {
      MemberRef m = FromMemberRefRow(r);
      out[m.id] = std::move(m);
    }
  }
  return out;
}

absl::StatusOr<bool> HasUnprefixedBlindIndexes(SqlConnection& c) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT 1 FROM members WHERE length(id_hash) = 32 UNION ALL "
              "SELECT 1 FROM enrolments WHERE length(id_hash) = 32 LIMIT 1"));
  return !rows.empty();
}

// ------------------------------------------------------------ students

StudentRecord FromStudentRow(const SqlRow& r) {
  StudentRecord m;
  m.id = r.Int(0);
  m.id_enc = r.Str(1);
  m.id_masked = r.Str(2);
  m.name_enc = r.Str(3);
  m.household_id = r.Str(4);
  m.region_code = r.Str(5);
  m.household_status = r.Int(6);
  m.registration_year = r.Int(7);
  m.birth_month = r.Str(8);
  m.male = r.Int(9) != 0;
  m.relation = r.Int(10);
  return m;
}

void ToProto(const StudentRecord& m, const std::string& id_number,
             const std::string& name, pb::Student* out) {
  out->set_member_id(MemberIdString(m.id));
  out->set_id_number(id_number);
  out->set_name(name);
  out->set_household_id(m.household_id);
  out->set_region_code(m.region_code);
  out->set_household_status(
      static_cast<cpb::HouseholdStatus>(m.household_status));
  out->set_registration_year(static_cast<int32_t>(m.registration_year));
  // The birth date is kept in clear nowhere: it is read from the ID number
  // (dropped again wherever the ID number is masked).
  if (auto info = ValidateIdNumber("id_number", id_number); info.ok()) {
    out->set_birth_date(info->birth_date());
  }
  out->set_birth_year(BirthYearOf(m.birth_month));
  out->set_male(m.male);
  out->set_relation(static_cast<pb::Relation>(m.relation));
}

absl::StatusOr<std::optional<StudentRecord>> FindStudent(
    SqlConnection& c, const std::string& id_hash) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(
          absl::StrCat("SELECT ", kStudentColumns,
                       " FROM members m JOIN households h ON h.household_id = "
                       "m.household_id WHERE m.id_hash = ?"),
          {id_hash}));
  if (rows.empty()) return std::nullopt;
  return FromStudentRow(rows.front());
}

absl::StatusOr<std::vector<ListedStudent>> ListStudentsPage(
    SqlConnection& c, const StudentListFilter& f) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(
          absl::StrCat(
              "SELECT ", kStudentColumns, ", ", kEnrolmentColumns,
              " FROM members m JOIN households h ON h.household_id = "
              "m.household_id JOIN enrolments e ON e.id_hash = m.id_hash AND "
              "e.current = 1",
              kEnrolmentSchoolJoin,
              " WHERE m.region_code LIKE ? AND (? = '' OR e.school_code = ?) "
              "AND "
              "(? = 0 OR e.stage = ?) AND e.status = ? AND m.id > ? "
              "ORDER BY m.id LIMIT ?"),
          {f.region + "%", f.school, f.school, f.stage, f.stage, f.status,
           f.after, f.limit}));
  std::vector<ListedStudent> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    out.push_back(
        {FromStudentRow(r), FromEnrolmentRow(r, kStudentColumnCount)});
  }
  return out;
}

}  // namespace eduaid::registry
