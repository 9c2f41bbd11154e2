// Tests of the SQLite credential store (sqlite_credential_store.h) on a real database file,
// migrated by opening the ledger store on it first, as the server does.
#include "auth/sqlite_credential_store.h"
#include "core/temp_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "auth/crypto.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_store.h"

namespace pointsmall::auth {
namespace {

constexpr TimeUs kStart = 1'709'251'200 * kMicrosPerSecond;  // 2024-03-01T00:00:00Z
constexpr TimeUs kHour = 3600 * kMicrosPerSecond;
constexpr std::string_view kPassword = "a long enough password";

class CredentialStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::SqliteOptions options;
    options.path = path_;
    options.readers = 1;
    options.cache_mib = 4;
    std::string error;
    ledger_ = store::open_sqlite_store(options, error);
    ASSERT_NE(ledger_, nullptr) << error;
    credentials_ = open_sqlite_credential_store(path_, error);
    ASSERT_NE(credentials_, nullptr) << error;
  }

  CreatedOperator create_operator(const std::string& name, Role role = Role::operator_) {
    auto created = credentials_->create_operator(name, role, kPassword, kStart);
    if (!created.ok()) throw std::runtime_error(created.problem().message);
    return created.value();
  }

  TempDir dir_;
  std::string path_ = dir_.file("pointsmall.db");
  std::unique_ptr<store::SqliteLedgerStore> ledger_;
  std::unique_ptr<SqliteCredentialStore> credentials_;
};

// ---- Opening ----------------------------------------------------------------------------------

TEST(OpenCredentialStore, NeedsAMigratedDatabase) {
  TempDir dir;
  std::string error;
  EXPECT_EQ(open_sqlite_credential_store(dir.file("missing.db"), error), nullptr);
  EXPECT_NE(error.find("missing.db"), std::string::npos) << error;
  {
    store::sqlite::Connection empty(dir.file("empty.db"), true, false);
    empty.exec("CREATE TABLE other (x INTEGER)");
  }
  error.clear();
  EXPECT_EQ(open_sqlite_credential_store(dir.file("empty.db"), error), nullptr);
  EXPECT_NE(error.find("migrations"), std::string::npos) << error;
}

// ---- API keys ---------------------------------------------------------------------------------

TEST_F(CredentialStoreTest, CreatedKeyIsFoundByItsPlaintextOnly) {
  auto created = credentials_->create_api_key("shop server", Role::merchant, kStart);
  ASSERT_TRUE(created.ok()) << created.problem().message;
  const CreatedApiKey& key = created.value();
  EXPECT_TRUE(key.key.starts_with("pm_"));
  EXPECT_GT(key.info.id, 0);
  EXPECT_EQ(key.info.key_prefix, key.key.substr(0, 11));

  const auto found = credentials_->find_api_key(key.key);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, key.info.id);
  EXPECT_EQ(found->name, "shop server");
  EXPECT_EQ(found->role, Role::merchant);
  EXPECT_EQ(found->created_at_us, kStart);
  EXPECT_EQ(found->revoked_at_us, 0);

  std::string altered = key.key;
  altered.back() = altered.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(credentials_->find_api_key(altered), std::nullopt);
  EXPECT_EQ(credentials_->find_api_key(generate_api_key()), std::nullopt);
  EXPECT_EQ(credentials_->find_api_key(""), std::nullopt);
  EXPECT_EQ(credentials_->find_api_key(key.info.key_prefix), std::nullopt);
}

TEST_F(CredentialStoreTest, OnlyTheKeysDigestIsStored) {
  auto created = credentials_->create_api_key("reporting", Role::analyst, kStart);
  ASSERT_TRUE(created.ok());
  store::sqlite::Connection raw(path_, false, true);
  store::sqlite::Statement row = raw.prepare("SELECT key_hash, key_prefix FROM api_keys");
  ASSERT_TRUE(row.step());
  EXPECT_EQ(row.column_text(0), sha256_hex(created.value().key));
  EXPECT_EQ(row.column_text(1).size(), 11U);
}

