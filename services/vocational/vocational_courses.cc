// The catalogue: UpsertCourse, GetCourse, ListCourses.
#include "absl/strings/str_cat.h"
#include "services/common/cache.h"
#include "services/common/clock.h"
#include "services/common/idempotency.h"
#include "services/common/page_token.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/term.h"
#include "services/common/validate.h"
#include "services/vocational/eligibility.h"
#include "services/vocational/field_violations.h"
#include "services/vocational/vocational.h"

namespace eduaid::vocational {
namespace {

// The fields a major has and a training class has not, and the reverse.
void ValidateKindFields(const pb::Course& c, Violations& v) {
  auto add = [&v](const absl::Status& st) {
    for (auto& f : FieldViolationsOf(st)) {
      v.Add(absl::StrCat("course.", f.field), f.rule);
    }
  };
  auto must_be_empty = [&v](bool set, const char* field, const char* kind) {
    if (set) {
      v.Add(absl::StrCat("course.", field),
            absl::StrCat("must be empty for a ", kind));
    }
  };
  if (c.kind() == pb::COURSE_KIND_MAJOR) {
    if (!IsCode(c.school_code(), 20)) {
      v.Add("course.school_code", "must be 1..20 of A-Z a-z 0-9 -");
    }
    add(ValidateText("school_name", c.school_name(), 100));
    add(ValidateTerm("intake_term", c.intake_term()));
    if (c.duration_years() < 0 || c.duration_years() > 5) {
      v.Add("course.duration_years", "must be 1..5 (0 = 3)");
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
      v.Add("course.end_date", "must not be before start_date");
    }
    if (c.total_hours() < 1 || c.total_hours() > 2000) {
      v.Add("course.total_hours", "must be 1..2000");
    }
    must_be_empty(!c.school_code().empty(), "school_code", "training class");
    must_be_empty(!c.school_name().empty(), "school_name", "training class");
    must_be_empty(c.has_intake_term(), "intake_term", "training class");
    must_be_empty(c.duration_years() != 0, "duration_years", "training class");
  }
}

// Field violations of a course; OK when valid.
absl::Status ValidateCourse(const pb::Course& c) {
  Violations v;
  if (!IsCode(c.code(), 32)) v.Add("course.code", kCourseCodeRule);
  if (c.kind() != pb::COURSE_KIND_MAJOR &&
      c.kind() != pb::COURSE_KIND_TRAINING_CLASS) {
    v.Add("course.kind",
          "must be COURSE_KIND_MAJOR or COURSE_KIND_TRAINING_CLASS");
  }
  for (auto& f : FieldViolationsOf(ValidateText("name", c.name(), 100))) {
    v.Add("course." + f.field, f.rule);
  }
  for (auto& f :
       FieldViolationsOf(ValidateRegionCode("region_code", c.region_code()))) {
    v.Add("course." + f.field, f.rule);
  }
  if (c.capacity() < 1 || c.capacity() > 10000) {
    v.Add("course.capacity", "must be 1..10000");
  }
  for (auto& f : FieldViolationsOf(
           ValidateText("trade", c.trade(), 50, /*required=*/false))) {
    v.Add("course." + f.field, f.rule);
  }
  ValidateKindFields(c, v);
  return v.ToStatus();
}

std::vector<pb::Application*> Pointers(
    google::protobuf::RepeatedPtrField<pb::Application>* apps) {
  std::vector<pb::Application*> out;
  for (auto& a : *apps) out.push_back(&a);
  return out;
}

}  // namespace

absl::Status VocationalTraining::UpsertCourse(
    CallContext& call, const pb::UpsertCourseRequest& req,
    pb::UpsertCourseResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  pb::Course course = req.course();
  RETURN_IF_ERROR(ValidateCourse(course));
  if (course.kind() == pb::COURSE_KIND_MAJOR && course.duration_years() == 0) {
    course.set_duration_years(3);
  }
  const Principal& p = call.principal;
  RETURN_IF_ERROR(CheckRegion(p, course.region_code()));
  RETURN_IF_ERROR(CheckSchool(p, course.school_code()));
  call.AddRecord(absl::StrCat("course:", course.code()));
  Effects fx;
  RETURN_IF_ERROR(
      host_.requests().Run(p, "UpsertCourse", req.request_id(), req, resp,
                           [&](SqlConnection& c) -> absl::Status {
                             fx = Effects{};
                             return StoreCourse(c, p, course, resp, &fx);
                           }));
  RETURN_IF_ERROR(RestoreNames(p, Pointers(resp->mutable_promoted())));
  AfterCommit(fx);
  return absl::OkStatus();
}

absl::Status VocationalTraining::StoreCourse(SqlConnection& c,
                                             const Principal& p,
                                             const pb::Course& course,
                                             pb::UpsertCourseResponse* resp,
                                             Effects* fx) {
  fx->courses.push_back(course.code());
  const int64_t now = NowMs();
  ASSIGN_OR_RETURN(const bool exists, CourseExists(c, course.code()));
  if (!exists) {
    RETURN_IF_ERROR(InsertCourse(c, course, now));
    resp->set_created(true);
  } else {
    RETURN_IF_ERROR(
        ChangeCourse(c, p, course, now, resp->mutable_promoted(), fx));
  }
  ASSIGN_OR_RETURN(CourseRecord stored, ReadCourseWithCounts(c, course.code()));
  *resp->mutable_course() = ToProto(stored, /*with_counts=*/true);
  for (auto& pa : *resp->mutable_promoted()) pa.clear_name();
  return absl::OkStatus();
}

absl::Status VocationalTraining::ChangeCourse(
    SqlConnection& c, const Principal& p, const pb::Course& course,
    int64_t now_ms, Applications* promoted, Effects* fx) {
  ASSIGN_OR_RETURN(CourseRecord old, LockCourse(c, course.code()));
  RETURN_IF_ERROR(CheckRegion(p, old.region));
  RETURN_IF_ERROR(CheckSchool(p, old.school_code));
  RETURN_IF_ERROR(CheckCourseChange(old, course));
  if (IntakeChanges(old, course)) {
    ASSIGN_OR_RETURN(const int64_t held,
                     CountCourseApplications(c, course.code()));
    if (held > 0) return IntakeChangeRefused();
  }
  RETURN_IF_ERROR(UpdateCourse(c, course, now_ms));
  if (old.region != course.region_code()) {
    RETURN_IF_ERROR(MoveCourseRegion(c, course.code(), course.region_code()));
  }
  if (!CapacityRaised(old, course)) return absl::OkStatus();
  ASSIGN_OR_RETURN(CourseRecord now, ReadCourse(c, course.code()));
  return PromoteWaitlisted(c, now, FreePlaces(now), p, promoted, fx);
}

absl::Status VocationalTraining::GetCourse(CallContext& call,
                                           const pb::GetCourseRequest& req,
                                           pb::GetCourseResponse* resp) {
  if (!IsCode(req.code(), 32)) return InvalidField("code", kCourseCodeRule);
  const std::string key = CourseCacheKey(req.code());
  pb::Course course;
  bool cached = false;
  if (auto hit = host_.cache().Get(key)) cached = course.ParseFromString(*hit);
  if (!cached) {
    RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
      ASSIGN_OR_RETURN(CourseRecord r,
                       ReadCourseWithCounts(c, req.code(), "code"));
      course = ToProto(r, /*with_counts=*/true);
      return absl::OkStatus();
    }));
    host_.cache().Set(key, course.SerializeAsString(),
                      std::chrono::seconds(60));
  }
  RETURN_IF_ERROR(CheckRecordScope(call.principal, course.region_code(),
                                   course.school_code()));
  *resp->mutable_course() = std::move(course);
  return absl::OkStatus();
}

