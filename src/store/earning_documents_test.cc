// The contract of earning_documents.h, run against every engine: SQLite on a file and
// PostgreSQL in a fresh schema, each migrated by opening the ledger store first. "Nodes" are
// further connections to the same database, as other server processes have.
#include "store/earning_documents.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/postgresql/testing.h"
#include "store/testing_databases.h"

namespace pointsmall::store {
namespace {

constexpr TimeUs kStart = 1'709'251'200 * kMicrosPerSecond;  // 2024-03-01T00:00:00Z

class EarningDocumentsTest : public ::testing::TestWithParam<TestEngine> {
 protected:
  void SetUp() override {
    database_ = std::make_unique<TestDatabase>(GetParam());
    ASSERT_NE(database_->ledger(), nullptr);
    documents_ = database_->open_documents();
  }

  EarningDocuments::Saved save(const std::string& id, const std::string& document,
                               std::optional<std::int64_t> expected = std::nullopt,
                               bool retire = false) {
    return documents_->save("rule", id, document, retire, "operator:ana", kStart, expected);
  }

  std::unique_ptr<TestDatabase> database_;
  std::unique_ptr<EarningDocuments> documents_;
};

INSTANTIATE_TEST_SUITE_P(Engines, EarningDocumentsTest,
                         ::testing::Values(TestEngine::sqlite, TestEngine::postgres),
                         test_engine_name);

std::vector<std::int64_t> version_numbers(const std::vector<EarningDocument>& documents) {
  std::vector<std::int64_t> out;
  for (const EarningDocument& d : documents) out.push_back(d.version);
  return out;
}

// Contract 1: every save adds a version; earlier versions stay as they were.
TEST_P(EarningDocumentsTest, EverySaveAddsAVersionAndKeepsTheOldOnes) {
  EXPECT_TRUE(documents_->versions("rule", "welcome").empty());
  const auto first = documents_->save("rule", "welcome", R"({"points":10})", false, "operator:ana",
                                      kStart, std::nullopt);
  EXPECT_FALSE(first.stale);
  EXPECT_EQ(first.version, 1);
  const auto second = documents_->save("rule", "welcome", R"({"points":20})", false, "operator:bob",
                                       kStart + 5, std::nullopt);
  EXPECT_EQ(second.version, 2);
  const auto retired = documents_->save("rule", "welcome", R"({"points":20})", true, "operator:ana",
                                        kStart + 9, std::nullopt);
  EXPECT_EQ(retired.version, 3) << "retiring is a version too";

  const std::vector<EarningDocument> versions = documents_->versions("rule", "welcome");
  ASSERT_EQ(versions.size(), 3U);
  EXPECT_EQ(version_numbers(versions), (std::vector<std::int64_t>{3, 2, 1})) << "newest first";
  const EarningDocument& oldest = versions[2];
  EXPECT_EQ(oldest.kind, "rule");
  EXPECT_EQ(oldest.id, "welcome");
  EXPECT_EQ(oldest.document, R"({"points":10})");
  EXPECT_FALSE(oldest.retired);
  EXPECT_EQ(oldest.created_at_us, kStart);
  EXPECT_EQ(oldest.created_by, "operator:ana");
  EXPECT_EQ(versions[1].document, R"({"points":20})");
  EXPECT_EQ(versions[1].created_by, "operator:bob");
  EXPECT_EQ(versions[1].created_at_us, kStart + 5);
  EXPECT_TRUE(versions[0].retired);

  // Versions count per (kind, id).
  EXPECT_EQ(save("other", "{}").version, 1);
  EXPECT_EQ(
      documents_->save("campaign", "welcome", "{}", false, "operator:ana", kStart, std::nullopt)
          .version,
      1);
  EXPECT_EQ(documents_->versions("rule", "welcome").size(), 3U);
}

// Contract 2: the document in force is the latest version, unless that version retires it.
TEST_P(EarningDocumentsTest, TheLatestVersionIsInForceUnlessItRetires) {
  save("b-rule", R"({"v":1})");
  save("b-rule", R"({"v":2})");
  save("a-rule", R"({"v":1})");
  save("c-rule", R"({"v":1})");
  save("c-rule", R"({"v":1})", std::nullopt, /*retire=*/true);
  documents_->save("tiers", "default", R"({"levels":[]})", false, "operator:ana", kStart,
                   std::nullopt);

  std::vector<EarningDocument> in_force = documents_->in_force("rule");
  ASSERT_EQ(in_force.size(), 2U);
  EXPECT_EQ(in_force[0].id, "a-rule") << "by id";
  EXPECT_EQ(in_force[1].id, "b-rule");
  EXPECT_EQ(in_force[1].version, 2);
  EXPECT_EQ(in_force[1].document, R"({"v":2})");
  EXPECT_EQ(documents_->in_force("tiers").size(), 1U) << "each kind apart";
  EXPECT_TRUE(documents_->in_force("campaign").empty());

  // A retired document comes back with its next version.
  save("c-rule", R"({"v":3})");
  in_force = documents_->in_force("rule");
  ASSERT_EQ(in_force.size(), 3U);
  EXPECT_EQ(in_force[2].id, "c-rule");
  EXPECT_EQ(in_force[2].version, 3);
  EXPECT_FALSE(in_force[2].retired);
}

// Contract 3: a save expecting another version than the latest changes nothing.
TEST_P(EarningDocumentsTest, ASaveExpectingAnotherVersionIsStale) {
  const auto created = save("welcome", R"({"v":1})", 0);
  EXPECT_FALSE(created.stale) << "0: the id must be new";
  EXPECT_EQ(created.version, 1);
  const auto again = save("welcome", R"({"v":"again"})", 0);
  EXPECT_TRUE(again.stale) << "the id exists";
  EXPECT_EQ(again.version, 1) << "the latest version";

  EXPECT_EQ(save("welcome", R"({"v":2})", 1).version, 2);
  const std::int64_t generation = documents_->generation();
  const auto lost = save("welcome", R"({"v":"lost"})", 1);
  EXPECT_TRUE(lost.stale) << "another operator saved version 2 meanwhile";
  EXPECT_EQ(lost.version, 2);
  EXPECT_TRUE(save("welcome", R"({"v":"ahead"})", 5).stale);
  EXPECT_EQ(documents_->generation(), generation) << "a stale save saves nothing";

  const std::vector<EarningDocument> versions = documents_->versions("rule", "welcome");
  EXPECT_EQ(version_numbers(versions), (std::vector<std::int64_t>{2, 1}));
  EXPECT_EQ(versions[0].document, R"({"v":2})");
}

TEST_P(EarningDocumentsTest, TheGenerationChangesWithEverySaveOfAnyNode) {
  std::unique_ptr<EarningDocuments> other_node = database_->open_documents();
  std::set<std::int64_t> seen = {documents_->generation()};
  EXPECT_EQ(other_node->generation(), documents_->generation());
  for (int i = 0; i < 3; ++i) {
    other_node->save("rule", "welcome", "{}", false, "operator:bob", kStart, std::nullopt);
    const std::int64_t generation = documents_->generation();
    EXPECT_TRUE(seen.insert(generation).second) << "save " << i << " by the other node";
    EXPECT_EQ(documents_->generation(), generation) << "reads change nothing";
    documents_->in_force("rule");
    documents_->versions("rule", "welcome");
    EXPECT_EQ(documents_->generation(), generation);
  }
}

TEST_P(EarningDocumentsTest, SavesSurviveReopening) {
  save("welcome", R"({"v":1})");
  documents_.reset();
  documents_ = database_->open_documents();
  EXPECT_EQ(documents_->in_force("rule").size(), 1U);
  EXPECT_EQ(save("welcome", R"({"v":2})", 1).version, 2);
}

// Two operators on two nodes save the same document at once, each expecting the version they
// read: one wins, the other is stale, and the versions stay 1, 2, 3, ... without a gap.
TEST_P(EarningDocumentsTest, TwoNodesSavingOneDocumentAtOnceWinOneAtATime) {
  std::unique_ptr<EarningDocuments> nodes[2] = {database_->open_documents(),
                                                database_->open_documents()};
  constexpr int kRounds = 40;
  for (int round = 0; round < kRounds; ++round) {
    EarningDocuments::Saved saved[2];
    std::thread other = test_thread([&] {
      saved[1] =
          nodes[1]->save("rule", "welcome", R"({"node":1})", false, "operator:bob", kStart, round);
    });
    saved[0] =
        nodes[0]->save("rule", "welcome", R"({"node":0})", false, "operator:ana", kStart, round);
    other.join();
    ASSERT_NE(saved[0].stale, saved[1].stale) << "round " << round;
    EXPECT_EQ(saved[0].version, round + 1);
    EXPECT_EQ(saved[1].version, round + 1) << "the winner's version, as the loser sees it";
  }
  const std::vector<EarningDocument> versions = documents_->versions("rule", "welcome");
  ASSERT_EQ(versions.size(), static_cast<std::size_t>(kRounds));
  for (int i = 0; i < kRounds; ++i) EXPECT_EQ(versions[i].version, kRounds - i);
}

// Saves without an expected version all succeed, and each gets a version of its own.
TEST_P(EarningDocumentsTest, ConcurrentSavesOnTwoNodesGetDenseVersions) {
  constexpr int kThreads = 4;
  constexpr int kSavesEach = 10;
  std::unique_ptr<EarningDocuments> other_node = database_->open_documents();
  std::vector<std::thread> threads;
  std::mutex mutex;
  std::set<std::int64_t> versions_given;
  for (int t = 0; t < kThreads; ++t) {
    EarningDocuments* node = t % 2 == 0 ? documents_.get() : other_node.get();
    threads.push_back(test_thread([&, t, node] {
      for (int i = 0; i < kSavesEach; ++i) {
        const auto saved = node->save("campaign", "spring", "{\"t\":" + std::to_string(t) + "}",
                                      false, "operator:ana", kStart, std::nullopt);
        EXPECT_FALSE(saved.stale);
        std::lock_guard lock(mutex);
        EXPECT_TRUE(versions_given.insert(saved.version).second) << saved.version;
      }
    }));
  }
  for (std::thread& thread : threads) thread.join();
  const std::vector<EarningDocument> versions = documents_->versions("campaign", "spring");
  ASSERT_EQ(versions.size(), static_cast<std::size_t>(kThreads * kSavesEach));
  EXPECT_EQ(versions.front().version, kThreads * kSavesEach);
  EXPECT_EQ(versions.back().version, 1);
  EXPECT_EQ(versions_given.size(), static_cast<std::size_t>(kThreads * kSavesEach));
}

// ---- PostgreSQL: a connection that breaks ----------------------------------------------------

TEST(PostgresEarningDocuments, ReconnectsOnceTheConnectionBroke) {
  const TestDatabase database(TestEngine::postgres);
  ASSERT_NE(database.ledger(), nullptr);
  const std::string node = "documents_" + std::to_string(::getpid());
  std::unique_ptr<EarningDocuments> documents = database.open_documents(node);
  documents->save("rule", "welcome", "{}", false, "operator:ana", kStart, std::nullopt);

  ASSERT_EQ(pg::terminate_sessions(database.location(), node), 1);
  EXPECT_EQ(documents->in_force("rule").size(), 1U) << "a read, tried again";
  ASSERT_EQ(pg::terminate_sessions(database.location(), node), 1);
  const auto saved = documents->save("rule", "welcome", "{}", false, "operator:ana", kStart, 1);
  EXPECT_FALSE(saved.stale) << "a save that failed before its COMMIT, tried again";
  EXPECT_EQ(saved.version, 2);
  ASSERT_EQ(pg::terminate_sessions(database.location(), node), 1);
  EXPECT_EQ(documents->generation(), 2);
}

TEST(PostgresEarningDocuments, OpeningNeedsAMigratedSchema) {
  const std::string url = pg::fresh_test_schema_url();
  ASSERT_FALSE(url.empty());
  try {
    open_postgres_earning_documents(url);
    ADD_FAILURE() << "opened without tables";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("migrations"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace pointsmall::store
