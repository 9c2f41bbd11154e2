// Signing in and out (operators with password and TOTP, members with a token from the merchant or
// a password), and the admin's API keys and operators.
#include <algorithm>
#include <semaphore>

#include "api/api.h"
#include "api/json_input.h"
#include "api/login_throttle.h"
#include "api/render.h"
#include "api/routes.h"
#include "auth/crypto.h"
#include "core/time_zone.h"

namespace pointsmall::api {
namespace {

constexpr std::string_view kSessionCookie = "pointsmall_session";
constexpr std::int64_t kMinSessionSeconds = 60;
constexpr std::int64_t kMaxSessionSeconds = 86'400;

// Password hashing takes tens of milliseconds and 64 MiB: at most two at once, so that sign-in
// attempts cannot starve the server's threads or memory; more are told to retry.
std::counting_semaphore<2> password_checks(2);

class PasswordCheckSlot {
 public:
  PasswordCheckSlot() : held_(password_checks.try_acquire()) {}
  ~PasswordCheckSlot() {
    if (held_) password_checks.release();
  }
  PasswordCheckSlot(const PasswordCheckSlot&) = delete;
  PasswordCheckSlot& operator=(const PasswordCheckSlot&) = delete;
  [[nodiscard]] bool held() const { return held_; }

 private:
  bool held_;
};

bool busy(const CallPtr& call, const PasswordCheckSlot& slot) {
  if (slot.held()) return false;
  call->fail(problem(ApiError::too_many_requests));
  return true;
}

// Failed sign-ins per operator name or member login (see LoginThrottle).
LoginThrottle sign_in_failures;

// Answers 429 when `name` has failed too often lately.
bool throttled(const CallPtr& call, const std::string& name) {
  if (sign_in_failures.allowed(name, call->services.clock.now_us())) return false;
  call->fail(problem(ApiError::too_many_requests,
                     "too many failed sign-ins for this name; wait 15 minutes"));
  return true;
}

// Counts the outcome of a sign-in; answers login_failed and returns false for a failure.
bool check_sign_in(const CallPtr& call, const std::string& name, bool succeeded) {
  if (succeeded) {
    sign_in_failures.succeeded(name);
    return true;
  }
  sign_in_failures.failed(name, call->services.clock.now_us());
  call->fail(problem(ApiError::login_failed));
  return false;
}

nlohmann::json operator_json(const auth::OperatorInfo& info) {
  return {{"id", info.id},
          {"name", info.name},
          {"role", auth::role_name(info.role)},
          {"disabled", info.disabled},
          {"created_at", format_rfc3339_utc(info.created_at_us)}};
}

nlohmann::json api_key_json(const auth::ApiKeyInfo& info) {
  return {{"id", info.id},
          {"name", info.name},
          {"role", auth::role_name(info.role)},
          {"key_prefix", info.key_prefix},
          {"created_at", format_rfc3339_utc(info.created_at_us)},
          {"revoked_at", info.revoked_at_us == 0
                             ? nlohmann::json(nullptr)
                             : nlohmann::json(format_rfc3339_utc(info.revoked_at_us))}};
}

std::string session_cookie(const ProgramSettings& program, const std::string& token,
                           std::int64_t max_age_seconds) {
  return std::string(kSessionCookie) + "=" + token + "; Path=/; HttpOnly; SameSite=Strict; " +
         "Max-Age=" + std::to_string(max_age_seconds) + (program.secure_cookies ? "; Secure" : "");
}

nlohmann::json operator_session_json(const auth::OperatorInfo& info, const std::string& csrf,
                                     TimeUs expires_at_us) {
  return {
      {"operator", {{"id", info.id}, {"name", info.name}, {"role", auth::role_name(info.role)}}},
      {"csrf_token", csrf},
      {"expires_at", format_rfc3339_utc(expires_at_us)}};
}

// A role named in a body; answers through `fields` when it is not one of `allowed`.
std::optional<auth::Role> role_field(Fields& fields, const std::vector<std::string_view>& allowed) {
  auto name = fields.one_of("role", true, allowed);
  if (!name) return std::nullopt;
  return auth::role_from_name(*name);
}

// Answers a refused credential change: taken names 409, broken rules 422.
void fail_credential(const CallPtr& call, const auth::CredentialProblem& refused,
                     std::string_view field) {
  switch (refused.error) {
    case auth::CredentialError::name_taken:
    case auth::CredentialError::login_taken:
      call->fail(problem(ApiError::name_taken, refused.message));
      return;
    case auth::CredentialError::not_found:
      call->fail(problem(ApiError::not_found, refused.message));
      return;
    case auth::CredentialError::invalid:
      break;
  }
  std::vector<FieldError> errors{{std::string(field), refused.message}};
  fail_if_invalid(call, errors);
}

}  // namespace

void create_member_session(const CallPtr& call) {
  auto account = member_param(call, 0);
  if (!account) return;
  std::int64_t ttl_seconds = call->services.program.member_session_ttl_us / 1'000'000;
  if (!call->request.body.empty()) {
    auto body = read_body(call);
    if (!body) return;
    std::vector<FieldError> errors;
    Fields fields(*body, "", errors);
    if (auto ttl = fields.integer("ttl_seconds", false, kMinSessionSeconds, kMaxSessionSeconds))
      ttl_seconds = *ttl;
    fields.reject_unknown({"ttl_seconds"});
    if (fail_if_invalid(call, errors)) return;
  }
  const auto session = call->services.credentials.create_session(
      auth::SessionKind::member, account->member_id, ttl_seconds * 1'000'000,
      call->services.clock.now_us());
  call->json(201, {{"token", session.token},
                   {"member_id", account->member_id},
                   {"expires_at", format_rfc3339_utc(session.expires_at_us)}});
}

void set_member_credentials(const CallPtr& call) {
  auto account = member_param(call, 0);
  if (!account) return;
  auto body = read_body(call);
  if (!body) return;
  std::vector<FieldError> errors;
  Fields fields(*body, "", errors);
  auto login = fields.text("login", TextRule{.required = true, .min_length = 3, .max_length = 64});
  auto password =
      fields.text("password", TextRule{.required = true, .min_length = 10, .max_length = 256});
  fields.reject_unknown({"login", "password"});
  if (fail_if_invalid(call, errors)) return;
  PasswordCheckSlot slot;
  if (busy(call, slot)) return;
  auto done = call->services.credentials.set_member_password(account->member_id, *login, *password,
                                                             call->services.clock.now_us());
  if (!done.ok()) {
    fail_credential(call, done.problem(), "password");
    return;
  }
  call->no_content();
}

void operator_login(const CallPtr& call) {
  auto body = read_body(call);
  if (!body) return;
  std::vector<FieldError> errors;
  Fields fields(*body, "", errors);
  auto name = fields.text("name", TextRule{.required = true, .max_length = 64});
  auto password = fields.text("password", TextRule{.required = true, .max_length = 256});
  auto code =
      fields.text("totp_code", TextRule{.required = true, .min_length = 6, .max_length = 6});
  if (code && !std::all_of(code->begin(), code->end(), [](char c) { return c >= '0' && c <= '9'; }))
    fields.error("totp_code", "must be the 6 digits the authenticator app shows");
  fields.reject_unknown({"name", "password", "totp_code"});
  if (fail_if_invalid(call, errors)) return;
  const std::string throttle_name = "operator:" + *name;
  if (throttled(call, throttle_name)) return;
  PasswordCheckSlot slot;
  if (busy(call, slot)) return;
  const TimeUs now = call->services.clock.now_us();
  auto signed_in = call->services.credentials.verify_operator_login(*name, *password, *code, now);
  if (!check_sign_in(call, throttle_name, signed_in.has_value())) return;
  const TimeUs ttl = call->services.program.operator_session_ttl_us;
  const auto session = call->services.credentials.create_session(auth::SessionKind::operator_,
                                                                 signed_in->id, ttl, now);
  call->json(
      200, operator_session_json(*signed_in, session.csrf_token, session.expires_at_us),
      {{"set-cookie", session_cookie(call->services.program, session.token, ttl / 1'000'000)}});
}

void operator_session(const CallPtr& call) {
  if (call->caller.kind != Caller::Kind::operator_session) {
    call->fail(problem(ApiError::unauthenticated, "this route needs a console session cookie"));
    return;
  }
  auto info = call->services.credentials.find_operator(call->caller.id);
  auto session = call->services.credentials.find_session(call->caller.session_token,
                                                         call->services.clock.now_us());
  if (!info || !session) {
    call->fail(problem(ApiError::unauthenticated));
    return;
  }
  call->json(200, operator_session_json(*info, session->csrf_token, session->expires_at_us));
}

void operator_logout(const CallPtr& call) {
  if (call->caller.kind != Caller::Kind::operator_session) {
    call->fail(problem(ApiError::unauthenticated, "this route needs a console session cookie"));
    return;
  }
  call->services.credentials.delete_session(call->caller.session_token);
  http::Response response;
  response.status = 204;
  response.headers.push_back({"set-cookie", session_cookie(call->services.program, "", 0)});
  call->answer(std::move(response));
}

void member_login(const CallPtr& call) {
  auto body = read_body(call);
  if (!body) return;
  std::vector<FieldError> errors;
  Fields fields(*body, "", errors);
  auto login = fields.text("login", TextRule{.required = true, .max_length = 64});
  auto password = fields.text("password", TextRule{.required = true, .max_length = 256});
  fields.reject_unknown({"login", "password"});
  if (fail_if_invalid(call, errors)) return;
  const std::string throttle_name = "member:" + *login;
  if (throttled(call, throttle_name)) return;
  PasswordCheckSlot slot;
  if (busy(call, slot)) return;
  auto member_id = call->services.credentials.verify_member_login(*login, *password);
  if (!check_sign_in(call, throttle_name, member_id.has_value())) return;
  const auto session = call->services.credentials.create_session(
      auth::SessionKind::member, *member_id, call->services.program.member_session_ttl_us,
      call->services.clock.now_us());
  call->json(201, {{"token", session.token},
                   {"member_id", *member_id},
                   {"expires_at", format_rfc3339_utc(session.expires_at_us)}});
}

void member_logout(const CallPtr& call) {
  call->services.credentials.delete_session(call->caller.session_token);
  call->no_content();
}

void create_api_key(const CallPtr& call) {
  auto body = read_body(call);
  if (!body) return;
  std::vector<FieldError> errors;
  Fields fields(*body, "", errors);
  auto name = fields.text("name", TextRule{.required = true, .max_length = 64});
  auto role = role_field(fields, {"merchant", "operator", "admin", "analyst"});
  fields.reject_unknown({"name", "role"});
  if (fail_if_invalid(call, errors)) return;
  auto created =
      call->services.credentials.create_api_key(*name, *role, call->services.clock.now_us());
  if (!created.ok()) {
    fail_credential(call, created.problem(), "name");
    return;
  }
  nlohmann::json out = api_key_json(created.value().info);
  out["key"] = created.value().key;
  call->json(201, out);
}

void list_api_keys(const CallPtr& call) {
  nlohmann::json data = nlohmann::json::array();
  for (const auth::ApiKeyInfo& info : call->services.credentials.list_api_keys())
    data.push_back(api_key_json(info));
  call->json(200, {{"data", std::move(data)}, {"next_cursor", nullptr}});
}

void revoke_api_key(const CallPtr& call) {
  auto id = call->id_param(0, problem(ApiError::not_found, "no such API key"));
  if (!id) return;
  if (!call->services.credentials.revoke_api_key(*id, call->services.clock.now_us())) {
    call->fail(problem(ApiError::not_found, "no API key in use has this id"));
    return;
  }
  if (call->forget_api_keys) call->forget_api_keys();
  call->no_content();
}

void create_operator(const CallPtr& call) {
  auto body = read_body(call);
  if (!body) return;
  std::vector<FieldError> errors;
  Fields fields(*body, "", errors);
  auto name = fields.text("name", TextRule{.required = true, .max_length = 64});
  auto role = role_field(fields, {"operator", "admin", "analyst"});
  auto password =
      fields.text("password", TextRule{.required = true, .min_length = 10, .max_length = 256});
  fields.reject_unknown({"name", "role", "password"});
  if (fail_if_invalid(call, errors)) return;
  PasswordCheckSlot slot;
  if (busy(call, slot)) return;
  auto created = call->services.credentials.create_operator(*name, *role, *password,
                                                            call->services.clock.now_us());
  if (!created.ok()) {
    fail_credential(call, created.problem(), "name");
    return;
  }
  nlohmann::json out = operator_json(created.value().info);
  out["totp_secret"] = created.value().totp_secret;
  out["totp_uri"] = auth::totp_uri(call->services.program.name, created.value().info.name,
                                   created.value().totp_secret);
  call->json(201, out);
}

void list_operators(const CallPtr& call) {
  nlohmann::json data = nlohmann::json::array();
  for (const auth::OperatorInfo& info : call->services.credentials.list_operators())
    data.push_back(operator_json(info));
  call->json(200, {{"data", std::move(data)}, {"next_cursor", nullptr}});
}

void disable_operator(const CallPtr& call) {
  auto id = call->id_param(0, problem(ApiError::not_found, "no such operator"));
  if (!id) return;
  auto info = call->services.credentials.find_operator(*id);
  if (!info) {
    call->fail(problem(ApiError::not_found, "no operator has this id"));
    return;
  }
  call->services.credentials.disable_operator(*id);
  info = call->services.credentials.find_operator(*id);
  call->json(200, operator_json(*info));
}

}  // namespace pointsmall::api
