// ListMyHouseholds: a teacher's own households with what a visit needs and
// nothing else: the members (masked ID numbers, names, relation, birth
// year, school, out of school, arrangement) from the registry, and what the
// ledger paid them in the campaign's term. One registry call and one ledger
// call (per term on the page) per page, never per household.
#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/page_token.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/validate.h"
#include "services/teacher/campaign_store.h"
#include "services/teacher/teacher.h"
#include "services/teacher/teacher_internal.h"
#include "services/teacher/teacher_store.h"

namespace eduaid::teacher {

namespace {

// The Chinese label of a registry relation.
std::string RelationLabel(rpb::Relation r) {
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
    default:
      return "其他";
  }
}

// 送教上门 / 异地就读 for a running arrangement, "" otherwise.
std::string ArrangementLabel(const rpb::SchoolingArrangement& a) {
  if (!a.end_date().empty()) return "";
  if (a.kind() == rpb::ARRANGEMENT_KIND_HOME_TEACHING) return "送教上门";
  if (a.kind() == rpb::ARRANGEMENT_KIND_STUDYING_ELSEWHERE) return "异地就读";
  return "";
}

// The member as a visiting teacher sees them: no birth date, no
// special-group records, the ID number masked whatever the registry gave.
void FillMember(const rpb::Student& s,
                const std::unordered_set<std::string>& out_of_school,
                pb::VisitMember* m) {
  m->set_member_id(s.member_id());
  m->set_id_number(s.id_number().find('*') == std::string::npos
                       ? MaskIdNumber(s.id_number())
                       : s.id_number());
  m->set_name(s.name());
  m->set_relation(RelationLabel(s.relation()));
  m->set_birth_year(s.birth_year());
  const rpb::Enrolment& e = s.current_enrolment();
  if (e.status() == rpb::ENROLMENT_STATUS_ENROLLED ||
      e.status() == rpb::ENROLMENT_STATUS_SUSPENDED) {
    m->set_school_code(e.school_code());
    m->set_school_name(e.school_name());
  }
  m->set_out_of_school(out_of_school.count(s.member_id()) > 0);
  m->set_arrangement(ArrangementLabel(s.arrangement()));
}

// YYYY-MM-DD in China time of an RFC 3339 instant; "" when malformed.
std::string PaidOn(const std::string& rfc3339) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err)) return "";
  return DateCst(absl::ToUnixMillis(t));
}

// The PAID payments of a household's ledger, with their follow-ups.
void FillPaid(const lpb::HouseholdLedger& l, pb::AssignedHousehold* out) {
  std::set<int64_t> followed;
  for (const auto& f : l.follow_ups()) followed.insert(f.payment_id());
  for (const auto& p : l.payments()) {
    if (p.state() != lpb::PAYMENT_STATE_PAID) continue;
    pb::PaidSubsidy* s = out->add_paid_this_term();
    s->set_payment_id(p.payment_id());
    s->set_member_id(p.member_id());
    s->set_programme_code(p.programme_code());
    s->set_programme_name(p.programme_name());
    s->set_amount_fen(p.amount_fen());
    s->set_paid_on(PaidOn(p.paid_at()));
    s->set_followed_up(followed.count(p.payment_id()) > 0);
  }
}

// "<campaign>:<household>" <-> the keyset position.
absl::Status ParseMyPosition(const std::string& last, int64_t* campaign,
                             std::string* household) {
  if (last.empty()) return absl::OkStatus();
  std::pair<std::string, std::string> parts =
      absl::StrSplit(last, absl::MaxSplits(':', 1));
  if (!absl::SimpleAtoi(parts.first, campaign) || parts.second.empty()) {
    return InvalidField("page_token", "is not a token of this list");
  }
  *household = parts.second;
  return absl::OkStatus();
}

}  // namespace

std::string TeacherSupport::LedgerPeer() const {
  return absl::StrCat("the ledger (", options_.ledger_target, ")");
}

