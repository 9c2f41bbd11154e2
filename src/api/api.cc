#include "api/api.h"

#include <cctype>
#include <ostream>
#include <unordered_map>

#include "api/routes.h"
#include "auth/crypto.h"
#include "core/json_text.h"
#include "core/time_zone.h"

namespace pointsmall::api {
namespace {

constexpr std::string_view kSessionCookie = "pointsmall_session";
// A cached API key is trusted this long; revoking through this server takes effect at once,
// elsewhere (another node, the command line) within this time.
constexpr auto kApiKeyCacheTtl = std::chrono::seconds(2);
constexpr std::size_t kApiKeyCacheMax = 10'000;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; `plus_is_space` for query strings. Invalid escapes are kept as they are.
std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out += static_cast<char>(high * 16 + low);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && c == '+') ? ' ' : c;
  }
  return out;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// The segments of every route's path template, split once (index as in routes()).
const std::vector<std::vector<std::string_view>>& route_segments() {
  static const std::vector<std::vector<std::string_view>> all = [] {
    std::vector<std::vector<std::string_view>> out;
    for (const Route& route : routes()) out.push_back(split(route.path.substr(1), '/'));
    return out;
  }();
  return all;
}

// Matches "/v1/members/42" against the segments of "/v1/members/{member_id}", collecting the
// parameters. A parameter must be plain text (UTF-8, no control characters): no route has another.
bool match(const std::vector<std::string_view>& parts, const std::vector<std::string>& segments,
           std::vector<std::string>& params) {
  if (parts.size() != segments.size()) return false;
  std::vector<std::string> found;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (!parts[i].empty() && parts[i].front() == '{') {
      if (segments[i].empty() || !is_plain_text(segments[i])) return false;
      found.push_back(segments[i]);
    } else if (parts[i] != segments[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

std::string_view cookie_value(std::string_view header, std::string_view name) {
  for (std::string_view part : split(header, ';')) {
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() > name.size() && part.substr(0, name.size()) == name &&
        part[name.size()] == '=')
      return part.substr(name.size() + 1);
  }
  return {};
}

bool changes_state(std::string_view method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

std::string_view caller_kind_name(Caller::Kind kind) {
  switch (kind) {
    case Caller::Kind::api_key:
      return "api_key";
    case Caller::Kind::operator_session:
      return "operator";
    case Caller::Kind::member_session:
      return "member";
    case Caller::Kind::anonymous:
      break;
  }
  return "anonymous";
}

}  // namespace

// ---- Access log ------------------------------------------------------------------------------

namespace {

// One JSON object per request. Written by hand: it runs for every request, and every value is
// a number or text from our own tables (the method is an HTTP token, checked by the parser).
std::string access_line(const Call& call, const http::Response& response,
                        std::int64_t duration_us) {
  const auto& table = routes();
  std::string line;
  line.reserve(256);
  line += "{\"time\":\"";
  line += format_rfc3339_utc(call.services.clock.now_us());
  line += "\",\"method\":\"";
  line += call.request.method;
  line += "\",\"route\":\"";
  // Past the table: "unmatched", or the web front end's files (one past that).
  line += call.route_index < table.size()    ? table[call.route_index].path
          : call.route_index == table.size() ? "unmatched"
                                             : "static";
  line += "\",\"status\":";
  line += std::to_string(response.status);
  line += ",\"duration_us\":";
  line += std::to_string(duration_us);
  line += ",\"caller\":\"";
  line += caller_kind_name(call.caller.kind);
  if (call.caller.authenticated()) {
    line += "\",\"role\":\"";
    line += auth::role_name(call.caller.role);
  }
  line += "\",\"request_bytes\":";
  line += std::to_string(call.request.body.size());
  line += ",\"response_bytes\":";
  line += std::to_string(response.body.size());
  line += "}";
  return line;
}

}  // namespace

AccessLog::~AccessLog() {
  flush();
}

void AccessLog::write(const std::string& line) {
  std::lock_guard lock(mutex_);
  buffer_ += line;
  buffer_ += '\n';
  const auto now = std::chrono::steady_clock::now();
  if (buffer_.size() < std::size_t{64} * 1024 && now - last_flush_ < std::chrono::seconds(1))
    return;
  out_ << buffer_;
  out_.flush();
  buffer_.clear();
  last_flush_ = now;
}

void AccessLog::flush() {
  std::lock_guard lock(mutex_);
  out_ << buffer_;
  out_.flush();
  buffer_.clear();
}

// ---- Authentication ----------------------------------------------------------------------------

struct Api::Impl {
  struct CachedKey {
    auth::ApiKeyInfo info;
    std::chrono::steady_clock::time_point until;
  };
  std::mutex key_cache_mutex;
  std::unordered_map<std::string, CachedKey> key_cache;  // by the key's SHA-256

  std::optional<auth::ApiKeyInfo> find_api_key(auth::CredentialStore& credentials,
                                               std::string_view key) {
    const std::string digest = auth::sha256_hex(key);
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(key_cache_mutex);
      if (auto it = key_cache.find(digest); it != key_cache.end() && it->second.until > now)
        return it->second.info;
    }
    auto info = credentials.find_api_key(key);
    if (!info) return std::nullopt;
    std::lock_guard lock(key_cache_mutex);
    if (key_cache.size() >= kApiKeyCacheMax) key_cache.clear();
    key_cache[digest] = CachedKey{*info, now + kApiKeyCacheTtl};
    return info;
  }

  void forget_api_keys() {
    std::lock_guard lock(key_cache_mutex);
    key_cache.clear();
  }
};

namespace {

// Who the request's credentials name; nullopt when it carries credentials that are not valid.
std::optional<Caller> authenticate(Api::Impl& impl, Services& services,
                                   const http::Request& request) {
  Caller caller;
  const std::string_view authorization = request.header("authorization");
  const TimeUs now = services.clock.now_us();
  if (!authorization.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    if (authorization.substr(0, kBearer.size()) != kBearer) return std::nullopt;
    const std::string_view token = authorization.substr(kBearer.size());
    if (token.substr(0, auth::kApiKeyPrefix.size()) == auth::kApiKeyPrefix) {
      auto key = impl.find_api_key(services.credentials, token);
      if (!key) return std::nullopt;
      caller.kind = Caller::Kind::api_key;
      caller.role = key->role;
      caller.id = key->id;
      caller.actor = "api-key:" + key->name;
      return caller;
    }
    auto session = services.credentials.find_session(token, now);
    if (!session || session->kind != auth::SessionKind::member) return std::nullopt;
    caller.kind = Caller::Kind::member_session;
    caller.role = auth::Role::member;
    caller.id = session->subject_id;
    caller.actor = "member:" + std::to_string(session->subject_id);
    caller.session_token = std::string(token);
    return caller;
  }
  const std::string_view token = cookie_value(request.header("cookie"), kSessionCookie);
  if (token.empty()) return caller;  // anonymous
  auto session = services.credentials.find_session(token, now);
  if (!session || session->kind != auth::SessionKind::operator_) return std::nullopt;
  auto account = services.credentials.find_operator(session->subject_id);
  if (!account || account->disabled) return std::nullopt;
  caller.kind = Caller::Kind::operator_session;
  caller.role = account->role;
  caller.id = account->id;
  caller.actor = "operator:" + account->name;
  caller.session_token = std::string(token);
  caller.csrf_token = session->csrf_token;
  return caller;
}

}  // namespace

// ---- Api ---------------------------------------------------------------------------------------

namespace {
std::vector<std::string> route_names() {
  std::vector<std::string> names;
  for (const Route& route : routes())
    names.push_back(std::string(route.method) + " " + std::string(route.path));
  return names;
}
}  // namespace

Api::Api(Services services, AccessLog* access_log, StaticSite* site)
    : services_(std::move(services)),
      access_log_(access_log),
      site_(site),
      metrics_(route_names()),
      impl_(std::make_unique<Impl>()) {}

Api::~Api() = default;

http::Response Api::reject(http::ProtocolError error) {
  switch (error) {
    case http::ProtocolError::header_too_large:
      return to_response(problem(ApiError::headers_too_large));
    case http::ProtocolError::body_too_large:
      return to_response(problem(ApiError::payload_too_large));
    case http::ProtocolError::malformed:
      break;
  }
  return to_response(problem(ApiError::malformed_request));
}

void Api::handle(http::Request request, http::Reply reply) {
  const std::string target = request.target;
  const std::string method = request.method;
  auto call = std::make_shared<Call>(services_, std::move(request), std::move(reply));
  call->route_index = routes().size();
  call->forget_api_keys = [this] { impl_->forget_api_keys(); };
  call->metrics = &metrics_;
  call->on_answer = [this, call_ptr = call.get()](const http::Response& response) {
    const auto duration = std::chrono::steady_clock::now() - call_ptr->request.received_at;
    const auto duration_us =
        std::chrono::duration_cast<std::chrono::microseconds>(duration).count();
    metrics_.record(call_ptr->route_index, response.status, duration_us);
    if (access_log_ == nullptr) return;
    access_log_->write(access_line(*call_ptr, response, duration_us));
  };

  // Path and query.
  const std::size_t question = target.find('?');
  const std::string_view path = std::string_view(target).substr(0, question);
  if (question != std::string::npos) {
    for (std::string_view pair : split(std::string_view(target).substr(question + 1), '&')) {
      if (pair.empty()) continue;
      const std::size_t equals = pair.find('=');
      call->query.emplace_back(percent_decode(pair.substr(0, equals), true),
                               equals == std::string_view::npos
                                   ? std::string()
                                   : percent_decode(pair.substr(equals + 1), true));
    }
  }
  if (path.empty() || path.front() != '/') {
    call->fail(problem(ApiError::not_found, "paths begin with /"));
    return;
  }
  if (site_ != nullptr && site_->owns(path)) {
    call->route_index = routes().size() + 1;  // "static" in the access log
    call->answer(site_->answer(call->request, path));
    return;
  }
  std::vector<std::string> segments;
  for (std::string_view segment : split(path.substr(1), '/'))
    segments.push_back(percent_decode(segment, false));

  const auto& table = routes();
  std::string allowed_methods;
  for (std::size_t i = 0; i < table.size(); ++i) {
    std::vector<std::string> params;
    if (!match(route_segments()[i], segments, params)) continue;
    if (table[i].method != method) {
      allowed_methods += (allowed_methods.empty() ? "" : ", ") + std::string(table[i].method);
      continue;
    }
    call->route_index = i;
    call->params = std::move(params);
    break;
  }
  if (call->route_index == table.size()) {
    if (!allowed_methods.empty()) {
      http::Response response = to_response(problem(ApiError::method_not_allowed));
      response.headers.push_back({"allow", allowed_methods});
      call->answer(std::move(response));
    } else {
      call->fail(problem(ApiError::not_found, "no route for " + std::string(path)));
    }
    return;
  }
  const Route& route = table[call->route_index];

  call->guard([&] {
    auto caller = authenticate(*impl_, services_, call->request);
    if (!route.roles.is_public()) {
      if (!caller || !caller->authenticated()) {
        call->fail(problem(ApiError::unauthenticated,
                           caller ? "this route needs an API key or a session"
                                  : "the credentials are not valid (unknown, revoked or expired)"));
        return;
      }
      if (!route.roles.allows(caller->role)) {
        call->fail(problem(ApiError::forbidden,
                           "role " + std::string(auth::role_name(caller->role)) + " may not call " +
                               method + " " + std::string(route.path)));
        return;
      }
    }
    if (caller) call->caller = std::move(*caller);
    if (call->caller.kind == Caller::Kind::operator_session && changes_state(method) &&
        !auth::constant_time_equal(call->request.header("x-csrf-token"), call->caller.csrf_token)) {
      call->fail(problem(ApiError::csrf_failed));
      return;
    }
    if (changes_state(method) && !call->request.body.empty()) {
      std::string type(call->request.header("content-type"));
      type = type.substr(0, type.find(';'));
      while (!type.empty() && type.back() == ' ') type.pop_back();
      for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (type != route.body_type) {
        call->fail(problem(ApiError::unsupported_media_type,
                           "send the body as " + std::string(route.body_type)));
        return;
      }
    }
    route.handle(call);
  });
}

std::string route_table_json_lines() {
  std::string out;
  for (const Route& route : routes()) {
    nlohmann::json roles = nlohmann::json::array();
    for (std::string_view role : route.roles.names()) roles.push_back(role);
    out += nlohmann::json{{"method", route.method}, {"path", route.path}, {"roles", roles}}.dump();
    out += '\n';
  }
  return out;
}

}  // namespace pointsmall::api
