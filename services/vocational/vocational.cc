// The catalogue, applications, the waitlist and withdrawals.
#include "services/vocational/vocational.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "services/common/cache.h"
#include "services/common/crypto.h"
#include "services/common/idempotency.h"
#include "services/common/log.h"
#include "services/common/page_token.h"
#include "services/common/status.h"
#include "services/common/validate.h"
#include "services/vocational/vocational_internal.h"

namespace eduaid::vocational {

using internal::kClass;
using internal::kCompleted;
using internal::kEnrolled;
using internal::kMajor;
using internal::kWaitlisted;
using internal::kWithdrawn;

namespace {

constexpr char kCourseColumns[] =
    "code, kind, name, region_code, capacity, trade, school_code, "
    "school_name, term_year, term_season, duration_years, provider, "
    "location, schedule, start_date, end_date, total_hours, taken, "
    "updated_at";

// kCourseColumns plus the enrolled, waitlisted and completed counts.
constexpr char kCourseSelectWithCounts[] =
    "SELECT code, kind, name, region_code, capacity, trade, school_code, "
    "school_name, term_year, term_season, duration_years, provider, "
    "location, schedule, start_date, end_date, total_hours, taken, "
    "updated_at, "
    "(SELECT COUNT(*) FROM applications a WHERE a.course_code = courses.code "
    " AND a.state = 1), "
    "(SELECT COUNT(*) FROM applications a WHERE a.course_code = courses.code "
    " AND a.state = 2), "
    "(SELECT COUNT(*) FROM applications a WHERE a.course_code = courses.code "
    " AND a.state = 4) "
    "FROM courses ";

constexpr char kApplicationSelect[] =
    "SELECT a.id, a.course_code, c.name, a.kind, a.member_id, a.name_enc, "
    "a.member_region, a.course_region, a.household_status, a.state, "
    "a.free_tuition, a.boarder, a.offer_id, a.applied_at, a.enrolled_at, "
    "a.closed_at, a.promoted, a.withdraw_reason, a.completed_on, "
    "a.certificate_no, a.certificate_name, a.outcome, a.employer, "
    "a.monthly_income_fen, a.outcome_on, a.note, a.tier, "
    "(SELECT COUNT(*) FROM attendance t WHERE t.application_id = a.id), "
    "(SELECT COALESCE(SUM(t.present), 0) FROM attendance t "
    " WHERE t.application_id = a.id), "
    "(SELECT COALESCE(SUM(t.hours), 0) FROM attendance t "
    " WHERE t.application_id = a.id), c.school_code "
    "FROM applications a JOIN courses c ON c.code = a.course_code ";

const char* KindLabel(int64_t kind) {
  return kind == kMajor ? "major" : "training_class";
}

pb::Course CourseFromRow(const SqlRow& r, bool with_counts) {
  pb::Course c;
  c.set_code(r.Str(0));
  c.set_kind(static_cast<pb::CourseKind>(r.Int(1)));
  c.set_name(r.Str(2));
  c.set_region_code(r.Str(3));
  c.set_capacity(static_cast<int32_t>(r.Int(4)));
  c.set_trade(r.Str(5));
  c.set_school_code(r.Str(6));
  c.set_school_name(r.Str(7));
  if (r.Int(8) != 0) {
    c.mutable_intake_term()->set_year(static_cast<int32_t>(r.Int(8)));
    c.mutable_intake_term()->set_season(static_cast<cpb::Season>(r.Int(9)));
  }
  c.set_duration_years(static_cast<int32_t>(r.Int(10)));
  c.set_provider(r.Str(11));
  c.set_location(r.Str(12));
  c.set_schedule(r.Str(13));
  c.set_start_date(r.Str(14));
  c.set_end_date(r.Str(15));
  c.set_total_hours(static_cast<int32_t>(r.Int(16)));
  const int64_t taken = r.Int(17);
  c.set_fill_rate_bp(
      r.Int(4) > 0 ? static_cast<int32_t>(taken * 10000 / r.Int(4)) : 0);
  c.set_updated_at(internal::FormatTs(r.Int(18)));
  if (with_counts) {
    c.set_enrolled(static_cast<int32_t>(r.Int(19)));
    c.set_waitlisted(static_cast<int32_t>(r.Int(20)));
    c.set_completed(static_cast<int32_t>(r.Int(21)));
  }
  return c;
}

std::string CourseCacheKey(const std::string& code) {
  return CacheKey("vocational", "course", code);
}

// Field violations of a course; empty when valid.
std::vector<FieldViolation> ValidateCourse(const pb::Course& c) {
  std::vector<FieldViolation> v;
  auto add = [&v](const absl::Status& st) {
    for (auto& f : FieldViolationsOf(st)) {
      v.push_back({absl::StrCat("course.", f.field), f.rule});
    }
  };
  auto must_be_empty = [&v](bool set, const char* field, const char* kind) {
    if (set) {
      v.push_back({absl::StrCat("course.", field),
                   absl::StrCat("must be empty for a ", kind)});
    }
  };
  if (!internal::IsCode(c.code(), 32)) {
    v.push_back({"course.code", "must be 1..32 of A-Z a-z 0-9 -"});
  }
  if (c.kind() != pb::COURSE_KIND_MAJOR &&
      c.kind() != pb::COURSE_KIND_TRAINING_CLASS) {
    v.push_back({"course.kind",
                 "must be COURSE_KIND_MAJOR or COURSE_KIND_TRAINING_CLASS"});
  }
  add(ValidateText("name", c.name(), 100));
  add(ValidateRegionCode("region_code", c.region_code()));
  if (c.capacity() < 1 || c.capacity() > 10000) {
    v.push_back({"course.capacity", "must be 1..10000"});
  }
  add(ValidateText("trade", c.trade(), 50, /*required=*/false));
  if (c.kind() == pb::COURSE_KIND_MAJOR) {
    if (!internal::IsCode(c.school_code(), 20)) {
      v.push_back({"course.school_code", "must be 1..20 of A-Z a-z 0-9 -"});
    }
    add(ValidateText("school_name", c.school_name(), 100));
    add(internal::ValidateTerm("intake_term", c.intake_term()));
    if (c.duration_years() < 0 || c.duration_years() > 5) {
      v.push_back({"course.duration_years", "must be 1..5 (0 = 3)"});
    }
    must_be_empty(!c.provider().empty(), "provider", "major");
    must_be_empty(!c.location().empty(), "location", "major");
    must_be_empty(!c.schedule().empty(), "schedule", "major");
    must_be_empty(!c.start_date().empty(), "start_date", "major");
    must_be_empty(!c.end_date().empty(), "end_date", "major");
    must_be_empty(c.total_hours() != 0, "total_hours", "major");
  } else if (c.kind() == pb::COURSE_KIND_TRAINING_CLASS) {
    add(ValidateText("provider", c.provider(), 100));
    add(ValidateText("location", c.location(), 100));
    add(ValidateText("schedule", c.schedule(), 100));
    absl::Status start = ValidateDate("start_date", c.start_date());
    absl::Status end = ValidateDate("end_date", c.end_date());
    add(start);
    add(end);
    if (start.ok() && end.ok() && c.end_date() < c.start_date()) {
      v.push_back({"course.end_date", "must not be before start_date"});
    }
    if (c.total_hours() < 1 || c.total_hours() > 2000) {
      v.push_back({"course.total_hours", "must be 1..2000"});
    }
    must_be_empty(!c.school_code().empty(), "school_code", "training class");
    must_be_empty(!c.school_name().empty(), "school_name", "training class");
    must_be_empty(c.has_intake_term(), "intake_term", "training class");
    must_be_empty(c.duration_years() != 0, "duration_years", "training class");
  }
  return v;
}

}  // namespace

VocationalTraining::VocationalTraining(ServiceHost& host,
                                       VocationalOptions options)
    : host_(host),
      db_(host.db()),
      options_(std::move(options)),
      registry_channel_(
          host.Peer(options_.registry_target, options_.registry_deadline)),
      registry_(
          rpb::StudentRegistryService::NewStub(registry_channel_->channel())),
      outbox_(host.db(), host.crypto(),
              host.Peer(options_.ledger_target, options_.ledger_deadline),
              host.metrics(), options_.outbox),
      enrolments_(prometheus::BuildCounter()
                      .Name("eduaid_vocational_enrolments_total")
                      .Help("Places taken (at application or from the "
                            "waitlist), by course kind and county of the "
                            "course")
                      .Register(host.metrics())),
      offers_created_(prometheus::BuildCounter()
                          .Name("eduaid_vocational_offers_created_total")
                          .Help("Offers of free vocational enrolment made to "
                                "junior-high graduates, by county")
                          .Register(host.metrics())),
      fill_ratio_(prometheus::BuildGauge()
                      .Name("eduaid_vocational_fill_ratio")
                      .Help("Places taken / capacity, per course code")
                      .Register(host.metrics())),
      waitlist_length_(prometheus::BuildGauge()
                           .Name("eduaid_vocational_waitlist_length")
                           .Help("Applicants on the waitlist, per course code")
                           .Register(host.metrics())) {}

VocationalTraining::~VocationalTraining() { StopGrantDelivery(); }

absl::Status VocationalTraining::Start() {
  std::vector<std::string> codes;
  absl::Status st = db_.Read([&](SqlConnection& c) -> absl::Status {
    auto rows = c.Query("SELECT code FROM courses ORDER BY code");
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) codes.push_back(r.Str(0));
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  RefreshCourseGauges(codes);
  return outbox_.Start();
}

void VocationalTraining::StopGrantDelivery() { outbox_.Stop(); }

std::string VocationalTraining::Decrypt(const std::string& enc) const {
  if (enc.empty()) return "";
  auto plain = host_.crypto().Decrypt(enc, internal::kCtxApplicantName);
  return plain.ok() ? *plain : "";
}

std::string VocationalTraining::ShowName(const Principal& p,
                                         const std::string& name_enc) const {
  std::string name = Decrypt(name_enc);
  return p.SeesPersonalData() ? name : MaskName(name);
}

absl::Status VocationalTraining::RestoreNames(
    const Principal& p, const std::vector<pb::Application*>& apps) {
  if (apps.empty()) return absl::OkStatus();
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    for (pb::Application* a : apps) {
      auto r = c.Query("SELECT name_enc FROM applications WHERE id = ?",
                       {a->application_id()});
      if (!r.ok()) return r.status();
      if (!r->empty()) a->set_name(ShowName(p, r->front().Str(0)));
    }
    return absl::OkStatus();
  });
}

