#include "services/common/idempotency.h"
#include "services/registry/registry.h"

namespace eduaid::registry {
namespace {

// Version 1: the register and the rosters.
Migration HouseholdsAndEnrolments() {
  return {
      1, "households, members, schools, enrolments",
      "CREATE TABLE households ("
      " household_id TEXT PRIMARY KEY,"
      " region_code TEXT NOT NULL,"
      " registration_year BIGINT NOT NULL,"
      " status BIGINT NOT NULL,"
      " updated_at BIGINT NOT NULL);"
      "CREATE INDEX households_region ON households(region_code);"
      "CREATE TABLE members ("
      " id {ID},"
      " id_hash TEXT NOT NULL UNIQUE,"
      " id_enc TEXT NOT NULL,"
      " id_masked TEXT NOT NULL,"
      " name_enc TEXT NOT NULL,"
      " household_id TEXT NOT NULL REFERENCES households(household_id),"
      " region_code TEXT NOT NULL,"
      " birth_date TEXT NOT NULL,"
      " male BIGINT NOT NULL,"
      " relation BIGINT NOT NULL,"
      " updated_at BIGINT NOT NULL);"
      "CREATE INDEX members_region ON members(region_code, id);"
      "CREATE INDEX members_household ON members(household_id);"
      "CREATE TABLE schools ("
      " code TEXT PRIMARY KEY,"
      " name TEXT NOT NULL,"
      " region_code TEXT NOT NULL,"
      " stages TEXT NOT NULL,"
      " rural BIGINT NOT NULL,"
      " updated_at BIGINT NOT NULL);"
      "CREATE TABLE enrolments ("
      " id {ID},"
      " id_hash TEXT NOT NULL,"
      " school_code TEXT NOT NULL REFERENCES schools(code),"
      " stage BIGINT NOT NULL,"
      " grade BIGINT NOT NULL,"
      " term_year BIGINT NOT NULL,"
      " term_season BIGINT NOT NULL,"
      " status BIGINT NOT NULL,"
      " boarder BIGINT NOT NULL,"
      " current BIGINT NOT NULL,"
      " recorded_at BIGINT NOT NULL,"
      " reason TEXT NOT NULL);"
      "CREATE INDEX enrolments_hash ON enrolments(id_hash, id);"
      "CREATE UNIQUE INDEX enrolments_one_current ON enrolments(id_hash)"
      " WHERE current = 1;"
      "CREATE INDEX enrolments_school ON enrolments(school_code, current);"};
}

// Version 2: what identification and its follow-up keep.
Migration IdentificationAndCases() {
  return {
      2, "identification, dropout control, special groups",
      "CREATE TABLE identification_runs ("
      " run_id {ID},"
      " as_of TEXT NOT NULL,"
      " started_at BIGINT NOT NULL,"
      " summary TEXT NOT NULL);"
      "CREATE TABLE out_of_school ("
      " member_id BIGINT PRIMARY KEY REFERENCES members(id),"
      " first_seen TEXT NOT NULL,"
      " since_run BIGINT NOT NULL,"
      " last_run BIGINT NOT NULL,"
      " resolved_at TEXT);"
      "CREATE INDEX out_of_school_open ON out_of_school(resolved_at, "
      "member_id);"
      "CREATE TABLE dropout_cases ("
      " id {ID},"
      " member_id BIGINT NOT NULL REFERENCES members(id),"
      " region_code TEXT NOT NULL,"
      " state BIGINT NOT NULL,"
      " opened_at BIGINT NOT NULL,"
      " updated_at BIGINT NOT NULL);"
      "CREATE INDEX dropout_cases_member ON dropout_cases(member_id);"
      "CREATE INDEX dropout_cases_region ON dropout_cases(region_code, id);"
      "CREATE TABLE dropout_case_events ("
      " id {ID},"
      " case_id BIGINT NOT NULL REFERENCES dropout_cases(id),"
      " from_state BIGINT NOT NULL,"
      " to_state BIGINT NOT NULL,"
      " note TEXT NOT NULL,"
      " actor TEXT NOT NULL,"
      " at BIGINT NOT NULL);"
      "CREATE INDEX dropout_case_events_case ON dropout_case_events(case_id, "
      "id);"
      "CREATE TABLE left_behind ("
      " member_id BIGINT PRIMARY KEY REFERENCES members(id),"
      " carer_name_enc TEXT NOT NULL,"
      " carer_relation TEXT NOT NULL,"
      " parents_location TEXT NOT NULL,"
      " updated_at BIGINT NOT NULL);"
      "CREATE TABLE disability_plans ("
      " member_id BIGINT PRIMARY KEY REFERENCES members(id),"
      " category TEXT NOT NULL,"
      " placement BIGINT NOT NULL,"
      " school_code TEXT NOT NULL,"
      " note TEXT NOT NULL,"
      " updated_at BIGINT NOT NULL);"};
}

// Version 5 (issue 13): schooling arrangements (送教上门 / 异地就读) and
// their home-teaching log, and special-group records reported by a home
// visit until an officer confirms them. Free text is stored encrypted.
Migration ArrangementsAndReports() {
  return {
      5, "schooling arrangements, home-teaching visits, special-need reports",
      "CREATE TABLE schooling_arrangements ("
      " id {ID},"
      " member_id BIGINT NOT NULL REFERENCES members(id),"
      " kind BIGINT NOT NULL,"
      " school_code TEXT NOT NULL,"
      " school_name TEXT NOT NULL,"
      " place_enc TEXT NOT NULL,"
      " evidence_enc TEXT NOT NULL,"
      " start_date TEXT NOT NULL,"
      " end_date TEXT NOT NULL,"
      " end_reason_enc TEXT NOT NULL,"
      " running BIGINT NOT NULL,"
      " region_code TEXT NOT NULL,"
      " recorded_by TEXT NOT NULL,"
      " recorded_at BIGINT NOT NULL);"
      "CREATE INDEX schooling_arrangements_member ON "
      "schooling_arrangements(member_id, id);"
      "CREATE INDEX schooling_arrangements_region ON "
      "schooling_arrangements(region_code, id);"
      "CREATE UNIQUE INDEX schooling_arrangements_one_running ON "
      "schooling_arrangements(member_id) WHERE running = 1;"
      "CREATE TABLE home_teaching_visits ("
      " id {ID},"
      " arrangement_id BIGINT NOT NULL REFERENCES schooling_arrangements(id),"
      " visit_date TEXT NOT NULL,"
      " teacher TEXT NOT NULL,"
      " content_enc TEXT NOT NULL,"
      " minutes BIGINT NOT NULL,"
      " recorded_by TEXT NOT NULL,"
      " recorded_at BIGINT NOT NULL);"
      "CREATE INDEX home_teaching_visits_arrangement ON "
      "home_teaching_visits(arrangement_id, visit_date, id);"
      "ALTER TABLE left_behind ADD COLUMN unconfirmed BIGINT NOT NULL "
      "DEFAULT 0;"
      "ALTER TABLE left_behind ADD COLUMN reported_by TEXT NOT NULL "
      "DEFAULT '';"
      "ALTER TABLE left_behind ADD COLUMN report_note_enc TEXT NOT NULL "
      "DEFAULT '';"
      "ALTER TABLE disability_plans ADD COLUMN unconfirmed BIGINT NOT NULL "
      "DEFAULT 0;"
      "ALTER TABLE disability_plans ADD COLUMN reported_by TEXT NOT NULL "
      "DEFAULT '';"
      "ALTER TABLE disability_plans ADD COLUMN report_note_enc TEXT NOT NULL "
      "DEFAULT '';"};
}

}  // namespace

std::vector<Migration> Migrations() {
  return {
      HouseholdsAndEnrolments(),
      IdentificationAndCases(),
      RequestLogMigration(3),
      // A masked ID number beside the clear birth date and sex narrowed the
      // number to about 1,000 candidates (docs/REGISTRY.md): keep the birth
      // month only, and mask the ID number down to its region. On SQLite
      // the old values stay in free pages until VACUUM (docs/RUNBOOK.md).
      {4, "members: birth month instead of birth date, region-only mask",
       "ALTER TABLE members ADD COLUMN birth_month TEXT NOT NULL DEFAULT '';"
       "UPDATE members SET birth_month = substr(birth_date, 1, 7),"
       " id_masked = substr(id_masked, 1, 6) || '************';"
       "ALTER TABLE members DROP COLUMN birth_date;"},
      ArrangementsAndReports(),
  };
}

}  // namespace eduaid::registry
