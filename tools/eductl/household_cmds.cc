// `eductl household <household_id>`: one household's case file, from the
// GetHouseholds of the registry, the ledger, the teacher service and the
// vocational service, with the caller's token. A service that fails says
// so in its section (and the exit code is not 0); the others still print.
#include <iostream>
#include <memory>
#include <string>

#include "eduaid/ledger/v1/ledger.grpc.pb.h"
#include "eduaid/registry/v1/registry.grpc.pb.h"
#include "eduaid/teacher/v1/teacher.grpc.pb.h"
#include "eduaid/vocational/v1/vocational.grpc.pb.h"
#include "tools/eductl/cli_common.h"
#include "tools/eductl/ctl.h"
#include "tools/eductl/household_report.h"

namespace eductl {
namespace {

namespace rpb = ::eduaid::registry::v1;
namespace lpb = ::eduaid::ledger::v1;
namespace tpb = ::eduaid::teacher::v1;
namespace vpb = ::eduaid::vocational::v1;

// Calls `Service::GetHouseholds` for one id and fills `part`: the record
// with that id, or not found (listed in not_found, absent, or the call
// answered NOT_FOUND), or the failed status.
template <typename Service, typename Req, typename Resp, typename Record>
void Fetch(Ctl& ctl, const std::string& address, const std::string& id,
           HouseholdPart<Record>* part) {
  auto stub = Service::NewStub(ctl.Channel(address));
  Req req;
  req.add_household_ids(id);
  Resp resp;
  auto ctx = ctl.Context();
  part->status = stub->GetHouseholds(ctx.get(), req, &resp);
  if (!part->status.ok()) return;
  for (const auto& h : resp.households()) {
    if (h.household_id() == id) {
      part->record = h;
      part->found = true;
    }
  }
}

void AddHouseholdCommand(CLI::App& app, Ctl& ctl, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "household",
      "One household's case file (家庭, 成员, 控辍保学, 留守/残疾, 资助, 走访, "
      "职业教育) from the four services");
  auto id = std::make_shared<std::string>();
  cmd->add_option("household_id", *id, "Household id (户编号)")->required();
  cmd->callback([&ctl, &exit_code, id] {
    HouseholdFile f;
    f.household_id = *id;
    Fetch<rpb::StudentRegistryService, rpb::GetHouseholdsRequest,
          rpb::GetHouseholdsResponse>(ctl, ctl.registry, *id, &f.registry);
    Fetch<lpb::SubsidyLedgerService, lpb::GetHouseholdsRequest,
          lpb::GetHouseholdsResponse>(ctl, ctl.ledger, *id, &f.ledger);
    Fetch<tpb::TeacherSupportService, tpb::GetHouseholdsRequest,
          tpb::GetHouseholdsResponse>(ctl, ctl.teacher, *id, &f.teacher);
    Fetch<vpb::VocationalTrainingService, vpb::GetHouseholdsRequest,
          vpb::GetHouseholdsResponse>(ctl, ctl.vocational, *id, &f.vocational);
    exit_code = HouseholdExitCode(f);
    if (ctl.json) {
      std::cout << HouseholdJson(f);
    } else if (NotFoundAnywhere(f)) {
      std::cerr << "error: " << FormatHouseholdReport(f);
    } else {
      std::cout << FormatHouseholdReport(f);
    }
  });
}

}  // namespace

void AddHouseholdCommands(CLI::App& app, Ctl& ctl, int& exit_code) {
  AddHouseholdCommand(app, ctl, exit_code);
}

}  // namespace eductl
