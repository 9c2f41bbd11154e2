#include "auth/sqlite_credential_store.h"

#include <sqlite3.h>

#include <mutex>
#include <stdexcept>
#include <utility>

#include "auth/credential_engine.h"
#include "auth/crypto.h"
#include "store/sqlite/sqlite_db.h"

namespace pointsmall::auth {

using engine::dummy_password_hash;
using engine::invalid;
using engine::kKeyPrefixLength;
using engine::kMaxPasswordBytes;
using engine::kMaxTokenBytes;
using engine::OperatorSecrets;
using engine::stored_role;
using store::sqlite::Connection;
using store::sqlite::SqliteError;
using store::sqlite::Statement;
using store::sqlite::StatementScope;

namespace {

constexpr std::string_view kApiKeyColumns =
    "id, name, role, key_prefix, created_at_us, revoked_at_us";
constexpr std::string_view kOperatorColumns = "id, name, role, created_at_us, disabled";

std::string sql(std::string_view head, std::string_view columns, std::string_view tail) {
  return std::string(head) + std::string(columns) + std::string(tail);
}

ApiKeyInfo read_api_key(const Statement& row) {
  return ApiKeyInfo{row.column_int(0),  row.column_text(1), stored_role(row.column_text(2)),
                    row.column_text(3), row.column_int(4),  row.column_int(5)};
}

OperatorInfo read_operator(const Statement& row) {
  return OperatorInfo{row.column_int(0), row.column_text(1), stored_role(row.column_text(2)),
                      row.column_int(3), row.column_int(4) != 0};
}

bool is_unique_violation(const SqliteError& error) {
  return error.code() == SQLITE_CONSTRAINT_UNIQUE || error.code() == SQLITE_CONSTRAINT_PRIMARYKEY;
}

}  // namespace

// The connection and its statements. Every member below `mutex` is used only while holding it.
struct SqliteCredentialStore::Impl {
  explicit Impl(const std::string& path);

  std::mutex mutex;
  Connection db;
  Statement insert_api_key;
  Statement api_key_by_hash;
  Statement all_api_keys;
  Statement revoke_api_key;
  Statement insert_operator;
  Statement operator_by_id;
  Statement all_operators;
  Statement disable_operator;
  Statement set_operator_password;
  Statement operator_by_name;
  Statement accept_totp_step;
  Statement insert_session;
  Statement session_by_hash;
  Statement delete_session;
  Statement delete_sessions_of;
  Statement purge_sessions;
  Statement upsert_member;
  Statement member_by_login;

