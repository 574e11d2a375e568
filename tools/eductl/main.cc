// eductl: command-line client of the eduaid suite.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "services/common/crypto.h"
#include "services/common/status.h"
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
  static const std::pair<const char*, cpb::SchoolStage> kMap[] = {
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
  for (const auto& [k, v] : kMap) {
    if (text == k) return v;
  }
  return cpb::SCHOOL_STAGE_UNSPECIFIED;
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
