// Training quotas (国培, 省培, 市培): seats allocated to counties by weights
// favouring poor counties, enrolment within the county's seats, attendance
// and completion.
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/idempotency.h"
#include "services/common/page_token.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/validate.h"
#include "services/teacher/teacher.h"
#include "services/teacher/teacher_internal.h"
#include "services/teacher/teacher_store.h"
#include "services/teacher/training_store.h"

namespace eduaid::teacher {

using internal::AddRowError;
using internal::AddRowErrors;
using internal::Scope;

namespace {

constexpr int kDefaultWeight = 500;

absl::Status ValidateProgrammeId(int64_t id) {
  if (id <= 0) return InvalidField("programme_id", "must be positive");
  return absl::OkStatus();
}

// The programme as answered: its fields, its allocations, and the
// enrolled/completed sums over counties starting with `scope`.
absl::Status FillProgramme(SqlConnection& c, int64_t id,
                           const std::string& scope,
                           pb::TrainingProgramme* out) {
  ASSIGN_OR_RETURN(const ProgrammeRecord prog, LoadProgramme(c, id));
  ToProto(prog, out);
  ASSIGN_OR_RETURN(const auto allocations, LoadAllocations(c, id));
  for (const auto& a : allocations) {
    ToProto(a, out->add_allocations());
    if (absl::StartsWith(a.region_code, scope)) {
      out->set_enrolled(out->enrolled() + a.enrolled);
      out->set_completed(out->completed() + a.completed);
    }
  }
  return absl::OkStatus();
}

// The counties of a quota request: INVALID_ARGUMENT naming each bad one.
void ValidateCounties(const pb::AllocateTrainingQuotaRequest& req,
                      std::vector<FieldViolation>* v) {
  std::set<std::string> codes;
  for (int i = 0; i < req.counties_size() && i < 1000; ++i) {
    const auto& c = req.counties(i);
    const std::string f = absl::StrCat("counties[", i, "]");
    absl::Status rc = ValidateRegionCode(f + ".region_code", c.region_code());
    if (!rc.ok()) {
      for (auto& fv : FieldViolationsOf(rc)) v->push_back(fv);
    } else if (!absl::StartsWith(c.region_code(), req.region_prefix())) {
      v->push_back(
          {f + ".region_code",
           absl::StrCat("lies outside region_prefix ", req.region_prefix())});
    } else if (!codes.insert(c.region_code()).second) {
      v->push_back({f + ".region_code", "is listed twice"});
    }
    if (c.registered_students() < 0 || c.registered_students() > 100000000) {
      v->push_back({f + ".registered_students", "must be 0..100000000"});
    }
    if (c.rural_teacher_shortage() < 0 ||
        c.rural_teacher_shortage() > 10000000) {
      v->push_back({f + ".rural_teacher_shortage", "must be 0..10000000"});
    }
  }
}

// A new programme from a valid request (weights defaulted), or
// INVALID_ARGUMENT naming every bad field.
absl::StatusOr<ProgrammeRecord> ValidateQuotaRequest(
    const pb::AllocateTrainingQuotaRequest& req) {
  std::vector<FieldViolation> v;
  auto add = [&](const absl::Status& st) {
    for (auto& f : FieldViolationsOf(st)) v.push_back(f);
  };
  add(ValidateText("name", req.name(), 100));
  if (!pb::TrainingLevel_IsValid(req.level()) ||
      req.level() == pb::TRAINING_LEVEL_UNSPECIFIED) {
    v.push_back({"level", "must be NATIONAL, PROVINCIAL or CITY"});
  }
  if (req.year() < 2000 || req.year() > 2100) {
    v.push_back({"year", "must be 2000..2100"});
  }
  if (req.seats() < 1 || req.seats() > 100000) {
    v.push_back({"seats", "must be 1..100000"});
  }
  add(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  int ws = req.student_weight_permille(), wh = req.shortage_weight_permille();
  if (ws == 0 && wh == 0) ws = wh = kDefaultWeight;
  if (ws < 0 || ws > 1000) {
    v.push_back({"student_weight_permille", "must be 0..1000"});
  }
  if (wh < 0 || wh > 1000) {
    v.push_back({"shortage_weight_permille", "must be 0..1000"});
  }
  if (req.counties_size() > 1000) {
    v.push_back({"counties", "at most 1000 counties"});
  }
  if (req.counties_size() == 0 && !req.students_from_registry()) {
    v.push_back(
        {"counties", "must not be empty unless students_from_registry is set"});
  }
  ValidateCounties(req, &v);
  if (!v.empty()) return InvalidFields(v);
  ProgrammeRecord r;
  r.name = req.name();
  r.level = req.level();
  r.year = req.year();
  r.seats = req.seats();
  r.region_prefix = req.region_prefix();
  r.w_students = ws;
  r.w_shortage = wh;
  return r;
}

// The teachers to enrol, with their row numbers; bad ids and duplicates
// become row errors.
std::vector<std::pair<int64_t, int64_t>> ValidateEnrolList(
    const pb::EnrolTrainingRequest& req, std::vector<cpb::RowError>* errors) {
  std::vector<std::pair<int64_t, int64_t>> good;  // (row, teacher)
  std::unordered_map<int64_t, int64_t> seen;
  for (int i = 0; i < req.teacher_ids_size(); ++i) {
    const int64_t rn = i + 1;
    auto id = ParseTeacherId("teacher_id", req.teacher_ids(i));
    if (!id.ok()) {
      AddRowErrors(rn, id.status(), errors);
      continue;
    }
    auto [it, fresh] = seen.emplace(*id, rn);
    if (!fresh) {
      AddRowError(rn, "teacher_id",
                  absl::StrCat("duplicated in this request (first at row ",
                               it->second, ")"),
                  errors);
      continue;
    }
    good.push_back({rn, *id});
  }
  return good;
}

// Enrols one teacher on a seat of their county: "" when enrolled, else the
// row error's rule. A teacher outside the caller's scope fails the call.
absl::StatusOr<std::string> EnrolOne(SqlConnection& c, const Principal& p,
                                     int64_t programme_id, int64_t rn,
                                     int64_t teacher, int64_t now) {
  ASSIGN_OR_RETURN(const auto t, LoadTeacherStanding(c, teacher));
  if (!t) return std::string("no such teacher");
  if (!p.Covers(t->region_code)) {
    return absl::PermissionDeniedError(
        absl::StrCat("row ", rn,
                     ": the teacher lies outside the caller's region "
                     "scope; nobody was enrolled"));
  }
  if (!p.CoversSchool(t->school_code)) {
    return absl::PermissionDeniedError(
        absl::StrCat("row ", rn,
                     ": the teacher is not of the caller's school; "
                     "nobody was enrolled"));
  }
  if (!t->active) return std::string("the teacher has left");
  ASSIGN_OR_RETURN(const bool enrolled, IsEnrolled(c, programme_id, teacher));
  if (enrolled) return std::string("is already enrolled");
  const std::string& county = t->region_code;
  ASSIGN_OR_RETURN(const bool seat, TakeSeat(c, programme_id, county));
  if (!seat) {
    ASSIGN_OR_RETURN(const auto seats, SeatsOf(c, programme_id, county));
    return !seats ? absl::StrCat("the programme allocates no seats to county ",
                                 county)
                  : absl::StrCat("county ", county, "'s ", *seats,
                                 " seats are all taken");
  }
  RETURN_IF_ERROR(InsertEnrolment(c, programme_id, teacher, county, now));
  return std::string();
}

// The attendance marks of a request: (teacher, present), or
// INVALID_ARGUMENT for a bad or repeated id.
absl::StatusOr<std::vector<std::pair<int64_t, bool>>> AttendanceMarks(
    const pb::RecordTrainingAttendanceRequest& req) {
  std::vector<std::pair<int64_t, bool>> marks;
  std::unordered_set<int64_t> seen;
  auto take = [&](const google::protobuf::RepeatedPtrField<std::string>& ids,
                  const char* field, bool present) -> absl::Status {
    for (int i = 0; i < ids.size(); ++i) {
      const std::string f = absl::StrCat(field, "[", i, "]");
      ASSIGN_OR_RETURN(const int64_t id, ParseTeacherId(f, ids.Get(i)));
      if (!seen.insert(id).second) return InvalidField(f, "is listed twice");
      marks.push_back({id, present});
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(take(req.present_teacher_ids(), "present_teacher_ids", true));
  RETURN_IF_ERROR(take(req.absent_teacher_ids(), "absent_teacher_ids", false));
  return marks;
}

// Records a completion; FAILED_PRECONDITION: NOT_ENROLLED,
// ALREADY_COMPLETED, NO_ATTENDANCE.
absl::Status StoreCompletion(SqlConnection& c, const Principal& p,
                             const pb::CompleteTrainingRequest& req,
                             int64_t teacher,
                             pb::CompleteTrainingResponse* resp) {
  ASSIGN_OR_RETURN(const auto e,
                   LoadEnrolmentStanding(c, req.programme_id(), teacher));
  if (!e) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "NOT_ENROLLED",
                      "teacher_id: the teacher is not enrolled in the "
                      "programme");
  }
  RETURN_IF_ERROR(CheckRecordScope(p, e->region_code, e->school_code));
  if (e->completed) {
    return WithReason(absl::StatusCode::kFailedPrecondition,
                      "ALREADY_COMPLETED",
                      "teacher_id: completion is already recorded");
  }
  ASSIGN_OR_RETURN(const Attendance att,
                   AttendanceOf(c, req.programme_id(), teacher));
  if (att.present == 0) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "NO_ATTENDANCE",
                      "teacher_id: no attended session is recorded");
  }
  const int64_t now = NowSec();
  RETURN_IF_ERROR(MarkCompleted(c, req.programme_id(), teacher, req.passed(),
                                req.hours(), req.certificate_ref(), now));
  EnrolmentRecord done;
  done.teacher_id = teacher;
  done.region_code = e->region_code;
  done.school_code = e->school_code;
  done.enrolled_at = e->enrolled_at;
  done.completed = true;
  done.passed = req.passed();
  done.hours = req.hours();
  done.certificate_ref = req.certificate_ref();
  done.completed_at = now;
  done.present = att.present;
  done.sessions = att.sessions;
  ToProto(done, resp->mutable_enrolment());
  resp->mutable_enrolment()->set_teacher_id(req.teacher_id());
  return absl::OkStatus();
}

// GetTrainingProgramme's read, names aside.
absl::Status ReadProgrammeDetail(SqlConnection& c, const Principal& p,
                                 const pb::GetTrainingProgrammeRequest& req,
                                 pb::GetTrainingProgrammeResponse* resp) {
  ASSIGN_OR_RETURN(const std::string prefix,
                   ProgrammeRegion(c, req.programme_id()));
  const Scope scope = internal::ScopeOf(p, prefix);
  if (scope == Scope::kNone) return CheckRegion(p, prefix);
  const std::string region = scope == Scope::kFull ? "" : p.region;
  RETURN_IF_ERROR(
      FillProgramme(c, req.programme_id(), region, resp->mutable_programme()));
  if (!req.include_enrolments()) return absl::OkStatus();
  ASSIGN_OR_RETURN(const auto enrolments,
                   ListEnrolments(c, req.programme_id(), region,
                                  internal::SchoolScopeOf(p)));
  for (const auto& e : enrolments) ToProto(e, resp->add_enrolments());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<CountyWeight>> TeacherSupport::CountyWeights(
    const pb::AllocateTrainingQuotaRequest& req) {
  std::map<std::string, CountyWeight> weights;
  for (const auto& c : req.counties()) {
    weights[c.region_code()] = {c.region_code(), c.registered_students(),
                                c.rural_teacher_shortage()};
  }
  if (req.students_from_registry()) {
    rpb::GetCoverageRequest creq;
    creq.set_region_prefix(req.region_prefix());
    rpb::GetCoverageResponse cresp;
    grpc::ClientContext ctx;
    registry_channel_->Prepare(&ctx, options_.registry_deadline);
    grpc::Status s = registry_->GetCoverage(&ctx, creq, &cresp);
    if (!s.ok()) {
      return PeerError(RegistryPeer(), s,
                       "report registered students per county");
    }
    for (auto& [code, w] : weights) w.students = 0;
    for (const auto& rc : cresp.regions()) {
      auto& w = weights[rc.region_code()];
      w.region_code = rc.region_code();
      w.students = rc.in_school();
    }
  }
  std::vector<CountyWeight> list;
  for (auto& [code, w] : weights) list.push_back(w);
  return list;
}

absl::Status TeacherSupport::AllocateTrainingQuota(
    CallContext& call, const pb::AllocateTrainingQuotaRequest& req,
    pb::AllocateTrainingQuotaResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  ASSIGN_OR_RETURN(ProgrammeRecord prog, ValidateQuotaRequest(req));
  RETURN_IF_ERROR(CheckRegion(call.principal, req.region_prefix()));
  ASSIGN_OR_RETURN(const std::vector<CountyWeight> list, CountyWeights(req));
  ASSIGN_OR_RETURN(
      const std::vector<CountySeats> seats,
      AllocateSeats(req.seats(), list, prog.w_students, prog.w_shortage));
  call.AddRecord(absl::StrCat("training seats:", req.seats()));
  return host_.requests().Run(
      call.principal, "AllocateTrainingQuota", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        prog.created_at = NowSec();
        ASSIGN_OR_RETURN(const int64_t id,
                         InsertProgramme(c, prog, call.principal.subject));
        for (size_t i = 0; i < list.size(); ++i) {
          RETURN_IF_ERROR(InsertAllocation(c, id, list[i], seats[i]));
        }
        return FillProgramme(c, id, "", resp->mutable_programme());
      });
}

absl::Status TeacherSupport::EnrolTraining(CallContext& call,
                                           const pb::EnrolTrainingRequest& req,
                                           pb::EnrolTrainingResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidateProgrammeId(req.programme_id()));
  if (req.teacher_ids_size() == 0) {
    return InvalidField("teacher_ids", "must not be empty");
  }
  if (req.teacher_ids_size() > kMaxLinesPerCall) {
    return InvalidField(
        "teacher_ids", absl::StrCat("at most ", kMaxLinesPerCall, " per call"));
  }
  std::vector<cpb::RowError> errors;
  const auto good = ValidateEnrolList(req, &errors);
  call.AddRecord(absl::StrCat("programme:", req.programme_id()));
  return host_.requests().Run(
      call.principal, "EnrolTraining", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        ASSIGN_OR_RETURN(const std::string region,
                         ProgrammeRegion(c, req.programme_id()));
        RETURN_IF_ERROR(internal::CheckOverlap(call.principal, region));
        std::vector<cpb::RowError> tx_errors = errors;
        int64_t accepted = 0;
        const int64_t now = NowSec();
        for (const auto& [rn, teacher] : good) {
          ASSIGN_OR_RETURN(const std::string why,
                           EnrolOne(c, call.principal, req.programme_id(), rn,
                                    teacher, now));
          if (why.empty()) {
            ++accepted;
          } else {
            AddRowError(rn, "teacher_id", why, &tx_errors);
          }
        }
        internal::SortRowErrors(&tx_errors);
        for (auto& e : tx_errors) *resp->add_errors() = e;
        resp->set_accepted_rows(accepted);
        resp->set_rejected_rows(req.teacher_ids_size() - accepted);
        return FillProgramme(c, req.programme_id(), "",
                             resp->mutable_programme());
      });
}

