// Applications: Apply, GetApplication, ListApplications, GetWaitlist,
// Withdraw.
#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/idempotency.h"
#include "services/common/keyset_page.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/validate.h"
#include "services/vocational/eligibility.h"
#include "services/vocational/field_violations.h"
#include "services/vocational/grant_store.h"
#include "services/vocational/offer_store.h"
#include "services/vocational/vocational.h"
#include "services/vocational/waitlist.h"

namespace eduaid::vocational {
namespace {

// For a major: refuses a member who holds another major, and tells the
// open offer the member holds (0 for none).
absl::StatusOr<int64_t> OfferForMajor(SqlConnection& c,
                                      const std::string& member_id,
                                      const std::string& today) {
  ASSIGN_OR_RETURN(auto held, FindHeldMajor(c, member_id));
  if (held) {
    return WithReason(
        absl::StatusCode::kFailedPrecondition, "ALREADY_IN_A_MAJOR",
        absl::StrCat("member_id: already enrolled or waitlisted in major ",
                     held->course_code, " (application ", held->id,
                     "); withdraw that application first"));
  }
  ASSIGN_OR_RETURN(auto offer, OpenOfferOf(c, member_id, today));
  return offer.value_or(0);
}

// ALREADY_APPLIED when the member applied for the course before.
absl::Status RefuseSecondApplication(SqlConnection& c,
                                     const std::string& course,
                                     const std::string& member_id) {
  ASSIGN_OR_RETURN(auto prior, FindApplication(c, course, member_id));
  if (!prior) return absl::OkStatus();
  return WithReason(
      absl::StatusCode::kFailedPrecondition, "ALREADY_APPLIED",
      absl::StrCat("member_id: already applied for this course "
                   "(application ",
                   prior->id, ", ",
                   pb::ApplicationState_Name(
                       static_cast<pb::ApplicationState>(prior->state)),
                   ")"));
}

absl::Status ValidateApply(const pb::ApplyRequest& req) {
  Violations v;
  v.Check(ValidateRequestId("request_id", req.request_id()));
  if (!IsCode(req.course_code(), 32)) v.Add("course_code", kCourseCodeRule);
  v.Check(ValidateMemberId("member_id", req.member_id()));
  v.Check(ValidateText("note", req.note(), 200, /*required=*/false));
  return v.ToStatus();
}

}  // namespace

absl::StatusOr<pb::Application> VocationalTraining::LoadApplication(
    SqlConnection& c, int64_t id, const Principal& p, bool with_grants) {
  ASSIGN_OR_RETURN(const ApplicationRecord r, ReadApplication(c, id));
  pb::Application a = ToProto(r, ShowName(p, r.name_enc));
  if (a.state() == pb::APPLICATION_STATE_WAITLISTED) {
    RETURN_IF_ERROR(FillWaitlistPosition(c, r, &a));
  }
  if (with_grants) {
    ASSIGN_OR_RETURN(auto grants, GrantsOfApplication(c, id));
    for (const auto& g : grants) *a.add_grants() = ToProto(g);
  }
  return a;
}

absl::Status VocationalTraining::FillWaitlistPosition(
    SqlConnection& c, const ApplicationRecord& r, pb::Application* a) {
  ASSIGN_OR_RETURN(
      const WaitlistAhead n,
      CountWaitlistAhead(c, r.course_code, r.tier, r.applied_at, r.id));
  const int64_t position = n.ahead + 1;
  a->set_waitlist_position(static_cast<int32_t>(position));
  a->set_waitlist_reason(
      WaitlistReason(r.kind, position, r.tier, n.higher, n.ahead - n.higher));
  return absl::OkStatus();
}

absl::Status VocationalTraining::Apply(CallContext& call,
                                       const pb::ApplyRequest& req,
                                       pb::ApplyResponse* resp) {
  RETURN_IF_ERROR(ValidateApply(req));
  const Principal& p = call.principal;
  call.AddRecord(absl::StrCat("course:", req.course_code()));
  call.AddRecord(req.member_id());
  // The registry is asked before the transaction (never inside it), and not
  // at all for a request already answered.
  rpb::Student member;
  const bool answered = Answered(p, req.request_id());
  if (!answered) {
    ASSIGN_OR_RETURN(member, EligibleApplicant(call, req));
  }
  Effects fx;
  const std::string today = TodayCst();
  absl::Status st = host_.requests().Run(
      p, "Apply", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        fx = Effects{};
        if (answered || member.member_id().empty()) {
          return absl::AbortedError("request log changed meanwhile; retry");
        }
        return StoreApplication(c, p, req, member, today, resp, &fx);
      });
  if (!st.ok() && !answered && Answered(p, req.request_id())) {
    // A concurrent twin of this request committed first (PostgreSQL runs
    // both transactions at once): answer as a repeat does.
    st = host_.requests().Run(
        p, "Apply", req.request_id(), req, resp,
        [](SqlConnection&) -> absl::Status {
          return absl::AbortedError("request log changed; retry");
        });
    fx = Effects{};
  }
  RETURN_IF_ERROR(st);
  if (answered && !p.Covers(resp->application().member_region_code())) {
    resp->Clear();
    call.NoteHiddenDenial(req.member_id());
    return MemberNotInScope("member_id");
  }
  RETURN_IF_ERROR(RestoreNames(p, {resp->mutable_application()}));
  call.personal_data = p.SeesPersonalData();
  AfterCommit(fx);
  return absl::OkStatus();
}

