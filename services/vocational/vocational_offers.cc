// Offers to junior-high graduates (RunOffers, ListOffers, DeclineOffer)
// and the standing report of graduates with no school and no offer
// (ListUnplacedGraduates).
#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/crypto.h"
#include "services/common/idempotency.h"
#include "services/common/keyset_page.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/validate.h"
#include "services/vocational/field_violations.h"
#include "services/vocational/offer_store.h"
#include "services/vocational/unplaced.h"
#include "services/vocational/vocational.h"

namespace eduaid::vocational {
namespace {

absl::Status ValidateRunOffers(const pb::RunOffersRequest& req,
                               const std::string& today) {
  const int this_year = std::stoi(today.substr(0, 4));
  Violations v;
  v.Check(ValidateRequestId("request_id", req.request_id()));
  if (v.Check(ValidateRegionPrefix("region_prefix", req.region_prefix()))
          .ok() &&
      req.region_prefix().size() != 4 && req.region_prefix().size() != 6) {
    v.Add("region_prefix",
          "must be a city (4 digits) or county (6 digits) code");
  }
  if (req.graduation_year() < 2000 || req.graduation_year() > this_year + 1) {
    v.Add("graduation_year", absl::StrCat("must be 2000..", this_year + 1));
  }
  if (!req.expires_on().empty() &&
      v.Check(ValidateDate("expires_on", req.expires_on())).ok() &&
      req.expires_on() <= today) {
    v.Add("expires_on", "must be after today");
  }
  return v.ToStatus();
}

// The row of graduate `g` whose last offer is `last`, as `p` sees it.
pb::UnplacedGraduate UnplacedOf(const rpb::Student& g, const LastOffer& last,
                                const Principal& p, const std::string& today) {
  pb::UnplacedGraduate u;
  u.set_member_id(g.member_id());
  u.set_name(p.SeesPersonalData() ? g.name() : MaskName(g.name()));
  u.set_region_code(g.region_code());
  u.set_household_status(g.household_status());
  u.set_junior_high_school_code(g.current_enrolment().school_code());
  u.set_since(g.current_enrolment().recorded_at().substr(0, 10));
  u.set_days_open(DaysOpen(u.since(), today));
  u.set_last_offer_state(last.state);
  u.set_last_offer_id(last.id);
  u.set_note(UnplacedNote(last));
  return u;
}

}  // namespace

absl::Status VocationalTraining::RunOffers(CallContext& call,
                                           const pb::RunOffersRequest& req,
                                           pb::RunOffersResponse* resp) {
  const std::string today = TodayCst();
  RETURN_IF_ERROR(ValidateRunOffers(req, today));
  const Principal& p = call.principal;
  ASSIGN_OR_RETURN(const std::string region,
                   ScopeRegionFilter(p, req.region_prefix()));
  const std::string expires = req.expires_on().empty()
                                  ? AddDays(today, options_.offer_days)
                                  : req.expires_on();
  call.AddRecord(absl::StrCat("offers:", region, ":", req.graduation_year()));
  // The registry is asked before the transaction, and not at all for a
  // request already answered.
  std::vector<rpb::Student> graduates;
  std::vector<std::pair<int64_t, std::string>> went_on;  // offer id, note
  if (!Answered(p, req.request_id())) {
    ASSIGN_OR_RETURN(graduates, FetchGraduates(region, req.graduation_year()));
    ASSIGN_OR_RETURN(went_on,
                     FindWentOn(p, region, req.graduation_year(), graduates));
  }
  std::map<std::string, int64_t> created_per_region;
  RETURN_IF_ERROR(host_.requests().Run(
      p, "RunOffers", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        created_per_region.clear();
        return StoreOffers(c, req, region, graduates, went_on, today, expires,
                           resp, &created_per_region);
      }));
  for (const auto& [r, n] : created_per_region) {
    offers_created_.Add({{"region", r}}).Increment(static_cast<double>(n));
  }
  return absl::OkStatus();
}

