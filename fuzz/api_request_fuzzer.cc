// libFuzzer target: raw bytes as they would arrive on one HTTP connection, read by Boost.Beast's
// request parser with the server's limits (as src/http/server.cc reads them), answered by the
// api::Api on the SQLite ledger, member directory and credential store.
//
// What counts as a finding (besides crashes and sanitizer reports), each reported and abort()ed:
//  1. A request gets no response within 10 seconds, or gets two, or Api::handle throws.
//  2. A status outside 200..599.
//  3. A problem (application/problem+json) that is not a JSON object with string "type", "title"
//     and "detail" and an integer "status" equal to the HTTP status.
//  4. An application/json body that is not JSON.
//  5. A response header holding CR, LF or NUL (it would split the response on the wire).
//  6. With POINTSMALL_FUZZ_STRICT=1 in the environment: any 500 or 503, which no input should
//     cause on a healthy store (the API maps unexpected exceptions to them). Without it they are
//     counted and the first few printed.
//
// POINTSMALL_FUZZ_VERBOSE=1 prints every request line and its response (to check seeds).
//
// The input may hold several pipelined requests (at most kMaxRequestsPerInput), handled in order
// until the input ends, a request cannot be read (rejected, then the "connection" closes) or a
// response closes the connection. In header names and values, placeholders are replaced before
// the API sees them, so that inputs reach authenticated routes:
//   @KEY@      an admin API key (every route but /v1/me)
//   @MEMBER@   a member session token of member 1 (Authorization: Bearer @MEMBER@, /v1/me)
//   @SESSION@  an operator's console session token (Cookie: pointsmall_session=@SESSION@)
//   @CSRF@     that session's CSRF token (X-CSRF-Token: @CSRF@)
// Inputs can revoke the key or end the sessions; they are made anew after such a request.
// A custom mutator keeps the first request's Content-Length right for half of the mutations, so
// that changes to a JSON body are not all lost to framing.
//
// The state persists across inputs (one database per process), as it would in a server, so a
// crash may depend on earlier inputs. Files given as arguments run in order in one process: a
// crash file that does not reproduce alone may after the corpus (api_request_fuzzer
// fuzz/corpus/api_request/* crash-...).
#include <atomic>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "api/api.h"
#include "auth/sqlite_credential_store.h"
#include "core/clock.h"
#include "earning/programs.h"
#include "ledger/policy.h"
#include "store/sqlite/sqlite_earning_documents.h"
#include "store/sqlite/sqlite_member_directory.h"
#include "store/sqlite/sqlite_store.h"

namespace pointsmall::fuzz {
namespace {

namespace bhttp = boost::beast::http;

constexpr std::size_t kMaxHeaderBytes = 16 * 1024;  // as http::ServerOptions
constexpr std::size_t kMaxBodyBytes = 1024 * 1024;
constexpr std::size_t kMaxRequestsPerInput = 8;
constexpr auto kResponseTimeout = std::chrono::seconds(10);
constexpr TimeUs kStartUs = 1'780'000'000'000'000;  // 2026-05-28T20:26:40Z, fixed: runs repeat
constexpr std::string_view kOperatorName = "fuzz-operator";
constexpr std::string_view kOperatorPassword = "fuzz-operator-password";

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "\n==== api_request_fuzzer finding: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void replace_all(std::string& text, std::string_view placeholder, const std::string& value) {
  for (std::size_t at = text.find(placeholder); at != std::string::npos;
       at = text.find(placeholder, at + value.size()))
    text.replace(at, placeholder.size(), value);
}

// The ledger, directory, credentials and API of the whole run, in a temporary directory.
class Fixture {
 public:
  Fixture();
  ~Fixture();
  Fixture(const Fixture&) = delete;
  Fixture& operator=(const Fixture&) = delete;

  api::Api& api() { return *api_; }
  void substitute(http::Request& request) const;
  // Makes the key and sessions anew when a request revoked or ended them.
  void renew_credentials();

 private:
  void create_operator_session();
  // `key`: the Idempotency-Key; empty: one made from the target.
  void setup_request(const std::string& method, const std::string& target, const std::string& body,
                     const std::string& key = "");

  std::filesystem::path dir_;
  ManualClock clock_{kStartUs};
  std::unique_ptr<store::SqliteLedgerStore> ledger_;
  std::unique_ptr<store::MemberDirectory> members_;
  std::unique_ptr<store::EarningDocuments> documents_;
  std::unique_ptr<earning::EarningPrograms> programs_;
  std::unique_ptr<mall::MallCatalog> catalog_;
  std::unique_ptr<auth::SqliteCredentialStore> credentials_;
  std::unique_ptr<api::Api> api_;
  std::string admin_key_;
  std::string member_token_;
  std::string operator_token_;
  std::string csrf_token_;
  std::int64_t operator_id_ = 0;
  int renewals_ = 0;
};

std::filesystem::path make_temporary_dir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "pointsmall-fuzz-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) finding("cannot create a temporary directory");
  return pattern;
}

