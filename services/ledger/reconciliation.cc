#include "services/ledger/reconciliation.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/validate.h"
#include "services/ledger/entitlement_rules.h"

namespace eduaid::ledger {

void AddGap(pb::GapList* list, pb::GapItem item, size_t max_items) {
  list->set_total(list->total() + 1);
  if (static_cast<size_t>(list->items_size()) < max_items) {
    *list->add_items() = std::move(item);
  }
}

std::vector<pb::GapItem> MissingEntitlements(
    const std::vector<rpb::Student>& students, const std::string& region_prefix,
    const std::vector<const pb::ProgrammeStandard*>& standards,
    const std::vector<HeldForReconcile>& held, const cpb::Term& term,
    const std::string& as_of) {
  std::set<std::pair<std::string, std::string>> holds;
  std::map<std::pair<std::string, std::string>, std::string> cancelled;
  for (const HeldForReconcile& h : held) {
    if (h.state == pb::ENTITLEMENT_STATE_CANCELLED) {
      cancelled[{h.member_id, h.programme_code}] = absl::StrCat(
          "entitlement ", h.id, " was cancelled: ", h.cancel_reason);
      continue;
    }
    holds.insert({h.member_id, h.programme_code});
    if (!h.exclusive_group.empty()) {
      holds.insert({h.member_id, "group:" + h.exclusive_group});
    }
  }
  std::vector<pb::GapItem> out;
  for (const auto& s : students) {
    if (!absl::StartsWith(s.region_code(), region_prefix)) continue;
    for (const pb::ProgrammeStandard* sp : standards) {
      if (!Evaluate(s, *sp, term).eligible) continue;
      if (holds.count({s.member_id(), sp->programme_code()}) > 0) continue;
      if (!sp->exclusive_group().empty() &&
          holds.count({s.member_id(), "group:" + sp->exclusive_group()}) > 0) {
        continue;
      }
      pb::GapItem& item = out.emplace_back();
      item.set_member_id(s.member_id());
      item.set_name(MaskName(s.name()));
      item.set_region_code(s.region_code());
      item.set_school_code(s.current_enrolment().school_code());
      item.set_stage(s.current_enrolment().stage());
      item.set_programme_code(sp->programme_code());
      const std::string since =
          s.current_enrolment().recorded_at().substr(0, 10);
      item.set_since(since);
      if (ValidateDate("since", since).ok()) {
        item.set_days_open(std::max(0, DaysBetween(since, as_of)));
      }
      auto it = cancelled.find({s.member_id(), sp->programme_code()});
      item.set_detail(it != cancelled.end()
                          ? it->second
                          : "eligible, no entitlement for the term");
    }
  }
  return out;
}

std::string NoLongerEligible(const rpb::Student* student,
                             const pb::ProgrammeStandard* standard,
                             const cpb::Term& term) {
  if (student == nullptr) {
    return "no longer listed by the registry as an enrolled registered "
           "student";
  }
  if (standard == nullptr || !standard->auto_generate()) return "";
  const Eligibility el = Evaluate(*student, *standard, term);
  return el.eligible ? "" : "no longer eligible: " + el.why_not;
}

pb::GapItem PaidGap(const PaidPayment& p, std::string masked_name,
                    const std::string& as_of, std::string detail) {
  pb::GapItem item;
  item.set_member_id(p.member_id);
  item.set_name(std::move(masked_name));
  item.set_region_code(p.region_code);
  item.set_school_code(p.school_code);
  item.set_stage(static_cast<cpb::SchoolStage>(p.stage));
  item.set_programme_code(p.programme_code);
  item.set_entitlement_id(p.entitlement_id);
  item.set_payment_id(p.id);
  item.set_amount_fen(p.amount_fen);
  item.set_since(DateCst(p.paid_at_ms));
  item.set_days_open(std::max(0, DaysBetween(item.since(), as_of)));
  item.set_detail(std::move(detail));
  return item;
}

pb::GapItem OverdueGap(const EntitlementRecord& e, std::string masked_name,
                       const std::string& as_of) {
  pb::GapItem item;
  item.set_member_id(e.member_id);
  item.set_name(std::move(masked_name));
  item.set_region_code(e.region_code);
  item.set_school_code(e.school_code);
  item.set_stage(e.stage);
  item.set_programme_code(e.programme_code);
  item.set_entitlement_id(e.id);
  item.set_payment_id(e.payment_id);
  item.set_amount_fen(e.amount_fen);
  item.set_since(e.due_date);
  item.set_days_open(std::max(0, DaysBetween(e.due_date, as_of)));
  item.set_detail(
      e.state == pb::ENTITLEMENT_STATE_BATCHED
          ? absl::StrCat("in batch ", e.batch_id, ", not yet executed")
          : "not in any batch");
  return item;
}

}  // namespace eduaid::ledger