absl::Status VocationalTraining::StoreOffers(
    SqlConnection& c, const pb::RunOffersRequest& req,
    const std::string& region, const std::vector<rpb::Student>& graduates,
    const std::vector<std::pair<int64_t, std::string>>& went_on,
    const std::string& today, const std::string& expires,
    pb::RunOffersResponse* resp,
    std::map<std::string, int64_t>* created_per_region) {
  const int64_t now = NowMs();
  RETURN_IF_ERROR(ExpireOffers(c, region, today));
  int64_t created = 0, already = 0, withdrawn = 0;
  for (const auto& g : graduates) {
    NewOffer o;
    o.member_id = g.member_id();
    o.region = g.region_code();
    o.graduation_year = req.graduation_year();
    o.name_enc = host_.crypto().Encrypt(g.name(), kCtxOfferName);
    o.junior_high_school = g.current_enrolment().school_code();
    o.household_status = g.household_status();
    o.offered_on = today;
    o.expires_on = expires;
    o.created_at = now;
    ASSIGN_OR_RETURN(const bool added, InsertOffer(c, o));
    if (added) {
      ++created;
      ++(*created_per_region)[g.region_code()];
    } else {
      ++already;
    }
  }
  for (const auto& [offer_id, note] : went_on) {
    ASSIGN_OR_RETURN(const bool closed,
                     WithdrawOffer(c, offer_id, note, today));
    if (closed) ++withdrawn;
  }
  resp->set_graduates_seen(static_cast<int64_t>(graduates.size()));
  resp->set_offers_created(created);
  resp->set_already_offered(already);
  resp->set_withdrawn_went_on(withdrawn);
  resp->set_expires_on(expires);
  return absl::OkStatus();
}

absl::Status VocationalTraining::ListOffers(CallContext& call,
                                            const pb::ListOffersRequest& req,
                                            pb::ListOffersResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (!pb::OfferState_IsValid(req.state())) {
    return InvalidField("state", "is not a known offer state");
  }
  if (req.graduation_year() != 0 &&
      (req.graduation_year() < 2000 || req.graduation_year() > 2100)) {
    return InvalidField("graduation_year",
                        "must be 2000..2100 (0 = every year)");
  }
  RETURN_IF_ERROR(
      ValidatePageSize("page_size", req.page_size(), 100, 1000).status());
  const Principal& p = call.principal;
  ASSIGN_OR_RETURN(const std::string region,
                   ScopeRegionFilter(p, req.region_prefix()));
  ASSIGN_OR_RETURN(
      const IdPage page,
      IdPage::Open(req.page_token(),
                   absl::StrCat("offers|", region, "|", req.state(), "|",
                                req.graduation_year()),
                   req.page_size(), 100, 1000));
  const std::string today = TodayCst();
  // A school officer sees the offers to its own junior high's graduates.
  const SchoolScope school = SchoolScopeOf(p);
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(
        auto rows,
        ListOfferPage(c, region, int64_t{req.graduation_year()}, req.state(),
                      today, school, page.after(), page.limit()));
    for (size_t i = 0; i < page.Keep(rows.size()); ++i) {
      *resp->add_offers() = ToProto(rows[i], ShowOfferName(p, rows[i]), today);
    }
    if (!rows.empty()) {
      resp->set_next_page_token(
          page.NextToken(rows.size(), rows[page.Keep(rows.size()) - 1].id));
    }
    call.NoteBulkRead(static_cast<size_t>(resp->offers_size()));
    return absl::OkStatus();
  });
}