absl::StatusOr<rpb::Student> VocationalTraining::EligibleApplicant(
    CallContext& call, const pb::ApplyRequest& req) {
  const Principal& p = call.principal;
  CourseRecord course;
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(course, ReadCourse(c, req.course_code()));
    return absl::OkStatus();
  }));
  // School officers apply only to their own school's majors.
  RETURN_IF_ERROR(CheckSchool(p, course.school_code));
  // The caller acts for the applicant's household: its county must lie
  // in the caller's scope (the course may be taught elsewhere).
  auto member = FetchMemberInScope(p, "member_id", req.member_id());
  if (member.status().code() == absl::StatusCode::kNotFound) {
    call.NoteHiddenDenial(req.member_id());
  }
  RETURN_IF_ERROR(member.status());
  RETURN_IF_ERROR(CheckApplicant(*member, course));
  return member;
}

absl::Status VocationalTraining::StoreApplication(
    SqlConnection& c, const Principal& p, const pb::ApplyRequest& req,
    const rpb::Student& member, const std::string& today,
    pb::ApplyResponse* resp, Effects* fx) {
  ASSIGN_OR_RETURN(const CourseRecord course, LockCourse(c, req.course_code()));
  fx->courses.push_back(course.code);
  RETURN_IF_ERROR(RefuseSecondApplication(c, course.code, req.member_id()));
  NewApplication a;
  if (course.kind == kMajor) {
    ASSIGN_OR_RETURN(a.offer_id, OfferForMajor(c, req.member_id(), today));
  }
  a.tier = TierOf(course.kind, member.household_status(), a.offer_id != 0);
  a.state = kWaitlisted;
  if (course.taken < course.capacity) {
    ASSIGN_OR_RETURN(const bool seat, TakeSeat(c, course.code));
    if (seat) a.state = kEnrolled;
  }
  a.course_code = course.code;
  a.kind = course.kind;
  a.member_id = req.member_id();
  a.member_region = member.region_code();
  a.course_region = course.region;
  a.name_enc = host_.crypto().Encrypt(member.name(), kCtxApplicantName);
  a.household_status = member.household_status();
  a.boarder = req.boarder();
  a.applied_at = NowMs();
  a.enrolled_at = a.state == kEnrolled ? a.applied_at : 0;
  a.note = req.note();
  a.created_by = p.subject;
  auto id = InsertApplication(c, a);
  if (id.status().code() == absl::StatusCode::kAlreadyExists) {
    return WithReason(absl::StatusCode::kFailedPrecondition,
                      "ALREADY_IN_A_MAJOR",
                      "member_id: a concurrent application of this member "
                      "holds a major");
  }
  RETURN_IF_ERROR(id.status());
  if (a.offer_id != 0) RETURN_IF_ERROR(AcceptOffer(c, a.offer_id, *id, today));
  if (a.state == kEnrolled) {
    ++fx->enrolled;
    fx->enrolled_labels.push_back({KindLabel(course.kind), course.region});
    if (course.kind == kMajor) {
      ASSIGN_OR_RETURN(const int queued,
                       QueueGrants(c, *id, course, course.intake, p));
      fx->grants_queued = queued > 0;
    }
  }
  ASSIGN_OR_RETURN(*resp->mutable_application(),
                   LoadApplication(c, *id, p, /*with_grants=*/true));
  resp->mutable_application()->clear_name();  // kept out of request_log
  return absl::OkStatus();
}