bool VocationalTraining::Answered(const Principal& caller,
                                  const std::string& request_id) {
  auto seen = host_.requests().Seen(caller, request_id);
  return seen.ok() && *seen;
}

void VocationalTraining::RefreshCourseGauges(
    const std::vector<std::string>& codes) {
  if (codes.empty()) return;
  (void)db_.Read([&](SqlConnection& c) -> absl::Status {
    for (const auto& code : codes) {
      auto r = c.Query(
          "SELECT capacity, taken, (SELECT COUNT(*) FROM applications a "
          "WHERE a.course_code = courses.code AND a.state = 2) "
          "FROM courses WHERE code = ?",
          {code});
      if (!r.ok()) return r.status();
      if (r->empty()) continue;
      const SqlRow& row = r->front();
      fill_ratio_.Add({{"course", code}})
          .Set(row.Int(0) > 0 ? static_cast<double>(row.Int(1)) /
                                    static_cast<double>(row.Int(0))
                              : 0.0);
      waitlist_length_.Add({{"course", code}})
          .Set(static_cast<double>(row.Int(2)));
    }
    return absl::OkStatus();
  });
}

void VocationalTraining::AfterCommit(const Effects& fx) {
  if (fx.grants_queued) outbox_.Notify();
  for (const auto& [kind, region] : fx.enrolled_labels) {
    enrolments_.Add({{"kind", kind}, {"region", region}}).Increment();
  }
  std::set<std::string> unique(fx.courses.begin(), fx.courses.end());
  std::vector<std::string> codes(unique.begin(), unique.end());
  RefreshCourseGauges(codes);
  std::vector<std::string> keys;
  for (const auto& code : codes) keys.push_back(CourseCacheKey(code));
  if (!keys.empty()) host_.cache().Invalidate(keys);
  if (fx.grants_queued) (void)outbox_.RefreshBacklog();
}

