// eductl: command-line client of the eduaid suite.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "services/common/crypto.h"
#include "tools/eductl/ctl.h"

namespace eductl {
namespace {
std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

std::shared_ptr<grpc::Channel> Ctl::Channel(const std::string& target) {
  auto& ch = channels_[target];
  if (!ch) {
    std::shared_ptr<grpc::ChannelCredentials> creds;
    if (!tls_ca.empty()) {
      grpc::SslCredentialsOptions o;
      o.pem_root_certs = ReadFile(tls_ca);
      if (!tls_cert.empty()) {
        o.pem_cert_chain = ReadFile(tls_cert);
        o.pem_private_key = ReadFile(tls_key);
      }
      creds = grpc::SslCredentials(o);
    } else {
      creds = grpc::InsecureChannelCredentials();
    }
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    args.SetMaxSendMessageSize(32 << 20);
    ch = grpc::CreateCustomChannel(target, creds, args);
  }
  return ch;
}

std::unique_ptr<grpc::ClientContext> Ctl::Context() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(deadline_seconds));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

std::string Ctl::NewRequestId() { return "eductl-" + eduaid::RandomHex(12); }

}  // namespace eductl

int main(int argc, char** argv) {
  CLI::App app{"eductl: command-line client of the eduaid suite"};
  app.require_subcommand(1);
  eductl::Ctl ctl;
  if (const char* t = std::getenv("EDUAID_TOKEN")) ctl.token = t;
  app.add_option("--registry", ctl.registry, "Registry address")
      ->capture_default_str();
  app.add_option("--ledger", ctl.ledger, "Ledger address")
      ->capture_default_str();
  app.add_option("--teacher", ctl.teacher, "Teacher service address")
      ->capture_default_str();
  app.add_option("--vocational", ctl.vocational, "Vocational service address")
      ->capture_default_str();
  app.add_option("--token", ctl.token, "Bearer token (default $EDUAID_TOKEN)");
  app.add_option("--tls-ca", ctl.tls_ca,
                 "CA of the services' certificates (TLS)");
  app.add_option("--tls-cert", ctl.tls_cert, "Client certificate (mTLS)");
  app.add_option("--tls-key", ctl.tls_key, "Client key (mTLS)");
  app.add_flag("--json", ctl.json, "Print responses as JSON");
  app.add_option("--deadline", ctl.deadline_seconds, "Seconds per call")
      ->capture_default_str();
  int exit_code = 0;
  eductl::AddTokenCommand(app, ctl, exit_code);
  eductl::AddOpsCommands(app, ctl, exit_code);
  eductl::AddRegistryCommands(app, ctl, exit_code);
#ifdef EDUCTL_HAS_household
  eductl::AddSpecialGroupCommands(app, ctl, exit_code);
  eductl::AddHouseholdCommands(app, ctl, exit_code);
#endif
#ifdef EDUCTL_HAS_ledger
  eductl::AddLedgerCommands(app, ctl, exit_code);
#endif
#ifdef EDUCTL_HAS_teacher
  eductl::AddTeacherCommands(app, ctl, exit_code);
#endif
#ifdef EDUCTL_HAS_vocational
  eductl::AddVocationalCommands(app, ctl, exit_code);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
