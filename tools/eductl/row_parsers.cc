#include "tools/eductl/row_parsers.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/common/validate.h"

namespace eductl {
namespace {

namespace rpb = ::eduaid::registry::v1;
namespace tpb = ::eduaid::teacher::v1;

template <typename Enum, size_t N>
bool Lookup(const std::pair<const char*, Enum> (&words)[N],
            const std::string& word, Enum* out) {
  for (const auto& [w, v] : words) {
    if (word == w) {
      *out = v;
      return true;
    }
  }
  return false;
}

template <typename Enum, size_t N>
const char* LabelOf(const std::pair<const char*, Enum> (&words)[N], Enum v,
                    const char* otherwise) {
  for (const auto& [w, value] : words) {
    if (value == v) return w;
  }
  return otherwise;
}

const std::pair<const char*, rpb::Placement> kPlacements[] = {
    {"随班就读", rpb::PLACEMENT_REGULAR_CLASS},
    {"特殊教育学校", rpb::PLACEMENT_SPECIAL_SCHOOL},
    {"送教上门", rpb::PLACEMENT_HOME_TEACHING},
    {"无", rpb::PLACEMENT_UNSPECIFIED},
    {"", rpb::PLACEMENT_UNSPECIFIED},
    {"none", rpb::PLACEMENT_UNSPECIFIED},
    {"regular_class", rpb::PLACEMENT_REGULAR_CLASS},
    {"special_school", rpb::PLACEMENT_SPECIAL_SCHOOL},
    {"home_teaching", rpb::PLACEMENT_HOME_TEACHING},
    {"regular-class", rpb::PLACEMENT_REGULAR_CLASS},
    {"special-school", rpb::PLACEMENT_SPECIAL_SCHOOL},
    {"home-teaching", rpb::PLACEMENT_HOME_TEACHING}};

// Header names, English then Chinese, in Column order.
const char* const kHeaderNames[][2] = {{"kind", "类别"},
                                       {"member_id", "成员编号"},
                                       {"id_number", "身份证号"},
                                       {"carer_name", "监护人姓名"},
                                       {"carer_relation", "监护人关系"},
                                       {"parents_location", "父母务工地"},
                                       {"category", "残疾类别"},
                                       {"placement", "安置方式"},
                                       {"school_code", "学校代码"},
                                       {"note", "备注"}};

const std::pair<const char*, tpb::FindingKind> kFindingKinds[] = {
    {"补助未到账", tpb::FINDING_KIND_SUBSIDY_NOT_RECEIVED},
    {"未在校", tpb::FINDING_KIND_NOT_IN_SCHOOL},
    {"新发现子女", tpb::FINDING_KIND_NEW_CHILD},
    {"辍学风险", tpb::FINDING_KIND_DROPOUT_RISK},
    {"留守", tpb::FINDING_KIND_LEFT_BEHIND},
    {"残疾未有方案", tpb::FINDING_KIND_DISABILITY_WITHOUT_PLAN},
    {"残疾", tpb::FINDING_KIND_DISABILITY_WITHOUT_PLAN},
    {"not-received", tpb::FINDING_KIND_SUBSIDY_NOT_RECEIVED},
    {"not-in-school", tpb::FINDING_KIND_NOT_IN_SCHOOL},
    {"new-child", tpb::FINDING_KIND_NEW_CHILD},
    {"dropout-risk", tpb::FINDING_KIND_DROPOUT_RISK},
    {"left-behind", tpb::FINDING_KIND_LEFT_BEHIND},
    {"disability", tpb::FINDING_KIND_DISABILITY_WITHOUT_PLAN}};

const std::pair<const char*, tpb::DropoutRisk> kRiskWords[] = {
    {"无", tpb::DROPOUT_RISK_NONE},       {"低", tpb::DROPOUT_RISK_LOW},
    {"中", tpb::DROPOUT_RISK_MEDIUM},     {"高", tpb::DROPOUT_RISK_HIGH},
    {"none", tpb::DROPOUT_RISK_NONE},     {"low", tpb::DROPOUT_RISK_LOW},
    {"medium", tpb::DROPOUT_RISK_MEDIUM}, {"high", tpb::DROPOUT_RISK_HIGH}};

// The registry's words for a new child's relation (Chinese), by any word.
const std::pair<const char*, const char*> kChildRelations[] = {
    {"子女", "子女"},        {"孙子女", "孙子女"}, {"兄弟姐妹", "兄弟姐妹"},
    {"其他", "其他"},        {"child", "子女"},    {"grandchild", "孙子女"},
    {"sibling", "兄弟姐妹"}, {"other", "其他"}};

const std::pair<const char*, tpb::DeliveryState> kDeliveries[] = {
    {"待送达", tpb::DELIVERY_STATE_PENDING},
    {"已送达", tpb::DELIVERY_STATE_DELIVERED},
    {"送达失败", tpb::DELIVERY_STATE_FAILED},
    {"仅记录", tpb::DELIVERY_STATE_NOT_ROUTED}};

}  // namespace

bool ParseSpecialKind(const std::string& word, bool* left_behind) {
  if (word == "留守" || word == "left_behind" || word == "left-behind" ||
      word == "留守儿童") {
    *left_behind = true;
    return true;
  }
  if (word == "残疾" || word == "disability" || word == "disabled" ||
      word == "残疾儿童") {
    *left_behind = false;
    return true;
  }
  return false;
}

bool ParsePlacement(const std::string& word, rpb::Placement* out) {
  return Lookup(kPlacements, word, out);
}

const char* PlacementLabel(rpb::Placement p) {
  if (p == rpb::PLACEMENT_UNSPECIFIED) return "未制定方案";
  return LabelOf(kPlacements, p, "-");
}

const char* SpecialGroupColumns::Name(Column col) {
  return kHeaderNames[col][0];
}

std::optional<SpecialGroupColumns> SpecialGroupColumns::FromHeader(
    const std::vector<std::string>& header, std::string* error) {
  SpecialGroupColumns c;
  for (int& i : c.index_) i = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    absl::string_view view = header[i];
    if (i == 0) absl::ConsumePrefix(&view, "\xEF\xBB\xBF");  // BOM
    std::string name(absl::StripAsciiWhitespace(view));
    if (name.empty()) continue;
    int found = -1;
    for (int col = 0; col < kColumns; ++col) {
      if (name == kHeaderNames[col][0] || name == kHeaderNames[col][1] ||
          absl::AsciiStrToLower(name) == kHeaderNames[col][0]) {
        found = col;
      }
    }
    if (found < 0) {
      std::vector<std::string> known;
      for (const auto& n : kHeaderNames) known.push_back(n[0]);
      *error =
          absl::StrCat("header: unknown column '", name, "' (column ", i + 1,
                       "); the columns are ", absl::StrJoin(known, ", "));
      return std::nullopt;
    }
    if (c.index_[found] >= 0) {
      *error = absl::StrCat("header: column '", name, "' appears twice");
      return std::nullopt;
    }
    c.index_[found] = static_cast<int>(i);
  }
  if (c.index_[kKind] < 0) {
    *error = "header: a 'kind' (类别) column is required";
    return std::nullopt;
  }
  if (c.index_[kMemberId] < 0 && c.index_[kIdNumber] < 0) {
    *error =
        "header: a 'member_id' (成员编号) or 'id_number' (身份证号) column is "
        "required";
    return std::nullopt;
  }
  return c;
}

