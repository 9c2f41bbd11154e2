#include "auth/pg_credential_store.h"

#include <chrono>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "auth/credential_engine.h"
#include "auth/crypto.h"
#include "store/postgresql/pg_db.h"
#include "store/postgresql/pg_guarded_connection.h"

namespace pointsmall::auth {

using engine::dummy_password_hash;
using engine::kKeyPrefixLength;
using engine::kMaxPasswordBytes;
using engine::kMaxTokenBytes;
using engine::OperatorSecrets;
using engine::stored_role;
using store::pg::Connection;
using store::pg::Params;
using store::pg::PgError;
using store::pg::Result;
using store::pg::Sql;

namespace {

// ---- The look-ups of every request, prepared once per connection

constexpr Sql kApiKeyByHash{
    "api_key_by_hash",
    "SELECT id, name, role, key_prefix, created_at_us, revoked_at_us FROM api_keys "
    "WHERE key_hash = $1 AND revoked_at_us = 0"};
constexpr Sql kOperatorById{
    "operator_by_id",
    "SELECT id, name, role, created_at_us, disabled FROM operators WHERE id = $1"};
constexpr Sql kSessionByHash{
    "session_by_hash",
    "SELECT s.kind, s.subject_id, s.csrf_token, s.created_at_us, s.expires_at_us "
    "FROM sessions s WHERE s.token_hash = $1 AND s.expires_at_us > $2 AND "
    "(s.kind <> 'operator' OR EXISTS (SELECT 1 FROM operators o "
    "WHERE o.id = s.subject_id AND o.disabled = 0))"};

// ---- The rest

constexpr const char* kAllApiKeys =
    "SELECT id, name, role, key_prefix, created_at_us, revoked_at_us FROM api_keys ORDER BY id";
// Nothing is inserted when the name is taken. Nor when the key's digest is: then this very key
// was inserted by an earlier try whose answer the connection lost (keys are 256 random bits).
constexpr const char* kInsertApiKey =
    "INSERT INTO api_keys (name, role, key_hash, key_prefix, created_at_us, revoked_at_us) "
    "VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT DO NOTHING RETURNING id";
constexpr const char* kApiKeyIdByHash = "SELECT id FROM api_keys WHERE key_hash = $1";
constexpr const char* kRevokeApiKey =
    "UPDATE api_keys SET revoked_at_us = $2 WHERE id = $1 AND revoked_at_us = 0";

constexpr const char* kAllOperators =
    "SELECT id, name, role, created_at_us, disabled FROM operators ORDER BY id";
constexpr const char* kInsertOperator =
    "INSERT INTO operators (name, role, password_hash, totp_secret, last_totp_step, "
    "created_at_us, disabled) VALUES ($1, $2, $3, $4, 0, $5, 0) ON CONFLICT DO NOTHING "
    "RETURNING id";
// An operator of this name with this password hash (whose salt is random) is the one an
// earlier try inserted before the connection lost its answer.
constexpr const char* kOperatorIdByHash =
    "SELECT id FROM operators WHERE name = $1 AND password_hash = $2";
// One statement, so that the operator is disabled and its sessions end together.
constexpr const char* kDisableOperator =
    "WITH disabled AS (UPDATE operators SET disabled = 1 WHERE id = $1 AND disabled = 0 "
    "RETURNING id), ended AS (DELETE FROM sessions WHERE kind = $2 AND subject_id = $1) "
    "SELECT count(*) FROM disabled";
constexpr const char* kSetOperatorPassword =
    "UPDATE operators SET password_hash = $2 WHERE id = $1";
constexpr const char* kOperatorByName =
    "SELECT id, name, role, created_at_us, disabled, password_hash, totp_secret, last_totp_step "
    "FROM operators WHERE name = $1";
// The conditions make acceptance atomic across nodes: of two logins with one code, one wins.
constexpr const char* kAcceptTotpStep =
    "UPDATE operators SET last_totp_step = $2 "
    "WHERE id = $1 AND last_totp_step < $2 AND disabled = 0";

// A token's digest is taken only by this token (256 random bits): by an earlier try whose
// answer the connection lost.
constexpr const char* kInsertSession =
    "INSERT INTO sessions (token_hash, kind, subject_id, csrf_token, created_at_us, "
    "expires_at_us) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (token_hash) DO NOTHING";
constexpr const char* kDeleteSession = "DELETE FROM sessions WHERE token_hash = $1";
constexpr const char* kDeleteSessionsOf =
    "DELETE FROM sessions WHERE kind = $1 AND subject_id = $2";
constexpr const char* kPurgeSessions = "DELETE FROM sessions WHERE expires_at_us <= $1";

constexpr const char* kUpsertMember =
    "INSERT INTO member_credentials (member_id, login, password_hash, updated_at_us) "
    "VALUES ($1, $2, $3, $4) ON CONFLICT (member_id) DO UPDATE SET "
    "login = excluded.login, password_hash = excluded.password_hash, "
    "updated_at_us = excluded.updated_at_us";
constexpr const char* kMemberByLogin =
    "SELECT member_id, password_hash FROM member_credentials WHERE login = $1";

ApiKeyInfo read_api_key(const Result& r, int i) {
  return ApiKeyInfo{r.integer(i, 0), r.text(i, 1),    stored_role(r.text(i, 2)),
                    r.text(i, 3),    r.integer(i, 4), r.integer(i, 5)};
}

OperatorInfo read_operator(const Result& r, int i) {
  return OperatorInfo{r.integer(i, 0), r.text(i, 1), stored_role(r.text(i, 2)), r.integer(i, 3),
                      r.integer(i, 4) != 0};
}

}  // namespace

struct PostgresCredentialStore::Impl {
  explicit Impl(const std::string& url) : db(url) {
    db.with([](Connection& connection) {
      store::pg::require_tables(connection, "api_keys, operators, sessions, member_credentials",
                                "the credentials");
    });
  }

