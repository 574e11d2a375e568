// Home visits (万名教师大走访): RecordVisit, its validation and the
// visit's transaction; its structured findings and their outbox rows;
// the household view (GetHouseholds) and RetryFindings.
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "services/common/crypto.h"
#include "services/common/household_ids.h"
#include "services/common/idempotency.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/validate.h"
#include "services/teacher/campaign_store.h"
#include "services/teacher/finding_rules.h"
#include "services/teacher/teacher.h"
#include "services/teacher/teacher_internal.h"
#include "services/teacher/teacher_store.h"
#include "services/teacher/visit_store.h"

namespace eduaid::teacher {

namespace {

// INVALID_ARGUMENT naming every bad field of a visit; `teacher` is the
// visitor named (0 when none).
absl::Status ValidateVisit(const pb::Visit& v, const std::string& today,
                           int64_t* teacher) {
  std::vector<FieldViolation> bad;
  auto add = [&](const absl::Status& st) {
    for (auto& f : FieldViolationsOf(st))
      bad.push_back({"visit." + f.field, f.rule});
  };
  if (v.campaign_id() <= 0)
    bad.push_back({"visit.campaign_id", "must be positive"});
  if (!IsCode(v.household_id(), 32)) {
    bad.push_back({"visit.household_id", "must be 1..32 of A-Z a-z 0-9 -"});
  }
  if (!v.teacher_id().empty()) {
    auto t = ParseTeacherId("teacher_id", v.teacher_id());
    if (!t.ok()) {
      add(t.status());
    } else {
      *teacher = *t;
    }
  }
  absl::Status date_st = ValidateDate("visit_date", v.visit_date());
  if (!date_st.ok()) {
    add(date_st);
  } else if (v.visit_date() > today) {
    bad.push_back({"visit.visit_date", "must not lie in the future"});
  }
  if (v.met_size() < 1 || v.met_size() > 10) {
    bad.push_back(
        {"visit.met", "must name 1..10 people met (户主, 母亲, ...)"});
  }
  for (int i = 0; i < v.met_size() && i < 10; ++i) {
    add(ValidateText(absl::StrCat("met[", i, "]"), v.met(i), 20));
  }
  if (v.policies_explained_size() > 20) {
    bad.push_back({"visit.policies_explained", "at most 20 entries"});
  }
  for (int i = 0; i < v.policies_explained_size() && i < 20; ++i) {
    add(ValidateText(absl::StrCat("policies_explained[", i, "]"),
                     v.policies_explained(i), 50));
  }
  if (v.subsidies_size() > 20) {
    bad.push_back({"visit.subsidies", "at most 20 entries"});
  }
  for (int i = 0; i < v.subsidies_size() && i < 20; ++i) {
    add(ValidateText(absl::StrCat("subsidies[", i, "].programme"),
                     v.subsidies(i).programme(), 50));
    add(ValidateText(absl::StrCat("subsidies[", i, "].note"),
                     v.subsidies(i).note(), 200, false));
  }
  if (!pb::DropoutRisk_IsValid(v.dropout_risk()) ||
      v.dropout_risk() == pb::DROPOUT_RISK_UNSPECIFIED) {
    bad.push_back({"visit.dropout_risk", "must be NONE, LOW, MEDIUM or HIGH"});
  }
  add(ValidateText("evidence_ref", v.evidence_ref(), 200));
  add(ValidateText("notes", v.notes(), 1000, false));
  for (auto& f : FindingShapeViolations(v)) bad.push_back(f);
  if (!bad.empty()) return InvalidFields(bad);
  return absl::OkStatus();
}

// The campaign takes visits in its term: FAILED_PRECONDITION
// (CAMPAIGN_NOT_ASSIGNED) before assignment, INVALID_ARGUMENT for a date
// outside the term.
absl::Status CheckVisitFits(const CampaignRecord& campaign,
                            const std::string& visit_date) {
  if (campaign.state != pb::CAMPAIGN_STATE_ACTIVE) {
    return WithReason(absl::StatusCode::kFailedPrecondition,
                      "CAMPAIGN_NOT_ASSIGNED",
                      "visit.campaign_id: assign the campaign's "
                      "households first");
  }
  cpb::Term term;
  term.set_year(campaign.term_year);
  term.set_season(static_cast<cpb::Season>(campaign.term_season));
  const std::string start = TermStart(term);
  const std::string end = TermEnd(term);
  if (visit_date < start || visit_date > end) {
    return InvalidField("visit.visit_date",
                        absl::StrCat("must lie within the campaign's term (",
                                     start, " .. ", end, ")"));
  }
  return absl::OkStatus();
}

// The teacher who made the visit: active, and of the caller's school for a
// school officer.
absl::Status CheckVisitor(SqlConnection& c, const Principal& p,
                          int64_t visitor) {
  ASSIGN_OR_RETURN(const auto t, LoadTeacherStanding(c, visitor));
  if (!t) return absl::NotFoundError("visit.teacher_id: no such teacher");
  // A school officer records the visits of its own school's teachers.
  RETURN_IF_ERROR(CheckSchool(p, t->school_code));
  if (!t->active) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "TEACHER_INACTIVE",
                      "visit.teacher_id: the teacher has left");
  }
  return absl::OkStatus();
}

