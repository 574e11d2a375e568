// The registry peer, offers to junior-high graduates and the standing
// report of graduates with no school and no offer.
#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "services/common/idempotency.h"
#include "services/common/page_token.h"
#include "services/common/status.h"
#include "services/common/validate.h"
#include "services/vocational/vocational.h"
#include "services/vocational/vocational_internal.h"

namespace eduaid::vocational {
namespace {

constexpr char kOfferColumns[] =
    "id, member_id, name_enc, region_code, graduation_year, "
    "junior_high_school, household_status, state, offered_on, expires_on, "
    "closed_on, note, application_id";

absl::Status RegistryError(const grpc::Status& st) {
  return absl::UnavailableError(absl::StrCat(
      "registry: ", GrpcCodeName(st.error_code()), ": ", st.error_message()));
}

bool InSchool(const rpb::Enrolment& e) {
  return e.status() == rpb::ENROLMENT_STATUS_ENROLLED ||
         e.status() == rpb::ENROLMENT_STATUS_SUSPENDED;
}

}  // namespace

// ---------------------------------------------------------------- registry

absl::StatusOr<rpb::Student> VocationalTraining::FetchMember(
    const std::string& field, const std::string& member_id) {
  rpb::GetStudentRequest req;
  req.set_member_id(member_id);
  rpb::GetStudentResponse resp;
  grpc::ClientContext ctx;
  registry_channel_->Prepare(&ctx);
  grpc::Status st = registry_->GetStudent(&ctx, req, &resp);
  if (st.ok()) return resp.student();
  switch (st.error_code()) {
    case grpc::StatusCode::NOT_FOUND:
      return absl::NotFoundError(absl::StrCat(
          field, ": no member of a registered household has this id"));
    case grpc::StatusCode::INVALID_ARGUMENT:
      return InvalidField(field,
                          "is not a member id the registry issues "
                          "(e.g. m-123)");
    default:
      return RegistryError(st);
  }
}

absl::StatusOr<rpb::Student> VocationalTraining::FetchMemberInScope(
    const Principal& p, const std::string& field,
    const std::string& member_id) {
  auto member = FetchMember(field, member_id);
  const bool unknown = member.status().code() == absl::StatusCode::kNotFound;
  if (unknown || (member.ok() && !p.Covers(member->region_code()))) {
    return internal::MemberNotInScope(field);
  }
  return member;
}

absl::StatusOr<std::vector<rpb::Student>> VocationalTraining::FetchGraduates(
    const std::string& region, int year) {
  std::vector<rpb::Student> out;
  rpb::ListStudentsRequest req;
  req.set_region_prefix(region);
  req.set_stage(cpb::SCHOOL_STAGE_JUNIOR_HIGH);
  req.set_status(rpb::ENROLMENT_STATUS_GRADUATED);
  req.set_page_size(1000);
  do {
    rpb::ListStudentsResponse resp;
    grpc::ClientContext ctx;
    registry_channel_->Prepare(&ctx);
    grpc::Status st = registry_->ListStudents(&ctx, req, &resp);
    if (!st.ok()) return RegistryError(st);
    for (auto& s : *resp.mutable_students()) {
      if (s.current_enrolment().term().year() == year) {
        out.push_back(std::move(s));
      }
    }
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  return out;
}

// ---------------------------------------------------------------- offers

pb::OfferState VocationalTraining::EffectiveOfferState(
    int64_t stored, const std::string& expires_on, const std::string& today) {
  if (stored == pb::OFFER_STATE_OPEN && expires_on < today) {
    return pb::OFFER_STATE_EXPIRED;
  }
  return static_cast<pb::OfferState>(stored);
}

void VocationalTraining::FillOffer(const SqlRow& r, const Principal& p,
                                   const std::string& today,
                                   pb::Offer* o) const {
  o->set_offer_id(r.Int(0));
  o->set_member_id(r.Str(1));
  auto name = host_.crypto().Decrypt(r.Str(2), internal::kCtxOfferName);
  std::string plain = name.ok() ? *name : "";
  o->set_name(p.SeesPersonalData() ? plain : MaskName(plain));
  o->set_region_code(r.Str(3));
  o->set_graduation_year(static_cast<int32_t>(r.Int(4)));
  o->set_junior_high_school_code(r.Str(5));
  o->set_household_status(static_cast<cpb::HouseholdStatus>(r.Int(6)));
  o->set_state(EffectiveOfferState(r.Int(7), r.Str(9), today));
  o->set_offered_on(r.Str(8));
  o->set_expires_on(r.Str(9));
  o->set_closed_on(o->state() == pb::OFFER_STATE_EXPIRED && r.Str(10).empty()
                       ? r.Str(9)
                       : r.Str(10));
  o->set_note(r.Str(11));
  o->set_application_id(r.Int(12));
}

absl::Status VocationalTraining::RunOffers(CallContext& call,
                                           const pb::RunOffersRequest& req,
                                           pb::RunOffersResponse* resp) {
  const std::string today = TodayCst();
  const int this_year = std::stoi(today.substr(0, 4));
  std::vector<FieldViolation> v;
  auto check = [&v](const absl::Status& s) {
    for (auto& f : FieldViolationsOf(s)) v.push_back(std::move(f));
  };
  check(ValidateRequestId("request_id", req.request_id()));
  absl::Status prefix =
      ValidateRegionPrefix("region_prefix", req.region_prefix());
  check(prefix);
  if (prefix.ok() && req.region_prefix().size() != 4 &&
      req.region_prefix().size() != 6) {
    v.push_back({"region_prefix",
                 "must be a city (4 digits) or county "
                 "(6 digits) code"});
  }
  if (req.graduation_year() < 2000 || req.graduation_year() > this_year + 1) {
    v.push_back(
        {"graduation_year", absl::StrCat("must be 2000..", this_year + 1)});
  }
  if (!req.expires_on().empty()) {
    absl::Status date = ValidateDate("expires_on", req.expires_on());
    check(date);
    if (date.ok() && req.expires_on() <= today) {
      v.push_back({"expires_on", "must be after today"});
    }
  }
  if (!v.empty()) return InvalidFields(v);
  const Principal& p = call.principal;
  if (!internal::IsOfficerOrService(p)) {
    return absl::PermissionDeniedError(
        "only province, city and county officers may make offers");
  }
  auto region = ScopeRegionFilter(p, req.region_prefix());
  if (!region.ok()) return region.status();
  const std::string expires =
      req.expires_on().empty() ? internal::AddDays(today, options_.offer_days)
                               : req.expires_on();
  call.AddRecord(absl::StrCat("offers:", *region, ":", req.graduation_year()));

  std::vector<rpb::Student> graduates;
  std::vector<std::pair<int64_t, std::string>> went_on;  // offer id, note
  if (!Answered(call.principal, req.request_id())) {
    auto listed = FetchGraduates(*region, req.graduation_year());
    if (!listed.ok()) return listed.status();
    graduates = std::move(*listed);
    std::set<std::string> still_graduates;
    for (const auto& g : graduates) still_graduates.insert(g.member_id());
    std::vector<std::pair<int64_t, std::string>> open;
    VOC_RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
      auto rows = c.Query(
          "SELECT id, member_id FROM offers WHERE region_code LIKE ? AND "
          "graduation_year = ? AND state = 1",
          {*region + "%", int64_t{req.graduation_year()}});
      if (!rows.ok()) return rows.status();
      for (const auto& r : *rows) {
        if (!still_graduates.count(r.Str(1)))
          open.push_back({r.Int(0), r.Str(1)});
      }
      return absl::OkStatus();
    }));
    // Not a graduate with no school any more: ask where the member went.
    for (const auto& [offer_id, member_id] : open) {
      auto s = FetchMemberInScope(p, "member_id", member_id);
      if (s.status().code() == absl::StatusCode::kNotFound) continue;
      if (!s.ok()) return s.status();
      const auto& cur = s->current_enrolment();
      if (InSchool(cur)) {
        went_on.push_back(
            {offer_id, absl::StrCat("enrolled at ", cur.school_code(), " ",
                                    cur.school_name(), " (",
                                    cpb::SchoolStage_Name(cur.stage()), ")")});
      }
    }
  }

  std::map<std::string, int64_t> created_per_region;
  absl::Status st = host_.requests().Run(
      call.principal, "RunOffers", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        created_per_region.clear();
        const int64_t now = internal::NowMs();
        auto expired = c.Execute(
            "UPDATE offers SET state = 4, closed_on = expires_on WHERE "
            "region_code LIKE ? AND state = 1 AND expires_on < ?",
            {*region + "%", today});
        if (!expired.ok()) return expired.status();
        int64_t created = 0, already = 0, withdrawn = 0;
        for (const auto& g : graduates) {
          auto ins = c.Execute(
              "INSERT INTO offers(member_id, region_code, graduation_year, "
              "name_enc, junior_high_school, household_status, state, "
              "offered_on, expires_on, closed_on, note, application_id, "
              "created_at) VALUES(?,?,?,?,?,?,1,?,?,'','',0,?) "
              "ON CONFLICT(member_id, graduation_year) DO NOTHING",
              {g.member_id(), g.region_code(), int64_t{req.graduation_year()},
               host_.crypto().Encrypt(g.name(), internal::kCtxOfferName),
               g.current_enrolment().school_code(),
               int64_t{g.household_status()}, today, expires, now});
          if (!ins.ok()) return ins.status();
          if (*ins == 1) {
            ++created;
            ++created_per_region[g.region_code()];
          } else {
            ++already;
          }
        }
        for (const auto& [offer_id, note] : went_on) {
          auto up = c.Execute(
              "UPDATE offers SET state = 5, note = ?, closed_on = ? WHERE "
              "id = ? AND state = 1",
              {note, today, offer_id});
          if (!up.ok()) return up.status();
          withdrawn += *up;
        }
        resp->set_graduates_seen(static_cast<int64_t>(graduates.size()));
        resp->set_offers_created(created);
        resp->set_already_offered(already);
        resp->set_withdrawn_went_on(withdrawn);
        resp->set_expires_on(expires);
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  for (const auto& [r, n] : created_per_region) {
    offers_created_.Add({{"region", r}}).Increment(static_cast<double>(n));
  }
  return absl::OkStatus();
}

