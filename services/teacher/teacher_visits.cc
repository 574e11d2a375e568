// Home visits (万名教师大走访): RecordVisit, its validation and the
// visit's transaction.
#include <string>

#include "absl/strings/str_cat.h"
#include "services/common/crypto.h"
#include "services/common/idempotency.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/validate.h"
#include "services/teacher/campaign_store.h"
#include "services/teacher/teacher.h"
#include "services/teacher/teacher_internal.h"
#include "services/teacher/teacher_store.h"

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
  std::string region;
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "RecordVisit", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        return StoreVisit(c, call.principal, v, teacher, today, resp, &region);
      }));
  resp->mutable_visit()->set_notes(v.notes());
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

}  // namespace eduaid::teacher