std::string SpecialGroupColumns::At(const std::vector<std::string>& fields,
                                    Column col) const {
  int i = index_[col];
  if (i < 0 || static_cast<size_t>(i) >= fields.size()) return "";
  return std::string(absl::StripAsciiWhitespace(fields[i]));
}

bool SpecialGroupColumns::ToRow(const std::vector<std::string>& fields,
                                int64_t line, rpb::SpecialGroupRow* row,
                                eduaid::common::v1::RowError* error) const {
  auto reject = [&](const char* field, const std::string& rule) {
    error->set_row_number(line);
    error->set_field(field);
    error->set_rule(rule);
    return false;
  };
  for (int col = 0; col < kColumns; ++col) {
    int i = index_[col];
    if (i >= 0 && static_cast<size_t>(i) < fields.size() &&
        !eduaid::IsValidUtf8(fields[i])) {
      return reject(Name(static_cast<Column>(col)),
                    "must be valid UTF-8 (save the file as UTF-8; rejected "
                    "by eductl)");
    }
  }
  row->set_row_number(line);
  row->set_member_id(At(fields, kMemberId));
  row->set_id_number(At(fields, kIdNumber));
  bool left_behind = false;
  if (!ParseSpecialKind(At(fields, kKind), &left_behind)) {
    return reject("kind", "must be 留守 or 残疾 (left_behind or disability)");
  }
  if (left_behind) {
    auto* lb = row->mutable_left_behind();
    lb->set_carer_name(At(fields, kCarerName));
    lb->set_carer_relation(At(fields, kCarerRelation));
    lb->set_parents_location(At(fields, kParentsLocation));
    return true;
  }
  auto* plan = row->mutable_disability_plan();
  rpb::Placement placement;
  if (!ParsePlacement(At(fields, kPlacement), &placement)) {
    return reject("placement",
                  "must be 随班就读, 特殊教育学校, 送教上门 or 无 (or "
                  "regular_class, special_school, home_teaching, none)");
  }
  plan->set_category(At(fields, kCategory));
  plan->set_placement(placement);
  plan->set_school_code(At(fields, kSchoolCode));
  plan->set_note(At(fields, kNote));
  return true;
}