absl::Status TeacherSupport::ListMyHouseholds(
    CallContext& call, const pb::ListMyHouseholdsRequest& req,
    pb::ListMyHouseholdsResponse* resp) {
  const Principal& p = call.principal;
  ASSIGN_OR_RETURN(const int64_t teacher, ParseTeacherId("sub", p.subject));
  if (req.campaign_id() < 0) {
    return InvalidField("campaign_id", "must be 0 (every active campaign) or "
                                       "a campaign id");
  }
  if (!pb::HouseholdFilter_IsValid(req.filter())) {
    return InvalidField("filter", "is not a known filter");
  }
  ASSIGN_OR_RETURN(const int size,
                   ValidatePageSize("page_size", req.page_size(), 20, 50));
  const std::string filters =
      absl::StrCat("my|", p.subject, "|", req.campaign_id(), "|", req.filter());
  ASSIGN_OR_RETURN(const std::string last,
                   DecodePageToken(req.page_token(), filters));
  MyHouseholdQuery q{teacher, req.campaign_id(), req.filter(), TodayCst()};
  int64_t after_campaign = 0;
  std::string after_household;
  RETURN_IF_ERROR(ParseMyPosition(last, &after_campaign, &after_household));
  std::vector<HouseholdRecord> rows;
  std::map<int64_t, CampaignRecord> campaigns;
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    RETURN_IF_ERROR(CheckOwnStanding(c, p, teacher));
    if (req.campaign_id() != 0) {
      ASSIGN_OR_RETURN(campaigns[req.campaign_id()],
                       LoadCampaign(c, req.campaign_id()));
    }
    ASSIGN_OR_RETURN(rows, ListTeacherHouseholds(c, q, after_campaign,
                                                 after_household, size + 1));
    for (const auto& h : rows) {
      if (campaigns.count(h.campaign_id)) continue;
      ASSIGN_OR_RETURN(campaigns[h.campaign_id], LoadCampaign(c, h.campaign_id));
    }
    ASSIGN_OR_RETURN(const int64_t total, CountTeacherHouseholds(c, q));
    resp->set_total(total);
    return absl::OkStatus();
  }));
  if (rows.size() > static_cast<size_t>(size)) {
    rows.resize(size);
    resp->set_next_page_token(EncodePageToken(
        absl::StrCat(rows.back().campaign_id, ":", rows.back().household_id),
        filters));
  }
  RETURN_IF_ERROR(FillMyHouseholds(rows, campaigns, resp));
  call.NoteBulkRead(static_cast<size_t>(resp->households_size()));
  return absl::OkStatus();
}

absl::Status TeacherSupport::CheckOwnStanding(SqlConnection& c,
                                              const Principal& p,
                                              int64_t teacher) {
  ASSIGN_OR_RETURN(const auto t, LoadTeacherStanding(c, teacher));
  // FAILED_PRECONDITION, not PERMISSION_DENIED: the token is a teacher's
  // and passes the policy; the teacher it names has left (or never was),
  // which an administrator fixes by issuing tokens to active teachers only.
  if (!t || !t->active) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "TEACHER_INACTIVE",
                      "the token's teacher is not an active teacher of the "
                      "registry");
  }
  if (t->region_code != p.region) {
    return absl::PermissionDeniedError(
        "the token's region is not the county of the teacher's school");
  }
  return absl::OkStatus();
}

absl::Status TeacherSupport::FillMyHouseholds(
    const std::vector<HouseholdRecord>& rows,
    const std::map<int64_t, CampaignRecord>& campaigns,
    pb::ListMyHouseholdsResponse* resp) {
  if (rows.empty()) return absl::OkStatus();
  std::vector<std::string> ids;
  std::map<std::pair<int, int>, std::vector<std::string>> by_term;
  for (const auto& h : rows) {
    ids.push_back(h.household_id);
    const CampaignRecord& k = campaigns.at(h.campaign_id);
    by_term[{k.term_year, k.term_season}].push_back(h.household_id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  ASSIGN_OR_RETURN(const auto households, registry_client_->GetHouseholds(ids));
  std::unordered_map<std::string, const rpb::Household*> registry;
  for (const auto& h : households) registry[h.household_id()] = &h;
  // (term, household) -> the household's ledger in that term.
  std::map<std::pair<std::pair<int, int>, std::string>, lpb::HouseholdLedger>
      paid;
  for (auto& [term, list] : by_term) {
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
    lpb::GetHouseholdsRequest lreq;
    for (const auto& id : list) lreq.add_household_ids(id);
    lreq.mutable_term()->set_year(term.first);
    lreq.mutable_term()->set_season(static_cast<cpb::Season>(term.second));
    lpb::GetHouseholdsResponse lresp;
    grpc::ClientContext ctx;
    ledger_channel_->Prepare(&ctx, options_.ledger_deadline);
    grpc::Status s = ledger_->GetHouseholds(&ctx, lreq, &lresp);
    if (!s.ok()) {
      return PeerError(LedgerPeer(), s,
                       "read what was paid to the households this term");
    }
    for (auto& l : *lresp.mutable_households()) {
      paid[{term, l.household_id()}] = std::move(l);
    }
  }
  const std::string today = TodayCst();
  for (const auto& h : rows) {
    const CampaignRecord& k = campaigns.at(h.campaign_id);
    pb::AssignedHousehold* out = resp->add_households();
    out->set_campaign_id(h.campaign_id);
    out->set_household_id(h.household_id);
    out->set_region_code(h.region_code);
    out->set_visited(h.visits > 0);
    out->set_visits(static_cast<int32_t>(h.visits));
    out->set_due_date(k.due_date);
    out->set_overdue(h.visits == 0 && today > k.due_date);
    if (auto it = registry.find(h.household_id); it != registry.end()) {
      const rpb::Household& r = *it->second;
      std::unordered_set<std::string> away(r.out_of_school_member_ids().begin(),
                                           r.out_of_school_member_ids().end());
      for (const auto& m : r.members()) FillMember(m, away, out->add_members());
    }
    auto l = paid.find({{k.term_year, k.term_season}, h.household_id});
    if (l != paid.end()) FillPaid(l->second, out);
  }
  return absl::OkStatus();
}

}  // namespace eduaid::teacher
