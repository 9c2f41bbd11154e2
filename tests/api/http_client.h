// A tiny blocking HTTP/1.1 client for the API tests, on plain POSIX sockets (no Boost: the tests
// must compile quickly). Header-only, as the system test binary compiles tests/**/*_test.cc only.
//
// Contract:
//  1. Every socket operation has a timeout (SO_RCVTIMEO, SO_SNDTIMEO; connect included), so a
//     test never hangs on a server that stops answering: a timed-out read is a failed read.
//  2. A connection is reused for as many requests as the server keeps it open (keep-alive);
//     bytes read past one response stay buffered for the next (pipelining).
//  3. Responses are read by Content-Length (the server never sends chunked bodies); without one,
//     the body runs to the end of the stream. Header names are lower-cased.
//  4. send_raw / read_raw let a test write bytes that are not HTTP and see what comes back.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pointsmall::api_test {

using Headers = std::vector<std::pair<std::string, std::string>>;

inline std::string lower_case(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";
  Headers headers;  // sent as given; Host and Content-Length are added when absent
  std::string body;
};

struct HttpResponse {
  int status = 0;   // 0: no response (connection failed, closed or timed out); see `error`
  Headers headers;  // names lower-cased, in the order received
  std::string body;
  std::string error;  // why there is no response

  // The first value of header `name` (any case), or "" when absent.
  [[nodiscard]] std::string header(std::string_view name) const {
    const std::string wanted = lower_case(name);
    for (const auto& [key, value] : headers)
      if (key == wanted) return value;
    return "";
  }
  [[nodiscard]] bool has_header(std::string_view name) const {
    const std::string wanted = lower_case(name);
    for (const auto& header : headers)
      if (header.first == wanted) return true;
    return false;
  }
  // The body as JSON; a discarded value when it is not JSON.
  [[nodiscard]] nlohmann::json json() const {
    return nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  }
  // For failure messages: status and body.
  [[nodiscard]] std::string describe() const {
    if (status == 0) return "no response: " + error;
    return std::to_string(status) + " " + body;
  }
};

// The bytes of `request` on the wire: request line, headers (Host and, for a body or a method
// that usually has one, Content-Length added unless given), blank line, body.
inline std::string serialize(const HttpRequest& request) {
  std::string out = request.method + " " + request.target + " HTTP/1.1\r\n";
  bool has_host = false;
  bool has_length = false;
  for (const auto& [name, value] : request.headers) {
    const std::string key = lower_case(name);
    has_host = has_host || key == "host";
    has_length = has_length || key == "content-length" || key == "transfer-encoding";
    out.append(name).append(": ").append(value).append("\r\n");
  }
  if (!has_host) out += "Host: 127.0.0.1\r\n";
  const bool usually_has_body =
      request.method == "POST" || request.method == "PUT" || request.method == "PATCH";
  if (!has_length && (!request.body.empty() || usually_has_body))
    out += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
  out += "\r\n";
  out += request.body;
  return out;
}