  store::pg::GuardedConnection db;

  // Keys found in the last second, by digest: every request of the merchant's servers presents
  // one, and a round trip to the database each time would cost as much as the request's own
  // work. A key revoked on another node therefore keeps working here for up to kKeyCacheFor;
  // one revoked through this node stops at once.
  static constexpr auto kKeyCacheFor = std::chrono::seconds(1);
  static constexpr std::size_t kKeyCacheSize = 4096;
  struct CachedKey {
    ApiKeyInfo info;
    std::chrono::steady_clock::time_point until;
  };
  std::mutex key_cache_mutex;
  std::unordered_map<std::string, CachedKey> key_cache;  // guarded by key_cache_mutex
};

std::unique_ptr<PostgresCredentialStore> open_postgres_credential_store(const std::string& url,
                                                                        std::string& error) {
  try {
    return std::make_unique<PostgresCredentialStore>(
        std::make_unique<PostgresCredentialStore::Impl>(url));
  } catch (const PgError& e) {
    error = std::string("cannot open the credentials: ") + e.what();
    return nullptr;
  }
}

PostgresCredentialStore::PostgresCredentialStore(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

PostgresCredentialStore::~PostgresCredentialStore() = default;

// --- API keys

CredentialResult<CreatedApiKey> PostgresCredentialStore::create_api_key(std::string_view name,
                                                                        Role role, TimeUs now_us) {
  if (auto problem = engine::new_api_key_problem(name, role)) return std::move(*problem);
  CreatedApiKey created;
  created.key = generate_api_key();
  const std::string key_hash = sha256_hex(created.key);
  created.info =
      ApiKeyInfo{0, std::string(name), role, created.key.substr(0, kKeyPrefixLength), now_us, 0};
  const std::optional<std::int64_t> id =
      impl_->db.with([&](Connection& db) -> std::optional<std::int64_t> {
        Result r = db.query(kInsertApiKey, Params()
                                               .add(name)
                                               .add(role_name(role))
                                               .add(key_hash)
                                               .add(created.info.key_prefix)
                                               .add(now_us));
        if (r.rows() == 1) return r.integer(0, 0);
        r = db.query(kApiKeyIdByHash, Params().add(key_hash));
        if (r.rows() == 1) return r.integer(0, 0);
        return std::nullopt;
      });
  if (!id) return engine::api_key_name_taken(name);
  created.info.id = *id;
  return created;
}

std::optional<ApiKeyInfo> PostgresCredentialStore::find_api_key(std::string_view key) {
  if (key.size() > kMaxTokenBytes || !key.starts_with(kApiKeyPrefix)) return std::nullopt;
  const std::string key_hash = sha256_hex(key);
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(impl_->key_cache_mutex);
    auto cached = impl_->key_cache.find(key_hash);
    if (cached != impl_->key_cache.end() && cached->second.until > now) return cached->second.info;
  }
  std::optional<ApiKeyInfo> found =
      impl_->db.with([&](Connection& db) -> std::optional<ApiKeyInfo> {
        const Result r = db.run(kApiKeyByHash, Params().add(key_hash));
        if (r.rows() == 0) return std::nullopt;
        return read_api_key(r, 0);
      });
  if (found) {
    std::lock_guard lock(impl_->key_cache_mutex);
    if (impl_->key_cache.size() >= Impl::kKeyCacheSize) impl_->key_cache.clear();
    impl_->key_cache[key_hash] = Impl::CachedKey{*found, now + Impl::kKeyCacheFor};
  }
  return found;
}

std::vector<ApiKeyInfo> PostgresCredentialStore::list_api_keys() {
  return impl_->db.with([](Connection& db) {
    const Result r = db.exec(kAllApiKeys);
    std::vector<ApiKeyInfo> keys;
    keys.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) keys.push_back(read_api_key(r, i));
    return keys;
  });
}