  // Rows changed by the last INSERT, UPDATE or DELETE of this connection.
  std::size_t changes() { return static_cast<std::size_t>(sqlite3_changes(db.handle())); }
};

namespace {

Connection open_connection(const std::string& path) {
  Connection db(path, /*create=*/false, /*read_only=*/false);
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA synchronous = FULL");  // a revoked key stays revoked after a power cut
  return db;
}

}  // namespace

SqliteCredentialStore::Impl::Impl(const std::string& path)
    : db(open_connection(path)),
      insert_api_key(db.prepare(
          "INSERT INTO api_keys (name, role, key_hash, key_prefix, created_at_us, revoked_at_us) "
          "VALUES ($1, $2, $3, $4, $5, 0)")),
      api_key_by_hash(db.prepare(sql("SELECT ", kApiKeyColumns,
                                     " FROM api_keys WHERE key_hash = $1 AND revoked_at_us = 0"))),
      all_api_keys(db.prepare(sql("SELECT ", kApiKeyColumns, " FROM api_keys ORDER BY id"))),
      revoke_api_key(
          db.prepare("UPDATE api_keys SET revoked_at_us = $2 WHERE id = $1 AND revoked_at_us = 0")),
      insert_operator(db.prepare(
          "INSERT INTO operators (name, role, password_hash, totp_secret, last_totp_step, "
          "created_at_us, disabled) VALUES ($1, $2, $3, $4, 0, $5, 0)")),
      operator_by_id(db.prepare(sql("SELECT ", kOperatorColumns, " FROM operators WHERE id = $1"))),
      all_operators(db.prepare(sql("SELECT ", kOperatorColumns, " FROM operators ORDER BY id"))),
      disable_operator(
          db.prepare("UPDATE operators SET disabled = 1 WHERE id = $1 AND disabled = 0")),
      set_operator_password(db.prepare("UPDATE operators SET password_hash = $2 WHERE id = $1")),
      operator_by_name(db.prepare(sql("SELECT ", kOperatorColumns,
                                      ", password_hash, totp_secret, last_totp_step "
                                      "FROM operators WHERE name = $1"))),
      // The conditions make acceptance atomic: of two logins with one code, one wins.
      accept_totp_step(db.prepare("UPDATE operators SET last_totp_step = $2 "
                                  "WHERE id = $1 AND last_totp_step < $2 AND disabled = 0")),
      insert_session(db.prepare(
          "INSERT INTO sessions (token_hash, kind, subject_id, csrf_token, created_at_us, "
          "expires_at_us) VALUES ($1, $2, $3, $4, $5, $6)")),
      session_by_hash(
          db.prepare("SELECT s.kind, s.subject_id, s.csrf_token, s.created_at_us, s.expires_at_us "
                     "FROM sessions s WHERE s.token_hash = $1 AND s.expires_at_us > $2 AND "
                     "(s.kind <> 'operator' OR EXISTS (SELECT 1 FROM operators o "
                     "WHERE o.id = s.subject_id AND o.disabled = 0))")),
      delete_session(db.prepare("DELETE FROM sessions WHERE token_hash = $1")),
      delete_sessions_of(db.prepare("DELETE FROM sessions WHERE kind = $1 AND subject_id = $2")),
      purge_sessions(db.prepare("DELETE FROM sessions WHERE expires_at_us <= $1")),
      upsert_member(db.prepare(
          "INSERT INTO member_credentials (member_id, login, password_hash, updated_at_us) "
          "VALUES ($1, $2, $3, $4) ON CONFLICT (member_id) DO UPDATE SET "
          "login = excluded.login, password_hash = excluded.password_hash, "
          "updated_at_us = excluded.updated_at_us")),
      member_by_login(
          db.prepare("SELECT member_id, password_hash FROM member_credentials WHERE login = $1")) {}

std::unique_ptr<SqliteCredentialStore> open_sqlite_credential_store(const std::string& path,
                                                                    std::string& error) {
  try {
    return std::make_unique<SqliteCredentialStore>(
        std::make_unique<SqliteCredentialStore::Impl>(path));
  } catch (const SqliteError& e) {
    error = std::string("cannot open the credentials in ") + path + ": " + e.what();
    if (e.code() == SQLITE_ERROR) error += " (open the ledger first to apply migrations)";
    return nullptr;
  }
}

SqliteCredentialStore::SqliteCredentialStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SqliteCredentialStore::~SqliteCredentialStore() = default;

// --- API keys

CredentialResult<CreatedApiKey> SqliteCredentialStore::create_api_key(std::string_view name,
                                                                      Role role, TimeUs now_us) {
  if (auto problem = engine::new_api_key_problem(name, role)) return std::move(*problem);
  CreatedApiKey created;
  created.key = generate_api_key();
  const std::string key_hash = sha256_hex(created.key);
  created.info =
      ApiKeyInfo{0, std::string(name), role, created.key.substr(0, kKeyPrefixLength), now_us, 0};
  std::lock_guard lock(impl_->mutex);
  try {
    impl_->insert_api_key.bind(1, name)
        .bind(2, role_name(role))
        .bind(3, key_hash)
        .bind(4, created.info.key_prefix)
        .bind(5, now_us)
        .run();
  } catch (const SqliteError& e) {
    if (!is_unique_violation(e)) throw;
    return engine::api_key_name_taken(name);
  }
  created.info.id = sqlite3_last_insert_rowid(impl_->db.handle());
  return created;
}

std::optional<ApiKeyInfo> SqliteCredentialStore::find_api_key(std::string_view key) {
  if (key.size() > kMaxTokenBytes || !key.starts_with(kApiKeyPrefix)) return std::nullopt;
  const std::string key_hash = sha256_hex(key);
  std::lock_guard lock(impl_->mutex);
  Statement& query = impl_->api_key_by_hash;
  StatementScope scope(query);
  query.bind(1, key_hash);
  if (!query.step()) return std::nullopt;
  return read_api_key(query);
}

std::vector<ApiKeyInfo> SqliteCredentialStore::list_api_keys() {
  std::lock_guard lock(impl_->mutex);
  Statement& query = impl_->all_api_keys;
  StatementScope scope(query);
  std::vector<ApiKeyInfo> keys;
  while (query.step()) keys.push_back(read_api_key(query));
  return keys;
}

bool SqliteCredentialStore::revoke_api_key(std::int64_t id, TimeUs now_us) {
  // revoked_at_us = 0 means "in use", so a revocation is stamped 1 at the earliest.
  const TimeUs revoked_at_us = now_us > 0 ? now_us : 1;
  std::lock_guard lock(impl_->mutex);
  impl_->revoke_api_key.bind(1, id).bind(2, revoked_at_us).run();
  return impl_->changes() == 1;
}

// --- Operators

CredentialResult<CreatedOperator> SqliteCredentialStore::create_operator(std::string_view name,
                                                                         Role role,
                                                                         std::string_view password,
                                                                         TimeUs now_us) {
  if (auto problem = engine::new_operator_problem(name, role, password)) return std::move(*problem);
  CreatedOperator created{OperatorInfo{0, std::string(name), role, now_us, false},
                          generate_totp_secret()};
  const std::string password_hash = hash_password(password);  // slow: outside the mutex
  std::lock_guard lock(impl_->mutex);
  try {
    impl_->insert_operator.bind(1, name)
        .bind(2, role_name(role))
        .bind(3, password_hash)
        .bind(4, created.totp_secret)
        .bind(5, now_us)
        .run();
  } catch (const SqliteError& e) {
    if (!is_unique_violation(e)) throw;
    return engine::operator_name_taken(name);
  }
  created.info.id = sqlite3_last_insert_rowid(impl_->db.handle());
  return created;
}

std::optional<OperatorInfo> SqliteCredentialStore::find_operator(std::int64_t id) {
  std::lock_guard lock(impl_->mutex);
  Statement& query = impl_->operator_by_id;
  StatementScope scope(query);
  query.bind(1, id);
  if (!query.step()) return std::nullopt;
  return read_operator(query);
}

std::vector<OperatorInfo> SqliteCredentialStore::list_operators() {
  std::lock_guard lock(impl_->mutex);
  Statement& query = impl_->all_operators;
  StatementScope scope(query);
  std::vector<OperatorInfo> operators;
  while (query.step()) operators.push_back(read_operator(query));
  return operators;
}

bool SqliteCredentialStore::disable_operator(std::int64_t id) {
  std::lock_guard lock(impl_->mutex);
  impl_->disable_operator.bind(1, id).run();
  const bool disabled = impl_->changes() == 1;
  // Sessions of a disabled operator no longer authenticate (find_session checks); this frees
  // their rows.
  impl_->delete_sessions_of.bind(1, session_kind_name(SessionKind::operator_)).bind(2, id).run();
  return disabled;
}

CredentialResult<Done> SqliteCredentialStore::set_operator_password(std::int64_t id,
                                                                    std::string_view password) {
  if (auto problem = password_problem(password)) return invalid(std::move(*problem));
  const std::string password_hash = hash_password(password);
  std::lock_guard lock(impl_->mutex);
  impl_->set_operator_password.bind(1, id).bind(2, password_hash).run();
  if (impl_->changes() != 1) return engine::operator_not_found(id);
  return Done{};
}

std::optional<OperatorInfo> SqliteCredentialStore::verify_operator_login(std::string_view name,
                                                                         std::string_view password,
                                                                         std::string_view totp_code,
                                                                         TimeUs now_us) {
  if (password.size() > kMaxPasswordBytes) return std::nullopt;
  std::optional<OperatorSecrets> found;
  {
    std::lock_guard lock(impl_->mutex);
    Statement& query = impl_->operator_by_name;
    StatementScope scope(query);
    query.bind(1, name);
    if (query.step())
      found = OperatorSecrets{read_operator(query), query.column_text(5), query.column_text(6),
                              query.column_int(7)};
  }
  // Argon2id runs for unknown names too, outside the mutex.
  const bool password_ok =
      verify_password(found ? found->password_hash : dummy_password_hash(), password);
  if (!found || !password_ok || found->info.disabled) return std::nullopt;
  const std::optional<std::int64_t> step =
      verify_totp(found->totp_secret, totp_code, now_us, found->last_totp_step);
  if (!step) return std::nullopt;
  std::lock_guard lock(impl_->mutex);
  impl_->accept_totp_step.bind(1, found->info.id).bind(2, *step).run();
  if (impl_->changes() != 1) return std::nullopt;  // another login used the code, or disabled
  return found->info;
}

// --- Sessions

CreatedSession SqliteCredentialStore::create_session(SessionKind kind, std::int64_t subject_id,
                                                     std::int64_t ttl_us, TimeUs now_us) {
  CreatedSession created = engine::new_session(ttl_us, now_us);
  const std::string token_hash = sha256_hex(created.token);
  std::lock_guard lock(impl_->mutex);
  impl_->insert_session.bind(1, token_hash)
      .bind(2, session_kind_name(kind))
      .bind(3, subject_id)
      .bind(4, created.csrf_token)
      .bind(5, now_us)
      .bind(6, created.expires_at_us)
      .run();
  return created;
}

std::optional<Session> SqliteCredentialStore::find_session(std::string_view token, TimeUs now_us) {
  if (token.empty() || token.size() > kMaxTokenBytes) return std::nullopt;
  const std::string token_hash = sha256_hex(token);
  std::lock_guard lock(impl_->mutex);
  Statement& query = impl_->session_by_hash;
  StatementScope scope(query);
  query.bind(1, token_hash).bind(2, now_us);
  if (!query.step()) return std::nullopt;
  return Session{engine::stored_session_kind(query.column_text(0)), query.column_int(1),
                 query.column_text(2), query.column_int(3), query.column_int(4)};
}

void SqliteCredentialStore::delete_session(std::string_view token) {
  if (token.size() > kMaxTokenBytes) return;
  const std::string token_hash = sha256_hex(token);
  std::lock_guard lock(impl_->mutex);
  impl_->delete_session.bind(1, token_hash).run();
}

std::size_t SqliteCredentialStore::delete_sessions_of(SessionKind kind, std::int64_t subject_id) {
  std::lock_guard lock(impl_->mutex);
  impl_->delete_sessions_of.bind(1, session_kind_name(kind)).bind(2, subject_id).run();
  return impl_->changes();
}

std::size_t SqliteCredentialStore::purge_expired_sessions(TimeUs now_us) {
  std::lock_guard lock(impl_->mutex);
  impl_->purge_sessions.bind(1, now_us).run();
  return impl_->changes();
}

// --- Members

CredentialResult<Done> SqliteCredentialStore::set_member_password(MemberId member_id,
                                                                  std::string_view login,
                                                                  std::string_view password,
                                                                  TimeUs now_us) {
  if (auto problem = engine::member_password_problem(login, password)) return std::move(*problem);
  const std::string password_hash = hash_password(password);
  std::lock_guard lock(impl_->mutex);
  try {
    impl_->upsert_member.bind(1, member_id)
        .bind(2, login)
        .bind(3, password_hash)
        .bind(4, now_us)
        .run();
  } catch (const SqliteError& e) {
    if (!is_unique_violation(e)) throw;
    return engine::login_taken(login);
  }
  return Done{};
}

std::optional<MemberId> SqliteCredentialStore::verify_member_login(std::string_view login,
                                                                   std::string_view password) {
  if (password.size() > kMaxPasswordBytes) return std::nullopt;
  std::optional<std::pair<MemberId, std::string>> found;
  {
    std::lock_guard lock(impl_->mutex);
    Statement& query = impl_->member_by_login;
    StatementScope scope(query);
    query.bind(1, login);
    if (query.step()) found.emplace(query.column_int(0), query.column_text(1));
  }
  const bool password_ok = verify_password(found ? found->second : dummy_password_hash(), password);
  if (!found || !password_ok) return std::nullopt;
  return found->first;
}

}  // namespace pointsmall::auth
