#include "tools/eductl/household_report.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "services/common/status.h"
#include "services/ledger/notice/notice_format.h"
#include "tools/eductl/row_parsers.h"
#include "tools/gen/synthetic.h"

namespace eductl {
namespace {

namespace rpb = ::eduaid::registry::v1;
namespace lpb = ::eduaid::ledger::v1;
namespace tpb = ::eduaid::teacher::v1;
namespace vpb = ::eduaid::vocational::v1;
namespace cpb = ::eduaid::common::v1;
using ::eduaid::ledger::FormatYuan;

std::string TermLabel(const cpb::Term& t) {
  if (t.year() == 0) return "-";
  return absl::StrCat(t.year(),
                      t.season() == cpb::SEASON_AUTUMN ? "秋季" : "春季");
}

const char* RelationLabel(rpb::Relation r) {
  switch (r) {
    case rpb::RELATION_HEAD:
      return "户主";
    case rpb::RELATION_SPOUSE:
      return "配偶";
    case rpb::RELATION_CHILD:
      return "子女";
    case rpb::RELATION_GRANDCHILD:
      return "孙子女";
    case rpb::RELATION_PARENT:
      return "父母";
    case rpb::RELATION_SIBLING:
      return "兄弟姐妹";
    case rpb::RELATION_OTHER:
      return "其他";
    default:
      return "-";
  }
}

const char* CaseStateLabel(rpb::DropoutCaseState s) {
  switch (s) {
    case rpb::DROPOUT_CASE_STATE_OPEN:
      return "立案";
    case rpb::DROPOUT_CASE_STATE_VISITED:
      return "已走访";
    case rpb::DROPOUT_CASE_STATE_RETURNED:
      return "劝返复学";
    case rpb::DROPOUT_CASE_STATE_EXEMPT:
      return "免予/缓学";
    case rpb::DROPOUT_CASE_STATE_ESCALATED:
      return "上报";
    default:
      return "-";
  }
}

const char* PaymentStateLabel(lpb::PaymentState s) {
  switch (s) {
    case lpb::PAYMENT_STATE_PENDING:
      return "待发放";
    case lpb::PAYMENT_STATE_PAID:
      return "已发放";
    case lpb::PAYMENT_STATE_FAILED:
      return "发放失败";
    case lpb::PAYMENT_STATE_REVERSED:
      return "已冲正";
    default:
      return "-";
  }
}

const char* EntitlementStateLabel(lpb::EntitlementState s) {
  switch (s) {
    case lpb::ENTITLEMENT_STATE_OPEN:
      return "待发放";
    case lpb::ENTITLEMENT_STATE_BATCHED:
      return "已入批次";
    case lpb::ENTITLEMENT_STATE_PAID:
      return "已发放";
    case lpb::ENTITLEMENT_STATE_CANCELLED:
      return "已取消";
    case lpb::ENTITLEMENT_STATE_WAIVED:
      return "免除";
    default:
      return "-";
  }
}

const char* OutcomeLabel(lpb::FollowUpOutcome o) {
  switch (o) {
    case lpb::FOLLOW_UP_OUTCOME_RECEIVED_IN_FULL:
      return "已足额收到";
    case lpb::FOLLOW_UP_OUTCOME_RECEIVED_PARTIALLY:
      return "部分收到";
    case lpb::FOLLOW_UP_OUTCOME_NOT_RECEIVED:
      return "未收到";
    case lpb::FOLLOW_UP_OUTCOME_NOT_REACHED:
      return "未见到本人";
    default:
      return "-";
  }
}

const char* GrievanceSourceLabel(lpb::GrievanceSource s) {
  switch (s) {
    case lpb::GRIEVANCE_SOURCE_DIRECT:
      return "直接申诉";
    case lpb::GRIEVANCE_SOURCE_FOLLOW_UP:
      return "回访";
    case lpb::GRIEVANCE_SOURCE_POSTING_OBJECTION:
      return "公示异议";
    default:
      return "-";
  }
}

std::string GrievanceStateLabel(const lpb::Grievance& g) {
  if (g.state() == lpb::GRIEVANCE_STATE_OPEN) return "处理中";
  if (g.state() != lpb::GRIEVANCE_STATE_RESOLVED) return "-";
  switch (g.outcome()) {
    case lpb::GRIEVANCE_OUTCOME_UPHELD:
      return "已办结（属实）";
    case lpb::GRIEVANCE_OUTCOME_DISMISSED:
      return "已办结（不属实）";
    default:
      return "已办结";
  }
}

const char* OfferStateLabel(vpb::OfferState s) {
  switch (s) {
    case vpb::OFFER_STATE_OPEN:
      return "待答复";
    case vpb::OFFER_STATE_ACCEPTED:
      return "已接受";
    case vpb::OFFER_STATE_DECLINED:
      return "已拒绝";
    case vpb::OFFER_STATE_EXPIRED:
      return "已过期";
    case vpb::OFFER_STATE_WITHDRAWN:
      return "已撤回";
    default:
      return "-";
  }
}

const char* ApplicationStateLabel(vpb::ApplicationState s) {
  switch (s) {
    case vpb::APPLICATION_STATE_ENROLLED:
      return "已录取";
    case vpb::APPLICATION_STATE_WAITLISTED:
      return "候补";
    case vpb::APPLICATION_STATE_WITHDRAWN:
      return "已退出";
    case vpb::APPLICATION_STATE_COMPLETED:
      return "已结业";
    default:
      return "-";
  }
}

const char* GrantStateLabel(vpb::GrantState s) {
  switch (s) {
    case vpb::GRANT_STATE_PENDING:
      return "待送达账本";
    case vpb::GRANT_STATE_DELIVERED:
      return "已送达账本";
    case vpb::GRANT_STATE_REJECTED:
      return "账本拒绝";
    case vpb::GRANT_STATE_CANCELLED:
      return "已取消";
    default:
      return "-";
  }
}

const char* AssignmentRuleLabel(tpb::AssignmentRule r) {
  switch (r) {
    case tpb::ASSIGNMENT_RULE_CHILDS_SCHOOL:
      return "子女所在学校教师";
    case tpb::ASSIGNMENT_RULE_COUNTY:
      return "本县教师（无在校子女）";
    default:
      return "-";
  }
}

std::string StatusLine(const grpc::Status& st) {
  return absl::StrCat(eduaid::GrpcCodeName(st.error_code()), ": ",
                      st.error_message());
}

// One line under a section whose service has nothing to show, or "" when
// it has its record.
template <typename Record>
std::string Unavailable(const HouseholdPart<Record>& p, const char* service) {
  if (!p.status.ok() && p.status.error_code() != grpc::StatusCode::NOT_FOUND) {
    return absl::StrCat("  （", service, "无法查询：", StatusLine(p.status),
                        "）\n");
  }
  if (!p.found) return absl::StrCat("  （", service, "无此户记录）\n");
  return "";
}

// "（s）", or "" when s is empty.
std::string Paren(const std::string& s) {
  return s.empty() ? "" : absl::StrCat("（", s, "）");
}

// "  待确认（teacher visit 12：note）": a record a visit reported.
std::string Unconfirmed(const std::string& by, const std::string& note) {
  std::string why = by;
  if (!note.empty()) why += (why.empty() ? "" : "：") + note;
  return absl::StrCat("  待确认", Paren(why));
}

// 在读 <school> / 休学 / 失学 / 送教上门 / 异地就读 / "-".
std::string SchoolingOf(const rpb::Student& s,
                        const std::vector<std::string>& out_of_school) {
  const auto& a = s.arrangement();
  if (a.arrangement_id() != 0 && a.end_date().empty()) {
    if (a.kind() == rpb::ARRANGEMENT_KIND_HOME_TEACHING) {
      return absl::StrCat("送教上门（", a.school_code(), "，自", a.start_date(),
                          "）");
    }
    return absl::StrCat("异地就读（", a.school_name(), "，", a.place(), "）");
  }
  if (std::find(out_of_school.begin(), out_of_school.end(), s.member_id()) !=
      out_of_school.end()) {
    return "失学";
  }
  const auto& e = s.current_enrolment();
  if (!e.school_code().empty()) {
    const char* st = e.status() == rpb::ENROLMENT_STATUS_SUSPENDED  ? "休学"
                     : e.status() == rpb::ENROLMENT_STATUS_ENROLLED ? "在读"
                                                                    : "";
    if (*st != '\0') {
      return absl::StrCat(st, " ", e.school_code(), " ", e.school_name(), " ",
                          e.grade(), "年级");
    }
  }
  return "-";
}

void RegistrySections(const HouseholdFile& f, std::string* out) {
  const auto& p = f.registry;
  const auto& h = p.record;
  absl::StrAppend(out, "家庭\n");
  std::string na = Unavailable(p, "学籍登记服务");
  if (!na.empty()) {
    const char* see = "  （见上：学籍登记服务无记录或无法查询）\n";
    absl::StrAppend(out, "  户编号 ", f.household_id, "\n", na, "\n成员\n", see,
                    "\n控辍保学\n", see, "\n留守 / 残疾\n", see);
    return;
  }
  std::string county = eduaid::synthetic::CountyName(h.region_code());
  absl::StrAppend(
      out, "  户编号 ", h.household_id(), "  所在县 ", h.region_code(),
      county.empty() ? "" : absl::StrCat(" ", county), "  状态 ",
      h.household_status() == cpb::HOUSEHOLD_STATUS_POOR     ? "贫困"
      : h.household_status() == cpb::HOUSEHOLD_STATUS_LIFTED ? "已脱贫"
                                                             : "-",
      "  登记年份 ", h.registration_year(), "\n");
  std::vector<std::string> oos(h.out_of_school_member_ids().begin(),
                               h.out_of_school_member_ids().end());
  absl::StrAppend(out, "\n成员（", h.members_size(), " 人）\n");
  for (const auto& m : h.members()) {
    absl::StrAppend(out, "  ", m.member_id(), "  ", m.name(), "  ",
                    m.id_number(), "  ", RelationLabel(m.relation()), "  ",
                    m.birth_year(), "年生  ", SchoolingOf(m, oos), "\n");
  }
  absl::StrAppend(out, "\n控辍保学\n");
  if (h.dropout_cases_size() == 0) absl::StrAppend(out, "  无\n");
  for (const auto& c : h.dropout_cases()) {
    absl::StrAppend(out, "  案件 ", c.case_id(), "  ", c.member_id(), " ",
                    c.name(), "  ", CaseStateLabel(c.state()), "  立案于 ",
                    c.opened_at(), "  更新于 ", c.updated_at(), "\n");
    if (c.history_size() > 0) {
      const auto& last = c.history(c.history_size() - 1);
      if (!last.note().empty())
        absl::StrAppend(out, "    最近：", last.note(), "\n");
    }
  }
  absl::StrAppend(out, "\n留守 / 残疾\n");
  int n = 0;
  for (const auto& m : h.members()) {
    if (m.has_left_behind()) {
      const auto& lb = m.left_behind();
      ++n;
      absl::StrAppend(
          out, "  ", m.member_id(), " ", m.name(), "  留守",
          lb.carer_name().empty() ? ""
                                  : absl::StrCat("  监护人 ", lb.carer_name(),
                                                 Paren(lb.carer_relation())),
          lb.parents_location().empty()
              ? ""
              : absl::StrCat("  父母务工地 ", lb.parents_location()),
          lb.unconfirmed() ? Unconfirmed(lb.reported_by(), lb.report_note())
                           : "",
          "\n");
    }
    if (m.has_disability_plan()) {
      const auto& d = m.disability_plan();
      ++n;
      absl::StrAppend(
          out, "  ", m.member_id(), " ", m.name(), "  残疾 ",
          d.category().empty() ? "类别未填" : d.category(), "  ",
          PlacementLabel(d.placement()),
          d.school_code().empty() ? "" : " " + d.school_code(),
          d.unconfirmed() ? Unconfirmed(d.reported_by(), d.report_note()) : "",
          "\n");
    }
  }
  if (n == 0) absl::StrAppend(out, "  无\n");
}

void LedgerSection(const HouseholdFile& f, std::string* out) {
  const auto& p = f.ledger;
  const auto& l = p.record;
  absl::StrAppend(out, "\n资助\n");
  std::string na = Unavailable(p, "资助账本服务");
  if (!na.empty()) return absl::StrAppend(out, na);
  absl::StrAppend(out, "  享受资格（", l.entitlements_size(), "）\n");
  for (const auto& e : l.entitlements()) {
    absl::StrAppend(out, "    #", e.entitlement_id(), "  ", e.member_id(), "  ",
                    e.programme_name(), "  ", TermLabel(e.term()), "  ",
                    FormatYuan(e.amount_fen()), " 元  ",
                    EntitlementStateLabel(e.state()), "\n");
  }
  std::map<int64_t, const lpb::Notice*> notices;
  for (const auto& n : l.notices()) notices[n.payment_id()] = &n;
  absl::StrAppend(out, "  发放（", l.payments_size(), "）\n");
  for (const auto& pay : l.payments()) {
    auto it = notices.find(pay.payment_id());
    const lpb::Notice* n = it == notices.end() ? nullptr : it->second;
    absl::StrAppend(
        out, "    发放 ", pay.payment_id(), "  ", pay.member_id(), "  ",
        pay.programme_name(), "  ", TermLabel(pay.term()), "  ",
        FormatYuan(pay.amount_fen()), " 元  ", PaymentStateLabel(pay.state()),
        "  ", n && !n->paid_on().empty() ? n->paid_on() : pay.paid_at(), "\n");
    if (n == nullptr) continue;
    absl::StrAppend(out, "      告知书 ", n->notice_no(), "  ");
    if (n->has_acknowledgement()) {
      const auto& a = n->acknowledgement();
      absl::StrAppend(out, "已签收 ", a.acknowledged_on(), "（",
                      a.party() == lpb::ACK_PARTY_STUDENT ? "学生" : "监护人",
                      " ", eduaid::ledger::AckMethodLabel(a.method()), "）\n");
    } else {
      absl::StrAppend(out, "未签收\n");
    }
  }
  absl::StrAppend(out, "  回访（", l.follow_ups_size(), "）\n");
  for (const auto& fu : l.follow_ups()) {
    absl::StrAppend(
        out, "    发放 ", fu.payment_id(), "  ", fu.visited_on(), "  ",
        fu.visitor(), "  ", OutcomeLabel(fu.outcome()), "  来源 ",
        fu.source_ref().empty() ? "人工录入" : fu.source_ref(),
        fu.grievance_id() ? absl::StrCat("  → 申诉 ", fu.grievance_id()) : "",
        "\n");
  }
  absl::StrAppend(out, "  申诉（", l.grievances_size(), "）\n");
  for (const auto& g : l.grievances()) {
    absl::StrAppend(out, "    申诉 ", g.grievance_id(), "  发放 ",
                    g.payment_id(), "  ", GrievanceSourceLabel(g.source()),
                    "  ", GrievanceStateLabel(g), "  ", g.opened_at(), "  ",
                    g.description(), "\n");
  }
}

void TeacherSection(const HouseholdFile& f, std::string* out) {
  const auto& p = f.teacher;
  absl::StrAppend(out, "\n走访\n");
  std::string na = Unavailable(p, "教师支持服务");
  if (!na.empty()) return absl::StrAppend(out, na);
  const auto& t = p.record;
  if (t.assignments_size() == 0) absl::StrAppend(out, "  未列入走访活动\n");
  for (const auto& a : t.assignments()) {
    absl::StrAppend(out, "  活动 ", a.campaign_id(), "  ");
    if (a.teacher_id().empty()) {
      absl::StrAppend(out, "未分配教师：", a.uncovered_explanation());
    } else {
      absl::StrAppend(out, "教师 ", a.teacher_id(), " ", a.teacher_name(), "（",
                      AssignmentRuleLabel(a.assignment_rule()), "）");
    }
    if (a.visited()) {
      absl::StrAppend(out, "  已走访 ", a.visits(), " 次，首次 ",
                      a.first_visit_date());
    } else if (a.overdue()) {
      absl::StrAppend(out, "  逾期 ", a.days_overdue(), " 天未走访");
    } else {
      absl::StrAppend(out, "  未走访");
    }
    absl::StrAppend(out, "\n");
  }
  for (const auto& v : t.visits()) {
    absl::StrAppend(out, "  走访 ", v.visit_id(), "  ", v.visit_date(),
                    "  教师 ", v.teacher_id(), "  见到 ",
                    absl::StrJoin(v.met(), "、"), "  辍学风险 ",
                    RiskLabel(v.dropout_risk()), "\n");
    for (const auto& fd : v.findings()) {
      absl::StrAppend(
          out, "    发现 ", FindingKindLabel(fd.kind()), " ",
          fd.member_id().empty() ? fd.name() : fd.member_id(),
          fd.programme_code().empty() ? "" : " " + fd.programme_code(), "  → ",
          DeliveryLabel(fd.delivery()),
          fd.target().empty() ? "" : " " + fd.target(),
          fd.delivery_error().empty()
              ? ""
              : absl::StrCat("（", fd.delivery_error(), "）"),
          "\n");
    }
    for (const auto& pf : v.payment_follow_ups()) {
      absl::StrAppend(
          out, "    作为回访 发放 ", pf.payment_id(), " ", pf.member_id(), " ",
          pf.programme_code(), "  → ", DeliveryLabel(pf.delivery()),
          pf.follow_up_id() ? absl::StrCat(" 回访 ", pf.follow_up_id()) : "",
          "\n");
    }
  }
}

void VocationalSection(const HouseholdFile& f, std::string* out) {
  const auto& p = f.vocational;
  absl::StrAppend(out, "\n职业教育\n");
  std::string na = Unavailable(p, "职业教育服务");
  if (!na.empty()) return absl::StrAppend(out, na);
  const auto& v = p.record;
  if (v.offers_size() + v.applications_size() + v.grants_size() == 0) {
    absl::StrAppend(out, "  无\n");
  }
  for (const auto& o : v.offers()) {
    absl::StrAppend(out, "  推荐 ", o.offer_id(), "  ", o.member_id(), " ",
                    o.name(), "  ", o.graduation_year(), "届  ",
                    OfferStateLabel(o.state()), "  ", o.offered_on(), " 至 ",
                    o.expires_on(), "\n");
  }
  for (const auto& a : v.applications()) {
    absl::StrAppend(out, "  报名 ", a.application_id(), "  ", a.member_id(),
                    " ", a.name(), "  ", a.course_name(), "  ",
                    ApplicationStateLabel(a.state()),
                    a.state() == vpb::APPLICATION_STATE_WAITLISTED
                        ? absl::StrCat(" 第", a.waitlist_position(), "位")
                        : "",
                    a.free_tuition() ? "  免学费" : "", "\n");
  }
  for (const auto& g : v.grants()) {
    absl::StrAppend(
        out, "  助学金 ", g.grant_id(), "  ", g.member_id(), "  ",
        g.programme_code(), "  ", TermLabel(g.term()), "  ",
        GrantStateLabel(g.state()),
        g.entitlement_id() ? absl::StrCat("  资格 #", g.entitlement_id()) : "",
        "\n");
  }
}

template <typename Record>
bool NotFound(const HouseholdPart<Record>& p) {
  return !p.found && (p.status.ok() ||
                      p.status.error_code() == grpc::StatusCode::NOT_FOUND);
}

// `s` inside a JSON string: quotes and backslashes escaped, control
// characters dropped (UTF-8 kept as it is).
std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out.push_back(c);
  }
  return out;
}