absl::Status VocationalTraining::ListOffers(CallContext& call,
                                            const pb::ListOffersRequest& req,
                                            pb::ListOffersResponse* resp) {
  VOC_RETURN_IF_ERROR(
      ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (!pb::OfferState_IsValid(req.state())) {
    return InvalidField("state", "is not a known offer state");
  }
  if (req.graduation_year() != 0 &&
      (req.graduation_year() < 2000 || req.graduation_year() > 2100)) {
    return InvalidField("graduation_year",
                        "must be 2000..2100 (0 = every year)");
  }
  auto size = ValidatePageSize("page_size", req.page_size(), 100, 1000);
  if (!size.ok()) return size.status();
  const Principal& p = call.principal;
  auto region = ScopeRegionFilter(p, req.region_prefix());
  if (!region.ok()) return region.status();
  const std::string filters = absl::StrCat("offers|", *region, "|", req.state(),
                                           "|", req.graduation_year());
  auto after = internal::DecodeIdCursor(req.page_token(), filters);
  if (!after.ok()) return after.status();
  const std::string today = TodayCst();
  std::string state_clause;
  // A school officer sees the offers to its own junior high's graduates.
  const internal::SchoolScope school = internal::SchoolScopeOf(p);
  std::vector<SqlValue> params = {*region + "%",
                                  int64_t{req.graduation_year()},
                                  int64_t{req.graduation_year()},
                                  school.only,
                                  school.school,
                                  *after};
  switch (req.state()) {
    case pb::OFFER_STATE_UNSPECIFIED:
      state_clause = "";
      break;
    case pb::OFFER_STATE_OPEN:
      state_clause = " AND state = 1 AND expires_on >= ?";
      params.push_back(today);
      break;
    case pb::OFFER_STATE_EXPIRED:
      state_clause = " AND (state = 4 OR (state = 1 AND expires_on < ?))";
      params.push_back(today);
      break;
    default:
      state_clause = " AND state = ?";
      params.push_back(int64_t{req.state()});
  }
  params.push_back(int64_t{*size + 1});
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    auto rows = c.Query(
        absl::StrCat("SELECT ", kOfferColumns,
                     " FROM offers WHERE region_code LIKE ? AND (? = 0 OR "
                     "graduation_year = ?) AND ",
                     internal::SchoolClause("junior_high_school"),
                     " AND id > ?",
                     state_clause, " ORDER BY id LIMIT ?"),
        params);
    if (!rows.ok()) return rows.status();
    for (size_t i = 0; i < rows->size() && i < static_cast<size_t>(*size);
         ++i) {
      FillOffer((*rows)[i], p, today, resp->add_offers());
    }
    if (rows->size() > static_cast<size_t>(*size)) {
      resp->set_next_page_token(EncodePageToken(
          absl::StrCat(resp->offers(*size - 1).offer_id()), filters));
    }
    call.NoteBulkRead(static_cast<size_t>(resp->offers_size()));
    return absl::OkStatus();
  });
}