bool ParseFinding(const std::string& spec, tpb::VisitFinding* out,
                  std::string* error) {
  std::vector<std::string> parts = absl::StrSplit(spec, ':');
  tpb::FindingKind kind;
  if (parts.empty() || !Lookup(kFindingKinds, parts[0], &kind)) {
    *error = absl::StrCat(
        "--finding '", spec,
        "': the kind must be not-received, not-in-school, dropout-risk, "
        "left-behind, disability or new-child");
    return false;
  }
  size_t needed = 2;  // kind:member
  const char* form = "<kind>:<member_id>[:note]";
  if (kind == tpb::FINDING_KIND_SUBSIDY_NOT_RECEIVED) {
    needed = 3, form = "not-received:<member_id>:<programme_code>[:note]";
  } else if (kind == tpb::FINDING_KIND_DROPOUT_RISK) {
    needed = 3, form = "dropout-risk:<member_id>:<none|low|medium|high>";
  } else if (kind == tpb::FINDING_KIND_NEW_CHILD) {
    needed = 4, form = "new-child:<id_number>:<name>:<relation>[:note]";
  }
  if (parts.size() < needed) {
    *error = absl::StrCat("--finding '", spec, "': must be ", form);
    return false;
  }
  for (size_t i = 1; i < needed; ++i) {
    if (parts[i].empty()) {
      *error = absl::StrCat("--finding '", spec, "': part ", i + 1,
                            " is empty; must be ", form);
      return false;
    }
  }
  out->Clear();
  out->set_kind(kind);
  if (parts.size() > needed) {
    out->set_note(absl::StrJoin(parts.begin() + needed, parts.end(), ":"));
  }
  switch (kind) {
    case tpb::FINDING_KIND_NEW_CHILD: {
      out->set_id_number(parts[1]);
      out->set_name(parts[2]);
      const char* relation = nullptr;
      if (!Lookup(kChildRelations, parts[3], &relation)) {
        *error = absl::StrCat("--finding '", spec,
                              "': relation must be 子女, 孙子女, 兄弟姐妹 or "
                              "其他 (child, grandchild, sibling, other)");
        return false;
      }
      out->set_relation(relation);
      return true;
    }
    case tpb::FINDING_KIND_SUBSIDY_NOT_RECEIVED:
      out->set_member_id(parts[1]);
      out->set_programme_code(parts[2]);
      return true;
    case tpb::FINDING_KIND_DROPOUT_RISK: {
      out->set_member_id(parts[1]);
      tpb::DropoutRisk risk;
      if (!Lookup(kRiskWords, parts[2], &risk)) {
        *error = absl::StrCat("--finding '", spec,
                              "': risk must be none, low, medium or high");
        return false;
      }
      out->set_risk(risk);
      return true;
    }
    default:
      out->set_member_id(parts[1]);
      return true;
  }
}

const char* FindingKindLabel(tpb::FindingKind k) {
  return LabelOf(kFindingKinds, k, "-");
}

const char* DeliveryLabel(tpb::DeliveryState d) {
  return LabelOf(kDeliveries, d, "-");
}

const char* RiskLabel(tpb::DropoutRisk r) {
  return LabelOf(kRiskWords, r, "-");
}

}  // namespace eductl
