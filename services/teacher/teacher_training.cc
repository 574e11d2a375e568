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
#include "services/common/status.h"
#include "services/common/validate.h"
#include "services/teacher/teacher.h"
#include "services/teacher/teacher_internal.h"

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

}  // namespace

absl::Status TeacherSupport::FillProgramme(SqlConnection& c, int64_t id,
                                           const std::string& scope,
                                           pb::TrainingProgramme* out) {
  auto r = c.Query(
      "SELECT id, name, level, year, seats, region_prefix, w_students, "
      "w_shortage, created_at FROM training_programmes WHERE id = ?",
      {id});
  if (!r.ok()) return r.status();
  if (r->empty()) return absl::NotFoundError("no such training programme");
  const SqlRow& row = r->front();
  out->set_programme_id(row.Int(0));
  out->set_name(row.Str(1));
  out->set_level(static_cast<pb::TrainingLevel>(row.Int(2)));
  out->set_year(static_cast<int32_t>(row.Int(3)));
  out->set_seats(static_cast<int32_t>(row.Int(4)));
  out->set_region_prefix(row.Str(5));
  out->set_student_weight_permille(static_cast<int32_t>(row.Int(6)));
  out->set_shortage_weight_permille(static_cast<int32_t>(row.Int(7)));
  out->set_created_at(
      FormatTimestamp(row.Int(8) * 1000, TimestampPrecision::kSeconds));
  auto alloc = c.Query(
      "SELECT a.region_code, a.students, a.shortage, a.seats, a.enrolled, "
      "a.explanation, a.quota_milli, (SELECT COUNT(*) FROM "
      "training_enrolments e WHERE e.programme_id = a.programme_id AND "
      "e.region_code = a.region_code AND e.completed = 1 AND e.passed = 1) "
      "FROM training_allocations a WHERE a.programme_id = ? ORDER BY "
      "a.region_code",
      {id});
  if (!alloc.ok()) return alloc.status();
  for (const auto& a : *alloc) {
    auto* ca = out->add_allocations();
    ca->set_region_code(a.Str(0));
    ca->set_registered_students(a.Int(1));
    ca->set_rural_teacher_shortage(a.Int(2));
    ca->set_seats(static_cast<int32_t>(a.Int(3)));
    ca->set_enrolled(static_cast<int32_t>(a.Int(4)));
    ca->set_explanation(a.Str(5));
    ca->set_quota_milli(a.Int(6));
    ca->set_completed(static_cast<int32_t>(a.Int(7)));
    if (absl::StartsWith(ca->region_code(), scope)) {
      out->set_enrolled(out->enrolled() + ca->enrolled());
      out->set_completed(out->completed() + ca->completed());
    }
  }
  return absl::OkStatus();
}