absl::Status VocationalTraining::ListCourses(CallContext& call,
                                             const pb::ListCoursesRequest& req,
                                             pb::ListCoursesResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (!pb::CourseKind_IsValid(req.kind())) {
    return InvalidField("kind", "is not a known course kind");
  }
  ASSIGN_OR_RETURN(const int size,
                   ValidatePageSize("page_size", req.page_size(), 100, 1000));
  ASSIGN_OR_RETURN(const std::string region,
                   ScopeRegionFilter(call.principal, req.region_prefix()));
  // Pages by course code, not by id: the token carries the last code.
  const std::string filters = absl::StrCat("courses|", region, "|", req.kind());
  ASSIGN_OR_RETURN(const std::string last,
                   DecodePageToken(req.page_token(), filters));
  const SchoolScope school = SchoolScopeOf(call.principal);
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(
        auto rows, ListCoursePage(c, region, int64_t{req.kind()}, school, last,
                                  int64_t{size} + 1));
    for (size_t i = 0; i < rows.size() && i < static_cast<size_t>(size); ++i) {
      *resp->add_courses() = ToProto(rows[i], /*with_counts=*/true);
    }
    if (rows.size() > static_cast<size_t>(size)) {
      resp->set_next_page_token(
          EncodePageToken(resp->courses(size - 1).code(), filters));
    }
    return absl::OkStatus();
  });
}

}  // namespace eduaid::vocational
