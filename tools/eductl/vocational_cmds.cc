// eductl commands of the vocational service: `eductl vocational ...`.
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "eduaid/registry/v1/registry.grpc.pb.h"
#include "eduaid/vocational/v1/vocational.grpc.pb.h"
#include "services/common/validate.h"
#include "tools/eductl/cli_common.h"
#include "tools/eductl/ctl.h"
#include "tools/gen/synthetic.h"

namespace eductl {
namespace {

namespace vpb = ::eduaid::vocational::v1;
namespace rpb = ::eduaid::registry::v1;
namespace cpb = ::eduaid::common::v1;

using Env = ServiceEnv<vpb::VocationalTrainingService, &Ctl::vocational>;
using Stub = Env::Stub;

const std::pair<const char*, vpb::CourseKind> kKinds[] = {
    {"major", vpb::COURSE_KIND_MAJOR},
    {"专业", vpb::COURSE_KIND_MAJOR},
    {"class", vpb::COURSE_KIND_TRAINING_CLASS},
    {"培训班", vpb::COURSE_KIND_TRAINING_CLASS}};

vpb::CourseKind ParseKind(const std::string& s) {
  return ParseWord(kKinds, s, vpb::COURSE_KIND_UNSPECIFIED);
}

const char* KindText(vpb::CourseKind k) {
  return k == vpb::COURSE_KIND_MAJOR ? "major" : "class";
}

const EnumWords<vpb::ApplicationState, 4> kAppStates{
    {{"enrolled", vpb::APPLICATION_STATE_ENROLLED},
     {"waitlisted", vpb::APPLICATION_STATE_WAITLISTED},
     {"withdrawn", vpb::APPLICATION_STATE_WITHDRAWN},
     {"completed", vpb::APPLICATION_STATE_COMPLETED}},
    vpb::APPLICATION_STATE_UNSPECIFIED};

const EnumWords<vpb::OfferState, 5> kOfferStates{
    {{"open", vpb::OFFER_STATE_OPEN},
     {"accepted", vpb::OFFER_STATE_ACCEPTED},
     {"declined", vpb::OFFER_STATE_DECLINED},
     {"expired", vpb::OFFER_STATE_EXPIRED},
     {"withdrawn", vpb::OFFER_STATE_WITHDRAWN}},
    vpb::OFFER_STATE_UNSPECIFIED};

const EnumWords<vpb::GrantState, 4> kGrantStates{
    {{"pending", vpb::GRANT_STATE_PENDING},
     {"delivered", vpb::GRANT_STATE_DELIVERED},
     {"rejected", vpb::GRANT_STATE_REJECTED},
     {"cancelled", vpb::GRANT_STATE_CANCELLED}},
    vpb::GRANT_STATE_UNSPECIFIED};

const std::pair<const char*, vpb::Outcome> kOutcomes[] = {
    {"employed", vpb::OUTCOME_EMPLOYED},
    {"就业", vpb::OUTCOME_EMPLOYED},
    {"self_employed", vpb::OUTCOME_SELF_EMPLOYED},
    {"自主创业", vpb::OUTCOME_SELF_EMPLOYED},
    {"further_study", vpb::OUTCOME_FURTHER_STUDY},
    {"升学", vpb::OUTCOME_FURTHER_STUDY},
    {"seeking_work", vpb::OUTCOME_SEEKING_WORK},
    {"待业", vpb::OUTCOME_SEEKING_WORK},
    {"other", vpb::OUTCOME_OTHER},
    {"其他", vpb::OUTCOME_OTHER}};

vpb::Outcome ParseOutcome(const std::string& s) {
  return ParseWord(kOutcomes, s, vpb::OUTCOME_UNSPECIFIED);
}

std::string Percent(int32_t bp) {
  char buf[16];
  snprintf(buf, sizeof buf, "%d.%02d%%", bp / 100, bp % 100);
  return buf;
}

void PrintCourse(const vpb::Course& c) {
  printf(
      "%-22s %-5s %s %-8s cap %4d  enrolled %4d  waitlist %4d  completed "
      "%4d  fill %s  %s\n",
      c.code().c_str(), KindText(c.kind()), c.region_code().c_str(),
      c.kind() == vpb::COURSE_KIND_MAJOR ? TermText(c.intake_term()).c_str()
                                         : c.start_date().c_str(),
      c.capacity(), c.enrolled(), c.waitlisted(), c.completed(),
      Percent(c.fill_rate_bp()).c_str(),
      (c.kind() == vpb::COURSE_KIND_MAJOR ? c.school_name() + " · " + c.name()
                                          : c.provider() + " · " + c.name())
          .c_str());
}

void PrintApplication(const vpb::Application& a) {
  printf("a-%-6lld %-10s %-10s %-8s %-20s %-10s %s%s\n",
         static_cast<long long>(a.application_id()), a.member_id().c_str(),
         a.name().c_str(), a.member_region_code().c_str(),
         a.course_code().c_str(), kAppStates.Text(a.state()),
         a.state() == vpb::APPLICATION_STATE_WAITLISTED
             ? a.waitlist_reason().c_str()
             : "",
         a.promoted() ? "(promoted from the waitlist)" : "");
}

void PrintGrant(const vpb::Grant& g) {
  printf("g-%-6lld a-%-6lld %-10s %-26s %-12s %-10s attempts %d  %s%s%s\n",
         static_cast<long long>(g.grant_id()),
         static_cast<long long>(g.application_id()), g.member_id().c_str(),
         g.programme_code().c_str(), TermText(g.term()).c_str(),
         kGrantStates.Text(g.state()), g.attempts(),
         g.entitlement_id()
             ? absl::StrCat("entitlement ", g.entitlement_id(), " ").c_str()
             : "",
         g.outcome().c_str(),
         g.last_error().empty() ? ""
                                : ("  last error: " + g.last_error()).c_str());
}

}  // namespace

namespace {

// Creates or updates a course; prints it and any applications a larger
// capacity promoted from the waitlist.
void UpsertCourse(const Env& env, const vpb::UpsertCourseRequest& req) {
  vpb::UpsertCourseResponse resp;
  if (!env.Call(&Stub::UpsertCourse, req, &resp)) return;
  if (env.ctl.json) return PrintJson(resp);
  std::cout << (resp.created() ? "created: " : "updated: ");
  PrintCourse(resp.course());
  for (const auto& a : resp.promoted()) PrintApplication(a);
}

void AddCourseAddMajorCommand(CLI::App* course, Env env) {
  auto* major = course->add_subcommand(
      "add-major",
      "Create or update a secondary vocational major (one intake)");
  auto intake = std::make_shared<std::string>("");
  auto years = std::make_shared<int>(3);
  auto cap = std::make_shared<int>(0);
  auto code = std::make_shared<std::string>(),
       name = std::make_shared<std::string>(),
       region = std::make_shared<std::string>(),
       school = std::make_shared<std::string>(),
       school_name = std::make_shared<std::string>(),
       trade = std::make_shared<std::string>();
  major->add_option("--code", *code, "Course code, e.g. V411325-2026-QC")
      ->required();
  major->add_option("--name", *name, "Major, e.g. 汽车运用与维修")->required();
  major->add_option("--region", *region, "6-digit county code")->required();
  major->add_option("--school", *school, "Registry school code")->required();
  major->add_option("--school-name", *school_name, "School name")->required();
  major->add_option("--intake", *intake, "Intake term, e.g. 2026-autumn")
      ->required();
  major->add_option("--capacity", *cap, "Places in the intake")->required();
  major->add_option("--years", *years, "Duration in years")
      ->capture_default_str();
  major->add_option("--trade", *trade, "Field (专业大类)");
  major->callback([env, code, name, region, school, school_name, intake, cap,
                   years, trade] {
    vpb::UpsertCourseRequest req;
    req.set_request_id(Ctl::NewRequestId());
    auto* c = req.mutable_course();
    c->set_code(*code);
    c->set_kind(vpb::COURSE_KIND_MAJOR);
    c->set_name(*name);
    c->set_region_code(*region);
    c->set_school_code(*school);
    c->set_school_name(*school_name);
    if (!ParseTerm(*intake, c->mutable_intake_term())) {
      env.Usage("--intake must look like 2026-autumn");
      return;
    }
    c->set_capacity(*cap);
    c->set_duration_years(*years);
    c->set_trade(*trade);
    UpsertCourse(env, req);
  });
}

void AddCourseAddClassCommand(CLI::App* course, Env env) {
  auto* cls = course->add_subcommand(
      "add-class",
      "Create or update a skills-training class (精准脱贫技能培训班)");
  auto kcap = std::make_shared<int>(0), khours = std::make_shared<int>(0);
  auto kcode = std::make_shared<std::string>(),
       kname = std::make_shared<std::string>(),
       kregion = std::make_shared<std::string>(),
       ktrade = std::make_shared<std::string>(),
       provider = std::make_shared<std::string>(),
       location = std::make_shared<std::string>(),
       schedule = std::make_shared<std::string>(),
       start = std::make_shared<std::string>(),
       end = std::make_shared<std::string>();
  cls->add_option("--code", *kcode, "Course code")->required();
  cls->add_option("--name", *kname, "Class name")->required();
  cls->add_option("--region", *kregion, "6-digit county code")->required();
  cls->add_option("--capacity", *kcap, "Seats")->required();
  cls->add_option("--trade", *ktrade, "Trade (工种), e.g. 电焊");
  cls->add_option("--provider", *provider, "Who runs it")->required();
  cls->add_option("--location", *location, "Where")->required();
  cls->add_option("--schedule", *schedule, "When, e.g. 周一至周五 8:30-17:00")
      ->required();
  cls->add_option("--start", *start, "YYYY-MM-DD")->required();
  cls->add_option("--end", *end, "YYYY-MM-DD")->required();
  cls->add_option("--hours", *khours, "Total hours")->required();
  cls->callback([env, kcode, kname, kregion, kcap, ktrade, provider, location,
                 schedule, start, end, khours] {
    vpb::UpsertCourseRequest req;
    req.set_request_id(Ctl::NewRequestId());
    auto* c = req.mutable_course();
    c->set_code(*kcode);
    c->set_kind(vpb::COURSE_KIND_TRAINING_CLASS);
    c->set_name(*kname);
    c->set_region_code(*kregion);
    c->set_capacity(*kcap);
    c->set_trade(*ktrade);
    c->set_provider(*provider);
    c->set_location(*location);
    c->set_schedule(*schedule);
    c->set_start_date(*start);
    c->set_end_date(*end);
    c->set_total_hours(*khours);
    UpsertCourse(env, req);
  });
}

void AddCourseShowCommand(CLI::App* course, Env env) {
  auto* show = course->add_subcommand("show", "One course");
  auto scode = std::make_shared<std::string>();
  show->add_option("code", *scode, "Course code")->required();
  show->callback([env, scode] {
    vpb::GetCourseRequest req;
    req.set_code(*scode);
    vpb::GetCourseResponse resp;
    if (!env.Call(&Stub::GetCourse, req, &resp)) return;
    PrintJson(resp.course());
  });
}

void AddCourseCommands(CLI::App* voc, Env env) {
  auto* course =
      voc->add_subcommand("course", "Create, update or show a course");
  course->require_subcommand(1);

  AddCourseAddMajorCommand(course, env);
  AddCourseAddClassCommand(course, env);
  AddCourseShowCommand(course, env);
}

void AddCoursesCommand(CLI::App* voc, Env env) {
  auto* cmd = voc->add_subcommand("courses", "List courses");
  auto region = std::make_shared<std::string>(),
       kind = std::make_shared<std::string>();
  cmd->add_option("--region", *region, "Region code prefix");
  cmd->add_option("--kind", *kind, "major|class");
  cmd->callback([env, region, kind] {
    vpb::ListCoursesRequest req;
    req.set_region_prefix(*region);
    if (!kind->empty()) req.set_kind(ParseKind(*kind));
    req.set_page_size(1000);
    if (!env.PrintPages(&Stub::ListCourses, req,
                        &vpb::ListCoursesResponse::courses, PrintCourse))
      return;
  });
}

void AddOffersRunCommand(CLI::App* offers, Env env) {
  auto* run = offers->add_subcommand(
      "run",
      "Offer every registered junior-high graduate of a year with no "
      "school (per the registry) a free vocational place");
  auto region = std::make_shared<std::string>(),
       expires = std::make_shared<std::string>();
  auto year = std::make_shared<int>(0);
  run->add_option("--region", *region, "County (6) or city (4 digits)")
      ->required();
  run->add_option("--year", *year, "Graduation year")->required();
  run->add_option("--expires", *expires, "YYYY-MM-DD (default: 60 days)");
  run->callback([env, region, year, expires] {
    vpb::RunOffersRequest req;
    req.set_request_id(Ctl::NewRequestId());
    req.set_region_prefix(*region);
    req.set_graduation_year(*year);
    req.set_expires_on(*expires);
    vpb::RunOffersResponse resp;
    if (!env.Call(&Stub::RunOffers, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    printf(
        "graduates of %d with no school: %lld; offers made %lld, offered "
        "before %lld, closed (went on to a school) %lld; open until %s\n",
        *year, static_cast<long long>(resp.graduates_seen()),
        static_cast<long long>(resp.offers_created()),
        static_cast<long long>(resp.already_offered()),
        static_cast<long long>(resp.withdrawn_went_on()),
        resp.expires_on().c_str());
  });
}

void PrintOffer(const vpb::Offer& o) {
  printf("o-%-6lld %-10s %-10s %s %d %-10s until %s %s\n",
         static_cast<long long>(o.offer_id()), o.member_id().c_str(),
         o.name().c_str(), o.region_code().c_str(), o.graduation_year(),
         kOfferStates.Text(o.state()), o.expires_on().c_str(),
         o.note().c_str());
}

void AddOffersListCommand(CLI::App* offers, Env env) {
  auto* list = offers->add_subcommand("list", "Offers");
  auto lregion = std::make_shared<std::string>(),
       lstate = std::make_shared<std::string>();
  auto lyear = std::make_shared<int>(0);
  list->add_option("--region", *lregion, "Region code prefix");
  list->add_option("--state", *lstate,
                   "open|accepted|declined|expired|withdrawn");
  list->add_option("--year", *lyear, "Graduation year");
  list->callback([env, lregion, lstate, lyear] {
    vpb::ListOffersRequest req;
    req.set_region_prefix(*lregion);
    if (!lstate->empty()) req.set_state(kOfferStates.Parse(*lstate));
    req.set_graduation_year(*lyear);
    req.set_page_size(1000);
    if (!env.PrintPages(&Stub::ListOffers, req,
                        &vpb::ListOffersResponse::offers, PrintOffer))
      return;
  });
}

void AddOffersDeclineCommand(CLI::App* offers, Env env) {
  auto* decline =
      offers->add_subcommand("decline", "Record that a graduate declined");
  auto offer_id = std::make_shared<int64_t>(0);
  auto reason = std::make_shared<std::string>();
  decline->add_option("offer_id", *offer_id, "Offer id")->required();
  decline->add_option("--reason", *reason, "Why, e.g. 外出务工")->required();
  decline->callback([env, offer_id, reason] {
    vpb::DeclineOfferRequest req;
    req.set_request_id(Ctl::NewRequestId());
    req.set_offer_id(*offer_id);
    req.set_reason(*reason);
    vpb::DeclineOfferResponse resp;
    if (!env.Call(&Stub::DeclineOffer, req, &resp)) return;
    PrintJson(resp.offer());
  });
}

void AddOffersCommands(CLI::App* voc, Env env) {
  auto* offers = voc->add_subcommand(
      "offers", "Offers of free vocational enrolment to junior-high graduates");
  offers->require_subcommand(1);
  AddOffersRunCommand(offers, env);
  AddOffersListCommand(offers, env);
  AddOffersDeclineCommand(offers, env);
}

void AddUnplacedCommand(CLI::App* voc, Env env) {
  auto* cmd = voc->add_subcommand(
      "unplaced",
      "Standing report: junior-high graduates with no school and no offer");
  auto region = std::make_shared<std::string>();
  auto year = std::make_shared<int>(0);
  cmd->add_option("--region", *region, "Region code prefix");
  cmd->add_option("--year", *year, "Graduation year")->required();
  cmd->callback([env, region, year] {
    vpb::ListUnplacedGraduatesRequest req;
    req.set_region_prefix(*region);
    req.set_graduation_year(*year);
    vpb::ListUnplacedGraduatesResponse resp;
    if (!env.Call(&Stub::ListUnplacedGraduates, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    for (const auto& g : resp.graduates()) {
      printf("%-10s %-10s %s since %s (%d days)  %s\n", g.member_id().c_str(),
             g.name().c_str(), g.region_code().c_str(), g.since().c_str(),
             g.days_open(), g.note().c_str());
    }
    printf("unplaced: %lld of %lld graduates with no school\n",
           static_cast<long long>(resp.total()),
           static_cast<long long>(resp.graduates_seen()));
  });
}

void AddApplyCommand(CLI::App* voc, Env env) {
  auto* cmd =
      voc->add_subcommand("apply", "Apply a registered member for a course");
  auto course = std::make_shared<std::string>(),
       member = std::make_shared<std::string>(),
       id_number = std::make_shared<std::string>(),
       note = std::make_shared<std::string>();
  auto boarder = std::make_shared<bool>(false);
  cmd->add_option("course", *course, "Course code")->required();
  cmd->add_option("--member", *member, "Registry member id (m-<n>)");
  cmd->add_option("--id-number", *id_number,
                  "Resident ID number (looked up in the registry)");
  cmd->add_flag("--boarder", *boarder, "Boards at the school");
  cmd->add_option("--note", *note, "Note");
  cmd->callback([env, course, member, id_number, boarder, note] {
    std::string member_id = *member;
    if (member_id.empty() && !id_number->empty()) {
      auto reg = rpb::StudentRegistryService::NewStub(
          env.ctl.Channel(env.ctl.registry));
      rpb::GetStudentRequest req;
      req.set_id_number(*id_number);
      rpb::GetStudentResponse resp;
      if (!env.Run([&](grpc::ClientContext* ctx) {
            return reg->GetStudent(ctx, req, &resp);
          }))
        return;
      member_id = resp.student().member_id();
    }
    if (member_id.empty()) {
      env.Usage("give --member or --id-number");
      return;
    }
    vpb::ApplyRequest req;
    req.set_request_id(Ctl::NewRequestId());
    req.set_course_code(*course);
    req.set_member_id(member_id);
    req.set_boarder(*boarder);
    req.set_note(*note);
    vpb::ApplyResponse resp;
    if (!env.Call(&Stub::Apply, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    PrintApplication(resp.application());
    for (const auto& g : resp.application().grants()) PrintGrant(g);
  });
}

// The members holding an open offer in `region` (graduates of `year`, or
// of any year for 0).
bool OpenOfferHolders(const Env& env, const std::string& region, int year,
                      std::vector<std::string>* members) {
  vpb::ListOffersRequest lreq;
  lreq.set_region_prefix(region);
  lreq.set_state(vpb::OFFER_STATE_OPEN);
  lreq.set_graduation_year(year);
  lreq.set_page_size(1000);
  return env.ForEachPage(&Stub::ListOffers, lreq,
                         [&](const vpb::ListOffersResponse& resp) {
                           for (const auto& o : resp.offers())
                             members->push_back(o.member_id());
                         });
}

// Applies each of `members` (at most `limit`, 0 = all) for `course`; a
// refusal is printed and counted, never fatal. Prints the counts by state.
void ApplyOfferHolders(const Env& env, const std::string& course,
                       const std::vector<std::string>& members, int limit) {
  auto stub = env.stub();
  std::map<std::string, int> counts;
  int done = 0;
  for (const auto& m : members) {
    if (limit > 0 && done >= limit) break;
    vpb::ApplyRequest req;
    // Deterministic: running the round again repeats, never duplicates.
    req.set_request_id(absl::StrCat("apply-", course, "-", m));
    req.set_course_code(course);
    req.set_member_id(m);
    vpb::ApplyResponse resp;
    auto ctx = env.ctl.Context();
    grpc::Status st = stub->Apply(ctx.get(), req, &resp);
    ++done;
    if (!st.ok()) {
      std::cerr << m << ": ";
      Fail(st);
      ++counts["refused"];
      continue;
    }
    ++counts[kAppStates.Text(resp.application().state())];
    if (!env.ctl.json) PrintApplication(resp.application());
  }
  printf("applications: %d (", done);
  bool first = true;
  for (const auto& [k, n] : counts) {
    printf("%s%s %d", first ? "" : ", ", k.c_str(), n);
    first = false;
  }
  printf(")\n");
}

void AddApplyOfferedCommand(CLI::App* voc, Env env) {
  auto* cmd = voc->add_subcommand(
      "apply-offered",
      "Apply every graduate holding an open offer in a region for a major "
      "(the demo's enrolment round)");
  auto course = std::make_shared<std::string>(),
       region = std::make_shared<std::string>();
  auto year = std::make_shared<int>(0), limit = std::make_shared<int>(0);
  cmd->add_option("course", *course, "Major code")->required();
  cmd->add_option("--region", *region, "Region code prefix")->required();
  cmd->add_option("--year", *year, "Graduation year");
  cmd->add_option("--limit", *limit,
                  "At most this many applications (0 = all)");
  cmd->callback([env, course, region, year, limit] {
    std::vector<std::string> members;
    if (!OpenOfferHolders(env, *region, *year, &members)) return;
    ApplyOfferHolders(env, *course, members, *limit);
  });
}

void AddApplicationCommand(CLI::App* voc, Env env) {
  auto* cmd =
      voc->add_subcommand("application", "One application with its grants");
  auto id = std::make_shared<int64_t>(0);
  cmd->add_option("application_id", *id, "Application id")->required();
  cmd->callback([env, id] {
    vpb::GetApplicationRequest req;
    req.set_application_id(*id);
    vpb::GetApplicationResponse resp;
    if (!env.Call(&Stub::GetApplication, req, &resp)) return;
    PrintJson(resp.application());
  });
}

void AddApplicationsCommand(CLI::App* voc, Env env) {
  auto* cmd = voc->add_subcommand("applications", "List applications");
  auto course = std::make_shared<std::string>(),
       region = std::make_shared<std::string>(),
       state = std::make_shared<std::string>(),
       member = std::make_shared<std::string>();
  cmd->add_option("--course", *course, "Course code");
  cmd->add_option("--region", *region, "Region prefix (course or applicant)");
  cmd->add_option("--state", *state, "enrolled|waitlisted|withdrawn|completed");
  cmd->add_option("--member", *member, "Member id");
  cmd->callback([env, course, region, state, member] {
    vpb::ListApplicationsRequest req;
    req.set_course_code(*course);
    req.set_region_prefix(*region);
    if (!state->empty()) req.set_state(kAppStates.Parse(*state));
    req.set_member_id(*member);
    req.set_page_size(1000);
    if (!env.PrintPages(&Stub::ListApplications, req,
                        &vpb::ListApplicationsResponse::applications,
                        PrintApplication))
      return;
  });
}

void AddWaitlistCommand(CLI::App* voc, Env env) {
  auto* cmd = voc->add_subcommand("waitlist",
                                  "A course's waitlist, in order, explained");
  auto course = std::make_shared<std::string>();
  cmd->add_option("course", *course, "Course code")->required();
  cmd->callback([env, course] {
    vpb::GetWaitlistRequest req;
    req.set_course_code(*course);
    vpb::GetWaitlistResponse resp;
    if (!env.Call(&Stub::GetWaitlist, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    PrintCourse(resp.course());
    std::cout << "rule: " << resp.rule() << "\n";
    for (const auto& e : resp.entries()) {
      printf("%3d. a-%-6lld %-10s %-10s applied %s  %s\n", e.position(),
             static_cast<long long>(e.application_id()), e.member_id().c_str(),
             e.name().c_str(), e.applied_at().c_str(), e.reason().c_str());
    }
  });
}

void AddWithdrawCommand(CLI::App* voc, Env env) {
  auto* cmd = voc->add_subcommand(
      "withdraw",
      "Withdraw an application (a freed place goes to the waitlist)");
  auto id = std::make_shared<int64_t>(0);
  auto reason = std::make_shared<std::string>();
  cmd->add_option("application_id", *id, "Application id")->required();
  cmd->add_option("--reason", *reason, "Why")->required();
  cmd->callback([env, id, reason] {
    vpb::WithdrawRequest req;
    req.set_request_id(Ctl::NewRequestId());
    req.set_application_id(*id);
    req.set_reason(*reason);
    vpb::WithdrawResponse resp;
    if (!env.Call(&Stub::Withdraw, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    PrintApplication(resp.application());
    for (const auto& a : resp.promoted()) {
      std::cout << "promoted: ";
      PrintApplication(a);
    }
  });
}

void AddAttendanceCommand(CLI::App* voc, Env env) {
  auto* cmd = voc->add_subcommand("attendance",
                                  "Record a day's attendance of a course");
  auto course = std::make_shared<std::string>(),
       date = std::make_shared<std::string>(),
       present = std::make_shared<std::string>(),
       absent = std::make_shared<std::string>();
  auto hours = std::make_shared<int>(8);
  cmd->add_option("course", *course, "Course code")->required();
  cmd->add_option("--date", *date, "YYYY-MM-DD (default today)");
  cmd->add_option("--present", *present, "Comma-separated application ids");
  cmd->add_option("--absent", *absent, "Comma-separated application ids");
  cmd->add_option("--hours", *hours, "Hours for those present")
      ->capture_default_str();
  cmd->callback([env, course, date, present, absent, hours] {
    vpb::RecordAttendanceRequest req;
    req.set_request_id(Ctl::NewRequestId());
    req.set_course_code(*course);
    req.set_date(date->empty() ? eduaid::TodayCst() : *date);
    for (auto [list, here] :
         {std::pair{present.get(), true}, std::pair{absent.get(), false}}) {
      for (absl::string_view id :
           absl::StrSplit(*list, ',', absl::SkipEmpty())) {
        int64_t v = 0;
        if (!absl::SimpleAtoi(id, &v)) {
          std::cerr << "error: not an application id: " << id << "\n";
          env.exit_code = 2;
          return;
        }
        auto* m = req.add_marks();
        m->set_application_id(v);
        m->set_present(here);
        m->set_hours(here ? *hours : 0);
      }
    }
    vpb::RecordAttendanceResponse resp;
    if (!env.Call(&Stub::RecordAttendance, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    printf("recorded %d marks (%d replaced)\n", resp.marks_recorded(),
           resp.marks_replaced());
  });
}

void AddCompleteCommand(CLI::App* voc, Env env) {
  auto* cmd =
      voc->add_subcommand("complete", "Record a completion (and certificate)");
  auto id = std::make_shared<int64_t>(0);
  auto on = std::make_shared<std::string>(),
       cert_no = std::make_shared<std::string>(),
       cert_name = std::make_shared<std::string>();
  cmd->add_option("application_id", *id, "Application id")->required();
  cmd->add_option("--on", *on, "YYYY-MM-DD (default today)");
  cmd->add_option("--certificate-no", *cert_no, "Certificate number");
  cmd->add_option("--certificate-name", *cert_name, "Certificate name");
  cmd->callback([env, id, on, cert_no, cert_name] {
    vpb::RecordCompletionRequest req;
    req.set_request_id(Ctl::NewRequestId());
    req.set_application_id(*id);
    req.set_completed_on(on->empty() ? eduaid::TodayCst() : *on);
    req.set_certificate_no(*cert_no);
    req.set_certificate_name(*cert_name);
    vpb::RecordCompletionResponse resp;
    if (!env.Call(&Stub::RecordCompletion, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    PrintApplication(resp.application());
  });
}

void AddOutcomeCommand(CLI::App* voc, Env env) {
  auto* cmd =
      voc->add_subcommand("outcome", "Record the outcome after completion");
  auto id = std::make_shared<int64_t>(0);
  auto outcome = std::make_shared<std::string>(),
       employer = std::make_shared<std::string>(),
       on = std::make_shared<std::string>();
  auto income = std::make_shared<int64_t>(0);
  cmd->add_option("application_id", *id, "Application id")->required();
  cmd->add_option("--outcome", *outcome,
                  "employed|self_employed|further_study|seeking_work|other")
      ->required();
  cmd->add_option("--employer", *employer, "Employer or business");
  cmd->add_option("--income-fen", *income, "Monthly income in fen");
  cmd->add_option("--on", *on, "YYYY-MM-DD (default today)");
  cmd->callback([env, id, outcome, employer, income, on] {
    vpb::RecordOutcomeRequest req;
    req.set_request_id(Ctl::NewRequestId());
    req.set_application_id(*id);
    req.set_outcome(ParseOutcome(*outcome));
    req.set_employer(*employer);
    req.set_monthly_income_fen(*income);
    req.set_recorded_on(on->empty() ? eduaid::TodayCst() : *on);
    vpb::RecordOutcomeResponse resp;
    if (!env.Call(&Stub::RecordOutcome, req, &resp)) return;
    PrintJson(resp.application());
  });
}

void AddReportCommand(CLI::App* voc, Env env) {
  auto* cmd =
      voc->add_subcommand("report", "Figures per course, school or region");
  auto region = std::make_shared<std::string>(),
       by = std::make_shared<std::string>("region"),
       kind = std::make_shared<std::string>();
  cmd->add_option("--region", *region, "Region code prefix");
  cmd->add_option("--by", *by, "course|school|region")->capture_default_str();
  cmd->add_option("--kind", *kind, "major|class");
  cmd->callback([env, region, by, kind] {
    vpb::GetReportRequest req;
    req.set_region_prefix(*region);
    req.set_group_by(*by == "course"   ? vpb::REPORT_GROUPING_COURSE
                     : *by == "school" ? vpb::REPORT_GROUPING_SCHOOL
                                       : vpb::REPORT_GROUPING_REGION);
    if (!kind->empty()) req.set_kind(ParseKind(*kind));
    vpb::GetReportResponse resp;
    if (!env.Call(&Stub::GetReport, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    printf("%-34s %5s %6s %6s %6s %6s %6s %6s %8s %8s %8s %8s %7s\n", "", "cap",
           "enrol", "wait", "admit", "done", "cert", "job", "fill", "complete",
           "employed", "attend", "grants");
    auto line = [](const vpb::ReportRow& r) {
      std::string label = r.label().empty()
                              ? eduaid::synthetic::CountyName(r.key())
                              : r.label();
      std::string head = r.key().rfind("provider:", 0) == 0
                             ? "培训机构 " + label
                             : r.key() + " " + label;
      printf(
          "%-34s %5lld %6lld %6lld %6lld %6lld %6lld %6lld %8s %8s %8s %8s "
          "%lld/%lld\n",
          head.c_str(), static_cast<long long>(r.capacity()),
          static_cast<long long>(r.enrolled()),
          static_cast<long long>(r.waitlisted()),
          static_cast<long long>(r.admitted()),
          static_cast<long long>(r.completed()),
          static_cast<long long>(r.certified()),
          static_cast<long long>(r.employed()),
          Percent(r.fill_rate_bp()).c_str(),
          Percent(r.completion_rate_bp()).c_str(),
          Percent(r.employment_rate_bp()).c_str(),
          Percent(r.attendance_rate_bp()).c_str(),
          static_cast<long long>(r.grants_delivered()),
          static_cast<long long>(r.grants_delivered() + r.grants_pending() +
                                 r.grants_rejected()));
    };
    for (const auto& r : resp.rows()) line(r);
    line(resp.total());
  });
}

void AddTermGrantsCommand(CLI::App* voc, Env env) {
  auto* cmd = voc->add_subcommand(
      "term-grants",
      "Queue a later term's grants for students still in a major");
  auto term = std::make_shared<std::string>(),
       region = std::make_shared<std::string>();
  cmd->add_option("--term", *term, "e.g. 2027-spring")->required();
  cmd->add_option("--region", *region, "Region code prefix");
  cmd->callback([env, term, region] {
    vpb::RaiseTermGrantsRequest req;
    req.set_request_id(Ctl::NewRequestId());
    if (!ParseTerm(*term, req.mutable_term())) {
      env.Usage("--term must look like 2027-spring");
      return;
    }
    req.set_region_prefix(*region);
    vpb::RaiseTermGrantsResponse resp;
    if (!env.Call(&Stub::RaiseTermGrants, req, &resp)) return;
    if (env.ctl.json) return PrintJson(resp);
    printf(
        "students in a major that term: %lld; grants queued %lld, queued "
        "before %lld\n",
        static_cast<long long>(resp.students_seen()),
        static_cast<long long>(resp.grants_queued()),
        static_cast<long long>(resp.already_queued()));
  });
}

void AddGrantsCommand(CLI::App* voc, Env env) {
  auto* cmd =
      voc->add_subcommand("grants", "Grants and their delivery to the ledger");
  auto region = std::make_shared<std::string>(),
       state = std::make_shared<std::string>();
  auto app_id = std::make_shared<int64_t>(0);
  cmd->add_option("--region", *region, "Region code prefix");
  cmd->add_option("--application", *app_id, "Application id");
  cmd->add_option("--state", *state, "pending|delivered|rejected|cancelled");
  cmd->callback([env, region, state, app_id] {
    vpb::ListGrantsRequest req;
    req.set_region_prefix(*region);
    req.set_application_id(*app_id);
    if (!state->empty()) req.set_state(kGrantStates.Parse(*state));
    req.set_page_size(1000);
    int64_t backlog = 0;
    if (!env.ForEachPage(&Stub::ListGrants, req,
                         [&](const vpb::ListGrantsResponse& resp) {
                           backlog = resp.backlog();
                           PrintPage(env.ctl, resp, resp.grants(), PrintGrant);
                         }))
      return;
    if (!env.ctl.json) {
      printf("outbox backlog (pending): %lld\n",
             static_cast<long long>(backlog));
    }
  });
}

void AddRetryGrantsCommand(CLI::App* voc, Env env) {
  auto* cmd = voc->add_subcommand("retry-grants",
                                  "Put rejected grants back in the outbox");
  auto ids = std::make_shared<std::vector<int64_t>>();
  cmd->add_option("grant_ids", *ids, "Grant ids")->required();
  cmd->callback([env, ids] {
    vpb::RetryGrantsRequest req;
    req.set_request_id(Ctl::NewRequestId());
    for (int64_t id : *ids) req.add_grant_ids(id);
    vpb::RetryGrantsResponse resp;
    if (!env.Call(&Stub::RetryGrants, req, &resp)) return;
    printf("requeued %d\n", resp.requeued());
  });
}

}  // namespace

void AddVocationalCommands(CLI::App& app, Ctl& ctl, int& exit_code) {
  auto* voc = app.add_subcommand(
      "vocational",
      "Vocational education (work point 6): courses, offers, applications, "
      "waitlists, completion, outcomes, grants");
  voc->require_subcommand(1);
  Env env{{ctl, exit_code}};
  AddCourseCommands(voc, env);
  AddCoursesCommand(voc, env);
  AddOffersCommands(voc, env);
  AddUnplacedCommand(voc, env);
  AddApplyCommand(voc, env);
  AddApplyOfferedCommand(voc, env);
  AddApplicationCommand(voc, env);
  AddApplicationsCommand(voc, env);
  AddWaitlistCommand(voc, env);
  AddWithdrawCommand(voc, env);
  AddAttendanceCommand(voc, env);
  AddCompleteCommand(voc, env);
  AddOutcomeCommand(voc, env);
  AddReportCommand(voc, env);
  AddTermGrantsCommand(voc, env);
  AddGrantsCommand(voc, env);
  AddRetryGrantsCommand(voc, env);
  AddAuditLogCommand(*voc, env, "The vocational service's audit log (auditors)",
                     &Stub::ListAuditEvents);
}

}  // namespace eductl
