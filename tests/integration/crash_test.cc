// Crashes of the SQLite store: a real one (a child process killed with SIGKILL while it commits a
// stream of commands) and the store's own crash_for_test().
//
// The promise under test (store.h, contract 2): a command's callback runs only after its effects
// are durable, and a batch commits whole or not at all. So after any crash and a reopen, every
// acknowledged command is present exactly once, the audit is clean, and because one writer
// commits in submission order, what survived is a prefix of what was submitted: no gaps, nothing
// half-written. A client that then retries everything ends exactly where an uncrashed run would.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "test_support.h"

namespace pointsmall::testing {
namespace {

constexpr int kMembers = 16;
constexpr Points kStartingPoints = 100;

// Command `index` of a crash run's stream. Every command is accepted by construction (a member
// earns 7 and spends 5 in turn, so its balance never drops below its start), which makes "what
// survived is a prefix" an exact check.
struct Step {
  MemberId member = 0;
  Points change = 0;  // +7 earn, -5 spend
};

Step step(const std::vector<MemberId>& members, int index) {
  const auto slot = static_cast<std::size_t>(index % kMembers);
  const bool earn = (index / kMembers) % 2 == 0;
  return Step{members[slot], earn ? 7 : -5};
}

std::string stream_key(int index) {
  return "stream:" + std::to_string(index);
}

ledger::Command stream_command(const std::vector<MemberId>& members, int index) {
  const Step s = step(members, index);
  return s.change > 0 ? earn_command(stream_key(index), s.member, s.change)
                      : spend_command(stream_key(index), s.member, -s.change);
}

// A new ledger with kMembers members of kStartingPoints each; closed again before returning.
std::vector<MemberId> prepare_ledger(const std::string& path) {
  std::vector<MemberId> members;
  auto store = open_store(path);
  if (store == nullptr) return members;
  for (int m = 0; m < kMembers; ++m)
    members.push_back(open_member_with(*store, "crash-" + std::to_string(m), kStartingPoints));
  return members;
}

// One acknowledgement: the stream index and the transaction id the caller was told.
struct Acknowledged {
  int index = 0;
  TransactionId transaction_id = 0;
};

// After a crash: reopens the ledger, checks it against what was acknowledged, then retries the
// whole stream as a client would and checks the end state equals that of an uncrashed run.
// `exact` says that nothing beyond the acknowledged commands may have survived.
void verify_after_crash(const std::string& path, const std::vector<MemberId>& members, int total,
                        const std::vector<Acknowledged>& acks, bool exact) {
  for (std::size_t j = 0; j < acks.size(); ++j)
    ASSERT_EQ(acks[j].index, static_cast<int>(j)) << "acknowledged out of submission order";
  int survived = 0;               // the length of the surviving prefix
  auto store = open_store(path);  // recovers the write-ahead log
  ASSERT_NE(store, nullptr);
  const ledger::Audit recovered = store->audit();
  EXPECT_TRUE(recovered.clean()) << describe(recovered);
  {
    RawDatabase raw(path);
    const auto keys = raw.keys();
    std::vector<bool> present(static_cast<std::size_t>(total), false);
    for (int i = 0; i < total; ++i) {
      const auto found = keys.find(stream_key(i));
      if (found == keys.end()) continue;
      present[static_cast<std::size_t>(i)] = true;
      EXPECT_EQ(found->second.count, 1) << stream_key(i);
    }
    while (survived < total && present[static_cast<std::size_t>(survived)]) ++survived;
    for (int i = survived; i < total; ++i)
      EXPECT_FALSE(present[static_cast<std::size_t>(i)])
          << stream_key(i) << " survived but " << stream_key(survived) << " did not";
    EXPECT_GE(survived, static_cast<int>(acks.size())) << "an acknowledged command was lost";
    if (exact) {
      EXPECT_EQ(survived, static_cast<int>(acks.size()));
    }
    for (const Acknowledged& ack : acks) {
      const auto found = keys.find(stream_key(ack.index));
      ASSERT_TRUE(found != keys.end()) << "acknowledged " << stream_key(ack.index) << " is lost";
      EXPECT_EQ(found->second.transaction_id, ack.transaction_id) << stream_key(ack.index);
    }
    // Nothing half-written: every surviving command has its entries and an earn its lot.
    EXPECT_EQ(raw.query_int("SELECT count(*) FROM transactions t WHERE NOT EXISTS "
                            "(SELECT 1 FROM entries e WHERE e.transaction_id = t.id) "
                            "AND kind IN ('earn', 'spend')"),
              0);
    EXPECT_EQ(raw.query_int("SELECT count(*) FROM lots"),
              raw.query_int("SELECT count(*) FROM transactions WHERE kind = 'earn'"));
  }
  {
    std::map<MemberId, Points> expected;
    for (MemberId member : members) expected[member] = kStartingPoints;
    for (int i = 0; i < survived; ++i) expected[step(members, i).member] += step(members, i).change;
    for (MemberId member : members)
      EXPECT_EQ(store->account(member)->available, expected[member])
          << "member " << member << " after " << survived << " commands";
  }

  // The client retries the whole stream: what survived replays, the rest applies once.
  std::mutex mutex;
  int replayed = 0, applied = 0, failed = 0;
  std::map<int, TransactionId> replayed_tx;
  for (int i = 0; i < total; ++i) {
    store->submit(stream_command(members, i), [&, i](const store::CommandResult& r) {
      std::lock_guard lock(mutex);
      if (!r.ok())
        ++failed;
      else if (r.replayed)
        ++replayed, replayed_tx[i] = r.outcome.transaction_id;
      else
        ++applied;
    });
  }
  store->flush();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(replayed, survived);
  EXPECT_EQ(applied, total - survived);
  for (const Acknowledged& ack : acks) EXPECT_EQ(replayed_tx[ack.index], ack.transaction_id);
  std::map<MemberId, Points> expected;
  for (MemberId member : members) expected[member] = kStartingPoints;
  for (int i = 0; i < total; ++i) expected[step(members, i).member] += step(members, i).change;
  for (MemberId member : members)
    EXPECT_EQ(store->account(member)->available, expected[member]) << "member " << member;
  const ledger::Audit audit = store->audit();
  EXPECT_TRUE(audit.clean()) << describe(audit);
}

// ---- A real crash: SIGKILL of a child process -----------------------------------------------

// The child: opens the ledger and submits the whole stream; each callback writes "index tx\n" to
// the pipe once its batch is durable. Never returns. Uses no test macros (it is not the test).
[[noreturn]] void run_child(const std::string& path, const std::vector<MemberId>& members,
                            int total, std::size_t max_batch, int fd) {
  store::SqliteOptions options;
  options.path = path;
  options.create_if_missing = false;
  options.max_batch = max_batch;
  options.cache_mib = 16;
  std::string error;
  auto store = store::open_sqlite_store(options, error);
  if (store == nullptr) _exit(3);
  for (int i = 0; i < total; ++i) {
    store->submit(stream_command(members, i), [fd, i](const store::CommandResult& r) {
      if (!r.ok()) _exit(4);  // by construction every command is accepted
      char line[64];
      const int length = std::snprintf(line, sizeof line, "%d %lld\n", i,
                                       static_cast<long long>(r.outcome.transaction_id));
      // Shorter than PIPE_BUF: written whole or not at all.
      if (write(fd, line, static_cast<std::size_t>(length)) != length) _exit(5);
    });
  }
  store->flush();
  store.reset();
  _exit(0);
}

struct KillRun {
  std::vector<Acknowledged> acks;
  int status = 0;
};

// Forks a child that runs the stream, reads its acknowledgements, kills it with SIGKILL as soon
// as `kill_after` have arrived, and returns every acknowledgement it had written before it died.
KillRun kill_after_acks(const std::string& path, const std::vector<MemberId>& members, int total,
                        std::size_t max_batch, int kill_after) {
  KillRun run;
  int fds[2];
  if (pipe(fds) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return run;
  }
  std::fflush(nullptr);
  const pid_t child = fork();
  if (child < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    return run;
  }
  if (child == 0) {
    close(fds[0]);
    run_child(path, members, total, max_batch, fds[1]);
  }
  close(fds[1]);
  bool killed = false;
  std::string pending;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the child is gone and the pipe drained
    pending.append(buffer, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1) {
      Acknowledged ack;
      long long tx = 0;
      if (std::sscanf(pending.c_str() + start, "%d %lld", &ack.index, &tx) != 2) {
        ADD_FAILURE() << "bad acknowledgement line: " << pending.substr(start, end - start);
        continue;
      }
      ack.transaction_id = tx;
      run.acks.push_back(ack);
    }
    pending.erase(0, start);
    if (!killed && static_cast<int>(run.acks.size()) >= kill_after) {
      kill(child, SIGKILL);
      killed = true;
    }
  }
  close(fds[0]);
  EXPECT_TRUE(pending.empty()) << "a torn acknowledgement: " << pending;
  if (!killed) kill(child, SIGKILL);
  waitpid(child, &run.status, 0);
  return run;
}

class CrashBySigkill : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(CrashBySigkill, EveryAcknowledgedCommandSurvivesExactlyOnce) {
  const std::uint64_t seed = GetParam();
  std::mt19937_64 random(seed);
  constexpr int kTotal = 5000;
  constexpr std::size_t kBatchSizes[] = {1, 3, 16, 64, 500};
  const std::size_t max_batch = kBatchSizes[random() % std::size(kBatchSizes)];
  const int ceiling = max_batch == 1 ? 300 : 2500;  // one fsync per command is slow
  const int kill_after = 1 + static_cast<int>(random() % ceiling);
  SCOPED_TRACE("seed " + std::to_string(seed) + ": batches of " + std::to_string(max_batch) +
               ", kill after " + std::to_string(kill_after) + " acknowledgements");