absl::Status TeacherSupport::RecordTrainingAttendance(
    CallContext& call, const pb::RecordTrainingAttendanceRequest& req,
    pb::RecordTrainingAttendanceResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidateProgrammeId(req.programme_id()));
  RETURN_IF_ERROR(ValidateDate("session_date", req.session_date()));
  if (req.session_date() > TodayCst()) {
    return InvalidField("session_date", "must not lie in the future");
  }
  const int n = req.present_teacher_ids_size() + req.absent_teacher_ids_size();
  if (n == 0) {
    return InvalidField("present_teacher_ids", "name at least one teacher");
  }
  if (n > kMaxLinesPerCall) {
    return InvalidField(
        "present_teacher_ids",
        absl::StrCat("at most ", kMaxLinesPerCall, " per call"));
  }
  ASSIGN_OR_RETURN(const auto marks, AttendanceMarks(req));
  call.AddRecord(absl::StrCat("programme:", req.programme_id(),
                              " session:", req.session_date()));
  return host_.requests().Run(
      call.principal, "RecordTrainingAttendance", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        for (const auto& [teacher, present] : marks) {
          ASSIGN_OR_RETURN(const auto e, LoadEnrolmentStanding(
                                             c, req.programme_id(), teacher));
          if (!e) {
            return WithReason(absl::StatusCode::kFailedPrecondition,
                              "NOT_ENROLLED",
                              absl::StrCat(TeacherIdString(teacher),
                                           " is not enrolled in the "
                                           "programme; nothing was recorded"));
          }
          RETURN_IF_ERROR(
              CheckRecordScope(call.principal, e->region_code, e->school_code));
          RETURN_IF_ERROR(UpsertAttendance(c, req.programme_id(), teacher,
                                           req.session_date(), present));
        }
        resp->set_recorded(static_cast<int32_t>(marks.size()));
        return absl::OkStatus();
      });
}

