// Where credentials live: API keys of the merchant's servers, operators of the console (password
// and TOTP), signed-in sessions, and the passwords of members in standalone mode. An interface,
// so that every storage engine (SQLite now, PostgreSQL later) keeps the same contract; the rules
// on names, logins and passwords are engine-independent functions below.
//
// Invariants every engine keeps:
//  1. No secret is stored: API keys and session tokens only as sha256_hex, passwords only as
//     Argon2id hashes. A plaintext key or token exists once, in the value that created it.
//  2. A revoked API key, an expired session, and a disabled operator (and its sessions) never
//     authenticate again.
//  3. A TOTP code is accepted at most once per operator: the accepted time step is stored and
//     only later steps are accepted afterwards, even across processes.
//  4. Names of API keys and operators, and logins of members, are unique (compared exactly).
//
// User errors (a taken name, a short password) come back as CredentialProblem values. Storage
// failures are exceptions (store::sqlite::SqliteError for SQLite): they are not the caller's
// fault and are reported as server errors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/types.h"

namespace pointsmall::auth {

// What a credential may do. Stable names (role_name) appear in the database and the API.
enum class Role : std::uint8_t { merchant, operator_, admin, analyst, member };
// "merchant", "operator", "admin", "analyst", "member".
std::string_view role_name(Role role);
std::optional<Role> role_from_name(std::string_view name);

// Why a request about credentials was refused.
enum class CredentialError : std::uint8_t {
  invalid,      // a name, login, role or password breaks the rules; the message says which
  name_taken,   // an API key or operator with this name exists (revoked keys keep their names)
  login_taken,  // another member signs in with this login
  not_found,    // no operator with this id
};
// "invalid", "name_taken", "login_taken", "not_found".
std::string_view credential_error_name(CredentialError error);

struct CredentialProblem {
  CredentialError error;
  std::string message;  // for people; never contains a secret
};

// A value, or the problem that prevented it.
template <typename T>
class [[nodiscard]] CredentialResult {
 public:
  // Implicit, so that a function can `return value;` or `return problem;`.
  CredentialResult(T value) : state_(std::move(value)) {}
  CredentialResult(CredentialProblem problem) : state_(std::move(problem)) {}

  [[nodiscard]] bool ok() const { return state_.index() == 0; }
  // Only when ok(); throws std::bad_variant_access otherwise.
  [[nodiscard]] const T& value() const { return std::get<0>(state_); }
  [[nodiscard]] T& value() { return std::get<0>(state_); }
  // Only when !ok(); throws std::bad_variant_access otherwise.
  [[nodiscard]] const CredentialProblem& problem() const { return std::get<1>(state_); }

 private:
  std::variant<T, CredentialProblem> state_;
};

// For operations that return nothing but may be refused.
struct Done {};

// Limits of names and logins, in characters (UTF-8 code points) for API key names and logins,
// in bytes for operator names (which are ASCII).
inline constexpr std::size_t kNameMaxLength = 64;
inline constexpr std::size_t kLoginMinLength = 3;
inline constexpr std::size_t kLoginMaxLength = 64;

// The rules, as a message for people, or nullopt when the value is acceptable.
// API key name: 1..64 characters, no control characters, no spaces at either end.
std::optional<std::string> api_key_name_problem(std::string_view name);
// Operator name: 1..64 of A-Z a-z 0-9 . _ @ -
std::optional<std::string> operator_name_problem(std::string_view name);
// Member login: 3..64 characters, no control characters, no spaces at either end.
std::optional<std::string> member_login_problem(std::string_view login);

struct ApiKeyInfo {
  std::int64_t id = 0;
  std::string name;
  Role role = Role::merchant;
  std::string key_prefix;  // the first characters of the key ("pm_" and 8 more)
  TimeUs created_at_us = 0;
  TimeUs revoked_at_us = 0;  // 0: in use
};

struct CreatedApiKey {
  ApiKeyInfo info;
  std::string key;  // the plaintext key: shown to the user once, then forgotten
};

struct OperatorInfo {
  std::int64_t id = 0;
  std::string name;
  Role role = Role::operator_;  // operator_, admin or analyst
  TimeUs created_at_us = 0;
  bool disabled = false;
};

struct CreatedOperator {
  OperatorInfo info;
  std::string totp_secret;  // base32; shown once (as text and otpauth URI) for the authenticator
};

enum class SessionKind : std::uint8_t { operator_, member };
// "operator", "member".
std::string_view session_kind_name(SessionKind kind);

struct CreatedSession {
  std::string token;       // the plaintext token (cookie or bearer): given to the client once
  std::string csrf_token;  // for operator sessions, sent back in X-CSRF-Token
  TimeUs expires_at_us = 0;
};

struct Session {
  SessionKind kind = SessionKind::member;
  std::int64_t subject_id = 0;  // the operator's id or the member id
  std::string csrf_token;
  TimeUs created_at_us = 0;
  TimeUs expires_at_us = 0;
};

// Every method is safe to call from several threads at once. Methods that check a password
// (create_operator, set_*_password, verify_*_login) take tens of milliseconds of CPU and 64 MiB
// of memory while they hash; callers should limit how many run at once and how often a client
// may try.
class CredentialStore {
 public:
  virtual ~CredentialStore() = default;

