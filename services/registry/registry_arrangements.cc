// Schooling arrangements (送教上门 / 异地就读): RecordSchoolingArrangement,
// EndSchoolingArrangement, ListSchoolingArrangements, and the home-teaching
// log (RecordHomeTeachingVisit, ListHomeTeachingVisits).
#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/clock.h"
#include "services/common/crypto.h"
#include "services/common/idempotency.h"
#include "services/common/keyset_page.h"
#include "services/common/page_token.h"
#include "services/common/service_host.h"
#include "services/common/status_macros.h"
#include "services/common/validate.h"
#include "services/registry/arrangement_store.h"
#include "services/registry/home_teaching_visit_store.h"
#include "services/registry/out_of_school_store.h"
#include "services/registry/registry.h"
#include "services/registry/school_store.h"

namespace eduaid::registry {
namespace {

// Whether `p` may act on arrangement `a` of member `m`: the child's region,
// and for a school officer a HOME_TEACHING arrangement of its own school or
// a child enrolled there.
absl::Status CheckArrangementScope(const Principal& p, const MemberRef& m,
                                   const ArrangementRecord& a) {
  RETURN_IF_ERROR(CheckRegion(p, m.region_code));
  if (p.role == Role::kSchoolOfficer &&
      a.kind == pb::ARRANGEMENT_KIND_HOME_TEACHING &&
      p.CoversSchool(a.school_code)) {
    return absl::OkStatus();
  }
  return CheckSchool(p, m.school_code);
}

// The arrangement `id` and its member; NOT_FOUND when there is none.
absl::StatusOr<std::pair<ArrangementRecord, MemberRef>> FindArrangementOf(
    SqlConnection& c, int64_t id) {
  ASSIGN_OR_RETURN(std::optional<ArrangementRecord> a, FindArrangement(c, id));
  if (!a) return absl::NotFoundError("no such arrangement");
  ASSIGN_OR_RETURN(std::optional<MemberRef> m, FindMemberRef(c, a->member_id));
  if (!m) return absl::NotFoundError("no such arrangement");
  return std::make_pair(*std::move(a), *std::move(m));
}

// The record of arrangement `a` (validated) of member `m`, recorded now
// by `p`; the free text encrypted.
ArrangementRecord NewArrangement(const pb::SchoolingArrangement& a,
                                 const MemberRef& m, const Principal& p,
                                 const FieldCrypto& crypto) {
  const bool home = a.kind() == pb::ARRANGEMENT_KIND_HOME_TEACHING;
  ArrangementRecord r;
  r.member_id = m.id;
  r.kind = a.kind();
  r.school_code = home ? a.school_code() : "";
  r.school_name = home ? "" : a.school_name();
  r.place_enc = home ? "" : crypto.Encrypt(a.place(), kCtxPlace);
  r.evidence_enc = crypto.Encrypt(a.evidence_ref(), kCtxEvidence);
  r.start_date = a.start_date();
  r.region_code = m.region_code;
  r.recorded_by = p.subject;
  r.recorded_at = NowSec();
  return r;
}

}  // namespace

absl::Status Registry::RecordSchoolingArrangement(
    CallContext& call, const pb::RecordSchoolingArrangementRequest& req,
    pb::RecordSchoolingArrangementResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  const std::string today = TodayCst();
  const pb::SchoolingArrangement& a = req.arrangement();
  if (auto v = ArrangementViolations(a, today); !v.empty()) {
    return InvalidFields(v);
  }
  ASSIGN_OR_RETURN(const int64_t member_id,
                   ParseMemberId("arrangement.member_id", a.member_id()));
  const bool home = a.kind() == pb::ARRANGEMENT_KIND_HOME_TEACHING;
  if (call.principal.role == Role::kSchoolOfficer) {
    if (!home) {
      return absl::PermissionDeniedError(
          "a school officer records HOME_TEACHING arrangements of its own "
          "school only");
    }
    RETURN_IF_ERROR(CheckSchool(call.principal, a.school_code()));
  }
  call.AddRecord(a.member_id());
  const bool names = call.principal.SeesPersonalData();
  Effects fx;
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "RecordSchoolingArrangement", req.request_id(), req,
      resp, [&](SqlConnection& c) -> absl::Status {
        fx = Effects{};
        ASSIGN_OR_RETURN(std::optional<MemberRef> m,
                         FindMemberRef(c, member_id));
        if (!m) return absl::NotFoundError("no such member");
        RETURN_IF_ERROR(CheckRegion(call.principal, m->region_code));
        if (home) {
          ASSIGN_OR_RETURN(std::optional<SchoolRecord> school,
                           FindSchool(c, a.school_code()));
          if (!school) {
            return InvalidField("arrangement.school_code", "no such school");
          }
          RETURN_IF_ERROR(CheckRecordScope(call.principal, school->region_code,
                                           a.school_code()));
        }
        ASSIGN_OR_RETURN(auto running, FindRunningArrangement(c, m->id));
        if (running) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "ARRANGEMENT_RUNNING",
              absl::StrCat("arrangement.member_id: arrangement ", running->id,
                           " still runs for this child; end it first"));
        }
        ASSIGN_OR_RETURN(
            const int64_t id,
            InsertArrangement(c, NewArrangement(a, *m, call.principal,
                                                host_.crypto())));
        // In school by the policy from now on: off the list at once.
        ASSIGN_OR_RETURN(const bool left,
                         ResolveOutOfSchoolMember(c, m->id, today));
        resp->set_left_out_of_school_list(left);
        ASSIGN_OR_RETURN(auto stored, FindArrangementOf(c, id));
        *resp->mutable_arrangement() = ArrangementProto(stored.first, names);
        fx.stale_students.push_back(m->id_hash);
        return absl::OkStatus();
      }));
  AfterCommit(fx);
  call.personal_data = names;
  return absl::OkStatus();
}

