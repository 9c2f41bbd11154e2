// `pointsmall apikey create` and `pointsmall operator create`: the first credentials of a new
// installation, made on the server itself before the API can be used.
#include <ostream>

#include "app/commands.h"
#include "app/stores.h"
#include "auth/crypto.h"

namespace pointsmall::app {
namespace {

constexpr std::string_view kTotpIssuer = "pointsmall";

// The role named `name` if `holder` ("an API key", "an operator") may have it; otherwise says
// which roles it may have.
std::optional<auth::Role> parse_role(const std::string& name, std::string_view holder,
                                     bool allow_merchant, Console console) {
  const std::optional<auth::Role> role = auth::role_from_name(name);
  const bool allowed =
      role && *role != auth::Role::member && (allow_merchant || *role != auth::Role::merchant);
  if (allowed) return role;
  console.err << "error: \"" << name << "\" is not a role for " << holder << "; use "
              << (allow_merchant ? "merchant, " : "") << "operator, admin or analyst\n";
  return std::nullopt;
}

}  // namespace

int apikey_create(const StoreLocation& where, const std::string& name, const std::string& role,
                  const Clock& clock, Console console) {
  const std::optional<auth::Role> parsed_role =
      parse_role(role, "an API key", /*allow_merchant=*/true, console);
  if (!parsed_role) return kExitBadInput;
  if (auto problem = auth::api_key_name_problem(name)) {
    console.err << "error: " << *problem << "\n";
    return kExitBadInput;
  }
  auto credentials = open_credential_store(where, console);
  if (!credentials) return kExitBadInput;
  auto created = credentials->create_api_key(name, *parsed_role, clock.now_us());
  if (!created.ok()) {
    console.err << "error: " << created.problem().message << "\n";
    return kExitBadInput;
  }
  console.out << "created API key \"" << name << "\" (role " << auth::role_name(*parsed_role)
              << ")\n"
              << created.value().key << "\n";
  return kExitOk;
}

int operator_create(const StoreLocation& where, const std::string& name, const std::string& role,
                    const std::string& password, const Clock& clock, Console console) {
  const std::optional<auth::Role> parsed_role =
      parse_role(role, "an operator", /*allow_merchant=*/false, console);
  if (!parsed_role) return kExitBadInput;
  std::optional<std::string> problem = auth::operator_name_problem(name);
  if (!problem) problem = auth::password_problem(password);
  if (problem) {
    console.err << "error: " << *problem << "\n";
    return kExitBadInput;
  }
  auto credentials = open_credential_store(where, console);
  if (!credentials) return kExitBadInput;
  auto created = credentials->create_operator(name, *parsed_role, password, clock.now_us());
  if (!created.ok()) {
    console.err << "error: " << created.problem().message << "\n";
    return kExitBadInput;
  }
  const auth::CreatedOperator& op = created.value();
  console.out << "created operator \"" << op.info.name << "\" (id " << op.info.id << ", role "
              << auth::role_name(op.info.role) << ")\n"
              << "TOTP secret: " << op.totp_secret << "\n"
              << "TOTP URI: " << auth::totp_uri(kTotpIssuer, op.info.name, op.totp_secret) << "\n"
              << "Add the secret or the URI to an authenticator app now; it is not shown again.\n";
  return kExitOk;
}

}  // namespace pointsmall::app
