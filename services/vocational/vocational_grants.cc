// Grants raised in the ledger through the outbox (RaiseTermGrants,
// ListGrants, RetryGrants) and the audit log (ListAuditEvents).
#include <set>

#include "absl/strings/str_cat.h"
#include "services/common/audit.h"
#include "services/common/clock.h"
#include "services/common/idempotency.h"
#include "services/common/keyset_page.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/term.h"
#include "services/common/validate.h"
#include "services/vocational/field_violations.h"
#include "services/vocational/grant_store.h"
#include "services/vocational/grant_terms.h"
#include "services/vocational/vocational.h"

namespace eduaid::vocational {
namespace {

absl::Status ValidateRaiseTermGrants(const pb::RaiseTermGrantsRequest& req) {
  const int this_year = std::stoi(TodayCst().substr(0, 4));
  Violations v;
  v.Check(ValidateRequestId("request_id", req.request_id()));
  if (v.Check(ValidateTerm("term", req.term())).ok() &&
      req.term().year() > this_year + 1) {
    v.Add("term.year",
          absl::StrCat("must be at most ", this_year + 1, " (one year ahead)"));
  }
  v.Check(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  return v.ToStatus();
}

absl::Status ValidateRetryGrants(const pb::RetryGrantsRequest& req) {
  Violations v;
  v.Check(ValidateRequestId("request_id", req.request_id()));
  if (req.grant_ids_size() == 0 || req.grant_ids_size() > 1000) {
    v.Add("grant_ids", "must hold 1..1000 ids");
  }
  std::set<int64_t> seen;
  for (int i = 0; i < req.grant_ids_size(); ++i) {
    if (req.grant_ids(i) <= 0) {
      v.Add(absl::StrCat("grant_ids[", i, "]"), "must be a positive id");
    } else if (!seen.insert(req.grant_ids(i)).second) {
      v.Add(absl::StrCat("grant_ids[", i, "]"), "is listed twice");
    }
  }
  return v.ToStatus();
}

}  // namespace

absl::Status VocationalTraining::RaiseTermGrants(
    CallContext& call, const pb::RaiseTermGrantsRequest& req,
    pb::RaiseTermGrantsResponse* resp) {
  RETURN_IF_ERROR(ValidateRaiseTermGrants(req));
  const Principal& p = call.principal;
  ASSIGN_OR_RETURN(const std::string region,
                   ScopeRegionFilter(p, req.region_prefix()));
  call.AddRecord(
      absl::StrCat("term-grants:", region, ":", TermKey(req.term())));
  bool queued_any = false;  // stays false when answered from the log
  RETURN_IF_ERROR(host_.requests().Run(
      p, "RaiseTermGrants", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        RETURN_IF_ERROR(StoreTermGrants(c, p, req, region, resp));
        queued_any = resp->grants_queued() > 0;
        return absl::OkStatus();
      }));
  if (queued_any) {
    Effects fx;
    fx.grants_queued = true;
    AfterCommit(fx);
  }
  return absl::OkStatus();
}

absl::Status VocationalTraining::StoreTermGrants(
    SqlConnection& c, const Principal& p, const pb::RaiseTermGrantsRequest& req,
    const std::string& region, pb::RaiseTermGrantsResponse* resp) {
  ASSIGN_OR_RETURN(auto enrolled, EnrolledMajorsIn(c, region));
  std::map<std::string, CourseRecord> courses;
  int64_t seen = 0, queued = 0, already = 0;
  for (const ApplicationRef& a : enrolled) {
    auto it = courses.find(a.course_code);
    if (it == courses.end()) {
      ASSIGN_OR_RETURN(CourseRecord course, ReadCourse(c, a.course_code));
      it = courses.emplace(a.course_code, std::move(course)).first;
    }
    const CourseRecord& course = it->second;
    if (!StudiesInTerm(course.intake, course.duration_years, req.term())) {
      continue;
    }
    ++seen;
    ASSIGN_OR_RETURN(const int n, QueueGrants(c, a.id, course, req.term(), p));
    queued += n;
    already += static_cast<int64_t>(options_.grant_programmes.size()) - n;
  }
  resp->set_students_seen(seen);
  resp->set_grants_queued(queued);
  resp->set_already_queued(already);
  return absl::OkStatus();
}

absl::Status VocationalTraining::ListGrants(CallContext& call,
                                            const pb::ListGrantsRequest& req,
                                            pb::ListGrantsResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (req.application_id() < 0) {
    return InvalidField("application_id", "must not be negative");
  }
  if (!pb::GrantState_IsValid(req.state())) {
    return InvalidField("state", "is not a known grant state");
  }
  RETURN_IF_ERROR(
      ValidatePageSize("page_size", req.page_size(), 100, 1000).status());
  GrantFilter f;
  ASSIGN_OR_RETURN(f.region_prefix,
                   ScopeRegionFilter(call.principal, req.region_prefix()));
  f.application_id = req.application_id();
  f.state = req.state();
  // A school officer sees the grants of its own school's majors.
  f.school = SchoolScopeOf(call.principal);
  ASSIGN_OR_RETURN(
      const IdPage page,
      IdPage::Open(req.page_token(),
                   absl::StrCat("grants|", f.region_prefix, "|",
                                req.application_id(), "|", req.state()),
                   req.page_size(), 100, 1000));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows,
                     ListGrantPage(c, f, page.after(), page.limit()));
    for (size_t i = 0; i < page.Keep(rows.size()); ++i) {
      *resp->add_grants() = ToProto(rows[i]);
    }
    if (!rows.empty()) {
      resp->set_next_page_token(
          page.NextToken(rows.size(), rows[page.Keep(rows.size()) - 1].id));
    }
    ASSIGN_OR_RETURN(const int64_t backlog,
                     CountBacklog(c, f.region_prefix, f.school));
    resp->set_backlog(backlog);
    return absl::OkStatus();
  });
}

