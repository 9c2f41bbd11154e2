// The contract of member_directory.h, run against every engine: SQLite on a file and PostgreSQL
// in a fresh schema, each migrated by opening the ledger store first, whose accounts the
// directory reads. "Nodes" are further connections to the same database.
#include "store/member_directory.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "store/postgresql/testing.h"
#include "store/testing_databases.h"

namespace pointsmall::store {
namespace {

constexpr TimeUs kStart = 1'709'251'200 * kMicrosPerSecond;  // 2024-03-01T00:00:00Z
constexpr TimeUs kHour = 3600 * kMicrosPerSecond;

MemberProfile ana_profile() {
  return MemberProfile{"ana@example.com", "+49 30 1234567", "Ana Müller", "1990-04-01",
                       "female",          "Berlin",         "friend-7",   {"vip", "café"}};
}

class MemberDirectoryTest : public ::testing::TestWithParam<TestEngine> {
 protected:
  void SetUp() override {
    database_ = std::make_unique<TestDatabase>(GetParam());
    ASSERT_NE(database_->ledger(), nullptr);
    directory_ = database_->open_directory();
  }

  MemberId open_member(const std::string& external_id, TimeUs at_us = kStart) {
    return database_->open_member(external_id, at_us);
  }

  std::unique_ptr<TestDatabase> database_;
  std::unique_ptr<MemberDirectory> directory_;
};

INSTANTIATE_TEST_SUITE_P(Engines, MemberDirectoryTest,
                         ::testing::Values(TestEngine::sqlite, TestEngine::postgres),
                         test_engine_name);

// Every account is a member, with empty profile fields until it has a profile.
TEST_P(MemberDirectoryTest, AMemberWithoutAProfileIsFoundWithEmptyFields) {
  const MemberId member = open_member("m-1", kStart + 7);
  const std::optional<MemberRecord> found = directory_->find(member);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->member_id, member);
  EXPECT_EQ(found->external_id, "m-1");
  EXPECT_EQ(found->joined_at_us, kStart + 7);
  EXPECT_EQ(found->updated_at_us, kStart + 7) << "joined_at without a profile";
  EXPECT_FALSE(found->has_profile);
  EXPECT_EQ(found->profile, MemberProfile{});
  EXPECT_EQ(directory_->find(member + 100), std::nullopt);
  EXPECT_EQ(directory_->find_by_external_id("nobody"), std::nullopt);
}

TEST_P(MemberDirectoryTest, AProfileIsStoredAndReplaced) {
  const MemberId member = open_member("m-1");
  directory_->put_profile(member, ana_profile(), kStart + kHour);
  std::optional<MemberRecord> found = directory_->find_by_external_id("m-1");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->member_id, member);
  EXPECT_TRUE(found->has_profile);
  EXPECT_EQ(found->profile, ana_profile()) << "every field, tags in order, UTF-8 intact";
  EXPECT_EQ(found->joined_at_us, kStart);
  EXPECT_EQ(found->updated_at_us, kStart + kHour);

  MemberProfile changed;
  changed.name = "Ana";
  directory_->put_profile(member, changed, kStart + 2 * kHour);
  found = directory_->find(member);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->profile, changed) << "replaced, not merged";
  EXPECT_TRUE(found->profile.tags.empty());
  EXPECT_EQ(found->updated_at_us, kStart + 2 * kHour);
  EXPECT_EQ(found->joined_at_us, kStart);

  std::unique_ptr<MemberDirectory> other_node = database_->open_directory();
  EXPECT_EQ(other_node->find(member).value().profile, changed) << "seen by every node";
}

