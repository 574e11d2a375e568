// What every command file shares: failure and JSON printing, the text forms
// of terms and stages, a command's context (exit code, argument errors, one
// call with the token and deadline, the pages of a List call), the `audit`
// command, enum words and request ids.
#ifndef EDUAID_TOOLS_EDUCTL_CLI_COMMON_H_
#define EDUAID_TOOLS_EDUCTL_CLI_COMMON_H_

#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "google/protobuf/repeated_ptr_field.h"
#include "grpcpp/grpcpp.h"
#include "tools/eductl/ctl.h"

namespace eductl {

// Prints a failed call (code, message, field violations) to stderr and
// returns the exit code for it (2 for INVALID_ARGUMENT, 3 for auth, 1 else).
int Fail(const grpc::Status& status);

// Prints a message as JSON (proto3 JSON mapping, UTF-8 kept) to stdout.
void PrintJson(const google::protobuf::Message& message);

// Text forms shared by every command: terms "2026-autumn" (or 2026-秋季),
// stages "primary" (or 小学). ParseTerm returns false for anything else;
// ParseStage returns SCHOOL_STAGE_UNSPECIFIED, which the server rejects
// naming the field.
bool ParseTerm(const std::string& text, eduaid::common::v1::Term* term);
std::string TermText(const eduaid::common::v1::Term& term);
eduaid::common::v1::SchoolStage ParseStage(const std::string& text);

// A command's context: the options, the exit code, and how it fails.
struct CommandEnv {
  Ctl& ctl;
  int& exit_code;

  // Prints "error: <message>", sets exit code 2 and returns false.
  bool Usage(const std::string& message) const;
  // True when the call succeeded; otherwise prints it and sets the code.
  bool Check(const grpc::Status& st) const;
  // Runs `call(context)` with a fresh context (token, deadline); Check()s it.
  template <typename Fn>
  bool Run(Fn call) const {
    auto ctx = ctl.Context();
    return Check(call(ctx.get()));
  }
};

// Prints one page of a List call: the response as JSON (--json), else each
// of `items` with `print`.
template <typename Resp, typename Items, typename Print>
void PrintPage(const Ctl& ctl, const Resp& resp, const Items& items,
               Print print) {
  if (ctl.json) {
    PrintJson(resp);
  } else {
    for (const auto& item : items) print(item);
  }
}

// A CommandEnv for one service, reached at the address `kAddress` of Ctl.
template <typename Service, std::string Ctl::*kAddress>
struct ServiceEnv : CommandEnv {
  using Stub = typename Service::Stub;
  std::unique_ptr<Stub> stub() const {
    return Service::NewStub(ctl.Channel(ctl.*kAddress));
  }
  // One call of `method` on `stub` (a fresh stub when none is given).
  template <typename Req, typename Resp>
  bool Call(grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&,
                                         Resp*),
            const Req& req, Resp* resp, Stub* stub = nullptr) const {
    std::unique_ptr<Stub> own;
    if (stub == nullptr) stub = (own = this->stub()).get();
    return Run([&](grpc::ClientContext* ctx) {
      return (stub->*method)(ctx, req, resp);
    });
  }
  // Calls `method` page after page (one stub, page_size as set in `req`),
  // handing each response to `on_page` (which may return false to stop
  // there); only the first page unless `all_pages`. False when a call
  // failed or `on_page` stopped.
  template <typename Req, typename Resp, typename OnPage>
  bool ForEachPage(grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                const Req&, Resp*),
                   Req& req, OnPage on_page, bool all_pages = true) const {
    auto stub = this->stub();
    do {
      Resp resp;
      if (!Call(method, req, &resp, stub.get())) return false;
      if constexpr (std::is_same_v<decltype(on_page(resp)), bool>) {
        if (!on_page(resp)) return false;
      } else {
        on_page(resp);
      }
      req.set_page_token(resp.next_page_token());
    } while (all_pages && !req.page_token().empty());
    return true;
  }
  // ForEachPage printing each page as JSON (--json), else each item of
  // `(resp.*items)()` with `print`.
  template <typename Req, typename Resp, typename Item, typename Print>
  bool PrintPages(
      grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
      Req& req,
      const google::protobuf::RepeatedPtrField<Item>& (Resp::*items)() const,
      Print print, bool all_pages = true) const {
    return ForEachPage(
        method, req,
        [&](const Resp& resp) { PrintPage(ctl, resp, (resp.*items)(), print); },
        all_pages);
  }
};

// `audit [--method M]`: a service's audit log, as JSON.
template <typename Env, typename Req, typename Resp>
void AddAuditLogCommand(CLI::App& parent, Env env, const std::string& help,
                        grpc::Status (Env::Stub::*list)(grpc::ClientContext*,
                                                        const Req&, Resp*)) {
  auto* cmd = parent.add_subcommand("audit", help);
  auto method = std::make_shared<std::string>();
  cmd->add_option("--method", *method, "Only this method");
  cmd->callback([env, method, list] {
    Req req;
    req.set_method(*method);
    Resp resp;
    if (!env.Call(list, req, &resp)) return;
    PrintJson(resp);
  });
}

// Words of the command line for enum values, several words to a value
// ("primary", "小学"). ParseWord: the value `word` names, else `otherwise`.
template <typename Enum, size_t N>
Enum ParseWord(const std::pair<const char*, Enum> (&words)[N],
               const std::string& word, Enum otherwise) {
  for (const auto& [w, v] : words) {
    if (word == w) return v;
  }
  return otherwise;
}
// The first word for `value`, else `otherwise`.
template <typename Enum, size_t N>
const char* WordOf(const std::pair<const char*, Enum> (&words)[N], Enum value,
                   const char* otherwise) {
  for (const auto& [w, v] : words) {
    if (value == v) return w;
  }
  return otherwise;
}

// The words of one enum, one to a value: Text() of a value ("-" for one
// with no word), Parse() of a word (`unspecified` for an unknown one).
template <typename Enum, size_t N>
struct EnumWords {
  std::pair<const char*, Enum> words[N];
  Enum unspecified;
  const char* Text(Enum value) const { return WordOf(words, value, "-"); }
  Enum Parse(const std::string& word) const {
    return ParseWord(words, word, unspecified);
  }
};

// `given`, or a fresh request id when it is empty.
std::string RequestIdOr(const std::string& given);

}  // namespace eductl

#endif  // EDUAID_TOOLS_EDUCTL_CLI_COMMON_H_
