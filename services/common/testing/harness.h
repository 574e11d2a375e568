// Real servers for tests: redis-server and PostgreSQL started on free
// loopback ports by the test itself, and stopped when the object dies.
#ifndef EDUAID_COMMON_TESTING_HARNESS_H_
#define EDUAID_COMMON_TESTING_HARNESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace eduaid::testing {

// A port that was free on 127.0.0.1 a moment ago.
int FreePort();

// A fresh empty directory under $TMPDIR, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A child process; SIGKILLed (if still running) and reaped by the destructor.
class ChildProcess {
 public:
  // Starts argv[0] (searched in PATH) with `argv`; stdout/stderr go to
  // `log_file` when not empty.
  ChildProcess(const std::vector<std::string>& argv,
               const std::string& log_file = "");
  ~ChildProcess();
  pid_t pid() const { return pid_; }
  bool running();
  void Signal(int sig);
  // Waits for exit up to `timeout_ms`; returns the exit status or -1.
  int Wait(int timeout_ms);

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

// Polls until something accepts TCP connections on 127.0.0.1:port.
bool WaitForPort(int port, int timeout_ms);

// A real redis-server without persistence on a free port.
class TestRedis {
 public:
  TestRedis();
  ~TestRedis();
  int port() const { return port_; }
  std::string url() const;
  void Stop();   // SIGKILL; the port stays reserved for Start()
  void Start();  // starts again on the same port

 private:
  int port_;
  TempDir dir_;
  ChildProcess* proc_ = nullptr;
};

// A real PostgreSQL cluster (initdb as the `postgres` user when run as root)
// on a free port, shared by a whole test binary. Each test takes a fresh
// database through NewDatabaseUrl().
class TestPostgres {
 public:
  // The process-wide instance, started on first use; nullptr (with a
  // message on stderr) when PostgreSQL binaries are not installed.
  static TestPostgres* Get();
  // Creates an empty database and returns its postgres:// URL.
  std::string NewDatabaseUrl();
  int port() const { return port_; }
  void Stop();   // fast shutdown
  void Start();  // same data directory and port
  ~TestPostgres();

 private:
  TestPostgres() = default;
  bool Init();
  int port_ = 0;
  std::string dir_;
  std::string bindir_;
  int next_db_ = 0;
};

// The database URL of a parameterised test's backend: "postgres" gives a
// fresh database of the shared TestPostgres ("" when PostgreSQL is not
// installed), anything else the SQLite file `dir`/`name`.db.
std::string DatabaseUrlFor(const std::string& backend, const TempDir& dir,
                           const std::string& name);

}  // namespace eduaid::testing

#endif  // EDUAID_COMMON_TESTING_HARNESS_H_
