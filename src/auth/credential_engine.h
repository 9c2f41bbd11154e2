// What every engine of CredentialStore shares beside its SQL: the checks of a request before it
// reaches the database, the problems it answers, the limits on inputs and the values it makes,
// so that SQLite and PostgreSQL refuse the same requests with the same messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "auth/credential_store.h"
#include "auth/crypto.h"

namespace pointsmall::auth::engine {

// "pm_" and 8 characters of the random part (48 bits): enough to tell keys apart in a list.
inline constexpr std::size_t kKeyPrefixLength = kApiKeyPrefix.size() + 8;
// Longer inputs cannot be a key, a session token or a password (at most 4 bytes a character),
// and are refused before any hashing.
inline constexpr std::size_t kMaxTokenBytes = 256;
inline constexpr std::size_t kMaxPasswordBytes = 4 * kPasswordMaxLength;

CredentialProblem invalid(std::string message);
// Why a new API key, operator or member password is refused before any hashing, or nullopt.
std::optional<CredentialProblem> new_api_key_problem(std::string_view name, Role role);
std::optional<CredentialProblem> new_operator_problem(std::string_view name, Role role,
                                                      std::string_view password);
std::optional<CredentialProblem> member_password_problem(std::string_view login,
                                                         std::string_view password);
// The problems of a unique name or login that is taken, and of an unknown operator.
CredentialProblem api_key_name_taken(std::string_view name);
CredentialProblem operator_name_taken(std::string_view name);
CredentialProblem login_taken(std::string_view login);
CredentialProblem operator_not_found(std::int64_t id);

// A role or session kind read from the database. Throws std::runtime_error for an unknown role
// (the table was written by something else); any kind other than "operator" is a member's.
Role stored_role(const std::string& name);
SessionKind stored_session_kind(std::string_view name);

// A hash to check passwords against when the name is unknown, so that an unknown name costs
// the same Argon2id work as a known one.
const std::string& dummy_password_hash();

// A new session's token, CSRF token and end (now_us + ttl_us, at most kTimeNever). Throws
// std::invalid_argument unless ttl_us > 0.
CreatedSession new_session(std::int64_t ttl_us, TimeUs now_us);

// What a login needs from an operators row.
struct OperatorSecrets {
  OperatorInfo info;
  std::string password_hash;
  std::string totp_secret;
  std::int64_t last_totp_step = 0;
};

}  // namespace pointsmall::auth::engine
