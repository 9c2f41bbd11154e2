#include "auth/credential_engine.h"

#include <stdexcept>
#include <utility>

namespace pointsmall::auth::engine {

CredentialProblem invalid(std::string message) {
  return CredentialProblem{CredentialError::invalid, std::move(message)};
}

std::optional<CredentialProblem> new_api_key_problem(std::string_view name, Role role) {
  if (auto problem = api_key_name_problem(name)) return invalid(std::move(*problem));
  if (role == Role::member) return invalid("an API key cannot have the role member");
  return std::nullopt;
}

std::optional<CredentialProblem> new_operator_problem(std::string_view name, Role role,
                                                      std::string_view password) {
  if (auto problem = operator_name_problem(name)) return invalid(std::move(*problem));
  if (role != Role::operator_ && role != Role::admin && role != Role::analyst)
    return invalid("an operator's role must be operator, admin or analyst");
  if (auto problem = password_problem(password)) return invalid(std::move(*problem));
  return std::nullopt;
}

std::optional<CredentialProblem> member_password_problem(std::string_view login,
                                                         std::string_view password) {
  if (auto problem = member_login_problem(login)) return invalid(std::move(*problem));
  if (auto problem = password_problem(password)) return invalid(std::move(*problem));
  return std::nullopt;
}

CredentialProblem api_key_name_taken(std::string_view name) {
  return CredentialProblem{CredentialError::name_taken,
                           "an API key named \"" + std::string(name) + "\" exists"};
}

CredentialProblem operator_name_taken(std::string_view name) {
  return CredentialProblem{CredentialError::name_taken,
                           "an operator named \"" + std::string(name) + "\" exists"};
}

CredentialProblem login_taken(std::string_view login) {
  return CredentialProblem{CredentialError::login_taken,
                           "another member signs in as \"" + std::string(login) + "\""};
}

CredentialProblem operator_not_found(std::int64_t id) {
  return CredentialProblem{CredentialError::not_found,
                           "there is no operator " + std::to_string(id)};
}

Role stored_role(const std::string& name) {
  const std::optional<Role> role = role_from_name(name);
  if (!role) throw std::runtime_error("the credentials table holds an unknown role: " + name);
  return *role;
}

SessionKind stored_session_kind(std::string_view name) {
  return name == session_kind_name(SessionKind::operator_) ? SessionKind::operator_
                                                           : SessionKind::member;
}

const std::string& dummy_password_hash() {
  static const std::string hash = hash_password(random_token(16));
  return hash;
}

CreatedSession new_session(std::int64_t ttl_us, TimeUs now_us) {
  if (ttl_us <= 0) throw std::invalid_argument("a session needs a positive lifetime");
  return CreatedSession{random_token(32), random_token(24),
                        now_us > kTimeNever - ttl_us ? kTimeNever : now_us + ttl_us};
}

}  // namespace pointsmall::auth::engine