absl::Status VocationalTraining::GetApplication(
    CallContext& call, const pb::GetApplicationRequest& req,
    pb::GetApplicationResponse* resp) {
  RETURN_IF_ERROR(ValidateRecordId("application_id", req.application_id()));
  const Principal& p = call.principal;
  call.AddRecord(absl::StrCat("application:", req.application_id()));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(pb::Application a,
                     LoadApplication(c, req.application_id(), p,
                                     /*with_grants=*/true));
    if (!p.Covers(a.course_region_code()) &&
        !p.Covers(a.member_region_code())) {
      return CheckRegion(p, a.member_region_code());
    }
    RETURN_IF_ERROR(CheckSchool(p, a.course_school_code()));
    call.personal_data = p.SeesPersonalData();
    *resp->mutable_application() = std::move(a);
    return absl::OkStatus();
  });
}

absl::Status VocationalTraining::ListApplications(
    CallContext& call, const pb::ListApplicationsRequest& req,
    pb::ListApplicationsResponse* resp) {
  Violations v;
  if (!req.course_code().empty() && !IsCode(req.course_code(), 32)) {
    v.Add("course_code", kCourseCodeRule);
  }
  v.Check(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (!pb::ApplicationState_IsValid(req.state())) {
    v.Add("state", "is not a known application state");
  }
  if (!req.member_id().empty()) {
    v.Check(ValidateMemberId("member_id", req.member_id()));
  }
  RETURN_IF_ERROR(v.ToStatus());
  RETURN_IF_ERROR(
      ValidatePageSize("page_size", req.page_size(), 100, 1000).status());
  const Principal& p = call.principal;
  ApplicationFilter f;
  ASSIGN_OR_RETURN(f.region_prefix, ScopeRegionFilter(p, req.region_prefix()));
  f.course_code = req.course_code();
  f.state = req.state();
  f.member_id = req.member_id();
  f.school = SchoolScopeOf(p);
  ASSIGN_OR_RETURN(
      const IdPage page,
      IdPage::Open(req.page_token(),
                   absl::StrCat("apps|", f.region_prefix, "|", f.course_code,
                                "|", req.state(), "|", f.member_id),
                   req.page_size(), 100, 1000));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows,
                     ListApplicationPage(c, f, page.after(), page.limit()));
    for (size_t i = 0; i < page.Keep(rows.size()); ++i) {
      pb::Application* a = resp->add_applications();
      *a = ToProto(rows[i], ShowName(p, rows[i].name_enc));
      if (a->state() == pb::APPLICATION_STATE_WAITLISTED) {
        RETURN_IF_ERROR(FillWaitlistPosition(c, rows[i], a));
      }
    }
    if (!rows.empty()) {
      resp->set_next_page_token(
          page.NextToken(rows.size(), rows[page.Keep(rows.size()) - 1].id));
    }
    call.NoteBulkRead(static_cast<size_t>(resp->applications_size()));
    return absl::OkStatus();
  });
}

