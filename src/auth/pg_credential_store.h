// The PostgreSQL engine of CredentialStore, on the tables of migration 002_api.sql (api_keys,
// operators, sessions, member_credentials) in the ledger's database, shared by every node.
//
// It has a connection of its own beside the ledger store's, serialised by one mutex; the
// look-ups of every request (find_api_key, find_session, find_operator) are prepared once per
// connection. Each write is one statement, committed before the method returns. Across nodes,
// the database's unique indexes keep names and logins unique, and a TOTP step is accepted by one
// conditional UPDATE, so that of two logins with one code on two nodes only one succeeds.
// Password hashing runs outside the mutex, so slow logins do not hold up key and session
// look-ups. A connection found broken is made again and the call tried once more; writes are
// written so that trying again after an unanswered COMMIT does not create a second key,
// operator or session.
#pragma once

#include <memory>
#include <string>

#include "auth/credential_store.h"

namespace pointsmall::auth {

class PostgresCredentialStore;

// Opens the credential tables of the database at `url` (a libpq URL). The database must be
// migrated: open the ledger store (store::open_postgres_store) on it first. Returns nullptr and
// sets `error` (which server, and why; never the URL's password) when the server cannot be
// reached or the tables are missing.
std::unique_ptr<PostgresCredentialStore> open_postgres_credential_store(const std::string& url,
                                                                        std::string& error);

class PostgresCredentialStore final : public CredentialStore {
 public:
  struct Impl;
  explicit PostgresCredentialStore(std::unique_ptr<Impl> impl);
  ~PostgresCredentialStore() override;
  PostgresCredentialStore(const PostgresCredentialStore&) = delete;
  PostgresCredentialStore& operator=(const PostgresCredentialStore&) = delete;

  CredentialResult<CreatedApiKey> create_api_key(std::string_view name, Role role,
                                                 TimeUs now_us) override;
  std::optional<ApiKeyInfo> find_api_key(std::string_view key) override;
  std::vector<ApiKeyInfo> list_api_keys() override;
  bool revoke_api_key(std::int64_t id, TimeUs now_us) override;

  CredentialResult<CreatedOperator> create_operator(std::string_view name, Role role,
                                                    std::string_view password,
                                                    TimeUs now_us) override;
  std::optional<OperatorInfo> find_operator(std::int64_t id) override;
  std::vector<OperatorInfo> list_operators() override;
  bool disable_operator(std::int64_t id) override;
  CredentialResult<Done> set_operator_password(std::int64_t id, std::string_view password) override;
  std::optional<OperatorInfo> verify_operator_login(std::string_view name,
                                                    std::string_view password,
                                                    std::string_view totp_code,
                                                    TimeUs now_us) override;

  CreatedSession create_session(SessionKind kind, std::int64_t subject_id, std::int64_t ttl_us,
                                TimeUs now_us) override;
  std::optional<Session> find_session(std::string_view token, TimeUs now_us) override;
  void delete_session(std::string_view token) override;
  std::size_t delete_sessions_of(SessionKind kind, std::int64_t subject_id) override;
  std::size_t purge_expired_sessions(TimeUs now_us) override;

  CredentialResult<Done> set_member_password(MemberId member_id, std::string_view login,
                                             std::string_view password, TimeUs now_us) override;
  std::optional<MemberId> verify_member_login(std::string_view login,
                                              std::string_view password) override;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace pointsmall::auth