absl::Status Registry::EndSchoolingArrangement(
    CallContext& call, const pb::EndSchoolingArrangementRequest& req,
    pb::EndSchoolingArrangementResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidateRecordId("arrangement_id", req.arrangement_id()));
  const std::string today = TodayCst();
  // The start is checked once the arrangement is read.
  if (auto v = EndArrangementViolations(req.end_date(), req.reason(), "", today);
      !v.empty()) {
    return InvalidFields(v);
  }
  call.AddRecord(absl::StrCat("arrangement:", req.arrangement_id()));
  const bool names = call.principal.SeesPersonalData();
  Effects fx;
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "EndSchoolingArrangement", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        fx = Effects{};
        ASSIGN_OR_RETURN(auto found, FindArrangementOf(c, req.arrangement_id()));
        const auto& [a, m] = found;
        RETURN_IF_ERROR(CheckArrangementScope(call.principal, m, a));
        if (!a.running) {
          return WithReason(absl::StatusCode::kFailedPrecondition,
                            "ARRANGEMENT_ENDED",
                            absl::StrCat("arrangement_id: the arrangement "
                                         "ended on ",
                                         a.end_date));
        }
        if (auto v = EndArrangementViolations(req.end_date(), req.reason(),
                                              a.start_date, today);
            !v.empty()) {
          return InvalidFields(v);
        }
        RETURN_IF_ERROR(EndArrangement(
            c, a.id, req.end_date(),
            host_.crypto().Encrypt(req.reason(), kCtxEndReason)));
        // A school-age child on no roster is back on the list at once.
        ASSIGN_OR_RETURN(std::optional<RunRecord> run, LatestRun(c));
        ASSIGN_OR_RETURN(
            const bool back,
            ReopenOutOfSchool(c, m.id, today, run ? run->run_id : 0));
        resp->set_back_on_out_of_school_list(back);
        ASSIGN_OR_RETURN(auto stored, FindArrangementOf(c, a.id));
        *resp->mutable_arrangement() = ArrangementProto(stored.first, names);
        fx.stale_students.push_back(m.id_hash);
        return absl::OkStatus();
      }));
  AfterCommit(fx);
  call.personal_data = names;
  return absl::OkStatus();
}

absl::Status Registry::ListSchoolingArrangements(
    CallContext& call, const pb::ListSchoolingArrangementsRequest& req,
    pb::ListSchoolingArrangementsResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (!pb::ArrangementKind_IsValid(req.kind())) {
    return InvalidField("kind", "is not a known arrangement kind");
  }
  ASSIGN_OR_RETURN(const Scope scope,
                   ScopeOf(call.principal, req.region_prefix()));
  ArrangementListFilter filter{scope.region, scope.school, req.kind(),
                               req.running_only()};
  ASSIGN_OR_RETURN(
      const IdPage page,
      IdPage::Open(req.page_token(),
                   absl::StrCat("arrangements|", filter.region, "|",
                                filter.school, "|", filter.kind, "|",
                                filter.running_only),
                   req.page_size()));
  filter.after = page.after();
  filter.limit = page.limit();
  const bool names = call.principal.SeesPersonalData();
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, ListArrangementsPage(c, filter));
    int64_t last = 0;
    for (size_t i = 0; i < page.Keep(rows.size()); ++i) {
      *resp->add_arrangements() = ArrangementProto(rows[i], names);
      last = rows[i].id;
    }
    resp->set_next_page_token(page.NextToken(rows.size(), last));
    call.NoteBulkRead(resp->arrangements_size());
    call.personal_data = names;
    return absl::OkStatus();
  });
}