TEST_P(MemberDirectoryTest, ListPagesThroughEveryAccountById) {
  std::vector<MemberId> members;
  for (int i = 0; i < 5; ++i) members.push_back(open_member("m-" + std::to_string(i)));
  directory_->put_profile(members[3], ana_profile(), kStart);

  std::vector<MemberRecord> page = directory_->list(0, 2);
  ASSERT_EQ(page.size(), 2U);
  EXPECT_EQ(page[0].member_id, members[0]);
  EXPECT_EQ(page[1].member_id, members[1]);
  page = directory_->list(page.back().member_id, 10);
  ASSERT_EQ(page.size(), 3U);
  EXPECT_EQ(page[0].member_id, members[2]);
  EXPECT_EQ(page[1].external_id, "m-3");
  EXPECT_TRUE(page[1].has_profile);
  EXPECT_EQ(page[1].profile, ana_profile());
  EXPECT_FALSE(page[2].has_profile);
  EXPECT_TRUE(directory_->list(members[4], 10).empty());
}

// Search: an external id's prefix, or part of a name, e-mail or phone, letters in any case;
// LIKE's wildcards in the text stand for themselves.
TEST_P(MemberDirectoryTest, SearchFindsByExternalIdPrefixOrPartOfNameEmailPhone) {
  const MemberId ana = open_member("Shop-100");
  const MemberId bob = open_member("shop-200");
  const MemberId cleo = open_member("x-300");
  const MemberId dan = open_member("x-400");
  directory_->put_profile(ana, ana_profile(), kStart);
  MemberProfile bob_profile;
  bob_profile.name = "Bob 100% Smith";
  bob_profile.email = "bob_s@mail.test";
  directory_->put_profile(bob, bob_profile, kStart);
  MemberProfile cleo_profile;
  cleo_profile.phone = "+44 20 7946 0300";
  cleo_profile.email = "cleo@shop-100.example";
  directory_->put_profile(cleo, cleo_profile, kStart);

  auto ids = [&](const std::string& text, MemberId after = 0, std::size_t limit = 10) {
    std::vector<MemberId> out;
    for (const MemberRecord& record : directory_->search(text, after, limit))
      out.push_back(record.member_id);
    return out;
  };
  EXPECT_EQ(ids("SHOP-"), (std::vector<MemberId>{ana, bob, cleo})) << "prefix, or in an e-mail";
  EXPECT_EQ(ids("hop-2"), std::vector<MemberId>{}) << "an external id matches by its start only";
  EXPECT_EQ(ids("müller"), std::vector<MemberId>{ana}) << "part of a name";
  EXPECT_EQ(ids("EXAMPLE.COM"), std::vector<MemberId>{ana}) << "part of an e-mail, any case";
  EXPECT_EQ(ids("7946"), std::vector<MemberId>{cleo}) << "part of a phone number";
  EXPECT_EQ(ids("100%"), std::vector<MemberId>{bob}) << "% is a character, not a wildcard";
  EXPECT_EQ(ids("b_s@"), std::vector<MemberId>{bob});
  EXPECT_EQ(ids("a_a"), std::vector<MemberId>{}) << "_ is a character, not a wildcard";
  EXPECT_EQ(ids("x-"), (std::vector<MemberId>{cleo, dan}));
  EXPECT_EQ(ids("shop", 0, 2), (std::vector<MemberId>{ana, bob})) << "pages by id";
  EXPECT_EQ(ids("shop", bob, 2), std::vector<MemberId>{cleo});
}

TEST_P(MemberDirectoryTest, AListPageHoldsAtMostMaxPage) {
  for (std::size_t i = 0; i <= MemberDirectory::kMaxPage; ++i) {
    ledger::Command command;
    command.idempotency_key = "open-" + std::to_string(i);
    command.at_us = kStart;
    command.actor = "api-key:test";
    command.reason = "test";
    command.body = ledger::OpenAccount{"m-" + std::to_string(i)};
    database_->ledger()->submit(std::move(command), [](const CommandResult& result) {
      EXPECT_TRUE(result.ok()) << result.storage_error;
    });
  }
  database_->ledger()->flush();
  EXPECT_EQ(directory_->list(0, MemberDirectory::kMaxPage + 1).size(), MemberDirectory::kMaxPage);
  EXPECT_EQ(directory_->list(0, static_cast<std::size_t>(-1)).size(), MemberDirectory::kMaxPage);
}