absl::Status VocationalTraining::DeclineOffer(
    CallContext& call, const pb::DeclineOfferRequest& req,
    pb::DeclineOfferResponse* resp) {
  std::vector<FieldViolation> v;
  auto check = [&v](const absl::Status& s) {
    for (auto& f : FieldViolationsOf(s)) v.push_back(std::move(f));
  };
  check(ValidateRequestId("request_id", req.request_id()));
  check(internal::ValidateRecordId("offer_id", req.offer_id()));
  check(ValidateText("reason", req.reason(), 200));
  if (!v.empty()) return InvalidFields(v);
  const Principal& p = call.principal;
  call.AddRecord(absl::StrCat("offer:", req.offer_id()));
  const std::string today = TodayCst();
  auto load = [&](SqlConnection& c) -> absl::StatusOr<SqlRow> {
    auto rows = c.Query(
        absl::StrCat("SELECT ", kOfferColumns, " FROM offers WHERE id = ?"),
        {req.offer_id()});
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return absl::NotFoundError("offer_id: no such offer");
    return rows->front();
  };
  absl::Status st = host_.requests().Run(
      call.principal, "DeclineOffer", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto row = load(c);
        if (!row.ok()) return row.status();
        VOC_RETURN_IF_ERROR(CheckRecordScope(p, row->Str(3), row->Str(5)));
        pb::OfferState state =
            EffectiveOfferState(row->Int(7), row->Str(9), today);
        if (state != pb::OFFER_STATE_OPEN) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "OFFER_STATE",
              absl::StrCat("offer_id: the offer is ",
                           pb::OfferState_Name(state),
                           "; only an open offer can be declined"));
        }
        auto up = c.Execute(
            "UPDATE offers SET state = 3, note = ?, closed_on = ? WHERE id = ? "
            "AND state = 1",
            {req.reason(), today, req.offer_id()});
        if (!up.ok()) return up.status();
        auto after = load(c);
        if (!after.ok()) return after.status();
        FillOffer(*after, p, today, resp->mutable_offer());
        resp->mutable_offer()->clear_name();  // kept out of request_log
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    auto row = load(c);
    if (!row.ok()) return row.status();
    VOC_RETURN_IF_ERROR(CheckRecordScope(p, row->Str(3), row->Str(5)));
    pb::Offer shown;
    FillOffer(*row, p, today, &shown);
    resp->mutable_offer()->set_name(shown.name());
    return absl::OkStatus();
  });
}