absl::Status TeacherSupport::CompleteTraining(
    CallContext& call, const pb::CompleteTrainingRequest& req,
    pb::CompleteTrainingResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidateProgrammeId(req.programme_id()));
  ASSIGN_OR_RETURN(const int64_t teacher,
                   ParseTeacherId("teacher_id", req.teacher_id()));
  if (req.hours() < 0 || req.hours() > 1000) {
    return InvalidField("hours", "must be 0..1000");
  }
  RETURN_IF_ERROR(ValidateText("certificate_ref", req.certificate_ref(), 100,
                               req.passed()));
  call.AddRecord(
      absl::StrCat("programme:", req.programme_id(), " ", req.teacher_id()));
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "CompleteTraining", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        return StoreCompletion(c, call.principal, req, teacher, resp);
      }));
  auto names = TeacherNames({teacher}, call.principal);
  if (names.ok()) resp->mutable_enrolment()->set_name((*names)[teacher]);
  return absl::OkStatus();
}

absl::Status TeacherSupport::GetTrainingProgramme(
    CallContext& call, const pb::GetTrainingProgrammeRequest& req,
    pb::GetTrainingProgrammeResponse* resp) {
  RETURN_IF_ERROR(ValidateProgrammeId(req.programme_id()));
  const Principal& p = call.principal;
  call.AddRecord(absl::StrCat("programme:", req.programme_id()));
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    return ReadProgrammeDetail(c, p, req, resp);
  }));
  std::vector<int64_t> ids;
  for (const auto& e : resp->enrolments()) {
    auto id = ParseTeacherId("teacher_id", e.teacher_id());
    if (id.ok()) ids.push_back(*id);
  }
  ASSIGN_OR_RETURN(auto names, TeacherNames(ids, p));
  for (auto& e : *resp->mutable_enrolments()) {
    auto id = ParseTeacherId("teacher_id", e.teacher_id());
    if (id.ok()) e.set_name(names[*id]);
  }
  if (req.include_enrolments()) {
    call.NoteBulkRead(static_cast<size_t>(resp->enrolments_size()));
  }
  return absl::OkStatus();
}