constexpr char kCtxFinding[] = "teacher.visit_findings.detail";
// One answer whether or not the household exists or is in the campaign.
constexpr char kNotYours[] =
    "visit.household_id: the household is not assigned to you in this "
    "campaign";

std::string RequestIdOf(int64_t visit_id, int idx) {
  return idx == kFollowUpIdx ? absl::StrCat("visit-", visit_id, "-fu")
                             : absl::StrCat("visit-", visit_id, "-f", idx);
}

std::string NoteOr(const std::string& note, const char* fallback) {
  return note.empty() ? std::string(fallback) : note;
}

// The request a routed finding sends, serialized (encrypted by the caller).
std::string PayloadOf(Route route, const pb::VisitFinding& f,
                      const pb::Visit& stored, const rpb::Household& h,
                      int64_t payment_id, const std::string& request_id) {
  const std::string source = VisitSourceRef(stored.visit_id());
  switch (route) {
    case Route::kLedgerNotReceived: {
      lpb::RecordFollowUpRequest r;
      r.set_request_id(request_id);
      r.set_payment_id(payment_id);
      r.set_visited_on(stored.visit_date());
      r.set_visitor(stored.teacher_id());
      r.set_outcome(lpb::FOLLOW_UP_OUTCOME_NOT_RECEIVED);
      r.set_note(NoteOr(f.note(), "家访发现补助未到账"));
      r.set_source_ref(source);
      return r.SerializeAsString();
    }
    case Route::kRegistryDropout: {
      rpb::OpenDropoutCaseRequest r;
      r.set_request_id(request_id);
      r.set_member_id(f.member_id());
      r.set_note(NoteOr(f.note(), f.kind() == pb::FINDING_KIND_NOT_IN_SCHOOL
                                      ? "家访发现未在校"
                                      : "家访发现辍学风险高"));
      return r.SerializeAsString();
    }
    case Route::kRegistryNewChild: {
      rpb::ImportHouseholdsRequest r;
      r.set_request_id(request_id);
      auto* row = r.add_rows();
      row->set_row_number(1);
      row->set_household_id(h.household_id());
      row->set_region_code(h.region_code());
      row->set_registration_year(h.registration_year());
      row->set_household_status(h.household_status());
      row->set_id_number(NormalizeIdNumber(f.id_number()));
      row->set_name(f.name());
      row->set_relation(RelationOf(f.relation()));
      return r.SerializeAsString();
    }
    case Route::kRegistrySpecial: {
      rpb::ReportSpecialNeedRequest r;
      r.set_request_id(request_id);
      r.set_member_id(f.member_id());
      r.set_need(f.kind() == pb::FINDING_KIND_LEFT_BEHIND
                     ? rpb::SPECIAL_NEED_LEFT_BEHIND
                     : rpb::SPECIAL_NEED_DISABILITY);
      r.set_note(NoteOr(f.note(), "家访发现"));
      r.set_reported_by(source);
      return r.SerializeAsString();
    }
    case Route::kLedgerFollowUps: {
      lpb::RecordFollowUpRequest r;  // per payment: request id, payment id
      r.set_visited_on(stored.visit_date());
      r.set_visitor(stored.teacher_id());
      r.set_outcome(lpb::FOLLOW_UP_OUTCOME_RECEIVED_IN_FULL);
      r.set_note("家访回访");
      r.set_source_ref(source);
      return r.SerializeAsString();
    }
  }
  return "";
}