template <typename Record>
std::string PartJson(const HouseholdPart<Record>& p) {
  if (p.found) {
    std::string out;
    google::protobuf::util::JsonPrintOptions o;
    o.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(p.record, &out, o);
    return out;
  }
  if (NotFound(p)) return "null";
  return absl::StrCat(
      "{\"error\": {\"code\": \"", eduaid::GrpcCodeName(p.status.error_code()),
      "\", \"message\": \"", JsonEscape(p.status.error_message()), "\"}}");
}

int ExitCodeOf(const grpc::Status& st) {
  switch (st.error_code()) {
    case grpc::StatusCode::OK:
      return 0;
    case grpc::StatusCode::INVALID_ARGUMENT:
      return 2;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return 3;
    default:
      return 1;
  }
}

}  // namespace

bool NotFoundAnywhere(const HouseholdFile& f) {
  return NotFound(f.registry) && NotFound(f.ledger) && NotFound(f.teacher) &&
         NotFound(f.vocational);
}

int HouseholdExitCode(const HouseholdFile& f) {
  if (NotFoundAnywhere(f))
    return ExitCodeOf(grpc::Status(grpc::StatusCode::NOT_FOUND, ""));
  for (const grpc::Status* st : {&f.registry.status, &f.ledger.status,
                                 &f.teacher.status, &f.vocational.status}) {
    if (!st->ok() && st->error_code() != grpc::StatusCode::NOT_FOUND) {
      return ExitCodeOf(*st);
    }
  }
  return 0;
}

std::string FormatHouseholdReport(const HouseholdFile& f) {
  if (NotFoundAnywhere(f)) {
    return absl::StrCat("no household ", f.household_id, " in your scope\n");
  }
  std::string out;
  RegistrySections(f, &out);
  LedgerSection(f, &out);
  TeacherSection(f, &out);
  VocationalSection(f, &out);
  return out;
}

std::string HouseholdJson(const HouseholdFile& f) {
  return absl::StrCat("{\"household_id\": \"", JsonEscape(f.household_id),
                      "\", \"registry\": ", PartJson(f.registry),
                      ", \"ledger\": ", PartJson(f.ledger),
                      ", \"teacher\": ", PartJson(f.teacher),
                      ", \"vocational\": ", PartJson(f.vocational), "}\n");
}

}  // namespace eductl