absl::Status VocationalTraining::ListUnplacedGraduates(
    CallContext& call, const pb::ListUnplacedGraduatesRequest& req,
    pb::ListUnplacedGraduatesResponse* resp) {
  VOC_RETURN_IF_ERROR(
      ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (req.graduation_year() < 2000 || req.graduation_year() > 2100) {
    return InvalidField("graduation_year", "must be 2000..2100");
  }
  if (req.max_items() < 0)
    return InvalidField("max_items", "must not be negative");
  const int max_items =
      req.max_items() == 0 ? 1000 : std::min(req.max_items(), 10000);
  const Principal& p = call.principal;
  auto region = ScopeRegionFilter(p, req.region_prefix());
  if (!region.ok()) return region.status();
  auto graduates = FetchGraduates(*region, req.graduation_year());
  if (!graduates.ok()) return graduates.status();
  const std::string today = TodayCst();
  struct LastOffer {
    int64_t id = 0;
    pb::OfferState state = pb::OFFER_STATE_UNSPECIFIED;
    std::string expires_on, note;
  };
  std::map<std::string, LastOffer> offers;
  std::set<std::string> applied;
  VOC_RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    auto rows = c.Query(
        "SELECT member_id, id, state, expires_on, note FROM offers WHERE "
        "region_code LIKE ? AND graduation_year = ? ORDER BY id",
        {*region + "%", int64_t{req.graduation_year()}});
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) {
      offers[r.Str(0)] = {r.Int(1),
                          EffectiveOfferState(r.Int(2), r.Str(3), today),
                          r.Str(3), r.Str(4)};
    }
    auto apps = c.Query(
        "SELECT DISTINCT member_id FROM applications WHERE member_region LIKE "
        "? "
        "AND kind = 1 AND state IN (1, 2, 4)",
        {*region + "%"});
    if (!apps.ok()) return apps.status();
    for (const auto& r : *apps) applied.insert(r.Str(0));
    return absl::OkStatus();
  }));
  std::vector<pb::UnplacedGraduate> out;
  int64_t seen = 0;
  for (const auto& g : *graduates) {
    // A school officer sees its own junior high's graduates only.
    if (!p.CoversSchool(g.current_enrolment().school_code())) continue;
    ++seen;
    if (applied.count(g.member_id())) continue;
    auto it = offers.find(g.member_id());
    LastOffer last = it == offers.end() ? LastOffer{} : it->second;
    if (last.state == pb::OFFER_STATE_OPEN ||
        last.state == pb::OFFER_STATE_ACCEPTED) {
      continue;
    }
    pb::UnplacedGraduate u;
    u.set_member_id(g.member_id());
    u.set_name(p.SeesPersonalData() ? g.name() : MaskName(g.name()));
    u.set_region_code(g.region_code());
    u.set_household_status(g.household_status());
    u.set_junior_high_school_code(g.current_enrolment().school_code());
    const std::string since = g.current_enrolment().recorded_at().substr(0, 10);
    u.set_since(since);
    u.set_days_open(since.size() == 10 ? internal::DaysBetween(since, today)
                                       : 0);
    u.set_last_offer_state(last.state);
    u.set_last_offer_id(last.id);
    switch (last.state) {
      case pb::OFFER_STATE_EXPIRED:
        u.set_note(absl::StrCat("offer ", last.id, " expired on ",
                                last.expires_on, " without an application"));
        break;
      case pb::OFFER_STATE_DECLINED:
        u.set_note(absl::StrCat("offer ", last.id, " declined: ", last.note));
        break;
      case pb::OFFER_STATE_WITHDRAWN:
        u.set_note(absl::StrCat("offer ", last.id, " closed (", last.note,
                                ") but the registry shows no school now"));
        break;
      default:
        u.set_note("never offered: run offers for this graduation year");
    }
    out.push_back(std::move(u));
  }
  std::sort(out.begin(), out.end(),
            [](const pb::UnplacedGraduate& a, const pb::UnplacedGraduate& b) {
              if (a.days_open() != b.days_open()) {
                return a.days_open() > b.days_open();
              }
              return a.member_id() < b.member_id();
            });
  resp->set_graduates_seen(seen);
  resp->set_total(static_cast<int64_t>(out.size()));
  for (size_t i = 0; i < out.size() && i < static_cast<size_t>(max_items);
       ++i) {
    *resp->add_graduates() = std::move(out[i]);
  }
  call.NoteBulkRead(static_cast<size_t>(resp->graduates_size()));
  call.AddRecord(absl::StrCat("unplaced:", resp->total()));
  return absl::OkStatus();
}

}  // namespace eduaid::vocational
