// Ledger benchmark: durable earn operations per second through the SQLite store.
//
//   build/ledger_bench [--members 1000000] [--earns 1000000] [--single-earns 3000]
//                      [--max-batch 8192] [--producers 2] [--dir DIR]
//
// 1. Opens `--members` accounts through the store.
// 2. Group commit: submits `--earns` earns to random members from `--producers` threads and waits
//    until the last one is durable (synchronous=FULL): the figure is earns per second.
// 3. Reference in the same run: the same kind of earn committed one per transaction (max_batch 1),
//    each waited for before the next, on the same database.
// Prints both figures and their ratio.
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_store.h"

namespace {

using namespace pointsmall;  // NOLINT(google-build-using-namespace): benchmark main file
using Clock = std::chrono::steady_clock;

struct Args {
  std::int64_t members = 1'000'000;
  std::int64_t earns = 1'000'000;
  std::int64_t single_earns = 3'000;
  std::int64_t max_batch = 8192;  // commands per commit (the store's default)
  int producers = 2;              // threads submitting earns
  std::string dir;
};

Args parse(int argc, char** argv) {
  Args args;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    const std::string value = argv[i + 1];
    if (name == "--members")
      args.members = std::stoll(value);
    else if (name == "--earns")
      args.earns = std::stoll(value);
    else if (name == "--single-earns")
      args.single_earns = std::stoll(value);
    else if (name == "--producers")
      args.producers = std::max(1, std::stoi(value));
    else if (name == "--max-batch")
      args.max_batch = std::stoll(value);
    else if (name == "--dir")
      args.dir = value;
    else {
      std::fprintf(stderr, "unknown option %s\n", name.c_str());
      std::exit(2);
    }
  }
  return args;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

ledger::Command earn_command(const std::string& key, MemberId member, TimeUs at_us) {
  ledger::Earn earn;
  earn.points = 10;
  earn.source = "purchase";
  return ledger::Command{key, member, at_us, "bench", "benchmark earn", earn};
}

std::unique_ptr<store::SqliteLedgerStore> open(const std::string& path, std::size_t max_batch) {
  store::SqliteOptions options;
  options.path = path;
  options.max_batch = max_batch;
  std::string error;
  auto ledger = store::open_sqlite_store(options, error);
  if (!ledger) {
    std::fprintf(stderr, "cannot open %s: %s\n", path.c_str(), error.c_str());
    std::exit(1);
  }
  return ledger;
}

void open_accounts(store::LedgerStore& ledger, std::int64_t members) {
  const auto start = Clock::now();
  std::atomic<std::int64_t> failed{0};
  for (std::int64_t i = 0; i < members; ++i) {
    ledger::Command command{"open-" + std::to_string(i),
                            0,
                            0,
                            "bench",
                            "benchmark member",
                            ledger::OpenAccount{"m" + std::to_string(i)}};
    ledger.submit(std::move(command), [&failed](const store::CommandResult& r) {
      if (!r.ok()) ++failed;
    });
  }
  ledger.flush();
  std::printf("opened %lld accounts in %.1f s (%lld failed)\n", static_cast<long long>(members),
              seconds_since(start), static_cast<long long>(failed.load()));
}

double group_commit_rate(store::LedgerStore& ledger, const Args& args) {
  std::atomic<std::int64_t> failed{0};
  const auto start = Clock::now();
  auto produce = [&](int producer, std::int64_t count) {
    std::mt19937_64 random(42 + static_cast<unsigned>(producer));
    std::uniform_int_distribution<MemberId> member(1, args.members);
    for (std::int64_t i = 0; i < count; ++i) {
      const std::string key = "earn-" + std::to_string(producer) + "-" + std::to_string(i);
      ledger.submit(earn_command(key, member(random), 1'700'000'000'000'000 + i),
                    [&failed](const store::CommandResult& r) {
                      if (!r.ok()) ++failed;
                    });
    }
  };
  std::vector<std::thread> others;
  const std::int64_t share = args.earns / args.producers;
  for (int p = 1; p < args.producers; ++p) others.emplace_back(produce, p, share);
  produce(0, args.earns - share * (args.producers - 1));
  for (std::thread& other : others) other.join();
  ledger.flush();
  const double elapsed = seconds_since(start);
  if (failed > 0)
    std::printf("warning: %lld earns failed\n", static_cast<long long>(failed.load()));
  return static_cast<double>(args.earns) / elapsed;
}

double one_commit_per_event_rate(store::LedgerStore& ledger, const Args& args) {
  std::mt19937_64 random(7);
  std::uniform_int_distribution<MemberId> member(1, args.members);
  const auto start = Clock::now();
  for (std::int64_t i = 0; i < args.single_earns; ++i) {
    auto result = ledger.execute(
        earn_command("single-" + std::to_string(i), member(random), 1'800'000'000'000'000 + i));
    if (!result.ok()) std::printf("warning: single earn failed\n");
  }
  return static_cast<double>(args.single_earns) / seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  const bool temporary = args.dir.empty();
  const std::filesystem::path dir = temporary ? std::filesystem::temp_directory_path() /
                                                    ("pointsmall-bench-" + std::to_string(getpid()))
                                              : std::filesystem::path(args.dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "bench.db").string();
  std::filesystem::remove(path);
  std::printf("ledger benchmark: %lld members, %lld group-committed earns, %lld single earns\n",
              static_cast<long long>(args.members), static_cast<long long>(args.earns),
              static_cast<long long>(args.single_earns));
  double grouped = 0, single = 0;
  {
    auto ledger = open(path, static_cast<std::size_t>(args.max_batch));
    open_accounts(*ledger, args.members);
    grouped = group_commit_rate(*ledger, args);
    const auto audit = ledger->audit();
    std::printf("check after the run: %s\n", audit.clean() ? "clean" : "DIFFERENCES FOUND");
  }
  {
    auto ledger = open(path, 1);
    single = one_commit_per_event_rate(*ledger, args);
  }
  std::printf("durable earns/s, group commit (synchronous=FULL): %.0f\n", grouped);
  std::printf("durable earns/s, one commit per event (reference): %.0f\n", single);
  std::printf("ratio: %.1fx\n", grouped / single);
  if (temporary) std::filesystem::remove_all(dir);
  return 0;
}
