// The contract of credential_store.h, run against every engine: SQLite on a real database file
// and PostgreSQL in a fresh schema of the test server, each migrated by opening the ledger store
// on it first, as the server does. Tests that two nodes share the credentials open a second
// store on the same database.
#include "auth/credential_store.h"
#include "core/temp_dir.h"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <chrono>

#include <atomic>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "auth/crypto.h"
#include "auth/pg_credential_store.h"
#include "auth/sqlite_credential_store.h"
#include "store/postgresql/pg_db.h"
#include "store/postgresql/testing.h"
#include "store/sqlite/sqlite_db.h"
#include "store/testing_databases.h"

namespace pointsmall::auth {
namespace {

constexpr TimeUs kStart = 1'709'251'200 * kMicrosPerSecond;  // 2024-03-01T00:00:00Z
constexpr TimeUs kHour = 3600 * kMicrosPerSecond;
constexpr std::string_view kPassword = "a long enough password";

using store::TestEngine;

class CredentialStoreTest : public ::testing::TestWithParam<TestEngine> {
 protected:
  void SetUp() override {
    database_ = std::make_unique<store::TestDatabase>(GetParam());
    ASSERT_NE(database_->ledger(), nullptr);
    std::string error;
    credentials_ = open_credentials(error);
    ASSERT_NE(credentials_, nullptr) << error;
  }

  // Another store on the same database: after reopening, or on a second node.
  std::unique_ptr<CredentialStore> open_credentials(std::string& error) {
    if (GetParam() == TestEngine::sqlite)
      return open_sqlite_credential_store(database_->location(), error);
    return open_postgres_credential_store(database_->location(), error);
  }

  // The key_hash and key_prefix of the only API key, read past the store.
  std::pair<std::string, std::string> stored_key() {
    const std::string sql = "SELECT key_hash, key_prefix FROM api_keys";
    if (GetParam() == TestEngine::sqlite) {
      store::sqlite::Connection raw(database_->location(), false, true);
      store::sqlite::Statement row = raw.prepare(sql);
      EXPECT_TRUE(row.step());
      return {row.column_text(0), row.column_text(1)};
    }
    const store::pg::Result row = store::pg::Connection::open(database_->location()).exec(sql);
    EXPECT_EQ(row.rows(), 1);
    return {row.text(0, 0), row.text(0, 1)};
  }

  CreatedOperator create_operator(const std::string& name, Role role = Role::operator_) {
    auto created = credentials_->create_operator(name, role, kPassword, kStart);
    if (!created.ok()) throw std::runtime_error(created.problem().message);
    return created.value();
  }