bool PostgresCredentialStore::revoke_api_key(std::int64_t id, TimeUs now_us) {
  // revoked_at_us = 0 means "in use", so a revocation is stamped 1 at the earliest.
  const TimeUs revoked_at_us = now_us > 0 ? now_us : 1;
  {
    std::lock_guard lock(impl_->key_cache_mutex);
    impl_->key_cache.clear();
  }
  return impl_->db.with([&](Connection& db) {
    return db.query(kRevokeApiKey, Params().add(id).add(revoked_at_us)).affected() == 1;
  });
}

// --- Operators

CredentialResult<CreatedOperator> PostgresCredentialStore::create_operator(
    std::string_view name, Role role, std::string_view password, TimeUs now_us) {
  if (auto problem = engine::new_operator_problem(name, role, password)) return std::move(*problem);
  CreatedOperator created{OperatorInfo{0, std::string(name), role, now_us, false},
                          generate_totp_secret()};
  const std::string password_hash = hash_password(password);  // slow: outside the mutex
  const std::optional<std::int64_t> id =
      impl_->db.with([&](Connection& db) -> std::optional<std::int64_t> {
        Result r = db.query(kInsertOperator, Params()
                                                 .add(name)
                                                 .add(role_name(role))
                                                 .add(password_hash)
                                                 .add(created.totp_secret)
                                                 .add(now_us));
        if (r.rows() == 1) return r.integer(0, 0);
        r = db.query(kOperatorIdByHash, Params().add(name).add(password_hash));
        if (r.rows() == 1) return r.integer(0, 0);
        return std::nullopt;
      });
  if (!id) return engine::operator_name_taken(name);
  created.info.id = *id;
  return created;
}

std::optional<OperatorInfo> PostgresCredentialStore::find_operator(std::int64_t id) {
  return impl_->db.with([&](Connection& db) -> std::optional<OperatorInfo> {
    const Result r = db.run(kOperatorById, Params().add(id));
    if (r.rows() == 0) return std::nullopt;
    return read_operator(r, 0);
  });
}

std::vector<OperatorInfo> PostgresCredentialStore::list_operators() {
  return impl_->db.with([](Connection& db) {
    const Result r = db.exec(kAllOperators);
    std::vector<OperatorInfo> operators;
    operators.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) operators.push_back(read_operator(r, i));
    return operators;
  });
}

bool PostgresCredentialStore::disable_operator(std::int64_t id) {
  return impl_->db.with([&](Connection& db) {
    const Params params = Params().add(id).add(session_kind_name(SessionKind::operator_));
    return db.query(kDisableOperator, params).integer(0, 0) == 1;
  });
}

CredentialResult<Done> PostgresCredentialStore::set_operator_password(std::int64_t id,
                                                                      std::string_view password) {
  if (auto problem = password_problem(password)) return engine::invalid(std::move(*problem));
  const std::string password_hash = hash_password(password);
  const bool changed = impl_->db.with([&](Connection& db) {
    return db.query(kSetOperatorPassword, Params().add(id).add(password_hash)).affected() == 1;
  });
  if (!changed) return engine::operator_not_found(id);
  return Done{};
}

std::optional<OperatorInfo> PostgresCredentialStore::verify_operator_login(
    std::string_view name, std::string_view password, std::string_view totp_code, TimeUs now_us) {
  if (password.size() > kMaxPasswordBytes) return std::nullopt;
  const std::optional<OperatorSecrets> found =
      impl_->db.with([&](Connection& db) -> std::optional<OperatorSecrets> {
        const Result r = db.query(kOperatorByName, Params().add(name));
        if (r.rows() == 0) return std::nullopt;
        return OperatorSecrets{read_operator(r, 0), r.text(0, 5), r.text(0, 6), r.integer(0, 7)};
      });
  // Argon2id runs for unknown names too, outside the mutex.
  const bool password_ok =
      verify_password(found ? found->password_hash : dummy_password_hash(), password);
  if (!found || !password_ok || found->info.disabled) return std::nullopt;
  const std::optional<std::int64_t> step =
      verify_totp(found->totp_secret, totp_code, now_us, found->last_totp_step);
  if (!step) return std::nullopt;
  // Tried again after a lost answer, an accepted step reads as used: the login is refused, and
  // the operator signs in with the next code. Never the other way round.
  const bool accepted = impl_->db.with([&](Connection& db) {
    return db.query(kAcceptTotpStep, Params().add(found->info.id).add(*step)).affected() == 1;
  });
  if (!accepted) return std::nullopt;  // another login used the code, or disabled
  return found->info;
}

