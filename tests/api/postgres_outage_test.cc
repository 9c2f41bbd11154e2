// PostgreSQL going away under a running node, and a database that cannot be reached at start-up.
// The node reaches the test server through a loopback TCP relay that the test cuts (every open
// connection dropped, new ones refused) and restores, as a database restart or a network failure
// would. While it is cut, requests fail with 503 storage_unavailable and nothing is half-written;
// once it is back, the node serves again without a restart and a retry with the same key counts
// once.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api_fixture.h"
#include "http_client.h"
#include "server_process.h"
#include "store/postgresql/testing.h"

namespace pointsmall::api_test {
namespace {

// Relays loopback TCP connections from its own port to the test server's. While cut, it drops
// every connection it relays and closes new ones as soon as they arrive, as a server that went
// away would (its port stays its own, so that nothing else can take it meanwhile).
class CuttableRelay {
 public:
  explicit CuttableRelay(std::uint16_t target_port) : target_port_(target_port) {
    listen_on_free_port();
    thread_ = std::thread([this] { run(); });
  }
  CuttableRelay(const CuttableRelay&) = delete;
  CuttableRelay& operator=(const CuttableRelay&) = delete;
  ~CuttableRelay() {
    stop_ = true;
    thread_.join();
    std::lock_guard lock(mutex_);
    close_all();
    ::close(listener_);
  }

  [[nodiscard]] std::uint16_t port() const { return port_; }

  // Drops every relayed connection, and closes new ones at once.
  void cut() {
    std::lock_guard lock(mutex_);
    close_all();
    cut_ = true;
  }
  // Relays new connections again.
  void restore() {
    std::lock_guard lock(mutex_);
    cut_ = false;
  }

 private:
  struct Pair {
    int client;
    int server;
  };