// The answered form of a finding before delivery: personal fields (name,
// note) left for after the commit, the ID number masked.
pb::VisitFinding AnsweredFinding(const pb::VisitFinding& f, int64_t payment,
                                 bool routed) {
  pb::VisitFinding out = f;
  out.clear_name();
  out.clear_note();
  if (!out.id_number().empty()) out.set_id_number(MaskIdNumber(f.id_number()));
  out.set_payment_id(payment);
  out.set_delivery(routed ? pb::DELIVERY_STATE_PENDING
                          : pb::DELIVERY_STATE_NOT_ROUTED);
  return out;
}

}  // namespace

absl::Status TeacherSupport::RecordVisit(CallContext& call,
                                         const pb::RecordVisitRequest& req,
                                         pb::RecordVisitResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  const pb::Visit& v = req.visit();
  const std::string today = TodayCst();
  int64_t teacher = 0;
  RETURN_IF_ERROR(ValidateVisit(v, today, &teacher));
  call.AddRecord(absl::StrCat("campaign:", v.campaign_id(),
                              " household:", v.household_id()));
  ASSIGN_OR_RETURN(const VisitPeers peers,
                   ReadVisitPeers(call.principal, v, &teacher));
  std::string region;
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "RecordVisit", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        RETURN_IF_ERROR(
            StoreVisit(c, call.principal, v, teacher, today, resp, &region));
        return StoreFindings(c, v, peers, region, resp);
      }));
  outbox_->Notify();
  // Personal data, kept out of the stored response, echoed from the request.
  resp->mutable_visit()->set_notes(v.notes());
  for (int i = 0; i < resp->visit().findings_size() && i < v.findings_size();
       ++i) {
    auto* f = resp->mutable_visit()->mutable_findings(i);
    f->set_name(v.findings(i).name());
    f->set_note(v.findings(i).note());
  }
  google::protobuf::RepeatedPtrField<pb::CampaignHousehold> one;
  *one.Add() = resp->household();
  RETURN_IF_ERROR(FillHouseholdNames(call.principal, &one));
  *resp->mutable_household() = one.Get(0);
  RefreshCoverageGauges(v.campaign_id(), region.empty()
                                             ? resp->household().region_code()
                                             : region);
  return absl::OkStatus();
}

absl::Status TeacherSupport::StoreVisit(SqlConnection& c, const Principal& p,
                                        const pb::Visit& v, int64_t teacher,
                                        const std::string& today,
                                        pb::RecordVisitResponse* resp,
                                        std::string* region) {
  ASSIGN_OR_RETURN(const CampaignRecord campaign,
                   LoadCampaign(c, v.campaign_id()));
  RETURN_IF_ERROR(CheckVisitFits(campaign, v.visit_date()));
  ASSIGN_OR_RETURN(const auto h,
                   LoadHousehold(c, campaign.id, v.household_id()));
  if (!h) {
    return absl::NotFoundError(
        "visit.household_id: the household is not in this campaign");
  }
  *region = h->region_code;
  RETURN_IF_ERROR(CheckRegion(p, *region));
  const int64_t visitor = teacher != 0 ? teacher : h->teacher_id;
  if (visitor == 0) {
    return InvalidField("visit.teacher_id",
                        "is required: the household has no assigned "
                        "teacher");
  }
  RETURN_IF_ERROR(CheckVisitor(c, p, visitor));
  const int64_t now = NowSec();
  pb::Visit stored = v;
  stored.set_teacher_id(TeacherIdString(visitor));
  stored.set_recorded_by(p.subject);
  stored.set_recorded_at(
      FormatTimestamp(now * 1000, TimestampPrecision::kSeconds));
  VisitInsert row{
      campaign.id,
      v.household_id(),
      visitor,
      v.visit_date(),
      v.dropout_risk(),
      v.evidence_ref(),
      host_.crypto().Encrypt(stored.SerializeAsString(), internal::kCtxVisit),
      p.subject,
      now};
  ASSIGN_OR_RETURN(const int64_t visit_id, InsertVisit(c, row));
  stored.set_visit_id(visit_id);
  RETURN_IF_ERROR(CountVisit(c, campaign.id, v.household_id(), v.visit_date(),
                             v.dropout_risk(), visitor, now));
  RETURN_IF_ERROR(LockCampaign(c, campaign.id));
  stored.clear_notes();  // personal: kept encrypted, echoed after commit
  *resp->mutable_visit() = std::move(stored);
  ASSIGN_OR_RETURN(const auto after,
                   LoadHousehold(c, campaign.id, v.household_id()));
  ToProto(*after, campaign.due_date, today, resp->mutable_household());
  return absl::OkStatus();
}