absl::Status TeacherSupport::AllocateTrainingQuota(
    CallContext& call, const pb::AllocateTrainingQuotaRequest& req,
    pb::AllocateTrainingQuotaResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
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
  std::set<std::string> codes;
  for (int i = 0; i < req.counties_size() && i < 1000; ++i) {
    const auto& c = req.counties(i);
    const std::string f = absl::StrCat("counties[", i, "]");
    absl::Status rc = ValidateRegionCode(f + ".region_code", c.region_code());
    if (!rc.ok()) {
      add(rc);
    } else if (!absl::StartsWith(c.region_code(), req.region_prefix())) {
      v.push_back(
          {f + ".region_code",
           absl::StrCat("lies outside region_prefix ", req.region_prefix())});
    } else if (!codes.insert(c.region_code()).second) {
      v.push_back({f + ".region_code", "is listed twice"});
    }
    if (c.registered_students() < 0 || c.registered_students() > 100000000) {
      v.push_back({f + ".registered_students", "must be 0..100000000"});
    }
    if (c.rural_teacher_shortage() < 0 ||
        c.rural_teacher_shortage() > 10000000) {
      v.push_back({f + ".rural_teacher_shortage", "must be 0..10000000"});
    }
  }
  if (!v.empty()) return InvalidFields(v);
  RETURN_IF_ERROR(CheckRegion(call.principal, req.region_prefix()));

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
    if (!s.ok())
      return PeerError(RegistryPeer(), s,
                       "report registered students per county");
    for (auto& [code, w] : weights) w.students = 0;
    for (const auto& rc : cresp.regions()) {
      auto& w = weights[rc.region_code()];
      w.region_code = rc.region_code();
      w.students = rc.in_school();
    }
  }
  std::vector<CountyWeight> list;
  for (auto& [code, w] : weights) list.push_back(w);
  auto seats = AllocateSeats(req.seats(), list, ws, wh);
  if (!seats.ok()) return seats.status();
  call.AddRecord(absl::StrCat("training seats:", req.seats()));
  return host_.requests().Run(
      call.principal, "AllocateTrainingQuota", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto ins = c.Query(
            "INSERT INTO training_programmes(name, level, year, seats, "
            "region_prefix, w_students, w_shortage, created_by, created_at) "
            "VALUES(?,?,?,?,?,?,?,?,?) RETURNING id",
            {req.name(), int64_t{req.level()}, int64_t{req.year()},
             int64_t{req.seats()}, req.region_prefix(), int64_t{ws},
             int64_t{wh}, call.principal.subject, NowSec()});
        if (!ins.ok()) return ins.status();
        const int64_t id = ins->front().Int(0);
        for (size_t i = 0; i < list.size(); ++i) {
          const auto& s = (*seats)[i];
          auto a = c.Execute(
              "INSERT INTO training_allocations(programme_id, region_code, "
              "students, shortage, seats, enrolled, quota_milli, explanation) "
              "VALUES(?,?,?,?,?,0,?,?)",
              {id, s.region_code, list[i].students, list[i].shortage,
               int64_t{s.seats}, s.quota_milli, s.explanation});
          if (!a.ok()) return a.status();
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
  std::vector<std::pair<int64_t, int64_t>> good;  // (row, teacher)
  std::unordered_map<int64_t, int64_t> seen;
  for (int i = 0; i < req.teacher_ids_size(); ++i) {
    const int64_t rn = i + 1;
    auto id = ParseTeacherId("teacher_id", req.teacher_ids(i));
    if (!id.ok()) {
      AddRowErrors(rn, id.status(), &errors);
      continue;
    }
    auto [it, fresh] = seen.emplace(*id, rn);
    if (!fresh) {
      AddRowError(rn, "teacher_id",
                  absl::StrCat("duplicated in this request (first at row ",
                               it->second, ")"),
                  &errors);
      continue;
    }
    good.push_back({rn, *id});
  }
  call.AddRecord(absl::StrCat("programme:", req.programme_id()));
  return host_.requests().Run(
      call.principal, "EnrolTraining", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto prog = c.Query(
            "SELECT region_prefix FROM training_programmes WHERE id = ?",
            {req.programme_id()});
        if (!prog.ok()) return prog.status();
        if (prog->empty())
          return absl::NotFoundError("no such training programme");
        RETURN_IF_ERROR(
            internal::CheckOverlap(call.principal, prog->front().Str(0)));
        std::vector<cpb::RowError> tx_errors = errors;
        int64_t accepted = 0;
        const int64_t now = NowSec();
        for (const auto& [rn, teacher] : good) {
          auto t = c.Query(
              "SELECT region_code, active, school_code FROM teachers WHERE "
              "id = ?",
              {teacher});
          if (!t.ok()) return t.status();
          if (t->empty()) {
            AddRowError(rn, "teacher_id", "no such teacher", &tx_errors);
            continue;
          }
          const std::string county = t->front().Str(0);
          if (!call.principal.Covers(county)) {
            return absl::PermissionDeniedError(
                absl::StrCat("row ", rn,
                             ": the teacher lies outside the caller's region "
                             "scope; nobody was enrolled"));
          }
          if (!call.principal.CoversSchool(t->front().Str(2))) {
            return absl::PermissionDeniedError(
                absl::StrCat("row ", rn,
                             ": the teacher is not of the caller's school; "
                             "nobody was enrolled"));
          }
          if (t->front().Int(1) == 0) {
            AddRowError(rn, "teacher_id", "the teacher has left", &tx_errors);
            continue;
          }
          auto dup = c.Query(
              "SELECT 1 FROM training_enrolments WHERE programme_id = ? AND "
              "teacher_id = ?",
              {req.programme_id(), teacher});
          if (!dup.ok()) return dup.status();
          if (!dup->empty()) {
            AddRowError(rn, "teacher_id", "is already enrolled", &tx_errors);
            continue;
          }
          // A conditional increment: never more enrolled than seats, even
          // with concurrent enrolments.
          auto seat = c.Execute(
              "UPDATE training_allocations SET enrolled = enrolled + 1 WHERE "
              "programme_id = ? AND region_code = ? AND enrolled < seats",
              {req.programme_id(), county});
          if (!seat.ok()) return seat.status();
          if (*seat == 0) {
            auto a = c.Query(
                "SELECT seats FROM training_allocations WHERE programme_id = ? "
                "AND region_code = ?",
                {req.programme_id(), county});
            if (!a.ok()) return a.status();
            AddRowError(
                rn, "teacher_id",
                a->empty()
                    ? absl::StrCat(
                          "the programme allocates no seats to county ", county)
                    : absl::StrCat("county ", county, "'s ", a->front().Int(0),
                                   " seats are all taken"),
                &tx_errors);
            continue;
          }
          auto ins = c.Execute(
              "INSERT INTO training_enrolments(programme_id, teacher_id, "
              "region_code, enrolled_at, completed, passed, hours, "
              "certificate_ref, completed_at) VALUES(?,?,?,?,0,0,0,'',0)",
              {req.programme_id(), teacher, county, now});
          if (!ins.ok()) return ins.status();
          ++accepted;
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
  std::vector<std::pair<int64_t, bool>> marks;
  std::unordered_set<int64_t> seen;
  auto take = [&](const google::protobuf::RepeatedPtrField<std::string>& ids,
                  const char* field, bool present) -> absl::Status {
    for (int i = 0; i < ids.size(); ++i) {
      const std::string f = absl::StrCat(field, "[", i, "]");
      auto id = ParseTeacherId(f, ids.Get(i));
      if (!id.ok()) return id.status();
      if (!seen.insert(*id).second) return InvalidField(f, "is listed twice");
      marks.push_back({*id, present});
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(take(req.present_teacher_ids(), "present_teacher_ids", true));
  RETURN_IF_ERROR(take(req.absent_teacher_ids(), "absent_teacher_ids", false));
  call.AddRecord(absl::StrCat("programme:", req.programme_id(),
                              " session:", req.session_date()));
  return host_.requests().Run(
      call.principal, "RecordTrainingAttendance", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        for (const auto& [teacher, present] : marks) {
          auto e = c.Query(
              "SELECT e.region_code, e.completed, t.school_code FROM "
              "training_enrolments e JOIN teachers t ON t.id = e.teacher_id "
              "WHERE e.programme_id = ? AND e.teacher_id = ?",
              {req.programme_id(), teacher});
          if (!e.ok()) return e.status();
          if (e->empty()) {
            return WithReason(absl::StatusCode::kFailedPrecondition,
                              "NOT_ENROLLED",
                              absl::StrCat(TeacherIdString(teacher),
                                           " is not enrolled in the "
                                           "programme; nothing was recorded"));
          }
          RETURN_IF_ERROR(CheckRecordScope(call.principal, e->front().Str(0),
                                           e->front().Str(2)));
          auto up = c.Execute(
              "INSERT INTO training_attendance(programme_id, teacher_id, "
              "session_date, present) VALUES(?,?,?,?) ON CONFLICT("
              "programme_id, teacher_id, session_date) DO UPDATE SET present = "
              "excluded.present",
              {req.programme_id(), teacher, req.session_date(),
               int64_t{present}});
          if (!up.ok()) return up.status();
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
  auto teacher = ParseTeacherId("teacher_id", req.teacher_id());
  if (!teacher.ok()) return teacher.status();
  if (req.hours() < 0 || req.hours() > 1000) {
    return InvalidField("hours", "must be 0..1000");
  }
  RETURN_IF_ERROR(ValidateText("certificate_ref", req.certificate_ref(), 100,
                               req.passed()));
  call.AddRecord(
      absl::StrCat("programme:", req.programme_id(), " ", req.teacher_id()));
  absl::Status st = host_.requests().Run(
      call.principal, "CompleteTraining", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto e = c.Query(
            "SELECT e.region_code, e.completed, t.school_code, e.enrolled_at "
            "FROM training_enrolments e JOIN teachers t ON t.id = "
            "e.teacher_id WHERE e.programme_id = ? AND e.teacher_id = ?",
            {req.programme_id(), *teacher});
        if (!e.ok()) return e.status();
        if (e->empty()) {
          return WithReason(absl::StatusCode::kFailedPrecondition,
                            "NOT_ENROLLED",
                            "teacher_id: the teacher is not enrolled in the "
                            "programme");
        }
        RETURN_IF_ERROR(CheckRecordScope(call.principal, e->front().Str(0),
                                         e->front().Str(2)));
        if (e->front().Int(1) != 0) {
          return WithReason(absl::StatusCode::kFailedPrecondition,
                            "ALREADY_COMPLETED",
                            "teacher_id: completion is already recorded");
        }
        auto att = c.Query(
            "SELECT COALESCE(SUM(present), 0), COUNT(*) FROM "
            "training_attendance WHERE programme_id = ? AND teacher_id = ?",
            {req.programme_id(), *teacher});
        if (!att.ok()) return att.status();
        const int64_t present = att->front().Int(0);
        const int64_t sessions = att->front().Int(1);
        if (present == 0) {
          return WithReason(absl::StatusCode::kFailedPrecondition,
                            "NO_ATTENDANCE",
                            "teacher_id: no attended session is recorded");
        }
        const int64_t now = NowSec();
        auto up = c.Execute(
            "UPDATE training_enrolments SET completed = 1, passed = ?, "
            "hours = ?, certificate_ref = ?, completed_at = ? WHERE "
            "programme_id = ? AND teacher_id = ?",
            {int64_t{req.passed()}, int64_t{req.hours()}, req.certificate_ref(),
             now, req.programme_id(), *teacher});
        if (!up.ok()) return up.status();
        auto* out = resp->mutable_enrolment();
        out->set_teacher_id(req.teacher_id());
        out->set_region_code(e->front().Str(0));
        out->set_school_code(e->front().Str(2));
        out->set_sessions_present(static_cast<int32_t>(present));
        out->set_sessions_absent(static_cast<int32_t>(sessions - present));
        out->set_completed(true);
        out->set_passed(req.passed());
        out->set_hours(req.hours());
        out->set_certificate_ref(req.certificate_ref());
        out->set_enrolled_at(FormatTimestamp(e->front().Int(3) * 1000,
                                             TimestampPrecision::kSeconds));
        out->set_completed_at(
            FormatTimestamp(now * 1000, TimestampPrecision::kSeconds));
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  auto names = TeacherNames({*teacher}, call.principal);
  if (names.ok()) resp->mutable_enrolment()->set_name((*names)[*teacher]);
  return absl::OkStatus();
}

absl::Status TeacherSupport::GetTrainingProgramme(
    CallContext& call, const pb::GetTrainingProgrammeRequest& req,
    pb::GetTrainingProgrammeResponse* resp) {
  RETURN_IF_ERROR(ValidateProgrammeId(req.programme_id()));
  const Principal& p = call.principal;
  call.AddRecord(absl::StrCat("programme:", req.programme_id()));
  std::vector<int64_t> ids;
  absl::Status st = db_.Read([&](SqlConnection& c) -> absl::Status {
    auto prog =
        c.Query("SELECT region_prefix FROM training_programmes WHERE id = ?",
                {req.programme_id()});
    if (!prog.ok()) return prog.status();
    if (prog->empty()) return absl::NotFoundError("no such training programme");
    const Scope scope = internal::ScopeOf(p, prog->front().Str(0));
    if (scope == Scope::kNone) return CheckRegion(p, prog->front().Str(0));
    const std::string region = scope == Scope::kFull ? "" : p.region;
    RETURN_IF_ERROR(FillProgramme(c, req.programme_id(), region,
                                  resp->mutable_programme()));
    if (!req.include_enrolments()) return absl::OkStatus();
    const internal::SchoolScope school = internal::SchoolScopeOf(p);
    auto rows = c.Query(
        "SELECT e.teacher_id, e.region_code, t.school_code, e.enrolled_at, "
        "e.completed, e.passed, e.hours, e.certificate_ref, e.completed_at, "
        "(SELECT COALESCE(SUM(a.present), 0) FROM training_attendance a "
        " WHERE a.programme_id = e.programme_id AND a.teacher_id = "
        " e.teacher_id), "
        "(SELECT COUNT(*) FROM training_attendance a WHERE a.programme_id = "
        " e.programme_id AND a.teacher_id = e.teacher_id) "
        "FROM training_enrolments e JOIN teachers t ON t.id = e.teacher_id "
        "WHERE e.programme_id = ? AND e.region_code LIKE ? AND " +
            internal::SchoolClause("t.school_code") + " ORDER BY e.teacher_id",
        {req.programme_id(), region + "%", school.only, school.school});
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) {
      auto* e = resp->add_enrolments();
      ids.push_back(r.Int(0));
      e->set_teacher_id(TeacherIdString(r.Int(0)));
      e->set_region_code(r.Str(1));
      e->set_school_code(r.Str(2));
      e->set_enrolled_at(
          FormatTimestamp(r.Int(3) * 1000, TimestampPrecision::kSeconds));
      e->set_completed(r.Int(4) != 0);
      e->set_passed(r.Int(5) != 0);
      e->set_hours(static_cast<int32_t>(r.Int(6)));
      e->set_certificate_ref(r.Str(7));
      e->set_completed_at(
          FormatTimestamp(r.Int(8) * 1000, TimestampPrecision::kSeconds));
      e->set_sessions_present(static_cast<int32_t>(r.Int(9)));
      e->set_sessions_absent(static_cast<int32_t>(r.Int(10) - r.Int(9)));
    }
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  auto names = TeacherNames(ids, p);
  if (!names.ok()) return names.status();
  for (auto& e : *resp->mutable_enrolments()) {
    auto id = ParseTeacherId("teacher_id", e.teacher_id());
    if (id.ok()) e.set_name((*names)[*id]);
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
  auto size = ValidatePageSize("page_size", req.page_size(), 50, 500);
  if (!size.ok()) return size.status();
  auto region = ScopeRegionFilter(call.principal, req.region_prefix());
  if (!region.ok()) return region.status();
  const std::string filters = absl::StrCat("programmes|", *region);
  auto after = DecodeIdCursor(req.page_token(), filters);
  if (!after.ok()) return after.status();
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    auto ids = c.Query(
        "SELECT id, region_prefix FROM training_programmes WHERE "
        "(region_prefix LIKE ? OR ? LIKE region_prefix || '%') AND id > ? "
        "ORDER BY id LIMIT ?",
        {*region + "%", *region, *after, int64_t{*size + 1}});
    if (!ids.ok()) return ids.status();
    for (size_t i = 0; i < ids->size() && i < static_cast<size_t>(*size); ++i) {
      const std::string scope =
          internal::ScopeOf(call.principal, (*ids)[i].Str(1)) == Scope::kFull
              ? ""
              : call.principal.region;
      RETURN_IF_ERROR(
          FillProgramme(c, (*ids)[i].Int(0), scope, resp->add_programmes()));
    }
    if (ids->size() > static_cast<size_t>(*size)) {
      resp->set_next_page_token(
          EncodePageToken(absl::StrCat((*ids)[*size - 1].Int(0)), filters));
    }
    return absl::OkStatus();
  });
}

}  // namespace eduaid::teacher