// ---------------------------------------------------------------- courses

absl::StatusOr<VocationalTraining::CourseRow> VocationalTraining::ReadCourse(
    SqlConnection& c, const std::string& code) {
  auto rows = c.Query(
      absl::StrCat("SELECT ", kCourseColumns, " FROM courses WHERE code = ?"),
      {code});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return absl::NotFoundError("course_code: no such course");
  const SqlRow& r = rows->front();
  CourseRow row;
  row.code = r.Str(0);
  row.kind = r.Int(1);
  row.name = r.Str(2);
  row.region = r.Str(3);
  row.capacity = r.Int(4);
  row.trade = r.Str(5);
  row.school_code = r.Str(6);
  row.school_name = r.Str(7);
  row.intake.set_year(static_cast<int32_t>(r.Int(8)));
  row.intake.set_season(static_cast<cpb::Season>(r.Int(9)));
  row.duration_years = r.Int(10);
  row.provider = r.Str(11);
  row.location = r.Str(12);
  row.schedule = r.Str(13);
  row.start_date = r.Str(14);
  row.end_date = r.Str(15);
  row.total_hours = r.Int(16);
  row.taken = r.Int(17);
  row.updated_at = r.Int(18);
  return row;
}

absl::StatusOr<VocationalTraining::CourseRow> VocationalTraining::LockCourse(
    SqlConnection& c, const std::string& code) {
  // A write to the row: on PostgreSQL it holds the row lock until the
  // transaction ends, so concurrent place changes of one course run one
  // after the other; on SQLite the writer lock already serialises them.
  auto locked = c.Execute(
      "UPDATE courses SET lock_seq = lock_seq + 1 WHERE code = ?", {code});
  if (!locked.ok()) return locked.status();
  if (*locked == 0) return absl::NotFoundError("course_code: no such course");
  return ReadCourse(c, code);
}

absl::StatusOr<pb::Course> VocationalTraining::CourseWithCounts(
    SqlConnection& c, const CourseRow& row) {
  auto rows = c.Query(absl::StrCat(kCourseSelectWithCounts, "WHERE code = ?"),
                      {row.code});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return absl::NotFoundError("course_code: no such course");
  return CourseFromRow(rows->front(), /*with_counts=*/true);
}

absl::Status VocationalTraining::UpsertCourse(
    CallContext& call, const pb::UpsertCourseRequest& req,
    pb::UpsertCourseResponse* resp) {
  VOC_RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  pb::Course course = req.course();
  std::vector<FieldViolation> v = ValidateCourse(course);
  if (!v.empty()) return InvalidFields(v);
  if (course.kind() == pb::COURSE_KIND_MAJOR && course.duration_years() == 0) {
    course.set_duration_years(3);
  }
  const Principal& p = call.principal;
  if (!internal::IsOfficerOrService(p) && p.role != Role::kSchoolOfficer) {
    return absl::PermissionDeniedError(
        "only officers may change the catalogue");
  }
  VOC_RETURN_IF_ERROR(CheckRegion(p, course.region_code()));
  VOC_RETURN_IF_ERROR(CheckSchool(p, course.school_code()));
  call.AddRecord(absl::StrCat("course:", course.code()));
  Effects fx;
  absl::Status st = host_.requests().Run(
      call.principal, "UpsertCourse", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        fx = Effects{};
        fx.courses.push_back(course.code());
        const int64_t now = internal::NowMs();
        auto exists =
            c.Query("SELECT 1 FROM courses WHERE code = ?", {course.code()});
        if (!exists.ok()) return exists.status();
        if (exists->empty()) {
          auto ins = c.Execute(
              "INSERT INTO courses(code, kind, name, region_code, capacity, "
              "trade, school_code, school_name, term_year, term_season, "
              "duration_years, provider, location, schedule, start_date, "
              "end_date, total_hours, taken, lock_seq, created_at, "
              "updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,0,?,?)",
              {course.code(), int64_t{course.kind()}, course.name(),
               course.region_code(), int64_t{course.capacity()}, course.trade(),
               course.school_code(), course.school_name(),
               int64_t{course.intake_term().year()},
               int64_t{course.intake_term().season()},
               int64_t{course.duration_years()}, course.provider(),
               course.location(), course.schedule(), course.start_date(),
               course.end_date(), int64_t{course.total_hours()}, now, now});
          if (!ins.ok()) return ins.status();
          resp->set_created(true);
        } else {
          auto old = LockCourse(c, course.code());
          if (!old.ok()) return old.status();
          VOC_RETURN_IF_ERROR(CheckRegion(p, old->region));
          VOC_RETURN_IF_ERROR(CheckSchool(p, old->school_code));
          if (old->kind != course.kind()) {
            return WithReason(absl::StatusCode::kFailedPrecondition,
                              "KIND_CHANGE",
                              "course.kind: a course keeps its kind; create "
                              "a new code instead");
          }
          if (course.capacity() < old->taken) {
            return WithReason(
                absl::StatusCode::kFailedPrecondition,
                "CAPACITY_BELOW_ENROLLED",
                absl::StrCat("course.capacity: ", old->taken,
                             " places are taken; capacity cannot go below"));
          }
          if (old->kind == kMajor &&
              internal::TermKey(old->intake) !=
                  internal::TermKey(course.intake_term())) {
            auto held = c.Query(
                "SELECT COUNT(*) FROM applications WHERE course_code = ?",
                {course.code()});
            if (!held.ok()) return held.status();
            if (held->front().Int(0) > 0) {
              return WithReason(
                  absl::StatusCode::kFailedPrecondition, "INTAKE_CHANGE",
                  "course.intake_term: the intake has applications; each "
                  "intake is a course of its own");
            }
          }
          auto up = c.Execute(
              "UPDATE courses SET name = ?, region_code = ?, capacity = ?, "
              "trade = ?, school_code = ?, school_name = ?, term_year = ?, "
              "term_season = ?, duration_years = ?, provider = ?, "
              "location = ?, schedule = ?, start_date = ?, end_date = ?, "
              "total_hours = ?, updated_at = ? WHERE code = ?",
              {course.name(), course.region_code(), int64_t{course.capacity()},
               course.trade(), course.school_code(), course.school_name(),
               int64_t{course.intake_term().year()},
               int64_t{course.intake_term().season()},
               int64_t{course.duration_years()}, course.provider(),
               course.location(), course.schedule(), course.start_date(),
               course.end_date(), int64_t{course.total_hours()}, now,
               course.code()});
          if (!up.ok()) return up.status();
          if (old->region != course.region_code()) {
            auto moved = c.Execute(
                "UPDATE applications SET course_region = ? WHERE "
                "course_code = ?",
                {course.region_code(), course.code()});
            if (!moved.ok()) return moved.status();
          }
          if (course.capacity() > old->capacity) {
            auto now_row = ReadCourse(c, course.code());
            if (!now_row.ok()) return now_row.status();
            VOC_RETURN_IF_ERROR(PromoteWaitlisted(
                c, *now_row, now_row->capacity - now_row->taken, p,
                resp->mutable_promoted(), &fx));
          }
        }
        auto row = ReadCourse(c, course.code());
        if (!row.ok()) return row.status();
        auto full = CourseWithCounts(c, *row);
        if (!full.ok()) return full.status();
        *resp->mutable_course() = std::move(*full);
        for (auto& pa : *resp->mutable_promoted()) pa.clear_name();
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  std::vector<pb::Application*> shown;
  for (auto& a : *resp->mutable_promoted()) shown.push_back(&a);
  VOC_RETURN_IF_ERROR(RestoreNames(p, shown));
  AfterCommit(fx);
  return absl::OkStatus();
}

absl::Status VocationalTraining::GetCourse(CallContext& call,
                                           const pb::GetCourseRequest& req,
                                           pb::GetCourseResponse* resp) {
  if (!internal::IsCode(req.code(), 32)) {
    return InvalidField("code", "must be 1..32 of A-Z a-z 0-9 -");
  }
  const std::string key = CourseCacheKey(req.code());
  pb::Course course;
  bool cached = false;
  if (auto hit = host_.cache().Get(key)) cached = course.ParseFromString(*hit);
  if (!cached) {
    VOC_RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
      auto rows =
          c.Query(absl::StrCat(kCourseSelectWithCounts, "WHERE code = ?"),
                  {req.code()});
      if (!rows.ok()) return rows.status();
      if (rows->empty()) return absl::NotFoundError("code: no such course");
      course = CourseFromRow(rows->front(), /*with_counts=*/true);
      return absl::OkStatus();
    }));
    host_.cache().Set(key, course.SerializeAsString(),
                      std::chrono::seconds(60));
  }
  VOC_RETURN_IF_ERROR(CheckRecordScope(call.principal, course.region_code(),
                                       course.school_code()));
  *resp->mutable_course() = std::move(course);
  return absl::OkStatus();
}