TEST_F(CredentialStoreTest, RevokedKeyIsNotFound) {
  auto created = credentials_->create_api_key("old till", Role::merchant, kStart);
  ASSERT_TRUE(created.ok());
  auto other = credentials_->create_api_key("new till", Role::merchant, kStart);
  ASSERT_TRUE(other.ok());
  const std::int64_t id = created.value().info.id;

  EXPECT_TRUE(credentials_->revoke_api_key(id, kStart + kHour));
  EXPECT_EQ(credentials_->find_api_key(created.value().key), std::nullopt);
  EXPECT_TRUE(credentials_->find_api_key(other.value().key).has_value()) << "others still work";
  EXPECT_FALSE(credentials_->revoke_api_key(id, kStart + 2 * kHour)) << "already revoked";
  EXPECT_FALSE(credentials_->revoke_api_key(id + 100, kStart)) << "no such key";

  const std::vector<ApiKeyInfo> keys = credentials_->list_api_keys();
  ASSERT_EQ(keys.size(), 2U);
  EXPECT_EQ(keys[0].name, "old till");
  EXPECT_EQ(keys[0].revoked_at_us, kStart + kHour);
  EXPECT_EQ(keys[1].name, "new till");
  EXPECT_EQ(keys[1].revoked_at_us, 0);
}

TEST_F(CredentialStoreTest, KeyNamesAreUniqueAndChecked) {
  ASSERT_TRUE(credentials_->create_api_key("shop", Role::merchant, kStart).ok());
  auto duplicate = credentials_->create_api_key("shop", Role::admin, kStart);
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.problem().error, CredentialError::name_taken);

  const auto refused = [&](std::string_view name, Role role) {
    auto result = credentials_->create_api_key(name, role, kStart);
    return !result.ok() && result.problem().error == CredentialError::invalid;
  };
  EXPECT_TRUE(refused("", Role::merchant));
  EXPECT_TRUE(refused(std::string(65, 'k'), Role::merchant));
  EXPECT_TRUE(refused(" padded", Role::merchant));
  EXPECT_TRUE(refused("line\nbreak", Role::merchant));
  EXPECT_TRUE(refused("a member", Role::member));
  EXPECT_TRUE(credentials_->create_api_key(std::string(64, 'k'), Role::operator_, kStart).ok());
  EXPECT_EQ(credentials_->list_api_keys().size(), 2U) << "refused keys leave nothing behind";
}

TEST_F(CredentialStoreTest, KeysSurviveReopening) {
  auto created = credentials_->create_api_key("shop", Role::merchant, kStart);
  ASSERT_TRUE(created.ok());
  credentials_.reset();
  std::string error;
  credentials_ = open_sqlite_credential_store(path_, error);
  ASSERT_NE(credentials_, nullptr) << error;
  EXPECT_TRUE(credentials_->find_api_key(created.value().key).has_value());
}

// ---- Operators --------------------------------------------------------------------------------

TEST_F(CredentialStoreTest, OperatorSignsInWithPasswordAndAFreshCode) {
  const CreatedOperator alice = create_operator("alice@example.com", Role::admin);
  EXPECT_EQ(base32_decode(alice.totp_secret).value().size(), kTotpSecretBytes);
  const TimeUs now_us = kStart + kHour;
  const std::string code = totp_code(alice.totp_secret, totp_step(now_us));

  const auto signed_in =
      credentials_->verify_operator_login("alice@example.com", kPassword, code, now_us);
  ASSERT_TRUE(signed_in.has_value());
  EXPECT_EQ(signed_in->id, alice.info.id);
  EXPECT_EQ(signed_in->role, Role::admin);

  EXPECT_EQ(credentials_->verify_operator_login("alice@example.com", kPassword, code, now_us),
            std::nullopt)
      << "a code works once";
  const TimeUs later_us = now_us + kTotpStepUs;
  EXPECT_TRUE(credentials_
                  ->verify_operator_login("alice@example.com", kPassword,
                                          totp_code(alice.totp_secret, totp_step(later_us)),
                                          later_us)
                  .has_value());
}

TEST_F(CredentialStoreTest, OperatorLoginFailsOnAnyWrongFactor) {
  const CreatedOperator bob = create_operator("bob");
  const TimeUs now_us = kStart + kHour;
  const std::string code = totp_code(bob.totp_secret, totp_step(now_us));
  const std::string old_code = totp_code(bob.totp_secret, totp_step(now_us) - 2);

  EXPECT_EQ(credentials_->verify_operator_login("bob", "a wrong password!", code, now_us),
            std::nullopt);
  EXPECT_EQ(credentials_->verify_operator_login("bob", kPassword, old_code, now_us), std::nullopt);
  EXPECT_EQ(credentials_->verify_operator_login("bob", kPassword, "", now_us), std::nullopt);
  EXPECT_EQ(credentials_->verify_operator_login("nobody", kPassword, code, now_us), std::nullopt);
  EXPECT_EQ(credentials_->verify_operator_login("BOB", kPassword, code, now_us), std::nullopt);
  // The failed attempts did not use up the code.
  EXPECT_TRUE(credentials_->verify_operator_login("bob", kPassword, code, now_us).has_value());
}