  void listen_on_free_port() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 64) != 0)
      ADD_FAILURE() << "the relay cannot listen";
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }

  void close_all() {  // under mutex_
    for (const Pair& pair : pairs_) {
      ::close(pair.client);
      ::close(pair.server);
    }
    pairs_.clear();
  }

  int connect_to_target() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(target_port_);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  // One thread polls the listener and both ends of every connection, copying what arrives.
  void run() {
    while (!stop_) {
      std::vector<pollfd> fds;
      {
        std::lock_guard lock(mutex_);
        fds.push_back({listener_, POLLIN, 0});
        for (const Pair& pair : pairs_) {
          fds.push_back({pair.client, POLLIN, 0});
          fds.push_back({pair.server, POLLIN, 0});
        }
      }
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      std::lock_guard lock(mutex_);
      for (const pollfd& ready : fds) {
        if ((ready.revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        if (ready.fd == listener_) {
          const int client = ::accept(listener_, nullptr, nullptr);
          if (client < 0) continue;
          if (cut_) {
            ::close(client);
            continue;
          }
          const int server = connect_to_target();
          if (server < 0) {
            ::close(client);
            continue;
          }
          pairs_.push_back({client, server});
          continue;
        }
        relay_from(ready.fd);
      }
    }
  }

  void relay_from(int fd) {  // under mutex_
    for (auto it = pairs_.begin(); it != pairs_.end(); ++it) {
      if (it->client != fd && it->server != fd) continue;
      const int to = fd == it->client ? it->server : it->client;
      char buffer[16384];
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      bool ok = n > 0;
      for (ssize_t sent = 0; ok && sent < n;) {
        const ssize_t w = ::write(to, buffer + sent, static_cast<std::size_t>(n - sent));
        ok = w > 0;
        sent += ok ? w : 0;
      }
      if (!ok) {
        ::close(it->client);
        ::close(it->server);
        pairs_.erase(it);
      }
      return;
    }
  }

  std::uint16_t target_port_;
  std::uint16_t port_ = 0;
  std::mutex mutex_;
  int listener_ = -1;
  bool cut_ = false;         // guarded by mutex_
  std::vector<Pair> pairs_;  // guarded by mutex_
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The port of a postgresql://user@127.0.0.1:PORT/... URL (0 when it has none), and the URL
// with another port.
constexpr std::string_view kLoopbackHost = "@127.0.0.1:";
std::uint16_t port_of(const std::string& url) {
  const std::size_t at = url.find(kLoopbackHost);
  if (at == std::string::npos) return 0;
  const std::size_t digits = at + kLoopbackHost.size();
  const std::size_t end = url.find('/', digits);
  if (end == std::string::npos || end == digits) return 0;
  return static_cast<std::uint16_t>(std::stoi(url.substr(digits, end - digits)));
}
std::string with_port(const std::string& url, std::uint16_t port) {
  const std::size_t digits = url.find(kLoopbackHost) + kLoopbackHost.size();
  return url.substr(0, digits) + std::to_string(port) + url.substr(url.find('/', digits));
}

json earn_body(std::int64_t member_id, const std::string& order_id) {
  return {{"type", "purchase"},
          {"member_id", member_id},
          {"order_id", order_id},
          {"amount", {{"amount", 2500}, {"currency", "USD"}}}};
}

TEST(PostgresOutage, RequestsFailWith503WhileTheDatabaseIsAwayAndTheNodeRecoversWithoutRestart) {
  const std::string url = store::pg::fresh_test_schema_url();
  ASSERT_NE(port_of(url), 0) << url;
  CuttableRelay relay(port_of(url));
  ServerProcess server(ServerSetup{.store_url = with_port(url, relay.port())});
  const std::string key = server.create_api_key("shop", "merchant");
  ASSERT_TRUE(server.start());
  ApiClient client(server.port());
  const Headers merchant = bearer(key);

  HttpResponse r = client.call_json("POST", "/v1/members", {{"external_id", "ada"}}, merchant);
  ASSERT_EQ(r.status, 201) << r.describe();
  const std::int64_t member = r.json().value("id", std::int64_t{0});
  const std::string balance_path = "/v1/members/" + std::to_string(member) + "/balance";
  r = client.call_json("POST", "/v1/events", earn_body(member, "o-1"),
                       with(merchant, "Idempotency-Key", "earn-1"));
  ASSERT_EQ(r.status, 201) << r.describe();

  relay.cut();
  const auto cut_at = std::chrono::steady_clock::now();
  r = client.call_json("POST", "/v1/events", earn_body(member, "o-2"),
                       with(merchant, "Idempotency-Key", "earn-2"));
  const auto waited = std::chrono::steady_clock::now() - cut_at;
  EXPECT_TRUE(is_problem(r, 503, "storage_unavailable")) << r.describe();
  EXPECT_LT(waited, std::chrono::seconds(10))
      << "a request must not hang while the database is away";
  r = client.call("GET", balance_path, merchant);
  EXPECT_TRUE(is_problem(r, 503, "storage_unavailable")) << r.describe();
  EXPECT_TRUE(server.running()) << "the node must not exit when the database goes away";

  relay.restore();
  // The retry with the same key takes effect once; the node did not restart.
  r = client.call_json("POST", "/v1/events", earn_body(member, "o-2"),
                       with(merchant, "Idempotency-Key", "earn-2"));
  EXPECT_EQ(r.status, 201) << r.describe();
  r = client.call_json("POST", "/v1/events", earn_body(member, "o-2"),
                       with(merchant, "Idempotency-Key", "earn-2"));
  EXPECT_EQ(r.status, 201) << r.describe();
  EXPECT_EQ(r.header("idempotent-replayed"), "true") << r.describe();
  r = client.call("GET", balance_path, merchant);
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.json().value("available", std::int64_t{-1}), 50) << "two purchases of 25.00";

  EXPECT_EQ(server.stop(), 0) << server.stderr_text();
  const CliResult check = server.cli({"check", "--store", url});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST(PostgresOutage, ANodeThatCannotReachTheDatabaseSaysWhyAndExitsNonZero) {
  // Nothing listens on a port the relay gave up.
  std::uint16_t unused = 0;
  {
    CuttableRelay relay(1);
    unused = relay.port();
  }
  ServerProcess server(ServerSetup{
      .store_url = "postgresql://pointsmall:secret@127.0.0.1:" + std::to_string(unused) +
                   "/pointsmall?connect_timeout=5"});
  const CliResult r =
      server.cli({"serve", "--store", server.store_url(), "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("cannot connect to postgresql://pointsmall:***@127.0.0.1:"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("secret"), std::string::npos) << "the password must not be shown: " << r.err;
  const CliResult bad = server.cli({"serve", "--store", "mysql://x", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("postgresql://"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace pointsmall::api_test
