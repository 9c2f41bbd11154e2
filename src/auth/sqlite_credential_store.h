// The SQLite engine of CredentialStore, on the tables of migration 002_api.sql (api_keys,
// operators, sessions, member_credentials) in the ledger's database file.
//
// It has a connection of its own beside the ledger store's, serialised by one mutex, with
// statements prepared once. Writes wait up to 5 seconds for the ledger's writer (busy_timeout);
// each write is one statement, committed (synchronous=FULL) before the method returns. Password
// hashing runs outside the mutex, so slow logins do not hold up key and session look-ups.
#pragma once

#include <memory>
#include <string>

#include "auth/credential_store.h"

namespace pointsmall::auth {

class SqliteCredentialStore;

// Opens the credential tables of the database file at `path`. The file must exist and be
// migrated: open the ledger store (store::open_sqlite_store) on it first. Returns nullptr and
// sets `error` when the file cannot be opened or lacks the tables.
std::unique_ptr<SqliteCredentialStore> open_sqlite_credential_store(const std::string& path,
                                                                    std::string& error);

class SqliteCredentialStore final : public CredentialStore {
 public:
  struct Impl;
  explicit SqliteCredentialStore(std::unique_ptr<Impl> impl);
  ~SqliteCredentialStore() override;
  SqliteCredentialStore(const SqliteCredentialStore&) = delete;
  SqliteCredentialStore& operator=(const SqliteCredentialStore&) = delete;

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