TEST_P(MemberDirectoryTest, AMemberKeepsItsFirstReferralCode) {
  const MemberId ana = open_member("ana");
  const MemberId bob = open_member("bob");
  EXPECT_EQ(directory_->referral_code(ana, "ANA-CODE"), "ANA-CODE");
  EXPECT_EQ(directory_->referral_code(ana, "OTHER"), "ANA-CODE") << "the code it has";
  EXPECT_EQ(directory_->member_by_referral_code("ANA-CODE"), ana);
  EXPECT_EQ(directory_->member_by_referral_code("OTHER"), std::nullopt);
  EXPECT_EQ(directory_->member_by_referral_code("ana-code"), std::nullopt) << "exact match";

  EXPECT_THROW(directory_->referral_code(bob, "ANA-CODE"), std::runtime_error)
      << "a code another member holds";
  EXPECT_EQ(directory_->referral_code(bob, "BOB-CODE"), "BOB-CODE") << "still usable after";
  EXPECT_EQ(directory_->member_by_referral_code("ANA-CODE"), ana);
  std::unique_ptr<MemberDirectory> other_node = database_->open_directory();
  EXPECT_EQ(other_node->referral_code(bob, "NEW"), "BOB-CODE");
}

// Two nodes asked for one member's code at once, each proposing its own: both answer the same
// code. Asked for different members, each member gets its own.
TEST_P(MemberDirectoryTest, TwoNodesAssigningReferralCodesAtOnceAgree) {
  std::unique_ptr<MemberDirectory> nodes[2] = {database_->open_directory(),
                                               database_->open_directory()};
  constexpr int kMembers = 30;
  std::vector<MemberId> members;
  for (int i = 0; i < kMembers; ++i) members.push_back(open_member("m-" + std::to_string(i)));
  std::vector<std::string> answers[2];
  auto assign = [&](int node) {
    for (int i = 0; i < kMembers; ++i) {
      // Even members: every node proposes the same code; odd ones: a code per node.
      const std::string proposed =
          "C" + std::to_string(i) + (i % 2 == 0 ? "" : "-" + std::to_string(node));
      answers[node].push_back(nodes[node]->referral_code(members[i], proposed));
    }
  };
  std::thread other = test_thread([&] { assign(1); });
  assign(0);
  other.join();
  ASSERT_EQ(answers[0].size(), answers[1].size());
  for (int i = 0; i < kMembers; ++i) {
    EXPECT_EQ(answers[0][i], answers[1][i]) << "member " << i;
    EXPECT_EQ(directory_->member_by_referral_code(answers[0][i]), members[i]);
    EXPECT_EQ(directory_->referral_code(members[i], "LATE"), answers[0][i]);
  }
}

// ---- PostgreSQL: a connection that breaks ----------------------------------------------------

TEST(PostgresMemberDirectory, ReconnectsOnceTheConnectionBroke) {
  const TestDatabase database(TestEngine::postgres);
  ASSERT_NE(database.ledger(), nullptr);
  const MemberId member = database.open_member("m-1", kStart);
  const std::string node = "directory_" + std::to_string(::getpid());
  std::unique_ptr<MemberDirectory> directory = database.open_directory(node);
  ASSERT_TRUE(directory->find(member).has_value());

  ASSERT_EQ(pg::terminate_sessions(database.location(), node), 1);
  directory->put_profile(member, ana_profile(), kStart);
  ASSERT_EQ(pg::terminate_sessions(database.location(), node), 1);
  EXPECT_EQ(directory->find(member).value().profile, ana_profile());
  ASSERT_EQ(pg::terminate_sessions(database.location(), node), 1);
  EXPECT_EQ(directory->referral_code(member, "CODE"), "CODE");
}

TEST(PostgresMemberDirectory, OpeningNeedsAMigratedSchema) {
  const std::string url = pg::fresh_test_schema_url();
  ASSERT_FALSE(url.empty());
  EXPECT_THROW(open_postgres_member_directory(url), std::runtime_error);
}

}  // namespace
}  // namespace pointsmall::store