absl::Status VocationalTraining::GetWaitlist(CallContext& call,
                                             const pb::GetWaitlistRequest& req,
                                             pb::GetWaitlistResponse* resp) {
  if (!IsCode(req.course_code(), 32)) {
    return InvalidField("course_code", kCourseCodeRule);
  }
  const Principal& p = call.principal;
  call.AddRecord(absl::StrCat("waitlist:", req.course_code()));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(const CourseRecord course,
                     ReadCourseWithCounts(c, req.course_code()));
    RETURN_IF_ERROR(CheckRecordScope(p, course.region, course.school_code));
    *resp->mutable_course() = ToProto(course, /*with_counts=*/true);
    resp->set_rule(WaitlistRule(course.kind));
    ASSIGN_OR_RETURN(auto rows, ReadWaitlist(c, course.code));
    WaitlistWalk walk;
    for (const WaitlistRow& r : rows) {
      const WaitlistWalk::Place place = walk.Next(r.tier);
      auto* e = resp->add_entries();
      e->set_position(static_cast<int32_t>(place.position));
      e->set_application_id(r.id);
      e->set_member_id(r.member_id);
      e->set_name(ShowName(p, r.name_enc));
      e->set_household_status(
          static_cast<cpb::HouseholdStatus>(r.household_status));
      e->set_holds_offer(r.offer_id != 0);
      e->set_applied_at(FormatTimestamp(r.applied_at));
      e->set_tier(static_cast<int32_t>(r.tier));
      e->set_reason(WaitlistReason(course.kind, place.position, r.tier,
                                   place.higher, place.same));
    }
    call.NoteBulkRead(static_cast<size_t>(resp->entries_size()));
    return absl::OkStatus();
  });
}

absl::Status VocationalTraining::Withdraw(CallContext& call,
                                          const pb::WithdrawRequest& req,
                                          pb::WithdrawResponse* resp) {
  Violations v;
  v.Check(ValidateRequestId("request_id", req.request_id()));
  v.Check(ValidateRecordId("application_id", req.application_id()));
  v.Check(ValidateText("reason", req.reason(), 200));
  RETURN_IF_ERROR(v.ToStatus());
  const Principal& p = call.principal;
  call.AddRecord(absl::StrCat("application:", req.application_id()));
  Effects fx;
  RETURN_IF_ERROR(
      host_.requests().Run(p, "Withdraw", req.request_id(), req, resp,
                           [&](SqlConnection& c) -> absl::Status {
                             fx = Effects{};
                             return StoreWithdrawal(c, p, req, resp, &fx);
                           }));
  std::vector<pb::Application*> shown = {resp->mutable_application()};
  for (auto& a : *resp->mutable_promoted()) {
    call.AddRecord(absl::StrCat("promoted:", a.application_id()));
    shown.push_back(&a);
  }
  RETURN_IF_ERROR(RestoreNames(p, shown));
  AfterCommit(fx);
  return absl::OkStatus();
}

absl::Status VocationalTraining::StoreWithdrawal(SqlConnection& c,
                                                 const Principal& p,
                                                 const pb::WithdrawRequest& req,
                                                 pb::WithdrawResponse* resp,
                                                 Effects* fx) {
  const int64_t id = req.application_id();
  ASSIGN_OR_RETURN(const ApplicationScope app, ReadApplicationScope(c, id));
  if (!p.Covers(app.course_region) && !p.Covers(app.member_region)) {
    return CheckRegion(p, app.member_region);
  }
  ASSIGN_OR_RETURN(const CourseRecord course, LockCourse(c, app.course_code));
  RETURN_IF_ERROR(CheckSchool(p, course.school_code));
  fx->courses.push_back(app.course_code);
  // Read again under the course lock: the state is now stable.
  ASSIGN_OR_RETURN(const int64_t state, ReadState(c, id));
  if (state != kEnrolled && state != kWaitlisted) {
    return ApplicationStateRefused(
        state,
        "; only enrolled or waitlisted applications can be "
        "withdrawn");
  }
  RETURN_IF_ERROR(MarkWithdrawn(c, id, NowMs(), req.reason(), state));
  RETURN_IF_ERROR(CancelPendingGrants(c, id));
  if (state == kEnrolled) {
    RETURN_IF_ERROR(FreeSeat(c, app.course_code));
    ASSIGN_OR_RETURN(const CourseRecord now, ReadCourse(c, app.course_code));
    RETURN_IF_ERROR(
        PromoteWaitlisted(c, now, 1, p, resp->mutable_promoted(), fx));
  }
  ASSIGN_OR_RETURN(*resp->mutable_application(),
                   LoadApplication(c, id, p, /*with_grants=*/true));
  resp->mutable_application()->clear_name();
  for (auto& pa : *resp->mutable_promoted()) pa.clear_name();
  return absl::OkStatus();
}

}  // namespace eduaid::vocational