absl::Status VocationalTraining::RetryGrants(CallContext& call,
                                             const pb::RetryGrantsRequest& req,
                                             pb::RetryGrantsResponse* resp) {
  RETURN_IF_ERROR(ValidateRetryGrants(req));
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "RetryGrants", req.request_id(), req, resp,
      [&](SqlConnection& c) { return StoreRetries(c, call, req, resp); }));
  Effects fx;
  fx.grants_queued = resp->requeued() > 0;
  AfterCommit(fx);
  return absl::OkStatus();
}

absl::Status VocationalTraining::StoreRetries(SqlConnection& c,
                                              CallContext& call,
                                              const pb::RetryGrantsRequest& req,
                                              pb::RetryGrantsResponse* resp) {
  int32_t requeued = 0;
  for (int i = 0; i < req.grant_ids_size(); ++i) {
    const int64_t id = req.grant_ids(i);
    const std::string field = absl::StrCat("grant_ids[", i, "]");
    ASSIGN_OR_RETURN(auto grant, ReadGrantScope(c, id));
    if (!grant) {
      return absl::NotFoundError(absl::StrCat(field, ": no such grant"));
    }
    RETURN_IF_ERROR(CheckRegion(call.principal, grant->member_region));
    if (grant->state != kGrantRejected) {
      return WithReason(
          absl::StatusCode::kFailedPrecondition, "GRANT_STATE",
          absl::StrCat(field, ": only a REJECTED grant can be retried"));
    }
    ASSIGN_OR_RETURN(const int64_t n, RequeueRejected(c, id, NowMs()));
    requeued += static_cast<int32_t>(n);
    call.AddRecord(absl::StrCat("grant:", id));
  }
  resp->set_requeued(requeued);
  return absl::OkStatus();
}

absl::Status VocationalTraining::ListAuditEvents(
    CallContext& call, const pb::ListAuditEventsRequest& req,
    pb::ListAuditEventsResponse* resp) {
  return ListAuditPage(host_.audit(), call.principal, req.method(),
                       req.page_size(), req.page_token(), resp);
}

}  // namespace eduaid::vocational
