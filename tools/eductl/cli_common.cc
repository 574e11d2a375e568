#include "tools/eductl/cli_common.h"

#include <iostream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "services/common/status.h"

namespace eductl {

bool CommandEnv::Usage(const std::string& message) const {
  std::cerr << "error: " << message << "\n";
  exit_code = 2;
  return false;
}

bool CommandEnv::Check(const grpc::Status& st) const {
  if (st.ok()) return true;
  exit_code = Fail(st);
  return false;
}

int Fail(const grpc::Status& status) {
  absl::Status st = eduaid::FromGrpcStatus(status);
  std::cerr << "error: " << eduaid::GrpcCodeName(status.error_code()) << ": "
            << status.error_message() << "\n";
  for (const auto& v : eduaid::FieldViolationsOf(st)) {
    std::cerr << "  " << v.field << ": " << v.rule << "\n";
  }
  std::string reason = eduaid::ReasonOf(st);
  if (!reason.empty()) std::cerr << "  reason: " << reason << "\n";
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
      return 2;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return 3;
    default:
      return 1;
  }
}

bool ParseTerm(const std::string& text, eduaid::common::v1::Term* term) {
  namespace cpb = ::eduaid::common::v1;
  std::vector<std::string> parts = absl::StrSplit(text, '-');
  int year = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &year)) return false;
  term->set_year(year);
  if (parts[1] == "autumn" || parts[1] == "秋季") {
    term->set_season(cpb::SEASON_AUTUMN);
  } else if (parts[1] == "spring" || parts[1] == "春季") {
    term->set_season(cpb::SEASON_SPRING);
  } else {
    return false;
  }
  return true;
}

std::string TermText(const eduaid::common::v1::Term& t) {
  if (t.year() == 0) return "-";
  return absl::StrCat(t.year(), t.season() == eduaid::common::v1::SEASON_AUTUMN
                                    ? "-autumn"
                                    : "-spring");
}

eduaid::common::v1::SchoolStage ParseStage(const std::string& text) {
  namespace cpb = ::eduaid::common::v1;
  static const std::pair<const char*, cpb::SchoolStage> kStages[] = {
      {"preschool", cpb::SCHOOL_STAGE_PRESCHOOL},
      {"学前", cpb::SCHOOL_STAGE_PRESCHOOL},
      {"primary", cpb::SCHOOL_STAGE_PRIMARY},
      {"小学", cpb::SCHOOL_STAGE_PRIMARY},
      {"junior_high", cpb::SCHOOL_STAGE_JUNIOR_HIGH},
      {"初中", cpb::SCHOOL_STAGE_JUNIOR_HIGH},
      {"senior_high", cpb::SCHOOL_STAGE_SENIOR_HIGH},
      {"高中", cpb::SCHOOL_STAGE_SENIOR_HIGH},
      {"secondary_vocational", cpb::SCHOOL_STAGE_SECONDARY_VOCATIONAL},
      {"中职", cpb::SCHOOL_STAGE_SECONDARY_VOCATIONAL},
      {"higher", cpb::SCHOOL_STAGE_HIGHER},
      {"高等教育", cpb::SCHOOL_STAGE_HIGHER}};
  return ParseWord(kStages, text, cpb::SCHOOL_STAGE_UNSPECIFIED);
}

void PrintJson(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.add_whitespace = true;
  o.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &out, o);
  std::cout << out;
  if (out.empty() || out.back() != '\n') std::cout << "\n";
}

std::string RequestIdOr(const std::string& given) {
  return given.empty() ? Ctl::NewRequestId() : given;
}

}  // namespace eductl
