// Synthetic data of a county (or the whole city) of Nanyang: schools,
// registered poor households with members of every age, school rosters,
// some children out of school, and (at chosen rates) duplicated and bad rows.
// Used by `eductl gen`, `eductl demo`, tests and benchmarks. Deterministic
// for a given seed.
#ifndef EDUAID_TOOLS_GEN_SYNTHETIC_H_
#define EDUAID_TOOLS_GEN_SYNTHETIC_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace eduaid::synthetic {

struct Options {
  int64_t households = 100;
  // 6-digit county codes; empty = all 13 districts and counties of Nanyang.
  std::vector<std::string> regions;
  double bad_rate = 0.0;             // share of member rows made invalid
  double dup_rate = 0.0;             // share of member rows repeated
  double out_of_school_rate = 0.03;  // of children aged 6..15
  uint64_t seed = 1;
  int term_year = 2026;  // autumn term of this year
  // Reference date for ages ("YYYY-MM-DD"); default term_year-09-01.
  std::string as_of;
};

// Plain text fields, as in the CSV files (so bad rows can carry bad values).
struct SchoolRow {
  std::string code, name, region_code, stages;  // stages: "primary;junior_high"
  bool rural = true;
};

struct MemberRow {
  std::string household_id, region_code, registration_year, household_status,
      id_number, name, relation;
  bool bad = false;        // deliberately invalid
  bool duplicate = false;  // repeats an earlier row
};

struct EnrolmentRowText {
  std::string id_number, school_code, stage, grade, term, status, boarder;
};

struct Data {
  std::vector<SchoolRow> schools;
  std::vector<MemberRow> members;
  std::vector<EnrolmentRowText> enrolments;
  int64_t children_6_15 = 0;
  int64_t out_of_school_6_15 = 0;  // expected out-of-school list size
};

Data Generate(const Options& options);

// The Chinese name of a Nanyang county code ("内乡县"), or "".
std::string CountyName(const std::string& code);
const std::vector<std::string>& NanyangCounties();

// CSV headers and writers (RFC 4180 quoting).
extern const char kHouseholdsHeader[];
extern const char kSchoolsHeader[];
extern const char kEnrolmentsHeader[];
void WriteHouseholdsCsv(const std::vector<MemberRow>& rows, std::ostream& out);
void WriteSchoolsCsv(const std::vector<SchoolRow>& rows, std::ostream& out);
void WriteEnrolmentsCsv(const std::vector<EnrolmentRowText>& rows,
                        std::ostream& out);

// A valid ID number for a region, birth date "YYYYMMDD" and 3-digit sequence.
std::string MakeIdNumber(const std::string& region, const std::string& yyyymmdd,
                         int sequence);

}  // namespace eduaid::synthetic

#endif  // EDUAID_TOOLS_GEN_SYNTHETIC_H_
