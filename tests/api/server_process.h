// The real `pointsmall serve` (POINTSMALL_BINARY) as a child process of a test, and the command
// line that makes its credentials. Header-only, as the system test binary compiles
// tests/**/*_test.cc only.
//
// Contract:
//  1. start() spawns `pointsmall serve --data-dir D --listen 127.0.0.1:0 --port-file F` (or
//     --store URL instead of --data-dir on PostgreSQL; plus --config when a TOML text was given),
//     with stdout and stderr in files of the run directory, and returns once F names the port (at
//     most 20 s; a test failure otherwise).
//  2. stop() sends SIGTERM and waits (at most 30 s, then SIGKILL); kill() sends SIGKILL. Both
//     reap the child; the destructor kills a server still running.
//  3. A ServerProcess made without a data directory owns a fresh one, removed with the object;
//     restarting keeps the data directory, so a test sees what survived.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store/postgresql/testing.h"

extern char** environ;

namespace pointsmall::api_test {

namespace fs = std::filesystem;

// A fresh directory under the system's temporary directory; removed with its content.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "pointsmall_api_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
    path_ = pattern;
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  [[nodiscard]] const fs::path& path() const { return path_; }
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Spawns POINTSMALL_BINARY with `args`, stdin from /dev/null and stdout/stderr into the files;
// returns the child's pid, or -1 (a test failure) when it cannot start.
inline pid_t spawn_pointsmall(const std::vector<std::string>& args, const std::string& out_path,
                              const std::string& err_path) {
  std::vector<std::string> words{POINTSMALL_BINARY};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(words.size() + 1);
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, POINTSMALL_BINARY, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    ADD_FAILURE() << "cannot run " << POINTSMALL_BINARY << ": " << std::strerror(spawned);
    return -1;
  }
  return pid;
}

