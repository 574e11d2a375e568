// `eductl household <id>`: one household's case file from the four
// services' GetHouseholds answers, in Chinese section titles as a county
// officer reads it. Pure: the calls are made by household_cmds.cc; this
// file only formats what came back (tested in tests/row_parsers_test.cc).
#ifndef EDUAID_TOOLS_EDUCTL_HOUSEHOLD_REPORT_H_
#define EDUAID_TOOLS_EDUCTL_HOUSEHOLD_REPORT_H_

#include <string>

#include "eduaid/ledger/v1/ledger.pb.h"
#include "eduaid/registry/v1/registry.pb.h"
#include "eduaid/teacher/v1/teacher.pb.h"
#include "eduaid/vocational/v1/vocational.pb.h"
#include "grpcpp/support/status.h"

namespace eductl {

// What one service answered for the household: its record, or that it has
// none (NOT_FOUND, or the id listed in not_found), or the failed call.
template <typename Record>
struct HouseholdPart {
  grpc::Status status;  // of the call
  bool found = false;   // status OK and the household in the answer
  Record record;
};

struct HouseholdFile {
  std::string household_id;
  HouseholdPart<eduaid::registry::v1::Household> registry;
  HouseholdPart<eduaid::ledger::v1::HouseholdLedger> ledger;
  HouseholdPart<eduaid::teacher::v1::HouseholdVisits> teacher;
  HouseholdPart<eduaid::vocational::v1::HouseholdVocational> vocational;
};

// True when no service has the household and none failed otherwise: the
// household does not exist or is outside the caller's scope.
bool NotFoundAnywhere(const HouseholdFile& f);

// The exit code: 0 when every call succeeded, else the code of the first
// failure as the other commands give it (1 for NOT_FOUND everywhere or an
// unreachable service, 3 for a refusal, ...).
int HouseholdExitCode(const HouseholdFile& f);

// The report. Sections: 家庭, 成员, 控辍保学, 留守 / 残疾, 资助, 走访,
// 职业教育. A section whose service failed says so on one line with the
// gRPC status.
std::string FormatHouseholdReport(const HouseholdFile& f);

// The same as one JSON object {"household_id", "registry", "ledger",
// "teacher", "vocational"}, each the record (proto3 JSON) or
// {"error": {"code", "message"}} or null when not found.
std::string HouseholdJson(const HouseholdFile& f);

}  // namespace eductl

#endif  // EDUAID_TOOLS_EDUCTL_HOUSEHOLD_REPORT_H_