absl::Status Registry::RecordHomeTeachingVisit(
    CallContext& call, const pb::RecordHomeTeachingVisitRequest& req,
    pb::RecordHomeTeachingVisitResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  const pb::HomeTeachingVisit& v = req.visit();
  RETURN_IF_ERROR(
      ValidateRecordId("visit.arrangement_id", v.arrangement_id()));
  const std::string today = TodayCst();
  // The arrangement's dates are checked once it is read.
  if (auto bad = HomeTeachingVisitViolations(v, "", "", today); !bad.empty()) {
    return InvalidFields(bad);
  }
  call.AddRecord(absl::StrCat("arrangement:", v.arrangement_id()));
  return host_.requests().Run(
      call.principal, "RecordHomeTeachingVisit", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        ASSIGN_OR_RETURN(auto found, FindArrangementOf(c, v.arrangement_id()));
        const auto& [a, m] = found;
        RETURN_IF_ERROR(CheckArrangementScope(call.principal, m, a));
        if (a.kind != pb::ARRANGEMENT_KIND_HOME_TEACHING) {
          return WithReason(absl::StatusCode::kFailedPrecondition,
                            "NOT_HOME_TEACHING",
                            "visit.arrangement_id: the home-teaching log is "
                            "kept for HOME_TEACHING arrangements only");
        }
        if (auto bad = HomeTeachingVisitViolations(v, a.start_date,
                                                   a.end_date, today);
            !bad.empty()) {
          return InvalidFields(bad);
        }
        HomeTeachingVisitRecord r{
            0,          a.id,
            v.visit_date(), v.teacher(),
            host_.crypto().Encrypt(v.content(), kCtxVisitContent),
            v.minutes(), call.principal.subject,
            NowSec()};
        ASSIGN_OR_RETURN(r.id, InsertHomeTeachingVisit(c, r));
        ToProto(r, v.content(), resp->mutable_visit());
        return absl::OkStatus();
      });
}

absl::Status Registry::ListHomeTeachingVisits(
    CallContext& call, const pb::ListHomeTeachingVisitsRequest& req,
    pb::ListHomeTeachingVisitsResponse* resp) {
  RETURN_IF_ERROR(ValidateRecordId("arrangement_id", req.arrangement_id()));
  ASSIGN_OR_RETURN(const int size,
                   ValidatePageSize("page_size", req.page_size(), 100, 500));
  // Newest first: the token carries the last (visit date, id).
  const std::string filters = absl::StrCat("htv|", req.arrangement_id());
  ASSIGN_OR_RETURN(const std::string cursor,
                   DecodePageToken(req.page_token(), filters));
  std::string after_date;
  int64_t after_id = 0;
  if (!cursor.empty()) {
    std::pair<std::string, std::string> parts =
        absl::StrSplit(cursor, absl::MaxSplits('|', 1));
    if (!absl::SimpleAtoi(parts.second, &after_id)) {
      return InvalidField("page_token", "is not a token this service issued");
    }
    after_date = parts.first;
  }
  call.AddRecord(absl::StrCat("arrangement:", req.arrangement_id()));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto found, FindArrangementOf(c, req.arrangement_id()));
    RETURN_IF_ERROR(
        CheckArrangementScope(call.principal, found.second, found.first));
    ASSIGN_OR_RETURN(auto rows,
                     ListHomeTeachingVisitsPage(c, req.arrangement_id(),
                                                after_date, after_id, size + 1));
    const size_t keep = std::min(rows.size(), static_cast<size_t>(size));
    for (size_t i = 0; i < keep; ++i) {
      ToProto(rows[i], DecryptOrEmpty(rows[i].content_enc, kCtxVisitContent),
              resp->add_visits());
    }
    if (rows.size() > keep) {
      resp->set_next_page_token(EncodePageToken(
          absl::StrCat(rows[keep - 1].visit_date, "|", rows[keep - 1].id),
          filters));
    }
    ASSIGN_OR_RETURN(const auto totals,
                     CountHomeTeachingVisits(c, req.arrangement_id()));
    resp->set_total(totals.first);
    resp->set_total_minutes(totals.second);
    return absl::OkStatus();
  });
}

}  // namespace eduaid::registry