TEST_F(CredentialStoreTest, DisabledOperatorCannotSignInAndLosesSessions) {
  const CreatedOperator carol = create_operator("carol");
  const CreatedSession session =
      credentials_->create_session(SessionKind::operator_, carol.info.id, kHour, kStart);
  ASSERT_TRUE(credentials_->find_session(session.token, kStart).has_value());

  EXPECT_TRUE(credentials_->disable_operator(carol.info.id));
  EXPECT_FALSE(credentials_->disable_operator(carol.info.id)) << "already disabled";
  EXPECT_FALSE(credentials_->disable_operator(carol.info.id + 100)) << "no such operator";
  EXPECT_TRUE(credentials_->find_operator(carol.info.id).value().disabled);
  EXPECT_EQ(credentials_->find_session(session.token, kStart), std::nullopt);
  const std::string code = totp_code(carol.totp_secret, totp_step(kStart));
  EXPECT_EQ(credentials_->verify_operator_login("carol", kPassword, code, kStart), std::nullopt);
}

TEST_F(CredentialStoreTest, ConcurrentLoginsWithOneCodeSucceedOnce) {
  const CreatedOperator dave = create_operator("dave");
  const std::string code = totp_code(dave.totp_secret, totp_step(kStart));
  std::atomic<int> successes{0};
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      if (credentials_->verify_operator_login("dave", kPassword, code, kStart)) ++successes;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(successes.load(), 1);
}

TEST_F(CredentialStoreTest, OperatorsAreCheckedAndListed) {
  create_operator("erin", Role::analyst);
  const auto refused = [&](std::string_view name, Role role, std::string_view password) {
    auto result = credentials_->create_operator(name, role, password, kStart);
    return result.ok() ? std::optional<CredentialError>() : result.problem().error;
  };
  EXPECT_EQ(refused("erin", Role::admin, kPassword), CredentialError::name_taken);
  EXPECT_EQ(refused("has space", Role::admin, kPassword), CredentialError::invalid);
  EXPECT_EQ(refused("", Role::admin, kPassword), CredentialError::invalid);
  EXPECT_EQ(refused(std::string(65, 'o'), Role::admin, kPassword), CredentialError::invalid);
  EXPECT_EQ(refused("frank", Role::merchant, kPassword), CredentialError::invalid);
  EXPECT_EQ(refused("frank", Role::member, kPassword), CredentialError::invalid);
  EXPECT_EQ(refused("frank", Role::admin, "too short"), CredentialError::invalid);
  EXPECT_EQ(refused("frank.o-b_1@x", Role::operator_, kPassword), std::nullopt);

  const std::vector<OperatorInfo> operators = credentials_->list_operators();
  ASSERT_EQ(operators.size(), 2U);
  EXPECT_EQ(operators[0].name, "erin");
  EXPECT_EQ(operators[0].role, Role::analyst);
  EXPECT_EQ(operators[1].name, "frank.o-b_1@x");
  EXPECT_EQ(credentials_->find_operator(operators[1].id).value().created_at_us, kStart);
  EXPECT_EQ(credentials_->find_operator(operators[1].id + 100), std::nullopt);
}

TEST_F(CredentialStoreTest, NewOperatorPasswordReplacesTheOld) {
  const CreatedOperator gina = create_operator("gina");
  auto changed = credentials_->set_operator_password(gina.info.id, "another long password");
  ASSERT_TRUE(changed.ok()) << changed.problem().message;
  const std::int64_t step = totp_step(kStart);
  EXPECT_EQ(credentials_->verify_operator_login("gina", kPassword,
                                                totp_code(gina.totp_secret, step), kStart),
            std::nullopt);
  EXPECT_TRUE(credentials_
                  ->verify_operator_login("gina", "another long password",
                                          totp_code(gina.totp_secret, step), kStart)
                  .has_value());
  auto short_password = credentials_->set_operator_password(gina.info.id, "short");
  ASSERT_FALSE(short_password.ok());
  EXPECT_EQ(short_password.problem().error, CredentialError::invalid);
  auto unknown = credentials_->set_operator_password(gina.info.id + 100, "another long password");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.problem().error, CredentialError::not_found);
}

// ---- Sessions ---------------------------------------------------------------------------------