// The exit code of a reaped child, or 128 + the signal that ended it.
inline int exit_code_of(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `pointsmall ARGS...` to its end (its output in files of `scratch`).
inline CliResult run_cli(const std::vector<std::string>& args, const ScratchDir& scratch) {
  static std::atomic<int> counter{0};
  const std::string stem = "cli-" + std::to_string(counter.fetch_add(1));
  const std::string out_path = scratch.file(stem + ".out");
  const std::string err_path = scratch.file(stem + ".err");
  CliResult result;
  const pid_t pid = spawn_pointsmall(args, out_path, err_path);
  if (pid < 0) return result;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = exit_code_of(status);
  result.out = read_text_file(out_path);
  result.err = read_text_file(err_path);
  return result;
}

// The last non-empty line of `text`.
inline std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::string last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

struct ServerSetup {
  std::string data_dir;     // made when missing and kept afterwards; empty: a fresh one
  std::string config_toml;  // when not empty, written to a file passed as --config
  // A PostgreSQL database (--store URL) instead of the data directory. Empty: a fresh schema on
  // the test server when POINTSMALL_TEST_ENGINE=postgres (and no data_dir is given), else none.
  std::string store_url;
};

// The engine the API tests run on: "postgres" when POINTSMALL_TEST_ENGINE says so (CMake runs
// the API tests a second time that way), else the embedded SQLite store.
inline bool testing_on_postgres() {
  const char* engine = std::getenv("POINTSMALL_TEST_ENGINE");
  return engine != nullptr && std::string(engine) == "postgres";
}

class ServerProcess {
 public:
  explicit ServerProcess(ServerSetup setup = {})
      : data_dir_(setup.data_dir.empty() ? scratch_.file("data") : setup.data_dir),
        config_toml_(std::move(setup.config_toml)),
        store_url_(!setup.store_url.empty() ? setup.store_url
                   : testing_on_postgres() && setup.data_dir.empty()
                       ? store::pg::fresh_test_schema_url()
                       : std::string()) {}
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() {
    if (running()) kill();
  }

  [[nodiscard]] const std::string& data_dir() const { return data_dir_; }
  // The PostgreSQL database the server runs on; empty on the embedded store.
  [[nodiscard]] const std::string& store_url() const { return store_url_; }
  // Where the data is, as the command line takes it: --store URL, or --data-dir DIR.
  [[nodiscard]] std::vector<std::string> store_args() const {
    if (!store_url_.empty()) return {"--store", store_url_};
    return {"--data-dir", data_dir_};
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] bool running() const { return pid_ > 0; }
  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] const ScratchDir& scratch() const { return scratch_; }
  // What the current (or last) run printed.
  [[nodiscard]] std::string stdout_text() const { return read_text_file(out_path()); }
  [[nodiscard]] std::string stderr_text() const { return read_text_file(err_path()); }

  // Starts the server and waits for its port; false (a test failure) when it does not listen.
  bool start() {
    if (running()) {
      ADD_FAILURE() << "the server is already running";
      return false;
    }
    ++runs_;
    const std::string port_file = scratch_.file("port");
    std::error_code ignored;
    fs::remove(port_file, ignored);
    std::vector<std::string> args{"serve"};
    for (std::string& word : store_args()) args.push_back(std::move(word));
    for (const char* word : {"--listen", "127.0.0.1:0", "--port-file"}) args.emplace_back(word);
    args.push_back(port_file);
    if (!config_toml_.empty()) {
      const std::string config_file = scratch_.file("config.toml");
      std::ofstream(config_file) << config_toml_;
      args.emplace_back("--config");
      args.push_back(config_file);
    }
    pid_ = spawn_pointsmall(args, out_path(), err_path());
    if (pid_ < 0) {
      pid_ = 0;
      return false;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string text = read_text_file(port_file);
      if (!text.empty() && text.back() == '\n') {
        port_ = static_cast<std::uint16_t>(std::stoi(text));
        return true;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        ADD_FAILURE() << "pointsmall serve ended with " << exit_code_of(status)
                      << " before listening:\n"
                      << stderr_text();
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ADD_FAILURE() << "pointsmall serve did not write its port file within 20 s:\n" << stderr_text();
    kill();
    return false;
  }

  // SIGTERM, then waits for the end; returns the exit code (128 + signal if killed by one; -1
  // with a test failure when it had to be killed after 30 s).
  int stop() { return end(SIGTERM, std::chrono::seconds(30)); }

  // SIGKILL; returns 128 + 9.
  int kill() { return end(SIGKILL, std::chrono::seconds(30)); }

  // Sends `signal` without waiting (for a test that watches the stop happen).
  void signal(int signal_number) const {
    if (running()) ::kill(pid_, signal_number);
  }

  // Waits for a server already signalled to end; the same returns as stop().
  int wait(std::chrono::milliseconds timeout) {
    if (!running()) return -1;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        pid_ = 0;
        return exit_code_of(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ADD_FAILURE() << "pointsmall serve did not end within " << timeout.count() << " ms";
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = 0;
    return -1;
  }

  // Runs `pointsmall ARGS...` (e.g. apikey create on this data directory).
  CliResult cli(const std::vector<std::string>& args) const { return run_cli(args, scratch_); }

  // Creates an API key with `pointsmall apikey create` and returns it (the last stdout line);
  // "" with a test failure when the command fails.
  std::string create_api_key(const std::string& name, const std::string& role) const {
    std::vector<std::string> args{"apikey", "create", "--name", name, "--role", role};
    for (std::string& word : store_args()) args.push_back(std::move(word));
    const CliResult r = cli(args);
    if (r.exit_code != 0) {
      ADD_FAILURE() << "apikey create " << name << " failed (" << r.exit_code << "): " << r.out
                    << r.err;
      return "";
    }
    return last_line(r.out);
  }

  // Creates an operator with `pointsmall operator create`; returns its TOTP secret ("" with a
  // test failure when the command fails).
  std::string create_operator(const std::string& name, const std::string& role,
                              const std::string& password) const {
    std::vector<std::string> args{"operator", "create", "--name",     name,
                                  "--role",   role,     "--password", password};
    for (std::string& word : store_args()) args.push_back(std::move(word));
    const CliResult r = cli(args);
    constexpr std::string_view kSecretLine = "TOTP secret: ";
    const std::size_t at = r.out.find(kSecretLine);
    if (r.exit_code != 0 || at == std::string::npos) {
      ADD_FAILURE() << "operator create " << name << " failed (" << r.exit_code << "): " << r.out
                    << r.err;
      return "";
    }
    const std::size_t begin = at + kSecretLine.size();
    return r.out.substr(begin, r.out.find('\n', begin) - begin);
  }

 private:
  [[nodiscard]] std::string out_path() const {
    return scratch_.file("serve-" + std::to_string(runs_) + ".out");
  }
  [[nodiscard]] std::string err_path() const {
    return scratch_.file("serve-" + std::to_string(runs_) + ".err");
  }

  int end(int signal_number, std::chrono::seconds timeout) {
    if (!running()) return -1;
    ::kill(pid_, signal_number);
    return wait(timeout);
  }

  ScratchDir scratch_;
  std::string data_dir_;
  std::string config_toml_;
  std::string store_url_;
  pid_t pid_ = 0;
  std::uint16_t port_ = 0;
  int runs_ = 0;
};

}  // namespace pointsmall::api_test