// --- Sessions

CreatedSession PostgresCredentialStore::create_session(SessionKind kind, std::int64_t subject_id,
                                                       std::int64_t ttl_us, TimeUs now_us) {
  CreatedSession created = engine::new_session(ttl_us, now_us);
  const std::string token_hash = sha256_hex(created.token);
  impl_->db.with([&](Connection& db) {
    db.query(kInsertSession, Params()
                                 .add(token_hash)
                                 .add(session_kind_name(kind))
                                 .add(subject_id)
                                 .add(created.csrf_token)
                                 .add(now_us)
                                 .add(created.expires_at_us));
  });
  return created;
}

std::optional<Session> PostgresCredentialStore::find_session(std::string_view token,
                                                             TimeUs now_us) {
  if (token.empty() || token.size() > kMaxTokenBytes) return std::nullopt;
  const std::string token_hash = sha256_hex(token);
  return impl_->db.with([&](Connection& db) -> std::optional<Session> {
    const Result r = db.run(kSessionByHash, Params().add(token_hash).add(now_us));
    if (r.rows() == 0) return std::nullopt;
    return Session{engine::stored_session_kind(r.text(0, 0)), r.integer(0, 1), r.text(0, 2),
                   r.integer(0, 3), r.integer(0, 4)};
  });
}

void PostgresCredentialStore::delete_session(std::string_view token) {
  if (token.size() > kMaxTokenBytes) return;
  const std::string token_hash = sha256_hex(token);
  impl_->db.with([&](Connection& db) { db.query(kDeleteSession, Params().add(token_hash)); });
}

std::size_t PostgresCredentialStore::delete_sessions_of(SessionKind kind, std::int64_t subject_id) {
  return impl_->db.with([&](Connection& db) {
    const Result r =
        db.query(kDeleteSessionsOf, Params().add(session_kind_name(kind)).add(subject_id));
    return static_cast<std::size_t>(r.affected());
  });
}

std::size_t PostgresCredentialStore::purge_expired_sessions(TimeUs now_us) {
  return impl_->db.with([&](Connection& db) {
    return static_cast<std::size_t>(db.query(kPurgeSessions, Params().add(now_us)).affected());
  });
}

// --- Members

CredentialResult<Done> PostgresCredentialStore::set_member_password(MemberId member_id,
                                                                    std::string_view login,
                                                                    std::string_view password,
                                                                    TimeUs now_us) {
  if (auto problem = engine::member_password_problem(login, password)) return std::move(*problem);
  const std::string password_hash = hash_password(password);
  const bool taken = impl_->db.with([&](Connection& db) {
    const Params upsert = Params().add(member_id).add(login).add(password_hash).add(now_us);
    for (int attempt = 1;; ++attempt) {
      try {
        db.query(kUpsertMember, upsert);
        return false;
      } catch (const PgError& error) {
        if (!error.unique_violation()) throw;
        // Two nodes giving one new member the same login at once: the loser may see the login
        // taken (by that very member) before it sees the member's row. Once more then updates.
        const Result owner = db.query(kMemberByLogin, Params().add(login));
        const bool free_or_own = owner.rows() == 0 || owner.integer(0, 0) == member_id;
        if (attempt > 1 || !free_or_own) return true;
      }
    }
  });
  if (taken) return engine::login_taken(login);
  return Done{};
}

std::optional<MemberId> PostgresCredentialStore::verify_member_login(std::string_view login,
                                                                     std::string_view password) {
  if (password.size() > kMaxPasswordBytes) return std::nullopt;
  const std::optional<std::pair<MemberId, std::string>> found =
      impl_->db.with([&](Connection& db) -> std::optional<std::pair<MemberId, std::string>> {
        const Result r = db.query(kMemberByLogin, Params().add(login));
        if (r.rows() == 0) return std::nullopt;
        return std::make_pair(r.integer(0, 0), r.text(0, 1));
      });
  const bool password_ok = verify_password(found ? found->second : dummy_password_hash(), password);
  if (!found || !password_ok) return std::nullopt;
  return found->first;
}

}  // namespace pointsmall::auth