absl::Status VocationalTraining::ListCourses(CallContext& call,
                                             const pb::ListCoursesRequest& req,
                                             pb::ListCoursesResponse* resp) {
  VOC_RETURN_IF_ERROR(
      ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (!pb::CourseKind_IsValid(req.kind())) {
    return InvalidField("kind", "is not a known course kind");
  }
  auto size = ValidatePageSize("page_size", req.page_size(), 100, 1000);
  if (!size.ok()) return size.status();
  auto region = ScopeRegionFilter(call.principal, req.region_prefix());
  if (!region.ok()) return region.status();
  const std::string filters =
      absl::StrCat("courses|", *region, "|", req.kind());
  auto last = DecodePageToken(req.page_token(), filters);
  if (!last.ok()) return last.status();
  const internal::SchoolScope school = internal::SchoolScopeOf(call.principal);
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    auto rows = c.Query(
        absl::StrCat(kCourseSelectWithCounts,
                     "WHERE region_code LIKE ? AND (? = 0 OR kind = ?) AND ",
                     internal::SchoolClause("school_code"),
                     " AND code > ? ORDER BY code LIMIT ?"),
        {*region + "%", int64_t{req.kind()}, int64_t{req.kind()}, school.only,
         school.school, *last, int64_t{*size + 1}});
    if (!rows.ok()) return rows.status();
    for (size_t i = 0; i < rows->size() && i < static_cast<size_t>(*size);
         ++i) {
      *resp->add_courses() = CourseFromRow((*rows)[i], /*with_counts=*/true);
    }
    if (rows->size() > static_cast<size_t>(*size)) {
      resp->set_next_page_token(
          EncodePageToken(resp->courses(*size - 1).code(), filters));
    }
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------- applications

void VocationalTraining::FillApplication(const SqlRow& r, const Principal& p,
                                         pb::Application* a) const {
  a->set_application_id(r.Int(0));
  a->set_course_code(r.Str(1));
  a->set_course_name(r.Str(2));
  a->set_kind(static_cast<pb::CourseKind>(r.Int(3)));
  a->set_member_id(r.Str(4));
  a->set_name(ShowName(p, r.Str(5)));
  a->set_member_region_code(r.Str(6));
  a->set_course_region_code(r.Str(7));
  a->set_household_status(static_cast<cpb::HouseholdStatus>(r.Int(8)));
  a->set_state(static_cast<pb::ApplicationState>(r.Int(9)));
  a->set_free_tuition(r.Int(10) != 0);
  a->set_boarder(r.Int(11) != 0);
  a->set_offer_id(r.Int(12));
  a->set_applied_at(internal::FormatTs(r.Int(13)));
  a->set_enrolled_at(internal::FormatTs(r.Int(14)));
  a->set_closed_at(internal::FormatTs(r.Int(15)));
  a->set_promoted(r.Int(16) != 0);
  a->set_withdraw_reason(r.Str(17));
  a->set_completed_on(r.Str(18));
  a->set_certificate_no(r.Str(19));
  a->set_certificate_name(r.Str(20));
  a->set_outcome(static_cast<pb::Outcome>(r.Int(21)));
  a->set_employer(r.Str(22));
  a->set_monthly_income_fen(r.Int(23));
  a->set_outcome_on(r.Str(24));
  a->set_note(r.Str(25));
  a->set_attendance_days(static_cast<int32_t>(r.Int(27)));
  a->set_present_days(static_cast<int32_t>(r.Int(28)));
  a->set_present_hours(static_cast<int32_t>(r.Int(29)));
  a->set_course_school_code(r.Str(30));
}

absl::Status VocationalTraining::FillWaitlistPosition(SqlConnection& c,
                                                      pb::Application* a,
                                                      int64_t tier,
                                                      int64_t applied_at_ms) {
  auto r = c.Query(
      "SELECT COUNT(*), COALESCE(SUM(CASE WHEN tier < ? THEN 1 ELSE 0 END), 0) "
      "FROM applications WHERE course_code = ? AND state = 2 AND (tier < ? OR "
      "(tier = ? AND (applied_at < ? OR (applied_at = ? AND id < ?))))",
      {tier, a->course_code(), tier, tier, applied_at_ms, applied_at_ms,
       a->application_id()});
  if (!r.ok()) return r.status();
  const int64_t ahead = r->front().Int(0);
  const int64_t higher = r->front().Int(1);
  const int64_t position = ahead + 1;
  a->set_waitlist_position(static_cast<int32_t>(position));
  a->set_waitlist_reason(
      absl::StrCat("position ", position, " (第", position, "位): tier ", tier,
                   " of ", internal::TierCount(a->kind()), ", ",
                   internal::TierLabel(a->kind(), tier), "; ahead: ", higher,
                   " in higher tiers, ", ahead - higher,
                   " of the same tier who applied earlier"));
  return absl::OkStatus();
}

absl::StatusOr<pb::Application> VocationalTraining::LoadApplication(
    SqlConnection& c, int64_t id, const Principal& p, bool with_grants) {
  auto rows = c.Query(absl::StrCat(kApplicationSelect, "WHERE a.id = ?"), {id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return absl::NotFoundError("application_id: no such application");
  }
  pb::Application a;
  FillApplication(rows->front(), p, &a);
  if (a.state() == pb::APPLICATION_STATE_WAITLISTED) {
    VOC_RETURN_IF_ERROR(FillWaitlistPosition(c, &a, rows->front().Int(26),
                                             rows->front().Int(13)));
  }
  if (with_grants) {
    auto grants = c.Query(
        absl::StrCat("SELECT ", internal::kGrantColumns,
                     " FROM grant_outbox WHERE application_id = ? ORDER BY id"),
        {id});
    if (!grants.ok()) return grants.status();
    for (const auto& g : *grants) internal::FillGrant(g, a.add_grants());
  }
  return a;
}

absl::StatusOr<int> VocationalTraining::QueueGrants(SqlConnection& c,
                                                    int64_t id,
                                                    const CourseRow& course,
                                                    const cpb::Term& term,
                                                    const Principal& originator) {
  auto rows = c.Query(
      "SELECT member_id, member_region, name_enc, boarder FROM applications "
      "WHERE id = ?",
      {id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return absl::InternalError("application vanished");
  const SqlRow& r = rows->front();
  const int grade =
      1 +
      (internal::TermOrdinal(term) - internal::TermOrdinal(course.intake)) / 2;
  const std::string name = Decrypt(r.Str(2));
  if (name.empty()) {
    return absl::DataLossError("applicant name cannot be decrypted (key?)");
  }
  int queued = 0;
  for (const auto& programme : options_.grant_programmes) {
    lpb::CreateEntitlementRequest e;
    e.set_member_id(r.Str(0));
    e.set_programme_code(programme);
    *e.mutable_term() = term;
    e.set_region_code(r.Str(1));
    e.set_school_code(course.school_code);
    e.set_school_name(course.school_name);
    e.set_stage(cpb::SCHOOL_STAGE_SECONDARY_VOCATIONAL);
    e.set_grade(grade);
    e.set_boarder(r.Int(3) != 0);
    e.set_amount_fen(0);
    e.set_reason(internal::TruncateUtf8(
        absl::StrCat("中职", grade, "年级 ", internal::TermLabel(term), " ",
                     course.name, " (", course.code,
                     ") vocational application ", id),
        200));
    e.set_payee_name(name);
    auto added = outbox_.Enqueue(c, id, r.Str(1), internal::TermKey(term),
                                 originator.subject, e);
    if (!added.ok()) return added.status();
    if (*added) ++queued;
  }
  return queued;
}

absl::Status VocationalTraining::PromoteWaitlisted(
    SqlConnection& c, const CourseRow& course, int64_t seats,
    const Principal& p,
    google::protobuf::RepeatedPtrField<pb::Application>* promoted,
    Effects* fx) {
  if (seats <= 0) return absl::OkStatus();
  auto next = c.Query(
      "SELECT id FROM applications WHERE course_code = ? AND state = 2 "
      "ORDER BY tier, applied_at, id LIMIT ?",
      {course.code, seats});
  if (!next.ok()) return next.status();
  const int64_t now = internal::NowMs();
  for (const auto& row : *next) {
    const int64_t id = row.Int(0);
    auto seat = c.Execute(
        "UPDATE courses SET taken = taken + 1 WHERE code = ? AND "
        "taken < capacity",
        {course.code});
    if (!seat.ok()) return seat.status();
    if (*seat != 1) break;
    auto up = c.Execute(
        "UPDATE applications SET state = 1, enrolled_at = ?, promoted = 1 "
        "WHERE id = ? AND state = 2",
        {now, id});
    if (!up.ok()) return up.status();
    if (*up != 1) return absl::AbortedError("waitlist changed meanwhile");
    if (course.kind == kMajor) {
      auto queued = QueueGrants(c, id, course, course.intake, p);
      if (!queued.ok()) return queued.status();
      fx->grants_queued |= *queued > 0;
    }
    ++fx->enrolled;
    fx->enrolled_labels.push_back({KindLabel(course.kind), course.region});
    auto a = LoadApplication(c, id, p, /*with_grants=*/false);
    if (!a.ok()) return a.status();
    *promoted->Add() = std::move(*a);
  }
  return absl::OkStatus();
}

absl::Status VocationalTraining::Apply(CallContext& call,
                                       const pb::ApplyRequest& req,
                                       pb::ApplyResponse* resp) {
  std::vector<FieldViolation> v;
  auto check = [&v](const absl::Status& s) {
    for (auto& f : FieldViolationsOf(s)) v.push_back(std::move(f));
  };
  check(ValidateRequestId("request_id", req.request_id()));
  if (!internal::IsCode(req.course_code(), 32)) {
    v.push_back({"course_code", "must be 1..32 of A-Z a-z 0-9 -"});
  }
  check(internal::ValidateMemberId("member_id", req.member_id()));
  check(ValidateText("note", req.note(), 200, /*required=*/false));
  if (!v.empty()) return InvalidFields(v);
  const Principal& p = call.principal;
  call.AddRecord(absl::StrCat("course:", req.course_code()));
  call.AddRecord(req.member_id());

  // The registry is asked before the transaction (never inside it), and not
  // at all for a request already answered.
  rpb::Student member;
  const bool answered = Answered(call.principal, req.request_id());
  if (!answered) {
    CourseRow course;
    VOC_RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
      auto row = ReadCourse(c, req.course_code());
      if (!row.ok()) return row.status();
      course = std::move(*row);
      return absl::OkStatus();
    }));
    // School officers apply only to their own school's majors.
    VOC_RETURN_IF_ERROR(CheckSchool(p, course.school_code));
    // The caller acts for the applicant's household: its county must lie
    // in the caller's scope (the course may be taught elsewhere).
    auto fetched = FetchMemberInScope(p, "member_id", req.member_id());
    if (fetched.status().code() == absl::StatusCode::kNotFound) {
      call.NoteHiddenDenial(req.member_id());
    }
    if (!fetched.ok()) return fetched.status();
    member = std::move(*fetched);
    if (member.household_status() != cpb::HOUSEHOLD_STATUS_POOR &&
        member.household_status() != cpb::HOUSEHOLD_STATUS_LIFTED) {
      return WithReason(absl::StatusCode::kFailedPrecondition, "NOT_REGISTERED",
                        "member_id: the household is not registered as poor "
                        "or lifted out of poverty");
    }
    if (course.kind == kMajor) {
      const auto& cur = member.current_enrolment();
      if (cur.status() == rpb::ENROLMENT_STATUS_ENROLLED ||
          cur.status() == rpb::ENROLMENT_STATUS_SUSPENDED) {
        return WithReason(
            absl::StatusCode::kFailedPrecondition, "IN_SCHOOL",
            absl::StrCat("member_id: the registry shows the member enrolled "
                         "at school ",
                         cur.school_code(), " (",
                         cpb::SchoolStage_Name(cur.stage()),
                         "); a change of school goes through the registry"));
      }
    } else {
      const int age = AgeOn(member.birth_date(), course.start_date);
      if (age < 16 || age > 60) {
        return WithReason(
            absl::StatusCode::kFailedPrecondition, "NOT_WORKING_AGE",
            absl::StrCat("member_id: skills-training classes take members "
                         "aged 16..60 on the start date; this member is ",
                         age));
      }
    }
  }

  Effects fx;
  const std::string today = TodayCst();
  absl::Status st = host_.requests().Run(
      call.principal, "Apply", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        fx = Effects{};
        if (answered || member.member_id().empty()) {
          return absl::AbortedError("request log changed meanwhile; retry");
        }
        auto course = LockCourse(c, req.course_code());
        if (!course.ok()) return course.status();
        fx.courses.push_back(course->code);
        auto prior = c.Query(
            "SELECT id, state FROM applications WHERE course_code = ? AND "
            "member_id = ?",
            {course->code, req.member_id()});
        if (!prior.ok()) return prior.status();
        if (!prior->empty()) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "ALREADY_APPLIED",
              absl::StrCat(
                  "member_id: already applied for this course "
                  "(application ",
                  prior->front().Int(0), ", ",
                  pb::ApplicationState_Name(
                      static_cast<pb::ApplicationState>(prior->front().Int(1))),
                  ")"));
        }
        bool holds_offer = false;
        int64_t offer_id = 0;
        if (course->kind == kMajor) {
          auto other = c.Query(
              "SELECT id, course_code FROM applications WHERE member_id = ? "
              "AND kind = 1 AND state IN (1, 2)",
              {req.member_id()});
          if (!other.ok()) return other.status();
          if (!other->empty()) {
            return WithReason(
                absl::StatusCode::kFailedPrecondition, "ALREADY_IN_A_MAJOR",
                absl::StrCat("member_id: already enrolled or waitlisted in "
                             "major ",
                             other->front().Str(1), " (application ",
                             other->front().Int(0),
                             "); withdraw that application first"));
          }
          auto offer = c.Query(
              "SELECT id FROM offers WHERE member_id = ? AND state = 1 AND "
              "expires_on >= ? ORDER BY id DESC LIMIT 1",
              {req.member_id(), today});
          if (!offer.ok()) return offer.status();
          if (!offer->empty()) {
            holds_offer = true;
            offer_id = offer->front().Int(0);
          }
        }
        const int64_t tier = internal::TierOf(
            course->kind, member.household_status(), holds_offer);
        const int64_t now = internal::NowMs();
        int64_t state = kWaitlisted;
        if (course->taken < course->capacity) {
          auto seat = c.Execute(
              "UPDATE courses SET taken = taken + 1 WHERE code = ? AND "
              "taken < capacity",
              {course->code});
          if (!seat.ok()) return seat.status();
          if (*seat == 1) state = kEnrolled;
        }
        auto ins = c.Query(
            "INSERT INTO applications(course_code, kind, member_id, "
            "member_region, course_region, name_enc, household_status, tier, "
            "offer_id, free_tuition, boarder, state, applied_at, enrolled_at, "
            "closed_at, promoted, withdraw_reason, completed_on, "
            "certificate_no, certificate_name, outcome, employer, "
            "monthly_income_fen, outcome_on, note, created_by) "
            "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,0,'','','','',0,'',0,'',?,?) "
            "RETURNING id",
            {course->code, course->kind, req.member_id(), member.region_code(),
             course->region,
             host_.crypto().Encrypt(member.name(), internal::kCtxApplicantName),
             int64_t{member.household_status()}, tier, offer_id, int64_t{1},
             int64_t{req.boarder() ? 1 : 0}, state, now,
             state == kEnrolled ? now : int64_t{0}, req.note(), p.subject});
        if (!ins.ok()) {
          if (ins.status().code() == absl::StatusCode::kAlreadyExists) {
            return WithReason(absl::StatusCode::kFailedPrecondition,
                              "ALREADY_IN_A_MAJOR",
                              "member_id: a concurrent application of this "
                              "member holds a major");
          }
          return ins.status();
        }
        const int64_t id = ins->front().Int(0);
        if (offer_id != 0) {
          auto acc = c.Execute(
              "UPDATE offers SET state = 2, application_id = ?, closed_on = ? "
              "WHERE id = ?",
              {id, today, offer_id});
          if (!acc.ok()) return acc.status();
        }
        if (state == kEnrolled) {
          ++fx.enrolled;
          fx.enrolled_labels.push_back(
              {KindLabel(course->kind), course->region});
          if (course->kind == kMajor) {
            auto queued = QueueGrants(c, id, *course, course->intake, p);
            if (!queued.ok()) return queued.status();
            fx.grants_queued = *queued > 0;
          }
        }
        auto a = LoadApplication(c, id, p, /*with_grants=*/true);
        if (!a.ok()) return a.status();
        *resp->mutable_application() = std::move(*a);
        resp->mutable_application()->clear_name();  // kept out of request_log
        return absl::OkStatus();
      });
  if (!st.ok() && !answered && Answered(call.principal, req.request_id())) {
    // A concurrent twin of this request committed first (PostgreSQL runs
    // both transactions at once): answer as a repeat does.
    st = host_.requests().Run(
        call.principal, "Apply", req.request_id(), req, resp,
        [](SqlConnection&) -> absl::Status {
          return absl::AbortedError("request log changed; retry");
        });
    fx = Effects{};
  }
  if (!st.ok()) return st;
  if (answered && !p.Covers(resp->application().member_region_code())) {
    resp->Clear();
    call.NoteHiddenDenial(req.member_id());
    return internal::MemberNotInScope("member_id");
  }
  VOC_RETURN_IF_ERROR(RestoreNames(p, {resp->mutable_application()}));
  call.personal_data = p.SeesPersonalData();
  AfterCommit(fx);
  return absl::OkStatus();
}

