// The engine-independent part of credential_store.h: stable names and the rules on names.
#include "auth/credential_store.h"

#include <array>

namespace pointsmall::auth {
namespace {

constexpr std::array<std::string_view, 5> kRoleNames = {"merchant", "operator", "admin", "analyst",
                                                        "member"};
constexpr std::array<std::string_view, 4> kCredentialErrorNames = {"invalid", "name_taken",
                                                                   "login_taken", "not_found"};
constexpr std::array<std::string_view, 2> kSessionKindNames = {"operator", "member"};

template <typename Enum, std::size_t N>
std::string_view name_of(Enum value, const std::array<std::string_view, N>& names) {
  const auto index = static_cast<std::size_t>(value);
  return index < N ? names[index] : std::string_view("unknown");
}

std::size_t count_characters(std::string_view text) {
  std::size_t count = 0;
  for (char c : text)
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++count;
  return count;
}

bool has_control_character(std::string_view text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20U || byte == 0x7FU) return true;
  }
  return false;
}

// The shared rule of API key names and member logins: `what` names the field in the message.
std::optional<std::string> free_text_problem(std::string_view text, std::string_view what,
                                             std::size_t min_length, std::size_t max_length) {
  const std::size_t length = count_characters(text);
  const std::string field(what);
  if (length < min_length)
    return field + " must have at least " + std::to_string(min_length) + " character" +
           (min_length == 1 ? "" : "s");
  if (length > max_length)
    return field + " must have at most " + std::to_string(max_length) + " characters";
  if (has_control_character(text)) return field + " must not contain control characters";
  if (text.front() == ' ' || text.back() == ' ')
    return field + " must not start or end with a space";
  return std::nullopt;
}

}  // namespace

std::string_view role_name(Role role) {
  return name_of(role, kRoleNames);
}

std::optional<Role> role_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kRoleNames.size(); ++i)
    if (kRoleNames[i] == name) return static_cast<Role>(i);
  return std::nullopt;
}

std::string_view credential_error_name(CredentialError error) {
  return name_of(error, kCredentialErrorNames);
}

std::string_view session_kind_name(SessionKind kind) {
  return name_of(kind, kSessionKindNames);
}

std::optional<std::string> api_key_name_problem(std::string_view name) {
  return free_text_problem(name, "the API key name", 1, kNameMaxLength);
}

std::optional<std::string> operator_name_problem(std::string_view name) {
  if (name.empty() || name.size() > kNameMaxLength)
    return "the operator name must have 1 to " + std::to_string(kNameMaxLength) + " characters";
  for (char c : name) {
    const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' || c == '-';
    if (!allowed) return std::string("the operator name may only contain A-Z a-z 0-9 . _ @ -");
  }
  return std::nullopt;
}

std::optional<std::string> member_login_problem(std::string_view login) {
  return free_text_problem(login, "the login", kLoginMinLength, kLoginMaxLength);
}

}  // namespace pointsmall::auth