absl::Status TeacherSupport::CheckOwnHousehold(const Principal& p,
                                               const pb::Visit& v,
                                               int64_t* teacher,
                                               VisitPeers* out) {
  const bool is_teacher = p.role == Role::kTeacher;
  int64_t own = 0;
  if (is_teacher) {
    auto id = ParseTeacherId("sub", p.subject);
    if (!id.ok()) return absl::PermissionDeniedError(kNotYours);
    own = *id;
    if (*teacher != 0 && *teacher != own) {
      return absl::PermissionDeniedError(
          "visit.teacher_id: a teacher records only their own visits");
    }
    *teacher = own;
  }
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    auto campaign = LoadCampaign(c, v.campaign_id());
    if (!campaign.ok()) {
      return is_teacher ? absl::PermissionDeniedError(kNotYours)
                        : campaign.status();
    }
    out->term_year = campaign->term_year;
    out->term_season = campaign->term_season;
    if (!is_teacher) return absl::OkStatus();
    ASSIGN_OR_RETURN(const auto h,
                     LoadHousehold(c, campaign->id, v.household_id()));
    if (!h || h->teacher_id != own) {
      return absl::PermissionDeniedError(kNotYours);
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<TeacherSupport::VisitPeers> TeacherSupport::ReadVisitPeers(
    const Principal& p, const pb::Visit& v, int64_t* teacher) {
  VisitPeers peers;
  RETURN_IF_ERROR(CheckOwnHousehold(p, v, teacher, &peers));
  cpb::Term term;
  term.set_year(peers.term_year);
  term.set_season(static_cast<cpb::Season>(peers.term_season));
  peers.term_key = TermKey(term);
  if (v.findings_size() == 0) return peers;
  ASSIGN_OR_RETURN(
      peers.household,
      registry_client_->GetHousehold("visit.household_id", v.household_id()));
  ASSIGN_OR_RETURN(peers.payment_of, CheckFindingsFit(v, peers));
  return peers;
}

absl::StatusOr<std::vector<int64_t>> TeacherSupport::CheckFindingsFit(
    const pb::Visit& v, const VisitPeers& peers) {
  std::set<std::string> members;
  for (const auto& m : peers.household.members()) members.insert(m.member_id());
  bool payments = false;
  for (const auto& f : v.findings()) {
    payments |= f.kind() == pb::FINDING_KIND_SUBSIDY_NOT_RECEIVED;
  }
  std::vector<TermPayment> paid;
  if (payments) {
    lpb::GetHouseholdsRequest req;
    req.add_household_ids(v.household_id());
    if (auto term = ParseTermKey(peers.term_key)) *req.mutable_term() = *term;
    lpb::GetHouseholdsResponse resp;
    grpc::ClientContext ctx;
    ledger_channel_->Prepare(&ctx, options_.ledger_deadline);
    grpc::Status s = ledger_->GetHouseholds(&ctx, req, &resp);
    if (!s.ok()) {
      return PeerError(
          absl::StrCat("the ledger (", options_.ledger_target, ")"), s,
          "read the household's payments");
    }
    if (resp.households_size() > 0) paid = TermPaymentsOf(resp.households(0));
  }
  std::vector<int64_t> payment_of;
  const auto bad = FindingFitViolations(v, members, paid, &payment_of);
  if (!bad.empty()) return InvalidFields(bad);
  return payment_of;
}

absl::Status TeacherSupport::StoreFindings(SqlConnection& c, const pb::Visit& v,
                                           const VisitPeers& peers,
                                           const std::string& region,
                                           pb::RecordVisitResponse* resp) {
  pb::Visit* stored = resp->mutable_visit();
  const int64_t visit_id = stored->visit_id();
  const int64_t now = NowMs();
  auto queue = [&](int idx, Route route, const std::string& payload) {
    DeliveryRecord d;
    d.visit_id = visit_id;
    d.idx = idx;
    d.route = static_cast<int>(route);
    d.request_id = RequestIdOf(visit_id, idx);
    d.payload_enc = host_.crypto().Encrypt(payload, kCtxOutbox);
    d.household_id = v.household_id();
    d.region_code = region;
    d.term_key = peers.term_key;
    return InsertDelivery(c, d, now);
  };
  stored->clear_findings();
  for (int i = 0; i < v.findings_size(); ++i) {
    const pb::VisitFinding& f = v.findings(i);
    const int64_t payment =
        i < static_cast<int>(peers.payment_of.size()) ? peers.payment_of[i] : 0;
    FindingRecord rec;
    rec.visit_id = visit_id;
    rec.idx = i;
    rec.kind = f.kind();
    rec.member_id = f.member_id();
    rec.programme_code = f.programme_code();
    rec.payment_id = payment;
    rec.risk = f.risk();
    rec.detail_enc = host_.crypto().Encrypt(f.SerializeAsString(), kCtxFinding);
    RETURN_IF_ERROR(InsertFinding(c, rec));
    const auto route = RouteOf(f);
    if (route) {
      RETURN_IF_ERROR(queue(i, *route,
                            PayloadOf(*route, f, *stored, peers.household,
                                      payment, RequestIdOf(visit_id, i))));
    }
    *stored->add_findings() = AnsweredFinding(f, payment, route.has_value());
    if (payment != 0) {
      auto* fu = stored->add_payment_follow_ups();
      fu->set_payment_id(payment);
      fu->set_member_id(f.member_id());
      fu->set_programme_code(f.programme_code());
      fu->set_delivery(pb::DELIVERY_STATE_PENDING);
    }
  }
  // Every other payment of the term paid by the visit date: its 回访.
  return queue(kFollowUpIdx, Route::kLedgerFollowUps,
               PayloadOf(Route::kLedgerFollowUps, {}, *stored, {}, 0, ""));
}

absl::Status TeacherSupport::GetHouseholds(CallContext& call,
                                           const pb::GetHouseholdsRequest& req,
                                           pb::GetHouseholdsResponse* resp) {
  RETURN_IF_ERROR(ValidateHouseholdIds("household_ids", req.household_ids()));
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    for (const auto& id : req.household_ids()) {
      pb::HouseholdVisits one;
      ASSIGN_OR_RETURN(const bool found,
                       ReadHouseholdVisits(c, call.principal, id, &one));
      if (found) {
        *resp->add_households() = std::move(one);
      } else {
        resp->add_not_found(id);
      }
    }
    return absl::OkStatus();
  }));
  for (auto& h : *resp->mutable_households()) {
    call.AddRecord(absl::StrCat("household:", h.household_id()));
    RETURN_IF_ERROR(
        FillHouseholdNames(call.principal, h.mutable_assignments()));
  }
  call.NoteBulkRead(static_cast<size_t>(resp->households_size()));
  return absl::OkStatus();
}

