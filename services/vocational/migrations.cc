#include "services/common/idempotency.h"
#include "services/vocational/vocational.h"

namespace eduaid::vocational {
namespace {

// Version 1: courses, offers, applications, attendance, grant outbox.
Migration Version1() {
  return {
      1, "courses, offers, applications, attendance, grant outbox",
      "CREATE TABLE meta ("
      " key TEXT PRIMARY KEY,"
      " value TEXT NOT NULL);"
      // kind: 1 major, 2 training class. taken counts places held by
      // ENROLLED and COMPLETED applications. lock_seq is bumped by every
      // transaction that changes places, to lock the row first.
      "CREATE TABLE courses ("
      " code TEXT PRIMARY KEY,"
      " kind BIGINT NOT NULL,"
      " name TEXT NOT NULL,"
      " region_code TEXT NOT NULL,"
      " capacity BIGINT NOT NULL,"
      " trade TEXT NOT NULL,"
      " school_code TEXT NOT NULL,"
      " school_name TEXT NOT NULL,"
      " term_year BIGINT NOT NULL,"
      " term_season BIGINT NOT NULL,"
      " duration_years BIGINT NOT NULL,"
      " provider TEXT NOT NULL,"
      " location TEXT NOT NULL,"
      " schedule TEXT NOT NULL,"
      " start_date TEXT NOT NULL,"
      " end_date TEXT NOT NULL,"
      " total_hours BIGINT NOT NULL,"
      " taken BIGINT NOT NULL DEFAULT 0,"
      " lock_seq BIGINT NOT NULL DEFAULT 0,"
      " created_at BIGINT NOT NULL,"
      " updated_at BIGINT NOT NULL,"
      " CHECK (capacity > 0 AND taken >= 0 AND taken <= capacity));"
      "CREATE INDEX courses_region ON courses(region_code, code);"
      // state: 1 open, 2 accepted, 3 declined, 4 expired, 5 withdrawn.
      "CREATE TABLE offers ("
      " id {ID},"
      " member_id TEXT NOT NULL,"
      " region_code TEXT NOT NULL,"
      " graduation_year BIGINT NOT NULL,"
      " name_enc TEXT NOT NULL,"
      " junior_high_school TEXT NOT NULL,"
      " household_status BIGINT NOT NULL,"
      " state BIGINT NOT NULL,"
      " offered_on TEXT NOT NULL,"
      " expires_on TEXT NOT NULL,"
      " closed_on TEXT NOT NULL,"
      " note TEXT NOT NULL,"
      " application_id BIGINT NOT NULL,"
      " created_at BIGINT NOT NULL,"
      " UNIQUE (member_id, graduation_year));"
      "CREATE INDEX offers_region ON offers(region_code, id);"
      "CREATE INDEX offers_member ON offers(member_id, state);"
      // state: 1 enrolled, 2 waitlisted, 3 withdrawn, 4 completed.
      // tier: the waitlist tier of the written rule (1 first).
      "CREATE TABLE applications ("
      " id {ID},"
      " course_code TEXT NOT NULL REFERENCES courses(code),"
      " kind BIGINT NOT NULL,"
      " member_id TEXT NOT NULL,"
      " member_region TEXT NOT NULL,"
      " course_region TEXT NOT NULL,"
      " name_enc TEXT NOT NULL,"
      " household_status BIGINT NOT NULL,"
      " tier BIGINT NOT NULL,"
      " offer_id BIGINT NOT NULL,"
      " free_tuition BIGINT NOT NULL,"
      " boarder BIGINT NOT NULL,"
      " state BIGINT NOT NULL,"
      " applied_at BIGINT NOT NULL,"
      " enrolled_at BIGINT NOT NULL,"
      " closed_at BIGINT NOT NULL,"
      " promoted BIGINT NOT NULL,"
      " withdraw_reason TEXT NOT NULL,"
      " completed_on TEXT NOT NULL,"
      " certificate_no TEXT NOT NULL,"
      " certificate_name TEXT NOT NULL,"
      " outcome BIGINT NOT NULL,"
      " employer TEXT NOT NULL,"
      " monthly_income_fen BIGINT NOT NULL,"
      " outcome_on TEXT NOT NULL,"
      " note TEXT NOT NULL,"
      " created_by TEXT NOT NULL);"
      "CREATE UNIQUE INDEX applications_member_course ON "
      " applications(course_code, member_id);"
      "CREATE UNIQUE INDEX applications_one_major ON applications(member_id)"
      " WHERE kind = 1 AND state IN (1, 2);"
      "CREATE INDEX applications_waitlist ON "
      " applications(course_code, state, tier, applied_at, id);"
      "CREATE INDEX applications_member_region ON "
      " applications(member_region, id);"
      "CREATE INDEX applications_course_region ON "
      " applications(course_region, id);"
      "CREATE INDEX applications_member ON applications(member_id, id);"
      "CREATE TABLE attendance ("
      " application_id BIGINT NOT NULL REFERENCES applications(id),"
      " day TEXT NOT NULL,"
      " present BIGINT NOT NULL,"
      " hours BIGINT NOT NULL,"
      " recorded_by TEXT NOT NULL,"
      " recorded_at BIGINT NOT NULL,"
      " PRIMARY KEY (application_id, day));"
      // The transactional outbox of ledger grants (grant_outbox.h).
      // state: 1 pending, 2 delivered, 3 rejected, 4 cancelled.
      "CREATE TABLE grant_outbox ("
      " id {ID},"
      " application_id BIGINT NOT NULL REFERENCES applications(id),"
      " programme_code TEXT NOT NULL,"
      " term TEXT NOT NULL,"
      " member_id TEXT NOT NULL,"
      " member_region TEXT NOT NULL,"
      " request_id TEXT NOT NULL UNIQUE,"
      " payload TEXT NOT NULL,"
      " state BIGINT NOT NULL,"
      " attempts BIGINT NOT NULL,"
      " next_attempt_ms BIGINT NOT NULL,"
      " last_error TEXT NOT NULL,"
      " entitlement_id BIGINT NOT NULL,"
      " outcome TEXT NOT NULL,"
      " created_at BIGINT NOT NULL,"
      " delivered_at BIGINT NOT NULL,"
      " UNIQUE (application_id, programme_code, term));"
      "CREATE INDEX grant_outbox_due ON grant_outbox(state, next_attempt_ms, "
      "id);"
      "CREATE INDEX grant_outbox_region ON grant_outbox(member_region, id);"};
}

// Version 3: grant outbox: originator subject.
Migration Version3() {
  return {
      3, "grant outbox: originator subject",
      "ALTER TABLE grant_outbox ADD COLUMN originator_subject TEXT NOT NULL "
      "DEFAULT '';"
      "UPDATE grant_outbox SET originator_subject = COALESCE((SELECT "
      "a.created_by FROM applications a WHERE a.id = "
      "grant_outbox.application_id), '');"};
}

}  // namespace

std::vector<Migration> Migrations() {
  return {
      Version1(),
      RequestLogMigration(2),
      Version3(),
  };
}

}  // namespace eduaid::vocational
