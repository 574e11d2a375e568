#include "tools/eductl/cli_common.h"

#include <iostream>

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

std::string RequestIdOr(const std::string& given) {
  return given.empty() ? Ctl::NewRequestId() : given;
}

}  // namespace eductl