absl::Status VocationalTraining::GetApplication(
    CallContext& call, const pb::GetApplicationRequest& req,
    pb::GetApplicationResponse* resp) {
  VOC_RETURN_IF_ERROR(
      internal::ValidateRecordId("application_id", req.application_id()));
  const Principal& p = call.principal;
  call.AddRecord(absl::StrCat("application:", req.application_id()));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    auto a = LoadApplication(c, req.application_id(), p, /*with_grants=*/true);
    if (!a.ok()) return a.status();
    if (!p.Covers(a->course_region_code()) &&
        !p.Covers(a->member_region_code())) {
      return CheckRegion(p, a->member_region_code());
    }
    VOC_RETURN_IF_ERROR(CheckSchool(p, a->course_school_code()));
    call.personal_data = p.SeesPersonalData();
    *resp->mutable_application() = std::move(*a);
    return absl::OkStatus();
  });
}

absl::Status VocationalTraining::ListApplications(
    CallContext& call, const pb::ListApplicationsRequest& req,
    pb::ListApplicationsResponse* resp) {
  std::vector<FieldViolation> v;
  if (!req.course_code().empty() && !internal::IsCode(req.course_code(), 32)) {
    v.push_back({"course_code", "must be 1..32 of A-Z a-z 0-9 -"});
  }
  for (auto& f : FieldViolationsOf(
           ValidateRegionPrefix("region_prefix", req.region_prefix()))) {
    v.push_back(f);
  }
  if (!pb::ApplicationState_IsValid(req.state())) {
    v.push_back({"state", "is not a known application state"});
  }
  if (!req.member_id().empty()) {
    for (auto& f : FieldViolationsOf(
             internal::ValidateMemberId("member_id", req.member_id()))) {
      v.push_back(f);
    }
  }
  if (!v.empty()) return InvalidFields(v);
  auto size = ValidatePageSize("page_size", req.page_size(), 100, 1000);
  if (!size.ok()) return size.status();
  const Principal& p = call.principal;
  auto region = ScopeRegionFilter(p, req.region_prefix());
  if (!region.ok()) return region.status();
  const std::string filters =
      absl::StrCat("apps|", *region, "|", req.course_code(), "|", req.state(),
                   "|", req.member_id());
  auto after = internal::DecodeIdCursor(req.page_token(), filters);
  if (!after.ok()) return after.status();
  const internal::SchoolScope school = internal::SchoolScopeOf(p);
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    auto rows = c.Query(
        absl::StrCat(kApplicationSelect,
                     "WHERE (a.course_region LIKE ? OR a.member_region LIKE ?) "
                     "AND (? = '' OR a.course_code = ?) AND (? = 0 OR "
                     "a.state = ?) AND (? = '' OR a.member_id = ?) AND ",
                     internal::SchoolClause("c.school_code"),
                     " AND a.id > ? ORDER BY a.id LIMIT ?"),
        {*region + "%", *region + "%", req.course_code(), req.course_code(),
         int64_t{req.state()}, int64_t{req.state()}, req.member_id(),
         req.member_id(), school.only, school.school, *after,
         int64_t{*size + 1}});
    if (!rows.ok()) return rows.status();
    for (size_t i = 0; i < rows->size() && i < static_cast<size_t>(*size);
         ++i) {
      const SqlRow& r = (*rows)[i];
      auto* a = resp->add_applications();
      FillApplication(r, p, a);
      if (a->state() == pb::APPLICATION_STATE_WAITLISTED) {
        VOC_RETURN_IF_ERROR(FillWaitlistPosition(c, a, r.Int(26), r.Int(13)));
      }
    }
    if (rows->size() > static_cast<size_t>(*size)) {
      resp->set_next_page_token(EncodePageToken(
          absl::StrCat(resp->applications(*size - 1).application_id()),
          filters));
    }
    call.NoteBulkRead(static_cast<size_t>(resp->applications_size()));
    return absl::OkStatus();
  });
}

