// Prometheus metrics of the API: requests by route and status, latency histograms by route, and
// the ledger writer's batches and queue. Counting is lock-free; rendering reads a snapshot.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace pointsmall::api {

class Metrics {
 public:
  // Upper bounds of the latency buckets, in microseconds.
  static constexpr std::array<std::int64_t, 12> kLatencyBucketsUs = {
      250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000, 5000000};

  // `routes` names the route templates ("GET /v1/members/{member_id}"); index routes.size() is
  // for requests that matched none.
  explicit Metrics(std::vector<std::string> routes);

  void record(std::size_t route, unsigned status, std::int64_t duration_us);
  // The Prometheus text exposition of everything, with the writer's figures.
  [[nodiscard]] std::string render(const store::WriterStats& writer) const;

 private:
  struct RouteCounters {
    std::array<std::atomic<std::uint64_t>, 600> by_status{};
    std::array<std::atomic<std::uint64_t>, kLatencyBucketsUs.size() + 1> latency{};
    std::atomic<std::uint64_t> latency_sum_us{0};
  };
  std::vector<std::string> routes_;
  std::unique_ptr<RouteCounters[]> counters_;  // routes_.size() + 1
};

}  // namespace pointsmall::api
