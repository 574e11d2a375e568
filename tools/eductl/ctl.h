// eductl: the command-line client of the eduaid suite. Each service adds its
// commands from its own file (registry_cmds.cc, ledger_cmds.cc, ...), one
// function per subcommand, on the helpers of cli_common.h.
#ifndef EDUAID_TOOLS_EDUCTL_CTL_H_
#define EDUAID_TOOLS_EDUCTL_CTL_H_

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "eduaid/common/v1/common.pb.h"
#include "grpcpp/grpcpp.h"

namespace eductl {

// Options every command shares, filled by the global flags.
struct Ctl {
  std::string registry = "127.0.0.1:50051";
  std::string ledger = "127.0.0.1:50052";
  std::string teacher = "127.0.0.1:50053";
  std::string vocational = "127.0.0.1:50054";
  // Bearer token: --token, else $EDUAID_TOKEN.
  std::string token;
  // TLS towards the services: CA, and client cert/key for mTLS.
  std::string tls_ca, tls_cert, tls_key;
  bool json = false;
  int deadline_seconds = 60;

  std::shared_ptr<grpc::Channel> Channel(const std::string& target);
  // A context with the token and the deadline.
  std::unique_ptr<grpc::ClientContext> Context();
  // A fresh request id ("eductl-<random>").
  static std::string NewRequestId();

 private:
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
};

// Command groups. Each returns nothing; commands set the exit code through
// `exit_code`.
void AddRegistryCommands(CLI::App& app, Ctl& ctl, int& exit_code);
void AddTokenCommand(CLI::App& app, Ctl& ctl, int& exit_code);
// `health` and `services` (reflection): for operators and scripts.
void AddOpsCommands(CLI::App& app, Ctl& ctl, int& exit_code);
#ifdef EDUCTL_HAS_household
// special-groups, left-behind, disability-plan, arrangement,
// home-teaching (the registry's special groups and arrangements).
void AddSpecialGroupCommands(CLI::App& app, Ctl& ctl, int& exit_code);
// `household <id>`: one case file from the four services.
void AddHouseholdCommands(CLI::App& app, Ctl& ctl, int& exit_code);
#endif
#ifdef EDUCTL_HAS_ledger
void AddLedgerCommands(CLI::App& app, Ctl& ctl, int& exit_code);
#endif
#ifdef EDUCTL_HAS_teacher
void AddTeacherCommands(CLI::App& app, Ctl& ctl, int& exit_code);
#endif
#ifdef EDUCTL_HAS_vocational
void AddVocationalCommands(CLI::App& app, Ctl& ctl, int& exit_code);
#endif

}  // namespace eductl

#endif  // EDUAID_TOOLS_EDUCTL_CTL_H_