absl::Status VocationalTraining::GetWaitlist(CallContext& call,
                                             const pb::GetWaitlistRequest& req,
                                             pb::GetWaitlistResponse* resp) {
  if (!internal::IsCode(req.course_code(), 32)) {
    return InvalidField("course_code", "must be 1..32 of A-Z a-z 0-9 -");
  }
  const Principal& p = call.principal;
  call.AddRecord(absl::StrCat("waitlist:", req.course_code()));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    auto row = ReadCourse(c, req.course_code());
    if (!row.ok()) return row.status();
    VOC_RETURN_IF_ERROR(CheckRecordScope(p, row->region, row->school_code));
    auto course = CourseWithCounts(c, *row);
    if (!course.ok()) return course.status();
    *resp->mutable_course() = std::move(*course);
    resp->set_rule(internal::WaitlistRule(row->kind));
    auto rows = c.Query(
        "SELECT id, member_id, name_enc, household_status, offer_id, "
        "applied_at, tier FROM applications WHERE course_code = ? AND "
        "state = 2 ORDER BY tier, applied_at, id",
        {row->code});
    if (!rows.ok()) return rows.status();
    std::map<int64_t, int64_t> per_tier;
    int64_t position = 0;
    for (const auto& r : *rows) {
      const int64_t tier = r.Int(6);
      int64_t higher = 0;
      for (const auto& [t, n] : per_tier) {
        if (t < tier) higher += n;
      }
      const int64_t same = per_tier[tier];
      auto* e = resp->add_entries();
      e->set_position(static_cast<int32_t>(++position));
      e->set_application_id(r.Int(0));
      e->set_member_id(r.Str(1));
      e->set_name(ShowName(p, r.Str(2)));
      e->set_household_status(static_cast<cpb::HouseholdStatus>(r.Int(3)));
      e->set_holds_offer(r.Int(4) != 0);
      e->set_applied_at(internal::FormatTs(r.Int(5)));
      e->set_tier(static_cast<int32_t>(tier));
      e->set_reason(absl::StrCat(
          "position ", position, " (第", position, "位): tier ", tier, " of ",
          internal::TierCount(row->kind), ", ",
          internal::TierLabel(row->kind, tier), "; ahead: ", higher,
          " in higher tiers, ", same, " of the same tier who applied earlier"));
      ++per_tier[tier];
    }
    call.NoteBulkRead(static_cast<size_t>(resp->entries_size()));
    return absl::OkStatus();
  });
}

