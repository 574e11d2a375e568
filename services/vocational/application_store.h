// Applications and what hangs off them (tables applications and
// attendance): the typed application record, its columns beside its row
// reader, every statement on the two tables (places, waitlist, withdrawal,
// attendance, completion, outcome), and the proto mapping. Every function
// runs inside the caller's transaction or read on `c` and returns the
// database's error unchanged.
#ifndef EDUAID_SERVICES_VOCATIONAL_APPLICATION_STORE_H_
#define EDUAID_SERVICES_VOCATIONAL_APPLICATION_STORE_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/vocational/v1/vocational.pb.h"
#include "services/common/school_scope.h"
#include "services/common/sql.h"

namespace eduaid::vocational {

namespace pb = ::eduaid::vocational::v1;

// Associated data of the encrypted applicant name.
inline constexpr char kCtxApplicantName[] = "vocational.applications.name";

// Stored application states (the values of pb::ApplicationState).
inline constexpr int64_t kEnrolled = 1;
inline constexpr int64_t kWaitlisted = 2;
inline constexpr int64_t kWithdrawn = 3;
inline constexpr int64_t kCompleted = 4;

// An application with its course's name and school and its attendance
// totals.
struct ApplicationRecord {
  int64_t id = 0;
  std::string course_code, course_name;
  int64_t kind = 0;
  std::string member_id, name_enc, member_region, course_region;
  int64_t household_status = 0, state = 0;
  bool free_tuition = false, boarder = false;
  int64_t offer_id = 0, applied_at = 0, enrolled_at = 0, closed_at = 0;
  bool promoted = false;
  std::string withdraw_reason, completed_on, certificate_no, certificate_name;
  int64_t outcome = 0;
  std::string employer;
  int64_t monthly_income_fen = 0;
  std::string outcome_on, note;
  int64_t tier = 0;
  int64_t attendance_days = 0, present_days = 0, present_hours = 0;
  std::string course_school_code;
};

// Columns (applications a JOIN courses c) in the order
// ApplicationFromRow() reads them.
inline constexpr char kApplicationColumns[] =
    "a.id, a.course_code, c.name, a.kind, a.member_id, a.name_enc, "
    "a.member_region, a.course_region, a.household_status, a.state, "
    "a.free_tuition, a.boarder, a.offer_id, a.applied_at, a.enrolled_at, "
    "a.closed_at, a.promoted, a.withdraw_reason, a.completed_on, "
    "a.certificate_no, a.certificate_name, a.outcome, a.employer, "
    "a.monthly_income_fen, a.outcome_on, a.note, a.tier, "
    "(SELECT COUNT(*) FROM attendance t WHERE t.application_id = a.id), "
    "(SELECT COALESCE(SUM(t.present), 0) FROM attendance t "
    " WHERE t.application_id = a.id), "
    "(SELECT COALESCE(SUM(t.hours), 0) FROM attendance t "
    " WHERE t.application_id = a.id), c.school_code";

ApplicationRecord ApplicationFromRow(const SqlRow& r);
// The application as answered, with `shown_name` (full or masked) as its
// name; no waitlist position, no grants.
pb::Application ToProto(const ApplicationRecord& a,
                        const std::string& shown_name);

// NOT_FOUND naming application_id when there is none.
absl::StatusOr<ApplicationRecord> ReadApplication(SqlConnection& c, int64_t id);

// Every application (any state) of `member_ids`, in id order.
absl::StatusOr<std::vector<ApplicationRecord>> ApplicationsOfMembers(
    SqlConnection& c, const std::vector<std::string>& member_ids);
struct ApplicationFilter {
  std::string region_prefix;  // course or member region
  std::string course_code;    // "" = any
  int64_t state = 0;          // 0 = any
  std::string member_id;      // "" = any
  SchoolScope school;
};
// Applications matching `f` with id > `after` in id order, `limit` at most.
absl::StatusOr<std::vector<ApplicationRecord>> ListApplicationPage(
    SqlConnection& c, const ApplicationFilter& f, int64_t after, int64_t limit);

// Waitlisted applications of the course ahead of (tier, applied_at, id),
// and how many of them are in higher (smaller) tiers.
struct WaitlistAhead {
  int64_t ahead = 0, higher = 0;
};
absl::StatusOr<WaitlistAhead> CountWaitlistAhead(SqlConnection& c,
                                                 const std::string& course,
                                                 int64_t tier,
                                                 int64_t applied_at,
                                                 int64_t id);

// The whole waitlist of a course in rule order (tier, applied_at, id).
struct WaitlistRow {
  int64_t id = 0;
  std::string member_id, name_enc;
  int64_t household_status = 0, offer_id = 0, applied_at = 0, tier = 0;
};
absl::StatusOr<std::vector<WaitlistRow>> ReadWaitlist(
    SqlConnection& c, const std::string& course);
// The ids of the first `n` waitlisted applications in rule order.
absl::StatusOr<std::vector<int64_t>> NextWaitlisted(SqlConnection& c,
                                                    const std::string& course,
                                                    int64_t n);
// Waitlisted -> enrolled (promoted); false when it was not waitlisted.
absl::StatusOr<bool> EnrolFromWaitlist(SqlConnection& c, int64_t id,
                                       int64_t now_ms);

// The member's application to the course, if any: (id, state).
struct ApplicationRef {
  int64_t id = 0;
  int64_t state = 0;
  std::string course_code;
};
absl::StatusOr<std::optional<ApplicationRef>> FindApplication(
    SqlConnection& c, const std::string& course, const std::string& member_id);
// The member's enrolled or waitlisted major, if any (id, course_code).
absl::StatusOr<std::optional<ApplicationRef>> FindHeldMajor(
    SqlConnection& c, const std::string& member_id);

struct NewApplication {
  std::string course_code;
  int64_t kind = 0;
  std::string member_id, member_region, course_region, name_enc;
  int64_t household_status = 0, tier = 0, offer_id = 0;
  bool boarder = false;
  int64_t state = 0, applied_at = 0, enrolled_at = 0;
  std::string note, created_by;
};
// The new application's id. ALREADY_EXISTS when the member holds a major
// already (the unique index).
absl::StatusOr<int64_t> InsertApplication(SqlConnection& c,
                                          const NewApplication& a);

// What the grants of an application need of the applicant.
struct Applicant {
  std::string member_id, member_region, name_enc;
  bool boarder = false;
};
absl::StatusOr<Applicant> ReadApplicant(SqlConnection& c, int64_t id);
// The stored (encrypted) name; nullopt when the application is gone.
absl::StatusOr<std::optional<std::string>> ReadNameEnc(SqlConnection& c,
                                                       int64_t id);

// Where an application stands, for the checks of a change.
struct ApplicationScope {
  std::string course_code;
  int64_t state = 0;
  std::string course_region, member_region, course_school_code;
  int64_t course_kind = 0, enrolled_at = 0;
  std::string completed_on;
};
// Columns (applications `a` LEFT JOIN courses `c`) in the order
// FromApplicationScopeRow() reads them.
inline constexpr char kApplicationScopeColumns[] =
    "a.course_code, a.state, a.course_region, a.member_region, "
    "COALESCE(c.school_code, ''), COALESCE(c.kind, 0), a.enrolled_at, "
    "a.completed_on";
ApplicationScope FromApplicationScopeRow(const SqlRow& row);
// Where application `id` stands (for a withdrawal, a completion or an
// outcome); NOT_FOUND naming application_id when there is none.
absl::StatusOr<ApplicationScope> ReadApplicationScope(SqlConnection& c,
                                                      int64_t id);
// The application's state; NOT_FOUND naming application_id when none.
absl::StatusOr<int64_t> ReadState(SqlConnection& c, int64_t id);

absl::Status MarkWithdrawn(SqlConnection& c, int64_t id, int64_t now_ms,
                           const std::string& reason, int64_t from_state);
absl::Status MarkCompleted(SqlConnection& c, int64_t id,
                           const std::string& completed_on,
                           const std::string& certificate_no,
                           const std::string& certificate_name, int64_t now_ms);
absl::Status SetOutcome(SqlConnection& c, int64_t id, int64_t outcome,
                        const std::string& employer, int64_t monthly_income_fen,
                        const std::string& outcome_on);

// The course's applications follow the course to its new county.
absl::Status MoveCourseRegion(SqlConnection& c, const std::string& course,
                              const std::string& region);
absl::StatusOr<int64_t> CountCourseApplications(SqlConnection& c,
                                                const std::string& course);
// Enrolled majors of members under the region prefix: (id, course_code).
absl::StatusOr<std::vector<ApplicationRef>> EnrolledMajorsIn(
    SqlConnection& c, const std::string& region_prefix);
// Members under the region prefix holding, or done with, a major.
absl::StatusOr<std::set<std::string>> MembersWithMajor(
    SqlConnection& c, const std::string& region_prefix);

// ---- attendance
// Marks of (application, day): true when one was there before.
absl::StatusOr<bool> AttendanceExists(SqlConnection& c, int64_t id,
                                      const std::string& day);
// Inserts or replaces the mark of (application, day).
absl::Status UpsertAttendance(SqlConnection& c, int64_t id,
                              const std::string& day, bool present,
                              int64_t hours, const std::string& recorded_by,
                              int64_t now_ms);
// The state of `id` when it is an application of `course`.
absl::StatusOr<std::optional<int64_t>> StateInCourse(SqlConnection& c,
                                                     int64_t id,
                                                     const std::string& course);

}  // namespace eduaid::vocational

#endif  // EDUAID_SERVICES_VOCATIONAL_APPLICATION_STORE_H_