  std::unique_ptr<store::TestDatabase> database_;
  std::unique_ptr<CredentialStore> credentials_;
};

INSTANTIATE_TEST_SUITE_P(Engines, CredentialStoreTest,
                         ::testing::Values(TestEngine::sqlite, TestEngine::postgres),
                         store::test_engine_name);

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

TEST(OpenCredentialStore, PostgresNeedsAMigratedSchema) {
  const std::string url = store::pg::fresh_test_schema_url();
  ASSERT_FALSE(url.empty());
  std::string error;
  EXPECT_EQ(open_postgres_credential_store(url, error), nullptr);
  EXPECT_NE(error.find("migrations"), std::string::npos) << error;
  EXPECT_NE(error.find("api_keys"), std::string::npos) << error;
}

TEST(OpenCredentialStore, PostgresSaysWhichServerItCannotReachWithoutThePassword) {
  std::string error;
  // Port 1 on this machine: nothing listens there.
  EXPECT_EQ(open_postgres_credential_store("postgresql://someone:s3cret@127.0.0.1:1/db", error),
            nullptr);
  EXPECT_NE(error.find("127.0.0.1:1"), std::string::npos) << error;
  EXPECT_EQ(error.find("s3cret"), std::string::npos) << error;
}

// ---- API keys ---------------------------------------------------------------------------------

TEST_P(CredentialStoreTest, CreatedKeyIsFoundByItsPlaintextOnly) {
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

TEST_P(CredentialStoreTest, OnlyTheKeysDigestIsStored) {
  auto created = credentials_->create_api_key("reporting", Role::analyst, kStart);
  ASSERT_TRUE(created.ok());
  const auto [key_hash, key_prefix] = stored_key();
  EXPECT_EQ(key_hash, sha256_hex(created.value().key));
  EXPECT_EQ(key_prefix.size(), 11U);
}

TEST_P(CredentialStoreTest, RevokedKeyIsNotFound) {
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

TEST_P(CredentialStoreTest, KeyNamesAreUniqueAndChecked) {
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

TEST_P(CredentialStoreTest, KeysSurviveReopening) {
  auto created = credentials_->create_api_key("shop", Role::merchant, kStart);
  ASSERT_TRUE(created.ok());
  credentials_.reset();
  std::string error;
  credentials_ = open_credentials(error);
  ASSERT_NE(credentials_, nullptr) << error;
  EXPECT_TRUE(credentials_->find_api_key(created.value().key).has_value());
}

// ---- Operators --------------------------------------------------------------------------------

TEST_P(CredentialStoreTest, OperatorSignsInWithPasswordAndAFreshCode) {
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

TEST_P(CredentialStoreTest, OperatorLoginFailsOnAnyWrongFactor) {
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

TEST_P(CredentialStoreTest, DisabledOperatorCannotSignInAndLosesSessions) {
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

TEST_P(CredentialStoreTest, ConcurrentLoginsWithOneCodeSucceedOnce) {
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

TEST_P(CredentialStoreTest, ConcurrentLoginsOnTwoNodesWithOneCodeSucceedOnce) {
  const CreatedOperator dave = create_operator("dave");
  std::string error;
  std::unique_ptr<CredentialStore> other_node = open_credentials(error);
  ASSERT_NE(other_node, nullptr) << error;
  const std::string code = totp_code(dave.totp_secret, totp_step(kStart));
  std::atomic<int> successes{0};
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    CredentialStore* node = i % 2 == 0 ? credentials_.get() : other_node.get();
    threads.push_back(store::test_thread([&, node] {
      if (node->verify_operator_login("dave", kPassword, code, kStart)) ++successes;
    }));
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(successes.load(), 1);
  EXPECT_EQ(other_node->verify_operator_login("dave", kPassword, code, kStart), std::nullopt)
      << "the code is used up on every node";
}

TEST_P(CredentialStoreTest, TwoNodesTakingOneNameAtOnceGiveItToOne) {
  std::string error;
  std::unique_ptr<CredentialStore> other_node = open_credentials(error);
  ASSERT_NE(other_node, nullptr) << error;
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    const std::string name = "till " + std::to_string(round);
    std::optional<CredentialResult<CreatedApiKey>> results[2];
    std::thread other = store::test_thread(
        [&] { results[1].emplace(other_node->create_api_key(name, Role::merchant, kStart)); });
    results[0].emplace(credentials_->create_api_key(name, Role::merchant, kStart));
    other.join();
    ASSERT_NE(results[0]->ok(), results[1]->ok()) << name;
    const CredentialResult<CreatedApiKey>& lost = results[0]->ok() ? *results[1] : *results[0];
    EXPECT_EQ(lost.problem().error, CredentialError::name_taken);
  }
  EXPECT_EQ(credentials_->list_api_keys().size(), static_cast<std::size_t>(kRounds));

  // Logins the same way: one member gets it, the other is told it is taken.
  std::optional<CredentialResult<Done>> logins[2];
  std::thread other = store::test_thread([&] {
    logins[1].emplace(other_node->set_member_password(2, "kim@example.com", kPassword, kStart));
  });
  logins[0].emplace(credentials_->set_member_password(1, "kim@example.com", kPassword, kStart));
  other.join();
  ASSERT_NE(logins[0]->ok(), logins[1]->ok());
  EXPECT_EQ((logins[0]->ok() ? *logins[1] : *logins[0]).problem().error,
            CredentialError::login_taken);
  const MemberId winner = logins[0]->ok() ? 1 : 2;
  EXPECT_EQ(other_node->verify_member_login("kim@example.com", kPassword), winner);
}

TEST_P(CredentialStoreTest, TwoNodesGivingOneMemberOneLoginAtOnceBothSucceed) {
  std::string error;
  std::unique_ptr<CredentialStore> other_node = open_credentials(error);
  ASSERT_NE(other_node, nullptr) << error;
  std::optional<CredentialResult<Done>> results[2];
  std::thread other = store::test_thread([&] {
    results[1].emplace(other_node->set_member_password(5, "lee@example.com", kPassword, kStart));
  });
  results[0].emplace(credentials_->set_member_password(5, "lee@example.com", kPassword, kStart));
  other.join();
  EXPECT_TRUE(results[0]->ok()) << results[0]->problem().message;
  EXPECT_TRUE(results[1]->ok()) << results[1]->problem().message;
  EXPECT_EQ(credentials_->verify_member_login("lee@example.com", kPassword), 5);
}

TEST_P(CredentialStoreTest, RevocationsOnOneNodeHoldOnTheOther) {
  std::string error;
  std::unique_ptr<CredentialStore> other_node = open_credentials(error);
  ASSERT_NE(other_node, nullptr) << error;
  auto key = credentials_->create_api_key("shop", Role::merchant, kStart);
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(other_node->find_api_key(key.value().key).has_value());
  const CreatedOperator olga = create_operator("olga");
  const CreatedSession session =
      other_node->create_session(SessionKind::operator_, olga.info.id, kHour, kStart);
  ASSERT_TRUE(credentials_->find_session(session.token, kStart).has_value());

  EXPECT_TRUE(credentials_->revoke_api_key(key.value().info.id, kStart + 1));
  EXPECT_TRUE(credentials_->disable_operator(olga.info.id));
  EXPECT_EQ(credentials_->find_api_key(key.value().key), std::nullopt) << "at once where revoked";
  // Another node may answer from its key cache for up to a second (PostgresCredentialStore).
  const auto revoked_at = std::chrono::steady_clock::now();
  while (other_node->find_api_key(key.value().key).has_value() &&
         std::chrono::steady_clock::now() - revoked_at < std::chrono::seconds(3))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(other_node->find_api_key(key.value().key), std::nullopt);
  EXPECT_EQ(other_node->find_session(session.token, kStart), std::nullopt);
  EXPECT_TRUE(other_node->find_operator(olga.info.id).value().disabled);
}

TEST_P(CredentialStoreTest, OperatorsAreCheckedAndListed) {
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

TEST_P(CredentialStoreTest, NewOperatorPasswordReplacesTheOld) {
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

TEST_P(CredentialStoreTest, SessionLastsUntilItExpires) {
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

TEST_P(CredentialStoreTest, DeletedSessionIsGone) {
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

TEST_P(CredentialStoreTest, PurgeRemovesOnlyExpiredSessions) {
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

TEST_P(CredentialStoreTest, MemberSignsInWithLoginAndPassword) {
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

// ---- PostgreSQL: a connection that breaks ----------------------------------------------------

TEST(PostgresCredentialStore, ReconnectsOnceTheConnectionBroke) {
  const store::TestDatabase database(TestEngine::postgres);
  ASSERT_NE(database.ledger(), nullptr);
  const std::string& url = database.location();
  const std::string node = "credentials_" + random_token(6);
  std::string error;
  auto credentials =
      open_postgres_credential_store(store::pg::with_application_name(url, node), error);
  ASSERT_NE(credentials, nullptr) << error;
  auto key = credentials->create_api_key("shop", Role::merchant, kStart);
  ASSERT_TRUE(key.ok());

  ASSERT_EQ(store::pg::terminate_sessions(url, node), 1);
  EXPECT_TRUE(credentials->find_api_key(key.value().key).has_value()) << "a read, tried again";
  ASSERT_EQ(store::pg::terminate_sessions(url, node), 1);
  EXPECT_TRUE(credentials->create_api_key("till", Role::merchant, kStart).ok())
      << "a write, tried again";
  ASSERT_EQ(store::pg::terminate_sessions(url, node), 1);
  const CreatedSession session = credentials->create_session(SessionKind::member, 3, kHour, kStart);
  EXPECT_TRUE(credentials->find_session(session.token, kStart).has_value());
  EXPECT_EQ(credentials->list_api_keys().size(), 2U);
}

}  // namespace
}  // namespace pointsmall::auth