absl::StatusOr<bool> TeacherSupport::ReadHouseholdVisits(
    SqlConnection& c, const Principal& p, const std::string& household_id,
    pb::HouseholdVisits* out) {
  ASSIGN_OR_RETURN(const auto campaigns, CampaignsOfHousehold(c, household_id));
  const std::string today = TodayCst();
  for (const auto& [campaign_id, due] : campaigns) {
    ASSIGN_OR_RETURN(const auto h, LoadHousehold(c, campaign_id, household_id));
    if (!h || !p.Covers(h->region_code)) return false;
    pb::CampaignHousehold* a = out->add_assignments();
    ToProto(*h, due, today, a);
    a->set_campaign_id(campaign_id);
  }
  if (campaigns.empty()) return false;
  out->set_household_id(household_id);
  RETURN_IF_ERROR(FillVisits(c, p, household_id, out));
  return true;
}

absl::Status TeacherSupport::FillVisits(SqlConnection& c, const Principal& p,
                                        const std::string& household_id,
                                        pb::HouseholdVisits* out) {
  ASSIGN_OR_RETURN(const auto visits, LoadHouseholdVisits(c, household_id));
  std::vector<int64_t> ids;
  for (const auto& v : visits) ids.push_back(v.id);
  ASSIGN_OR_RETURN(const auto findings, LoadFindings(c, ids));
  ASSIGN_OR_RETURN(const auto follow_ups, LoadFollowUps(c, ids));
  const bool personal = p.SeesPersonalData();
  for (const auto& row : visits) {
    pb::Visit* v = out->add_visits();
    (void)v->ParseFromString(
        DecryptOrEmpty(row.detail_enc, internal::kCtxVisit));
    v->set_visit_id(row.id);
    if (!personal) v->clear_notes();
    v->clear_findings();
    for (const auto& f : findings) {
      if (f.visit_id != row.id) continue;
      pb::VisitFinding detail;
      (void)detail.ParseFromString(DecryptOrEmpty(f.detail_enc, kCtxFinding));
      pb::VisitFinding* a = v->add_findings();
      ToProto(f, a);
      if (!detail.id_number().empty())
        a->set_id_number(MaskIdNumber(detail.id_number()));
      a->set_relation(detail.relation());
      a->set_name(personal ? detail.name() : MaskName(detail.name()));
      if (personal) a->set_note(detail.note());
      if (f.payment_id == 0) continue;
      auto* fu = v->add_payment_follow_ups();
      fu->set_payment_id(f.payment_id);
      fu->set_member_id(f.member_id);
      fu->set_programme_code(f.programme_code);
      fu->set_delivery(a->delivery());
      fu->set_follow_up_id(f.result_id);
    }
    for (const auto& f : follow_ups) {
      if (f.visit_id != row.id) continue;
      auto* fu = v->add_payment_follow_ups();
      fu->set_payment_id(f.payment_id);
      fu->set_member_id(f.member_id);
      fu->set_programme_code(f.programme_code);
      fu->set_delivery(pb::DELIVERY_STATE_DELIVERED);
      fu->set_follow_up_id(f.follow_up_id);
    }
  }
  return absl::OkStatus();
}

absl::Status TeacherSupport::RetryFindings(CallContext& call,
                                           const pb::RetryFindingsRequest& req,
                                           pb::RetryFindingsResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  if (req.visit_id() < 0) {
    return InvalidField("visit_id", "must be 0 (all) or a visit id");
  }
  const Principal& p = call.principal;
  if (req.visit_id() != 0) {
    call.AddRecord(absl::StrCat("visit:", req.visit_id()));
    RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
      ASSIGN_OR_RETURN(const auto v, LoadVisit(c, req.visit_id()));
      if (v.empty()) return absl::NotFoundError("visit_id: no such visit");
      ASSIGN_OR_RETURN(const auto h,
                       LoadHousehold(c, v[0].campaign_id, v[0].household_id));
      return CheckRegion(p, h ? h->region_code : "");
    }));
  }
  RETURN_IF_ERROR(host_.requests().Run(
      p, "RetryFindings", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        ASSIGN_OR_RETURN(const int64_t n,
                         RequeueFailed(c, req.visit_id(), p.region, NowMs()));
        resp->set_requeued(n);
        return absl::OkStatus();
      }));
  outbox_->Notify();
  return absl::OkStatus();
}

}  // namespace eduaid::teacher