// One TCP connection to 127.0.0.1:port.
class HttpConnection {
 public:
  explicit HttpConnection(std::uint16_t port,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10))
      : timeout_(timeout) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      error_ = std::string("socket: ") + std::strerror(errno);
      return;
    }
    set_timeout(timeout);
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // SO_SNDTIMEO bounds connect() as well on Linux.
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      error_ = std::string("connect: ") + std::strerror(errno);
      close();
    }
  }
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;
  HttpConnection(HttpConnection&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)),
        timeout_(other.timeout_),
        buffer_(std::move(other.buffer_)),
        error_(std::move(other.error_)),
        eof_(other.eof_) {}
  HttpConnection& operator=(HttpConnection&& other) noexcept {
    if (this != &other) {
      close();
      fd_ = std::exchange(other.fd_, -1);
      timeout_ = other.timeout_;
      buffer_ = std::move(other.buffer_);
      error_ = std::move(other.error_);
      eof_ = other.eof_;
    }
    return *this;
  }
  ~HttpConnection() { close(); }

  [[nodiscard]] bool connected() const { return fd_ >= 0; }
  [[nodiscard]] const std::string& error() const { return error_; }

  // Applies `timeout` to every later send and receive.
  void set_timeout(std::chrono::milliseconds timeout) {
    timeout_ = timeout;
    if (fd_ < 0) return;
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }

  // Writes all of `bytes`; false (and error()) when the connection fails or times out.
  bool send_raw(std::string_view bytes) {
    if (fd_ < 0) return false;
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        error_ = std::string("send: ") + std::strerror(errno);
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  bool send_request(const HttpRequest& request) { return send_raw(serialize(request)); }

  // Reads one response (buffered bytes first). status 0 when none arrives whole.
  HttpResponse read_response() {
    HttpResponse response;
    std::size_t header_end = 0;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!receive_more()) {
        response.error = "no complete response head: " + error_;
        return response;
      }
    }
    if (!parse_head(std::string_view(buffer_).substr(0, header_end), response)) {
      response.status = 0;
      response.error = "malformed response head: " + buffer_.substr(0, header_end);
      return response;
    }
    buffer_.erase(0, header_end + 4);
    const bool no_body = response.status == 204 || response.status == 304 ||
                         (response.status >= 100 && response.status < 200);
    const std::string length_text = response.header("content-length");
    if (no_body) return response;
    if (length_text.empty()) {  // until the end of the stream
      while (receive_more()) {
      }
      response.body = std::move(buffer_);
      buffer_.clear();
      return response;
    }
    const std::size_t length = std::stoull(length_text);
    while (buffer_.size() < length) {
      if (!receive_more()) {
        response.status = 0;
        response.error = "body cut short: " + error_;
        return response;
      }
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return response;
  }

  // Sends `request` and reads its response. When the server stops reading before the request
  // is sent whole (it refused it early, e.g. for its size), the response it sent is still read.
  HttpResponse request(const HttpRequest& request) {
    if (!send_request(request)) {
      const std::string send_error = error_.empty() ? "not connected" : error_;
      HttpResponse early = read_response();
      if (early.status == 0) early.error = send_error + "; then " + early.error;
      return early;
    }
    return read_response();
  }

  // Everything the server sends until it closes the connection or the timeout passes.
  std::string read_raw_until_close() {
    while (receive_more()) {
    }
    return std::exchange(buffer_, std::string());
  }

  // Whether the server closed (or reset) the connection within the timeout, with no more bytes
  // than those already buffered. Unread bytes are dropped.
  bool closed_by_peer() {
    while (receive_more()) {
    }
    return eof_;
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  // Appends what one recv() returns; false at end of stream, on error or on timeout.
  bool receive_more() {
    if (fd_ < 0) {
      if (error_.empty()) error_ = "not connected";
      return false;
    }
    char chunk[16 * 1024];
    for (;;) {
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n > 0) {
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return true;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) {
        eof_ = true;
        error_ = "connection closed by the server";
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        error_ = "timed out after " + std::to_string(timeout_.count()) + " ms";
      } else {
        eof_ = errno == ECONNRESET;
        error_ = std::string("recv: ") + std::strerror(errno);
      }
      return false;
    }
  }

  static bool parse_head(std::string_view head, HttpResponse& response) {
    const std::size_t line_end = head.find("\r\n");
    const std::string_view status_line = head.substr(0, line_end);
    if (status_line.substr(0, 7) != "HTTP/1." || status_line.size() < 12) return false;
    const std::string_view code = status_line.substr(9, 3);
    for (char c : code)
      if (c < '0' || c > '9') return false;
    response.status = std::stoi(std::string(code));
    if (line_end == std::string_view::npos) return true;
    std::string_view rest = head.substr(line_end + 2);
    while (!rest.empty()) {
      const std::size_t end = rest.find("\r\n");
      const std::string_view line = rest.substr(0, end);
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) return false;
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
      response.headers.emplace_back(lower_case(line.substr(0, colon)), std::string(value));
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end + 2);
    }
    return true;
  }

  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string buffer_;  // received and not yet consumed
  std::string error_;
  bool eof_ = false;
};

// A client of one server that keeps a connection open across calls and opens a new one when the
// server closed the last (Connection: close) or it failed. It never retries a request.
class ApiClient {
 public:
  explicit ApiClient(std::uint16_t port,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10))
      : port_(port), timeout_(timeout) {}

  HttpResponse call(const std::string& method, const std::string& target, Headers headers = {},
                    std::string body = "") {
    if (!connection_ || !connection_->connected()) connection_.emplace(port_, timeout_);
    HttpRequest request{method, target, std::move(headers), std::move(body)};
    HttpResponse response = connection_->request(request);
    if (response.status == 0 || lower_case(response.header("connection")) == "close")
      connection_.reset();
    return response;
  }

  // A JSON body (Content-Type: application/json).
  HttpResponse call_json(const std::string& method, const std::string& target,
                         const nlohmann::json& body, Headers headers = {}) {
    headers.emplace_back("Content-Type", "application/json");
    return call(method, target, std::move(headers), body.dump());
  }

  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  std::uint16_t port_;
  std::chrono::milliseconds timeout_;
  std::optional<HttpConnection> connection_;
};

}  // namespace pointsmall::api_test