Fixture::Fixture() : dir_(make_temporary_dir()) {
  store::SqliteOptions options;
  options.path = (dir_ / "pointsmall.db").string();
  options.synchronous_full = false;  // no fsync: the fuzzer tests logic, not durability
  options.readers = 2;
  options.cache_mib = 16;
  options.policy_if_new.expiry = *ledger::parse_expiry_policy("days:365");
  std::string error;
  ledger_ = store::open_sqlite_store(options, error);
  if (!ledger_) finding("cannot open the ledger: " + error);
  members_ = store::open_sqlite_member_directory(options.path);
  documents_ = store::open_sqlite_earning_documents(options.path);
  credentials_ = auth::open_sqlite_credential_store(options.path, error);
  if (!credentials_) finding("cannot open the credentials: " + error);

  api::ProgramSettings program;
  program.accepted = {{"USD", 1}, {"JPY", 1}, {"KWD", 10}};
  program.return_window_us = 14LL * 86'400'000'000;
  programs_ =
      std::make_unique<earning::EarningPrograms>(*documents_, ledger_->policy().zone, clock_);
  programs_->seed_if_empty(api::default_rules(program));
  catalog_ = std::make_unique<mall::MallCatalog>(*documents_, *programs_, clock_);
  api_ = std::make_unique<api::Api>(
      api::Services{*ledger_, *members_, *credentials_, clock_, program, *programs_, *catalog_},
      nullptr);

  renew_credentials();
  // Member 1 with a purchase (order-1, so that refunds find an order), points and a login.
  setup_request("POST", "/v1/members", R"({"external_id":"cust-1","email":"ada@example.com"})");
  setup_request("POST", "/v1/events",
                R"({"type":"purchase","member_id":1,"order_id":"order-1",)"
                R"("amount":{"amount":4999,"currency":"USD"}})");
  setup_request("POST", "/v1/members/1/adjustments", R"({"points":500,"reason":"fuzz setup"})");
  // The mall: a coupon template, a shipped item with stock and limits, a coupon item, and an
  // order of member 1 (id R6QJQA7FAK8Z85, from its key) for the step routes' seeds.
  setup_request("POST", "/v1/coupon-templates",
                R"({"id":"five-off","name":"5 off","benefit":{"kind":"fixed_amount",)"
                R"("amount":{"amount":500,"currency":"USD"}},"validity":{"days_after_issue":30}})");
  setup_request("POST", "/v1/items",
                R"({"id":"mug","name":"Mug","kind":"physical","points_price":100,"stock":50,)"
                R"("limits":{"per_member":{"units":20,"period":"day"}}})");
  setup_request("POST", "/v1/items",
                R"({"id":"voucher","name":"Voucher","kind":"coupon","coupon_template":"five-off",)"
                R"("points_price":50})");
  setup_request(
      "POST", "/v1/redemptions",
      R"({"member_id":1,"item_id":"mug","shipping_address":{"name":"Ada","line1":"1 Road",)"
      R"("city":"London","postal_code":"N1","country":"GB"}})",
      "fuzz-redeem-1");
  if (!credentials_->set_member_password(1, "ada.lovelace", "analytical-engine-1843", kStartUs)
           .ok())
    finding("cannot set member 1's password");
  member_token_ =
      credentials_->create_session(auth::SessionKind::member, 1, 86'400'000'000, kStartUs).token;
}

Fixture::~Fixture() {
  api_.reset();
  catalog_.reset();
  programs_.reset();
  documents_.reset();
  credentials_.reset();
  members_.reset();
  ledger_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void Fixture::substitute(http::Request& request) const {
  for (http::Header& header : request.headers) {
    for (std::string* text : {&header.name, &header.value}) {
      if (text->find('@') == std::string::npos) continue;
      replace_all(*text, "@KEY@", admin_key_);
      replace_all(*text, "@MEMBER@", member_token_);
      replace_all(*text, "@SESSION@", operator_token_);
      replace_all(*text, "@CSRF@", csrf_token_);
    }
  }
}

void Fixture::renew_credentials() {
  if (admin_key_.empty() || !credentials_->find_api_key(admin_key_)) {
    auto created = credentials_->create_api_key("fuzz-admin-" + std::to_string(renewals_++),
                                                auth::Role::admin, clock_.now_us());
    if (!created.ok()) finding("cannot create the admin key: " + created.problem().message);
    admin_key_ = created.value().key;
  }
  if (!member_token_.empty() && !credentials_->find_session(member_token_, clock_.now_us()))
    member_token_ =
        credentials_->create_session(auth::SessionKind::member, 1, 86'400'000'000, clock_.now_us())
            .token;
  if (operator_token_.empty() || !credentials_->find_session(operator_token_, clock_.now_us()))
    create_operator_session();
}

void Fixture::create_operator_session() {
  auto account = credentials_->find_operator(operator_id_);
  if (!account || account->disabled) {
    auto created = credentials_->create_operator(
        std::string(kOperatorName) + "-" + std::to_string(renewals_++), auth::Role::operator_,
        kOperatorPassword, clock_.now_us());
    if (!created.ok()) finding("cannot create the operator: " + created.problem().message);
    operator_id_ = created.value().info.id;
  }
  const auto session = credentials_->create_session(auth::SessionKind::operator_, operator_id_,
                                                    86'400'000'000, clock_.now_us());
  operator_token_ = session.token;
  csrf_token_ = session.csrf_token;
}

// ---- One request ----------------------------------------------------------------------------

http::Response await_response(api::Api& api, http::Request request);

void Fixture::setup_request(const std::string& method, const std::string& target,
                            const std::string& body, const std::string& key) {
  http::Request request;
  request.method = method;
  request.target = target;
  request.headers = {{"authorization", "Bearer " + admin_key_},
                     {"content-type", "application/json"},
                     {"idempotency-key", key.empty() ? "fuzz-setup-" + target : key}};
  request.body = body;
  request.received_at = std::chrono::steady_clock::now();
  const http::Response response = await_response(*api_, std::move(request));
  if (response.status != 200 && response.status != 201)
    finding("setup " + method + " " + target + " answered " + std::to_string(response.status) +
            ": " + response.body);
}

// Hands the request to the API as the server does and waits for its one response.
http::Response await_response(api::Api& api, http::Request request) {
  auto promise = std::make_shared<std::promise<http::Response>>();
  auto sends = std::make_shared<std::atomic<int>>(0);
  std::future<http::Response> answered = promise->get_future();
  http::Reply reply;
  reply.send = [promise, sends](http::Response response) {
    if (sends->fetch_add(1) != 0) finding("a request was answered twice");
    promise->set_value(std::move(response));
  };
  reply.defer = [](std::function<void()> work) { work(); };
  const std::string what = request.method + " " + request.target;
  try {
    api.handle(std::move(request), std::move(reply));
  } catch (const std::exception& error) {
    finding("Api::handle threw on " + what + ": " + error.what());
  }
  if (answered.wait_for(kResponseTimeout) != std::future_status::ready)
    finding("no response within 10 s to " + what);
  return answered.get();
}

std::string describe(const http::Response& response) {
  return std::to_string(response.status) + " " + response.content_type + " " +
         response.body.substr(0, 2000);
}

void check_problem(const http::Response& response) {
  const auto body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) finding("a problem that is not a JSON object");
  const auto status = body.find("status");
  if (!body.contains("type") || !body["type"].is_string() || status == body.end() ||
      !status->is_number_integer() || status->get<std::int64_t>() != response.status ||
      !body.contains("title") || !body["title"].is_string() || !body.contains("detail") ||
      !body["detail"].is_string())
    finding("a problem without type/title/detail or with a status unlike the HTTP one: " +
            describe(response));
}

bool env_flag(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && std::string_view(value) == "1";
}

bool strict_mode() {
  static const bool strict = env_flag("POINTSMALL_FUZZ_STRICT");
  return strict;
}

bool verbose() {
  static const bool verbose = env_flag("POINTSMALL_FUZZ_VERBOSE");
  return verbose;
}

// `what`: the request's method and target, for the report.
void check_server_error(const std::string& what, const http::Response& response) {
  static std::uint64_t server_errors = 0;
  if (response.status != 500 && response.status != 503) return;
  if (strict_mode()) finding("server error to " + what + ": " + describe(response));
  if (++server_errors <= 5)
    std::fprintf(stderr, "api_request_fuzzer: server error #%llu to %s: %s\n",
                 static_cast<unsigned long long>(server_errors), what.c_str(),
                 describe(response).c_str());
}

void check_response(const std::string& what, const http::Response& response) {
  if (response.status < 200 || response.status > 599)
    finding("status out of 200..599: " + describe(response));
  for (const http::Header& header : response.headers) {
    if ((header.name + header.value).find_first_of(std::string_view("\r\n\0", 3)) !=
        std::string::npos)
      finding("response header with CR, LF or NUL: " + header.name);
  }
  if (response.content_type == "application/problem+json") check_problem(response);
  if (response.content_type == "application/json" && !response.body.empty() &&
      nlohmann::json::parse(response.body, nullptr, false).is_discarded())
    finding("an application/json body that is not JSON: " + describe(response));
  check_server_error(what, response);
}

// ---- Reading requests as the server does ------------------------------------------------------

// What became of the bytes at the front of the input.
struct Read {
  enum class Kind : std::uint8_t { request, rejected, incomplete } kind = Kind::incomplete;
  std::size_t used = 0;
  std::optional<bhttp::request<bhttp::string_body>> message;
  http::ProtocolError error = http::ProtocolError::malformed;
};

Read read_request(std::string_view input) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.eager(true);
  parser.header_limit(static_cast<std::uint32_t>(kMaxHeaderBytes));
  parser.body_limit(kMaxBodyBytes);
  Read read;
  boost::system::error_code ec;
  int stalls = 0;
  while (!parser.is_done()) {
    const std::size_t n =
        parser.put(boost::asio::buffer(input.data() + read.used, input.size() - read.used), ec);
    read.used += n;
    if (ec == bhttp::error::need_more) return read;  // everything left was given: the end
    if (ec) {
      read.kind = Read::Kind::rejected;
      if (ec == bhttp::error::header_limit) read.error = http::ProtocolError::header_too_large;
      if (ec == bhttp::error::body_limit) read.error = http::ProtocolError::body_too_large;
      return read;
    }
    if (n == 0 && ++stalls > 2) return read;
  }
  read.kind = Read::Kind::request;
  read.message = parser.release();
  return read;
}

http::Request to_request(bhttp::request<bhttp::string_body>&& message) {
  http::Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message)
    request.headers.push_back(
        {lower(std::string_view(field.name_string().data(), field.name_string().size())),
         std::string(field.value())});
  request.body = std::move(message.body());
  request.remote_address = "127.0.0.1";
  request.received_at = std::chrono::steady_clock::now();
  return request;
}

Fixture* fixture = nullptr;

// One input: the requests at its front, in order, as one connection would carry them.
void run_input(std::string_view input) {
  for (std::size_t i = 0; i < kMaxRequestsPerInput && !input.empty(); ++i) {
    Read read = read_request(input);
    if (read.kind == Read::Kind::incomplete) return;  // the client left: nobody to answer
    if (read.kind == Read::Kind::rejected) {
      const http::Response response = fixture->api().reject(read.error);
      check_response("(unreadable request)", response);
      if (verbose())
        std::fprintf(stderr, "api_request_fuzzer: (unreadable) -> %s\n",
                     describe(response).c_str());
      return;  // the server closes the connection after a rejection
    }
    const bool keep_alive = read.message->keep_alive();
    http::Request request = to_request(std::move(*read.message));
    fixture->substitute(request);
    const bool changes_state = request.method != "GET";
    const std::string what = request.method + " " + request.target.substr(0, 200);
    const http::Response response = await_response(fixture->api(), std::move(request));
    check_response(what, response);
    if (verbose())
      std::fprintf(stderr, "api_request_fuzzer: %s -> %s\n", what.c_str(),
                   describe(response).substr(0, 300).c_str());
    if (changes_state && response.status < 300) fixture->renew_credentials();
    if (!keep_alive || response.close) return;
    input.remove_prefix(read.used);
  }
}

// Sets the Content-Length of the input's first request to the number of bytes after its headers,
// so that a mutation that changes the length of a JSON body still reaches the API. Returns the
// new size, or `size` when there is no such header or no room for the new digits.
std::size_t fix_content_length(std::uint8_t* data, std::size_t size, std::size_t max_size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::size_t headers_end = text.find("\r\n\r\n");
  if (headers_end == std::string_view::npos) return size;
  const std::string headers = lower(text.substr(0, headers_end + 2));
  constexpr std::string_view kName = "\r\ncontent-length:";
  const std::size_t name_at = headers.find(kName);
  if (name_at == std::string::npos) return size;
  const std::size_t value_start = headers.find_first_not_of(" \t", name_at + kName.size());
  const std::size_t value_end = headers.find("\r\n", name_at + kName.size());
  if (value_start == std::string::npos || value_start > value_end) return size;
  const std::string digits = std::to_string(size - (headers_end + 4));
  const std::size_t new_size = size - (value_end - value_start) + digits.size();
  if (new_size > max_size) return size;
  std::memmove(data + value_start + digits.size(), data + value_end, size - value_end);
  std::memcpy(data + value_start, digits.data(), digits.size());
  return new_size;
}

}  // namespace
}  // namespace pointsmall::fuzz

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

// libFuzzer's own mutations; then, for every other input, a Content-Length that fits the body
// (the rest keep whatever framing the mutation left, for the parser's sake).
extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size,
                                               std::size_t max_size, unsigned int seed) {
  size = LLVMFuzzerMutate(data, size, max_size);
  if (seed % 2 == 0) return size;
  return pointsmall::fuzz::fix_content_length(data, size, max_size);
}

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  static pointsmall::fuzz::Fixture fixture;
  pointsmall::fuzz::fixture = &fixture;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pointsmall::fuzz::run_input(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
