// Who may take a place, how a course may change and its free places, as pure
// functions (no SQL, no RPC). Each returns OK or FAILED_PRECONDITION with a
// reason (ReasonOf) and a message naming the field.
#ifndef EDUAID_SERVICES_VOCATIONAL_ELIGIBILITY_H_
#define EDUAID_SERVICES_VOCATIONAL_ELIGIBILITY_H_

#include <cstdint>

#include "absl/status/status.h"
#include "eduaid/registry/v1/registry.pb.h"
#include "eduaid/vocational/v1/vocational.pb.h"
#include "services/vocational/course_store.h"

namespace eduaid::vocational {

namespace pb = ::eduaid::vocational::v1;

// Whether the registry's `member` may apply to `course`: a registered poor
// or lifted household (NOT_REGISTERED); for a major, not enrolled or
// suspended at a school (IN_SCHOOL); for a skills-training class, aged
// 16..60 on its start date (NOT_WORKING_AGE).
absl::Status CheckApplicant(const ::eduaid::registry::v1::Student& member,
                            const CourseRecord& course);

// Whether stored `old` may become `next`: a course keeps its kind
// (KIND_CHANGE) and its capacity never drops below the places taken
// (CAPACITY_BELOW_ENROLLED).
absl::Status CheckCourseChange(const CourseRecord& old, const pb::Course& next);
// True when `next` moves a major's intake term; allowed only while the
// course has no application (IntakeChangeRefused otherwise).
bool IntakeChanges(const CourseRecord& old, const pb::Course& next);
absl::Status IntakeChangeRefused();

// FAILED_PRECONDITION (APPLICATION_STATE): the application in `state`
// may not change; `rule` says which states may ("; only ...").
absl::Status ApplicationStateRefused(int64_t state, const char* rule);

// True when `next` raises the capacity: waitlisted applicants then move
// into the new places.
bool CapacityRaised(const CourseRecord& old, const pb::Course& next);
// Places not taken.
int64_t FreePlaces(const CourseRecord& course);

}  // namespace eduaid::vocational

#endif  // EDUAID_SERVICES_VOCATIONAL_ELIGIBILITY_H_