  TempDir dir;
  const std::string path = dir.file("ledger.db");
  const std::vector<MemberId> members = prepare_ledger(path);
  ASSERT_EQ(members.size(), static_cast<std::size_t>(kMembers));

  const KillRun run = kill_after_acks(path, members, kTotal, max_batch, kill_after);
  ASSERT_TRUE(WIFSIGNALED(run.status) && WTERMSIG(run.status) == SIGKILL)
      << "the child did not die by SIGKILL (exit status " << run.status
      << "; 3: cannot open, 4: a command failed, 5: pipe write failed)";
  ASSERT_GE(static_cast<int>(run.acks.size()), kill_after);
  ASSERT_LT(static_cast<int>(run.acks.size()), kTotal) << "killed too late to test anything";
  verify_after_crash(path, members, kTotal, run.acks, false);
}

INSTANTIATE_TEST_SUITE_P(Seeds, CrashBySigkill, ::testing::Values(1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u));

// ---- The store's own crash: crash_for_test() ------------------------------------------------

class CrashForTest : public ::testing::TestWithParam<std::uint64_t> {};

// crash_for_test() stops right after the last committed batch: every command answered is on
// disk, every command still queued is dropped unanswered and leaves nothing.
TEST_P(CrashForTest, KeepsExactlyTheAnsweredBatchesAndNothingHalfWritten) {
  const std::uint64_t seed = GetParam();
  std::mt19937_64 random(seed);
  constexpr int kTotal = 3000;
  const std::size_t max_batch = 1 + random() % 200;
  const int crash_after = 1 + static_cast<int>(random() % 1500);
  SCOPED_TRACE("seed " + std::to_string(seed) + ": batches of " + std::to_string(max_batch) +
               ", crash after " + std::to_string(crash_after) + " answers");

  TempDir dir;
  const std::string path = dir.file("ledger.db");
  const std::vector<MemberId> members = prepare_ledger(path);
  ASSERT_EQ(members.size(), static_cast<std::size_t>(kMembers));

  std::mutex mutex;
  std::condition_variable answered;
  std::vector<Acknowledged> acks;  // guarded by mutex
  int failures = 0;                // guarded by mutex
  bool crashing = false;           // guarded by mutex
  {
    auto store = open_store(path, max_batch);
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < kTotal; ++i) {
      store->submit(stream_command(members, i), [&, i](const store::CommandResult& r) {
        std::unique_lock lock(mutex);
        if (!r.ok()) ++failures;
        acks.push_back(Acknowledged{i, r.outcome.transaction_id});
        answered.notify_all();
        // The crash_after-th answer holds the writer until the test is about to crash it, so
        // that the crash lands where the seed says rather than wherever the writer has got to.
        if (static_cast<int>(acks.size()) == crash_after)
          answered.wait(lock, [&] { return crashing; });
      });
    }
    {
      std::unique_lock lock(mutex);
      answered.wait(lock, [&] { return static_cast<int>(acks.size()) >= crash_after; });
      crashing = true;
    }
    answered.notify_all();
    store->crash_for_test();
  }
  std::lock_guard lock(mutex);  // no callback may run any more
  EXPECT_EQ(failures, 0);
  ASSERT_LT(static_cast<int>(acks.size()), kTotal) << "crashed too late to test anything";
  verify_after_crash(path, members, kTotal, acks, true);
}

INSTANTIATE_TEST_SUITE_P(Seeds, CrashForTest, ::testing::Values(11u, 12u, 13u, 14u));

}  // namespace
}  // namespace pointsmall::testing