absl::Status VocationalTraining::DeclineOffer(
    CallContext& call, const pb::DeclineOfferRequest& req,
    pb::DeclineOfferResponse* resp) {
  Violations v;
  v.Check(ValidateRequestId("request_id", req.request_id()));
  v.Check(ValidateRecordId("offer_id", req.offer_id()));
  v.Check(ValidateText("reason", req.reason(), 200));
  RETURN_IF_ERROR(v.ToStatus());
  const Principal& p = call.principal;
  call.AddRecord(absl::StrCat("offer:", req.offer_id()));
  const std::string today = TodayCst();
  RETURN_IF_ERROR(host_.requests().Run(
      p, "DeclineOffer", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        ASSIGN_OR_RETURN(const OfferRecord offer, ReadOffer(c, req.offer_id()));
        RETURN_IF_ERROR(
            CheckRecordScope(p, offer.region, offer.junior_high_school));
        const pb::OfferState state =
            EffectiveOfferState(offer.state, offer.expires_on, today);
        if (state != pb::OFFER_STATE_OPEN) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "OFFER_STATE",
              absl::StrCat("offer_id: the offer is ",
                           pb::OfferState_Name(state),
                           "; only an open offer can be declined"));
        }
        RETURN_IF_ERROR(
            DeclineOpenOffer(c, req.offer_id(), req.reason(), today));
        ASSIGN_OR_RETURN(const OfferRecord after, ReadOffer(c, req.offer_id()));
        // The name is kept out of request_log.
        *resp->mutable_offer() = ToProto(after, "", today);
        return absl::OkStatus();
      }));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(const OfferRecord offer, ReadOffer(c, req.offer_id()));
    RETURN_IF_ERROR(
        CheckRecordScope(p, offer.region, offer.junior_high_school));
    resp->mutable_offer()->set_name(ShowOfferName(p, offer));
    return absl::OkStatus();
  });
}

absl::Status VocationalTraining::ListUnplacedGraduates(
    CallContext& call, const pb::ListUnplacedGraduatesRequest& req,
    pb::ListUnplacedGraduatesResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (req.graduation_year() < 2000 || req.graduation_year() > 2100) {
    return InvalidField("graduation_year", "must be 2000..2100");
  }
  if (req.max_items() < 0) {
    return InvalidField("max_items", "must not be negative");
  }
  const size_t max_items =
      req.max_items() == 0 ? 1000 : std::min(req.max_items(), 10000);
  const Principal& p = call.principal;
  ASSIGN_OR_RETURN(const std::string region,
                   ScopeRegionFilter(p, req.region_prefix()));
  ASSIGN_OR_RETURN(auto graduates,
                   FetchGraduates(region, req.graduation_year()));
  const std::string today = TodayCst();
  std::map<std::string, LastOffer> offers;
  std::set<std::string> applied;
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, OffersOfYear(c, region, req.graduation_year()));
    for (const OfferRef& o : rows) {
      offers[o.member_id] = {o.id,
                             EffectiveOfferState(o.state, o.expires_on, today),
                             o.expires_on, o.note};
    }
    ASSIGN_OR_RETURN(applied, MembersWithMajor(c, region));
    return absl::OkStatus();
  }));
  std::vector<pb::UnplacedGraduate> out;
  int64_t seen = 0;
  for (const auto& g : graduates) {
    // A school officer sees its own junior high's graduates only.
    if (!p.CoversSchool(g.current_enrolment().school_code())) continue;
    ++seen;
    if (applied.count(g.member_id())) continue;
    auto it = offers.find(g.member_id());
    const LastOffer last = it == offers.end() ? LastOffer{} : it->second;
    if (!AwaitsPlacement(last)) continue;
    out.push_back(UnplacedOf(g, last, p, today));
  }
  SortUnplaced(&out);
  resp->set_graduates_seen(seen);
  resp->set_total(static_cast<int64_t>(out.size()));
  for (size_t i = 0; i < out.size() && i < max_items; ++i) {
    *resp->add_graduates() = std::move(out[i]);
  }
  call.NoteBulkRead(static_cast<size_t>(resp->graduates_size()));
  call.AddRecord(absl::StrCat("unplaced:", resp->total()));
  return absl::OkStatus();
}

}  // namespace eduaid::vocational
