#include "services/common/testing/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace eduaid::testing {
namespace {

std::string Shell(const std::string& cmd) {
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return out;
  char buf[512];
  while (fgets(buf, sizeof buf, f)) out += buf;
  pclose(f);
  return out;
}

int RunShell(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

bool WaitForPort(int port, int timeout_ms) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    close(fd);
    if (rc == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp ? tmp : "/tmp") + "/eduaid-test-XXXXXX";
  char* p = mkdtemp(templ.data());
  if (!p) throw std::runtime_error("mkdtemp failed");
  path_ = p;
  chmod(path_.c_str(), 0755);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv,
                           const std::string& log_file) {
  pid_ = fork();
  if (pid_ == 0) {
    setpgid(0, 0);
    if (!log_file.empty()) {
      int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
      }
    } else {
      int fd = open("/dev/null", O_WRONLY);
      dup2(fd, 1);
      close(fd);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
}

ChildProcess::~ChildProcess() {
  if (running()) {
    kill(pid_, SIGKILL);
    Wait(5000);
  }
}

bool ChildProcess::running() {
  if (pid_ <= 0 || status_ != -1) return false;
  int st = 0;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return true;
}

void ChildProcess::Signal(int sig) {
  if (pid_ > 0 && status_ == -1) kill(pid_, sig);
}

int ChildProcess::Wait(int timeout_ms) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (running()) {
    if (std::chrono::steady_clock::now() > deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status_;
}

TestRedis::TestRedis() : port_(FreePort()) { Start(); }

TestRedis::~TestRedis() { Stop(); }

std::string TestRedis::url() const {
  return "redis://127.0.0.1:" + std::to_string(port_);
}

void TestRedis::Start() {
  Stop();
  proc_ = new ChildProcess(
      {"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
       "--save", "", "--appendonly", "no", "--dir", dir_.path()},
      dir_.path() + "/redis.log");
  if (!WaitForPort(port_, 10000))
    throw std::runtime_error("redis-server did not start");
}

void TestRedis::Stop() {
  delete proc_;
  proc_ = nullptr;
}

namespace {
std::mutex pg_mu;
TestPostgres* pg_instance = nullptr;
bool pg_failed = false;
}  // namespace

TestPostgres* TestPostgres::Get() {
  std::lock_guard<std::mutex> lock(pg_mu);
  if (pg_instance || pg_failed) return pg_instance;
  auto* pg = new TestPostgres();
  if (!pg->Init()) {
    pg_failed = true;
    delete pg;
    return nullptr;
  }
  pg_instance = pg;
  std::atexit([] { delete pg_instance; });
  return pg_instance;
}

bool TestPostgres::Init() {
  for (const char* dir : {"/usr/lib/postgresql/15/bin", "/usr/local/bin"}) {
    if (access((std::string(dir) + "/pg_ctl").c_str(), X_OK) == 0) {
      bindir_ = dir;
      break;
    }
  }
  if (bindir_.empty()) {
    fprintf(stderr, "TestPostgres: pg_ctl not found\n");
    return false;
  }
  char templ[] = "/tmp/eduaid-pg-XXXXXX";
  if (!mkdtemp(templ)) return false;
  dir_ = templ;
  port_ = FreePort();
  std::string as_user;
  if (geteuid() == 0) {
    if (!getpwnam("postgres")) {
      fprintf(stderr, "TestPostgres: running as root but no postgres user\n");
      return false;
    }
    RunShell("chown postgres: " + dir_);
    as_user = "runuser -u postgres -- ";
  }
  chmod(dir_.c_str(), 0700);
  if (RunShell(as_user + bindir_ + "/initdb -D " + dir_ +
               "/data --auth=trust -U postgres -E UTF8 --locale=C.UTF-8 "
               ">" +
               dir_ + "/initdb.log 2>&1 </dev/null") != 0) {
    if (RunShell(as_user + bindir_ + "/initdb -D " + dir_ +
                 "/data --auth=trust -U postgres -E UTF8 --no-locale "
                 ">" +
                 dir_ + "/initdb.log 2>&1 </dev/null") != 0) {
      fprintf(stderr, "TestPostgres: initdb failed, see %s/initdb.log\n",
              dir_.c_str());
      return false;
    }
  }
  Start();
  return true;
}

void TestPostgres::Start() {
  std::string as_user = geteuid() == 0 ? "runuser -u postgres -- " : "";
  RunShell(as_user + bindir_ + "/pg_ctl -D " + dir_ + "/data -l " + dir_ +
           "/pg.log -w -t 60 -o \"-p " + std::to_string(port_) +
           " -c listen_addresses=127.0.0.1 -c unix_socket_directories=" + dir_ +
           " -c fsync=off -c max_connections=200\" start "
           ">/dev/null 2>&1 </dev/null");
  WaitForPort(port_, 30000);
}

void TestPostgres::Stop() {
  std::string as_user = geteuid() == 0 ? "runuser -u postgres -- " : "";
  RunShell(as_user + bindir_ + "/pg_ctl -D " + dir_ +
           "/data -m fast -w stop >/dev/null 2>&1 </dev/null");
}

TestPostgres::~TestPostgres() {
  Stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string TestPostgres::NewDatabaseUrl() {
  std::string name;
  {
    std::lock_guard<std::mutex> lock(pg_mu);
    name = "t" + std::to_string(getpid()) + "_" + std::to_string(next_db_++);
  }
  std::string psql = bindir_ + "/psql";
  Shell(psql + " -h 127.0.0.1 -p " + std::to_string(port_) +
        " -U postgres -d postgres -q -c 'CREATE DATABASE " + name + "' 2>&1");
  return "postgres://postgres@127.0.0.1:" + std::to_string(port_) + "/" + name;
}

std::string DatabaseUrlFor(const std::string& backend, const TempDir& dir,
                           const std::string& name) {
  if (backend == "postgres") {
    TestPostgres* pg = TestPostgres::Get();
    return pg ? pg->NewDatabaseUrl() : "";
  }
  return "sqlite://" + dir.path() + "/" + name + ".db";
}

}  // namespace eduaid::testing
