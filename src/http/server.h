// The HTTP/1.1 server: connections, parsing, limits, timeouts, TLS and graceful shutdown.
// Boost.Beast is compiled only in server.cc; everything else sees these plain types.
//
// Contract:
//  1. Requests of one connection are handled one at a time in arrival order (pipelined requests
//     wait in the read buffer), and each gets exactly one response, in order.
//  2. The Handler answers each request exactly once through Reply::send, from any thread.
//  3. A request the server cannot read (headers or body over their limit, malformed syntax) is
//     answered with Handler::reject and the connection closed; a client that sends nothing for
//     `idle_timeout`, or does not finish a started request within `read_timeout`, is
//     disconnected.
//  4. stop() (also on SIGINT/SIGTERM when `stop_on_signals`) stops accepting, closes idle
//     connections, lets every request already read get its response (with Connection: close),
//     and makes run() return once all connections are closed or `drain_timeout` has passed.
//  5. The response to a HEAD request carries the Content-Length of the body the handler gave
//     (with a status that has one), and no body.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace pointsmall::http {

// How a handler answers: `send` exactly once, from any thread. `defer` runs work on the server's
// threads (on the request's connection), so that a callback arriving on another thread, such as
// the ledger's writer, can hand the rest of its work back.
struct Reply {
  std::function<void(Response)> send;
  std::function<void(std::function<void()>)> defer;
};

// Why a request could not be read.
enum class ProtocolError : std::uint8_t { header_too_large, body_too_large, malformed };

class Handler {
 public:
  virtual ~Handler() = default;
  // Answers a request, now or later, through `reply`.
  virtual void handle(Request request, Reply reply) = 0;
  // The response to a request that could not be read; the connection closes after it.
  virtual Response reject(ProtocolError error) = 0;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port (see Server::port)
  unsigned threads = 2;       // threads running connections
  std::size_t max_header_bytes = std::size_t{16} * 1024;
  std::size_t max_body_bytes = std::size_t{1024} * 1024;
  std::size_t max_connections = 10'000;             // more are accepted and closed at once
  std::chrono::milliseconds read_timeout{10'000};   // to finish a request once it has begun
  std::chrono::milliseconds idle_timeout{60'000};   // between requests of a keep-alive connection
  std::chrono::milliseconds drain_timeout{10'000};  // stop(): longest wait for in-flight requests
  bool stop_on_signals = false;                     // SIGINT and SIGTERM call stop()
  // Both set: serve HTTPS only (PEM files).
  std::string tls_certificate_file;
  std::string tls_private_key_file;
};

class Server {
 public:
  // Binds and listens. Throws std::runtime_error saying what failed (address in use, a TLS file
  // that cannot be read, ...).
  Server(ServerOptions options, Handler& handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The port listened on (the one the OS chose when options.port was 0).
  [[nodiscard]] std::uint16_t port() const;
  // Serves on options.threads threads (the caller's among them) until stopped and drained.
  void run();
  // Starts a graceful stop; callable from any thread, more than once.
  void stop();
  // Connections open now.
  [[nodiscard]] std::size_t connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pointsmall::http
