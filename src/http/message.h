// HTTP requests and responses as the rest of the program sees them: plain values, no Beast.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace pointsmall::http {

struct Header {
  std::string name;  // lower case
  std::string value;
};

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path and query, percent-encoded
  std::vector<Header> headers;
  std::string body;
  std::string remote_address;
  std::chrono::steady_clock::time_point received_at;  // when the whole request had been read

  // The value of a header (case-insensitive name), or "" when absent.
  [[nodiscard]] std::string_view header(std::string_view name) const;
};

struct Response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::vector<Header> headers;
  std::string body;
  bool close = false;  // close the connection after this response
};

}  // namespace pointsmall::http
