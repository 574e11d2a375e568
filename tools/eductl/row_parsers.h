// Pure parsers of what an officer or a teacher types or keeps in a file:
// the special-group CSV (留守 / 残疾 ledgers as counties keep them) and the
// `--finding` flags of a home visit. No I/O, no RPC: tested directly
// (tools/eductl/tests/row_parsers_test.cc).
#ifndef EDUAID_TOOLS_EDUCTL_ROW_PARSERS_H_
#define EDUAID_TOOLS_EDUCTL_ROW_PARSERS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eduaid/common/v1/common.pb.h"
#include "eduaid/registry/v1/registry.pb.h"
#include "eduaid/teacher/v1/teacher.pb.h"

namespace eductl {

// ------------------------------------------------------- special groups

// The columns of a special-group CSV, found by their header names (English
// or Chinese, any order; a UTF-8 BOM is ignored):
//   kind             类别        留守|残疾 or left_behind|disability
//   member_id        成员编号    m-<n>        } one of the two per row
//   id_number        身份证号    18 characters }
//   carer_name       监护人姓名  (留守)
//   carer_relation   监护人关系  (留守)
//   parents_location 父母务工地  (留守)
//   category         残疾类别    (残疾) 视力, 听力, 智力, 肢体, 多重 ...
//   placement        安置方式    (残疾) 随班就读|特殊教育学校|送教上门|无
//                                (regular_class|special_school|
//                                home_teaching|none; empty = 无: no plan yet)
//   school_code      学校代码    (残疾)
//   note             备注        (残疾)
// `kind` and one of member_id / id_number are required columns; an unknown
// column is refused (a misspelt header would silently drop a field).
class SpecialGroupColumns {
 public:
  // From the header record. On failure returns nullopt and sets `error`.
  static std::optional<SpecialGroupColumns> FromHeader(
      const std::vector<std::string>& header, std::string* error);

  // One record (`line` = its record number, the header being 1) as a row
  // for ImportSpecialGroups. False with `error` filled (row number, field,
  // rule) when eductl itself must reject it: bytes that are not UTF-8, an
  // unknown kind or placement. Everything else is the registry's to judge.
  bool ToRow(const std::vector<std::string>& fields, int64_t line,
             eduaid::registry::v1::SpecialGroupRow* row,
             eduaid::common::v1::RowError* error) const;

 private:
  enum Column {
    kKind,
    kMemberId,
    kIdNumber,
    kCarerName,
    kCarerRelation,
    kParentsLocation,
    kCategory,
    kPlacement,
    kSchoolCode,
    kNote,
    kColumns
  };
  // The field of `col` in `fields` ("" when the file has no such column).
  std::string At(const std::vector<std::string>& fields, Column col) const;
  static const char* Name(Column col);
  int index_[kColumns];
};

// 留守|left_behind|left-behind -> true in *left_behind; 残疾|disability|
// disabled -> false. False for anything else.
bool ParseSpecialKind(const std::string& word, bool* left_behind);

// 随班就读|特殊教育学校|送教上门|无 (and the English words, "" = none).
bool ParsePlacement(const std::string& word,
                    eduaid::registry::v1::Placement* out);
// The Chinese word of a placement ("未制定方案" for UNSPECIFIED).
const char* PlacementLabel(eduaid::registry::v1::Placement p);

// -------------------------------------------------------------- findings

// One `--finding` flag of `campaign visit` as a VisitFinding:
//   not-received:<member_id>:<programme_code>[:note]   补助未到账
//   not-in-school:<member_id>[:note]                   未在校
//   dropout-risk:<member_id>:<none|low|medium|high>[:note] 辍学风险
//   left-behind:<member_id>[:note]                     留守
//   disability:<member_id>[:note]                      残疾未有方案
//   new-child:<id_number>:<name>:<relation>[:note]     新发现子女
// The kind may also be written in Chinese (补助未到账, 未在校, 辍学风险,
// 留守, 残疾, 新发现子女); the relation as 子女|孙子女|兄弟姐妹|其他 or
// child|grandchild|sibling|other (sent in Chinese); the risk as 无|低|中|高.
// A note (the rest, colons kept) is optional. False with `error` naming
// the part and the rule.
bool ParseFinding(const std::string& spec,
                  eduaid::teacher::v1::VisitFinding* out, std::string* error);

// 补助未到账, 未在校, ... for a finding kind; 待送达, 已送达, 送达失败, 仅记录
// for a delivery state.
const char* FindingKindLabel(eduaid::teacher::v1::FindingKind k);
const char* DeliveryLabel(eduaid::teacher::v1::DeliveryState d);
const char* RiskLabel(eduaid::teacher::v1::DropoutRisk r);

}  // namespace eductl

#endif  // EDUAID_TOOLS_EDUCTL_ROW_PARSERS_H_