  // --- API keys

  // Creates a key named `name` (api_key_name_problem) with `role` (any but member). Refused as
  // invalid for a bad name or role, as name_taken when any key, even revoked, has the name.
  virtual CredentialResult<CreatedApiKey> create_api_key(std::string_view name, Role role,
                                                         TimeUs now_us) = 0;
  // The key whose plaintext is `key`, unless it is revoked or unknown (nullopt).
  virtual std::optional<ApiKeyInfo> find_api_key(std::string_view key) = 0;
  // Every key, revoked ones too, in the order they were created.
  virtual std::vector<ApiKeyInfo> list_api_keys() = 0;
  // Revokes key `id` at `now_us`: true if it was in use, false if unknown or already revoked.
  virtual bool revoke_api_key(std::int64_t id, TimeUs now_us) = 0;

  // --- Operators

  // Creates an enabled operator with a new TOTP secret. Refused as invalid for a bad name
  // (operator_name_problem), a role other than operator_, admin or analyst, or a password that
  // breaks password_problem; as name_taken when an operator has the name.
  virtual CredentialResult<CreatedOperator> create_operator(std::string_view name, Role role,
                                                            std::string_view password,
                                                            TimeUs now_us) = 0;
  virtual std::optional<OperatorInfo> find_operator(std::int64_t id) = 0;
  // Every operator, disabled ones too, by id.
  virtual std::vector<OperatorInfo> list_operators() = 0;
  // Disables operator `id` for good and deletes its sessions. False when there is no such
  // operator or it was already disabled.
  virtual bool disable_operator(std::int64_t id) = 0;
  // Replaces the password of operator `id`. Refused as invalid (password_problem) or not_found.
  // Sessions stay; call delete_sessions_of to end them.
  virtual CredentialResult<Done> set_operator_password(std::int64_t id,
                                                       std::string_view password) = 0;
  // The operator when `name`, `password` and a TOTP code not used before all match and the
  // operator is enabled; then the code's step is stored so that the code cannot be used again.
  // Nullopt otherwise, without saying which factor failed. An unknown name costs a password
  // hash too, so timing does not tell which names exist.
  virtual std::optional<OperatorInfo> verify_operator_login(std::string_view name,
                                                            std::string_view password,
                                                            std::string_view totp_code,
                                                            TimeUs now_us) = 0;

  // --- Sessions

  // Starts a session of `subject_id` that ends at now_us + ttl_us (ttl_us > 0, else
  // std::invalid_argument). The subject is not checked: the caller has just authenticated it.
  virtual CreatedSession create_session(SessionKind kind, std::int64_t subject_id,
                                        std::int64_t ttl_us, TimeUs now_us) = 0;
  // The session of plaintext `token` while now_us < expires_at_us; nullopt when the token is
  // unknown, expired, deleted, or belongs to an operator who has since been disabled.
  virtual std::optional<Session> find_session(std::string_view token, TimeUs now_us) = 0;
  // Ends the session of `token` (signing out); nothing happens for an unknown token.
  virtual void delete_session(std::string_view token) = 0;
  // Ends every session of one operator or member; returns how many there were.
  virtual std::size_t delete_sessions_of(SessionKind kind, std::int64_t subject_id) = 0;
  // Deletes sessions that expired at or before `now_us`; returns how many.
  virtual std::size_t purge_expired_sessions(TimeUs now_us) = 0;

  // --- Members (standalone mode)

  // Sets (or replaces) the login and password of `member_id`. Refused as invalid
  // (member_login_problem, password_problem) or login_taken when another member has `login`.
  // The member id is not checked against the ledger. Sessions stay (see delete_sessions_of).
  virtual CredentialResult<Done> set_member_password(MemberId member_id, std::string_view login,
                                                     std::string_view password, TimeUs now_us) = 0;
  // The member whose login and password match; nullopt otherwise. An unknown login costs a
  // password hash too.
  virtual std::optional<MemberId> verify_member_login(std::string_view login,
                                                      std::string_view password) = 0;
};

}  // namespace pointsmall::auth