absl::Status VocationalTraining::Withdraw(CallContext& call,
                                          const pb::WithdrawRequest& req,
                                          pb::WithdrawResponse* resp) {
  std::vector<FieldViolation> v;
  auto check = [&v](const absl::Status& s) {
    for (auto& f : FieldViolationsOf(s)) v.push_back(std::move(f));
  };
  check(ValidateRequestId("request_id", req.request_id()));
  check(internal::ValidateRecordId("application_id", req.application_id()));
  check(ValidateText("reason", req.reason(), 200));
  if (!v.empty()) return InvalidFields(v);
  const Principal& p = call.principal;
  call.AddRecord(absl::StrCat("application:", req.application_id()));
  Effects fx;
  absl::Status st = host_.requests().Run(
      call.principal, "Withdraw", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        fx = Effects{};
        auto app = c.Query(
            "SELECT course_code, state, course_region, member_region FROM "
            "applications WHERE id = ?",
            {req.application_id()});
        if (!app.ok()) return app.status();
        if (app->empty()) {
          return absl::NotFoundError("application_id: no such application");
        }
        const std::string code = app->front().Str(0);
        if (!p.Covers(app->front().Str(2)) && !p.Covers(app->front().Str(3))) {
          return CheckRegion(p, app->front().Str(3));
        }
        auto course = LockCourse(c, code);
        if (!course.ok()) return course.status();
        VOC_RETURN_IF_ERROR(CheckSchool(p, course->school_code));
        fx.courses.push_back(code);
        // Read again under the course lock: the state is now stable.
        auto cur = c.Query("SELECT state FROM applications WHERE id = ?",
                           {req.application_id()});
        if (!cur.ok()) return cur.status();
        const int64_t state = cur->front().Int(0);
        if (state != kEnrolled && state != kWaitlisted) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "APPLICATION_STATE",
              absl::StrCat("application_id: the application is ",
                           pb::ApplicationState_Name(
                               static_cast<pb::ApplicationState>(state)),
                           "; only enrolled or waitlisted applications can be "
                           "withdrawn"));
        }
        const int64_t now = internal::NowMs();
        auto up = c.Execute(
            "UPDATE applications SET state = 3, closed_at = ?, "
            "withdraw_reason = ? WHERE id = ? AND state = ?",
            {now, req.reason(), req.application_id(), state});
        if (!up.ok()) return up.status();
        auto cancelled = c.Execute(
            "UPDATE grant_outbox SET state = ?, outcome = ? WHERE "
            "application_id = ? AND state = ?",
            {kGrantCancelled,
             std::string("withdrawn before delivery: never sent"),
             req.application_id(), kGrantPending});
        if (!cancelled.ok()) return cancelled.status();
        if (state == kEnrolled) {
          auto freed = c.Execute(
              "UPDATE courses SET taken = taken - 1 WHERE code = ? AND taken > "
              "0",
              {code});
          if (!freed.ok()) return freed.status();
          auto now_row = ReadCourse(c, code);
          if (!now_row.ok()) return now_row.status();
          VOC_RETURN_IF_ERROR(PromoteWaitlisted(c, *now_row, 1, p,
                                                resp->mutable_promoted(), &fx));
        }
        auto a =
            LoadApplication(c, req.application_id(), p, /*with_grants=*/true);
        if (!a.ok()) return a.status();
        *resp->mutable_application() = std::move(*a);
        resp->mutable_application()->clear_name();
        for (auto& pa : *resp->mutable_promoted()) pa.clear_name();
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  std::vector<pb::Application*> shown = {resp->mutable_application()};
  for (auto& a : *resp->mutable_promoted()) {
    call.AddRecord(absl::StrCat("promoted:", a.application_id()));
    shown.push_back(&a);
  }
  VOC_RETURN_IF_ERROR(RestoreNames(p, shown));
  AfterCommit(fx);
  return absl::OkStatus();
}

}  // namespace eduaid::vocational