absl::Status TeacherSupport::ListTrainingProgrammes(
    CallContext& call, const pb::ListTrainingProgrammesRequest& req,
    pb::ListTrainingProgrammesResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  RETURN_IF_ERROR(ValidatePageSize("page_size", req.page_size(), 50, 500)
                      .status());  // before the scope, as it always was
  ASSIGN_OR_RETURN(const std::string region,
                   ScopeRegionFilter(call.principal, req.region_prefix()));
  ASSIGN_OR_RETURN(
      const IdPage page,
      IdPage::Open(req.page_token(), absl::StrCat("programmes|", region),
                   req.page_size(), 50, 500));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(const auto progs,
                     ListProgrammes(c, region, page.after(), page.limit()));
    for (size_t i = 0; i < page.Keep(progs.size()); ++i) {
      const std::string scope =
          internal::ScopeOf(call.principal, progs[i].second) == Scope::kFull
              ? ""
              : call.principal.region;
      RETURN_IF_ERROR(
          FillProgramme(c, progs[i].first, scope, resp->add_programmes()));
    }
    resp->set_next_page_token(page.NextToken(
        progs.size(),
        progs.empty() ? 0 : progs[page.Keep(progs.size()) - 1].first));
    return absl::OkStatus();
  });
}

}  // namespace eduaid::teacher