TEST_F(CredentialStoreTest, SessionLastsUntilItExpires) {
  const CreatedSession created =
      credentials_->create_session(SessionKind::member, 42, kHour, kStart);
  EXPECT_EQ(created.token.size(), 43U);
  EXPECT_EQ(created.csrf_token.size(), 32U);
  EXPECT_EQ(created.expires_at_us, kStart + kHour);

  const auto found = credentials_->find_session(created.token, kStart);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->kind, SessionKind::member);
  EXPECT_EQ(found->subject_id, 42);
  EXPECT_EQ(found->csrf_token, created.csrf_token);
  EXPECT_EQ(found->created_at_us, kStart);
  EXPECT_EQ(found->expires_at_us, kStart + kHour);

  EXPECT_TRUE(credentials_->find_session(created.token, kStart + kHour - 1).has_value());
  EXPECT_EQ(credentials_->find_session(created.token, kStart + kHour), std::nullopt);
  EXPECT_EQ(credentials_->find_session(created.csrf_token, kStart), std::nullopt);
  EXPECT_EQ(credentials_->find_session(random_token(32), kStart), std::nullopt);
  EXPECT_THROW(credentials_->create_session(SessionKind::member, 42, 0, kStart),
               std::invalid_argument);
}

TEST_F(CredentialStoreTest, DeletedSessionIsGone) {
  const CreatedOperator henry = create_operator("henry");
  const CreatedSession first =
      credentials_->create_session(SessionKind::operator_, henry.info.id, kHour, kStart);
  const CreatedSession second =
      credentials_->create_session(SessionKind::operator_, henry.info.id, kHour, kStart);
  const CreatedSession member =
      credentials_->create_session(SessionKind::member, henry.info.id, kHour, kStart);
  EXPECT_EQ(credentials_->find_session(first.token, kStart).value().kind, SessionKind::operator_);

  credentials_->delete_session(first.token);
  EXPECT_EQ(credentials_->find_session(first.token, kStart), std::nullopt);
  EXPECT_TRUE(credentials_->find_session(second.token, kStart).has_value());
  credentials_->delete_session(first.token);  // again: nothing happens

  EXPECT_EQ(credentials_->delete_sessions_of(SessionKind::operator_, henry.info.id), 1U);
  EXPECT_EQ(credentials_->find_session(second.token, kStart), std::nullopt);
  EXPECT_TRUE(credentials_->find_session(member.token, kStart).has_value())
      << "a member with the same id is someone else";
}

TEST_F(CredentialStoreTest, PurgeRemovesOnlyExpiredSessions) {
  const CreatedSession short_lived =
      credentials_->create_session(SessionKind::member, 1, kHour, kStart);
  const CreatedSession long_lived =
      credentials_->create_session(SessionKind::member, 2, 24 * kHour, kStart);
  EXPECT_EQ(credentials_->purge_expired_sessions(kStart + kHour - 1), 0U);
  EXPECT_EQ(credentials_->purge_expired_sessions(kStart + kHour), 1U);
  EXPECT_EQ(credentials_->find_session(short_lived.token, kStart), std::nullopt);
  EXPECT_TRUE(credentials_->find_session(long_lived.token, kStart + kHour).has_value());
}

// ---- Members ----------------------------------------------------------------------------------

TEST_F(CredentialStoreTest, MemberSignsInWithLoginAndPassword) {
  ASSERT_TRUE(credentials_->set_member_password(7, "ivy@example.com", kPassword, kStart).ok());
  EXPECT_EQ(credentials_->verify_member_login("ivy@example.com", kPassword), 7);
  EXPECT_EQ(credentials_->verify_member_login("ivy@example.com", "a wrong password!"),
            std::nullopt);
  EXPECT_EQ(credentials_->verify_member_login("nobody@example.com", kPassword), std::nullopt);

  auto taken = credentials_->set_member_password(8, "ivy@example.com", kPassword, kStart);
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.problem().error, CredentialError::login_taken);

  // A member may change login and password; the old ones stop working.
  ASSERT_TRUE(
      credentials_->set_member_password(7, "ivy2@example.com", "another long password", kStart)
          .ok());
  EXPECT_EQ(credentials_->verify_member_login("ivy@example.com", kPassword), std::nullopt);
  EXPECT_EQ(credentials_->verify_member_login("ivy2@example.com", kPassword), std::nullopt);
  EXPECT_EQ(credentials_->verify_member_login("ivy2@example.com", "another long password"), 7);
  EXPECT_TRUE(credentials_->set_member_password(8, "ivy@example.com", kPassword, kStart).ok())
      << "the old login is free again";

  const auto refused = [&](std::string_view login, std::string_view password) {
    auto result = credentials_->set_member_password(9, login, password, kStart);
    return !result.ok() && result.problem().error == CredentialError::invalid;
  };
  EXPECT_TRUE(refused("ab", kPassword));
  EXPECT_TRUE(refused(std::string(65, 'l'), kPassword));
  EXPECT_TRUE(refused("jack", "short"));
  EXPECT_EQ(credentials_->verify_member_login("jack", kPassword), std::nullopt);
}

}  // namespace
}  // namespace pointsmall::auth
