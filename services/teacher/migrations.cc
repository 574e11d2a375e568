#include "services/common/idempotency.h"
#include "services/teacher/teacher.h"

namespace eduaid::teacher {
namespace {

// Version 1: teachers and their placement history.
Migration Version1() {
  return {1, "teachers and their placement history",
          "CREATE TABLE teachers ("
          " id {ID},"
          " id_hash TEXT NOT NULL UNIQUE,"
          " id_enc TEXT NOT NULL,"
          " id_masked TEXT NOT NULL,"
          " name_enc TEXT NOT NULL,"
          " school_code TEXT NOT NULL,"
          " school_name TEXT NOT NULL,"
          " region_code TEXT NOT NULL,"
          " rural BIGINT NOT NULL,"
          " stage BIGINT NOT NULL,"
          " subjects TEXT NOT NULL,"
          " title TEXT NOT NULL,"
          " years_of_service BIGINT NOT NULL,"
          " active BIGINT NOT NULL,"
          " left_reason TEXT NOT NULL,"
          " updated_at BIGINT NOT NULL);"
          "CREATE INDEX teachers_region ON teachers(region_code, id);"
          "CREATE INDEX teachers_school ON teachers(school_code, active);"
          "CREATE TABLE placement_history ("
          " teacher_id BIGINT NOT NULL REFERENCES teachers(id),"
          " term_index BIGINT NOT NULL,"
          " school_code TEXT NOT NULL,"
          " round_id BIGINT NOT NULL,"
          " PRIMARY KEY (teacher_id, term_index));"};
}

// Version 2: support-teaching rounds.
Migration Version2() {
  return {2, "support-teaching rounds",
          "CREATE TABLE rounds ("
          " id {ID},"
          " name TEXT NOT NULL,"
          " region_prefix TEXT NOT NULL,"
          " term_year BIGINT NOT NULL,"
          " term_season BIGINT NOT NULL,"
          " term_index BIGINT NOT NULL,"
          " max_consecutive BIGINT NOT NULL,"
          " max_per_source BIGINT NOT NULL,"
          " allow_same_school BIGINT NOT NULL,"
          " state BIGINT NOT NULL,"
          " version BIGINT NOT NULL,"
          " solution TEXT NOT NULL,"
          " filled BIGINT NOT NULL,"
          " total_cost BIGINT NOT NULL,"
          " created_by TEXT NOT NULL,"
          " created_at BIGINT NOT NULL,"
          " solved_at BIGINT NOT NULL,"
          " published_at BIGINT NOT NULL);"
          "CREATE INDEX rounds_region ON rounds(region_prefix, id);"
          "CREATE INDEX rounds_term ON rounds(term_index, state);"
          "CREATE TABLE round_demands ("
          " round_id BIGINT NOT NULL REFERENCES rounds(id),"
          " school_code TEXT NOT NULL,"
          " subject TEXT NOT NULL,"
          " school_name TEXT NOT NULL,"
          " region_code TEXT NOT NULL,"
          " stage BIGINT NOT NULL,"
          " slots BIGINT NOT NULL,"
          " PRIMARY KEY (round_id, school_code, subject));"
          "CREATE TABLE round_nominations ("
          " round_id BIGINT NOT NULL REFERENCES rounds(id),"
          " teacher_id BIGINT NOT NULL REFERENCES teachers(id),"
          " preferences TEXT NOT NULL,"
          " nominated_by TEXT NOT NULL,"
          " PRIMARY KEY (round_id, teacher_id));"
          "CREATE INDEX round_nominations_teacher ON "
          "round_nominations(teacher_id);"
          "CREATE TABLE round_constraints ("
          " round_id BIGINT NOT NULL REFERENCES rounds(id),"
          " teacher_id BIGINT NOT NULL REFERENCES teachers(id),"
          " school_code TEXT NOT NULL,"
          " kind BIGINT NOT NULL,"
          " set_by TEXT NOT NULL,"
          " PRIMARY KEY (round_id, teacher_id, school_code));"};
}

// Version 3: home-visit campaigns and visits.
Migration Version3() {
  return {3, "home-visit campaigns and visits",
          "CREATE TABLE campaigns ("
          " id {ID},"
          " name TEXT NOT NULL,"
          " region_prefix TEXT NOT NULL,"
          " term_year BIGINT NOT NULL,"
          " term_season BIGINT NOT NULL,"
          " term_index BIGINT NOT NULL,"
          " cap BIGINT NOT NULL,"
          " due_date TEXT NOT NULL,"
          " state BIGINT NOT NULL,"
          " version BIGINT NOT NULL,"
          " created_by TEXT NOT NULL,"
          " created_at BIGINT NOT NULL,"
          " assigned_at BIGINT NOT NULL);"
          "CREATE INDEX campaigns_region ON campaigns(region_prefix, id);"
          "CREATE INDEX campaigns_term ON campaigns(term_index);"
          "CREATE TABLE campaign_households ("
          " campaign_id BIGINT NOT NULL REFERENCES campaigns(id),"
          " household_id TEXT NOT NULL,"
          " region_code TEXT NOT NULL,"
          " schools TEXT NOT NULL,"
          " members TEXT NOT NULL,"
          " teacher_id BIGINT NOT NULL,"
          " uncovered_reason BIGINT NOT NULL,"
          " uncovered_detail TEXT NOT NULL,"
          " first_visit_date TEXT NOT NULL,"
          " visits BIGINT NOT NULL,"
          " last_risk BIGINT NOT NULL,"
          " updated_at BIGINT NOT NULL,"
          " PRIMARY KEY (campaign_id, household_id));"
          "CREATE INDEX campaign_households_teacher ON "
          " campaign_households(campaign_id, teacher_id);"
          "CREATE INDEX campaign_households_by_teacher ON "
          " campaign_households(teacher_id, visits);"
          "CREATE TABLE visits ("
          " id {ID},"
          " campaign_id BIGINT NOT NULL REFERENCES campaigns(id),"
          " household_id TEXT NOT NULL,"
          " teacher_id BIGINT NOT NULL REFERENCES teachers(id),"
          " visit_date TEXT NOT NULL,"
          " dropout_risk BIGINT NOT NULL,"
          " evidence_ref TEXT NOT NULL,"
          " detail_enc TEXT NOT NULL,"
          " recorded_by TEXT NOT NULL,"
          " recorded_at BIGINT NOT NULL);"
          "CREATE INDEX visits_household ON visits(campaign_id, household_id, "
          "id);"};
}

// Version 4: training programmes, allocations, enrolments, attendance.
Migration Version4() {
  return {4, "training programmes, allocations, enrolments, attendance",
          "CREATE TABLE training_programmes ("
          " id {ID},"
          " name TEXT NOT NULL,"
          " level BIGINT NOT NULL,"
          " year BIGINT NOT NULL,"
          " seats BIGINT NOT NULL,"
          " region_prefix TEXT NOT NULL,"
          " w_students BIGINT NOT NULL,"
          " w_shortage BIGINT NOT NULL,"
          " created_by TEXT NOT NULL,"
          " created_at BIGINT NOT NULL);"
          "CREATE INDEX training_programmes_region ON "
          " training_programmes(region_prefix, id);"
          "CREATE TABLE training_allocations ("
          " programme_id BIGINT NOT NULL REFERENCES training_programmes(id),"
          " region_code TEXT NOT NULL,"
          " students BIGINT NOT NULL,"
          " shortage BIGINT NOT NULL,"
          " seats BIGINT NOT NULL,"
          " enrolled BIGINT NOT NULL,"
          " quota_milli BIGINT NOT NULL,"
          " explanation TEXT NOT NULL,"
          " PRIMARY KEY (programme_id, region_code));"
          "CREATE TABLE training_enrolments ("
          " programme_id BIGINT NOT NULL REFERENCES training_programmes(id),"
          " teacher_id BIGINT NOT NULL REFERENCES teachers(id),"
          " region_code TEXT NOT NULL,"
          " enrolled_at BIGINT NOT NULL,"
          " completed BIGINT NOT NULL,"
          " passed BIGINT NOT NULL,"
          " hours BIGINT NOT NULL,"
          " certificate_ref TEXT NOT NULL,"
          " completed_at BIGINT NOT NULL,"
          " PRIMARY KEY (programme_id, teacher_id));"
          "CREATE TABLE training_attendance ("
          " programme_id BIGINT NOT NULL REFERENCES training_programmes(id),"
          " teacher_id BIGINT NOT NULL REFERENCES teachers(id),"
          " session_date TEXT NOT NULL,"
          " present BIGINT NOT NULL,"
          " PRIMARY KEY (programme_id, teacher_id, session_date));"};
}

// Version 6: teachers.id_masked: region only.
Migration Version6() {
  return {6, "teachers.id_masked: region only",
          "UPDATE teachers SET id_masked = substr(id_masked, 1, 6) || "
          "'************';"};
}

// Version 7: why a campaign household has its teacher (the school of a
// child, or the county rule for households with no child on a roster), and
// its members on a roster / out of school when assigned.
Migration Version7() {
  return {7, "campaign_households: assignment_rule, students, out_of_school",
          "ALTER TABLE campaign_households ADD COLUMN assignment_rule BIGINT "
          "NOT NULL DEFAULT 0;"
          "ALTER TABLE campaign_households ADD COLUMN students BIGINT NOT NULL "
          "DEFAULT 0;"
          "ALTER TABLE campaign_households ADD COLUMN out_of_school BIGINT "
          "NOT NULL DEFAULT 0;"};
}

// Version 8: a visit's structured findings, the payments it followed up,
// and the outbox that delivers them (teacher_visits.cc, finding_outbox.h).
Migration Version8() {
  return {8, "visit findings, follow-ups and their outbox",
          "CREATE TABLE visit_findings ("
          " visit_id BIGINT NOT NULL REFERENCES visits(id),"
          " idx BIGINT NOT NULL,"
          " kind BIGINT NOT NULL,"
          " member_id TEXT NOT NULL,"
          " programme_code TEXT NOT NULL,"
          " payment_id BIGINT NOT NULL,"
          " risk BIGINT NOT NULL,"
          " detail_enc TEXT NOT NULL,"
          " PRIMARY KEY (visit_id, idx));"
          "CREATE TABLE visit_follow_ups ("
          " visit_id BIGINT NOT NULL REFERENCES visits(id),"
          " payment_id BIGINT NOT NULL,"
          " member_id TEXT NOT NULL,"
          " programme_code TEXT NOT NULL,"
          " follow_up_id BIGINT NOT NULL,"
          " PRIMARY KEY (visit_id, payment_id));"
          "CREATE TABLE visit_outbox ("
          " id {ID},"
          " visit_id BIGINT NOT NULL REFERENCES visits(id),"
          " idx BIGINT NOT NULL,"
          " route BIGINT NOT NULL,"
          " request_id TEXT NOT NULL UNIQUE,"
          " payload_enc TEXT NOT NULL,"
          " household_id TEXT NOT NULL,"
          " region_code TEXT NOT NULL,"
          " term_key TEXT NOT NULL,"
          " state BIGINT NOT NULL,"
          " target TEXT NOT NULL,"
          " result_id BIGINT NOT NULL,"
          " last_error TEXT NOT NULL,"
          " attempts BIGINT NOT NULL,"
          " next_attempt_ms BIGINT NOT NULL,"
          " updated_ms BIGINT NOT NULL);"
          "CREATE INDEX visit_outbox_due ON visit_outbox(state, "
          "next_attempt_ms, id);"
          "CREATE INDEX visit_outbox_visit ON visit_outbox(visit_id, idx);"
          "CREATE INDEX visit_outbox_region ON visit_outbox(region_code, "
          "state);"
          "CREATE INDEX visits_by_household ON visits(household_id, id);"};
}

}  // namespace

std::vector<Migration> Migrations() {
  return {
      Version1(), Version2(), Version3(), Version4(), RequestLogMigration(5),
      Version6(), Version7(), Version8(),
  };
}

}  // namespace eduaid::teacher
