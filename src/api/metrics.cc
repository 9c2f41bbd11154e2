#include "api/metrics.h"

#include <algorithm>

namespace pointsmall::api {
namespace {

std::string seconds(std::int64_t us) {
  const std::string whole = std::to_string(us / 1'000'000);
  std::string fraction = std::to_string(us % 1'000'000);
  fraction.insert(0, 6 - fraction.size(), '0');
  return whole + "." + fraction;
}

}  // namespace

Metrics::Metrics(std::vector<std::string> routes)
    : routes_(std::move(routes)),
      counters_(std::make_unique<RouteCounters[]>(routes_.size() + 1)) {}

void Metrics::record(std::size_t route, unsigned status, std::int64_t duration_us) {
  RouteCounters& c = counters_[std::min(route, routes_.size())];
  c.by_status[std::min(status, 599U)].fetch_add(1, std::memory_order_relaxed);
  std::size_t bucket = 0;
  while (bucket < kLatencyBucketsUs.size() && duration_us > kLatencyBucketsUs[bucket]) ++bucket;
  c.latency[bucket].fetch_add(1, std::memory_order_relaxed);
  c.latency_sum_us.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(duration_us, 0)),
                             std::memory_order_relaxed);
}

std::string Metrics::render(const store::WriterStats& writer) const {
  std::string out;
  out += "# HELP pointsmall_http_requests_total HTTP requests answered, by route and status.\n";
  out += "# TYPE pointsmall_http_requests_total counter\n";
  auto route_name = [&](std::size_t i) { return i < routes_.size() ? routes_[i] : "unmatched"; };
  for (std::size_t i = 0; i <= routes_.size(); ++i) {
    for (unsigned status = 100; status < 600; ++status) {
      const auto n = counters_[i].by_status[status].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out += "pointsmall_http_requests_total{route=\"" + route_name(i) + "\",status=\"" +
             std::to_string(status) + "\"} " + std::to_string(n) + "\n";
    }
  }
  out +=
      "# HELP pointsmall_http_request_duration_seconds Time from a request's arrival to its "
      "response, by route.\n";
  out += "# TYPE pointsmall_http_request_duration_seconds histogram\n";
  for (std::size_t i = 0; i <= routes_.size(); ++i) {
    const RouteCounters& c = counters_[i];
    std::uint64_t cumulative = 0;
    const std::string label = "route=\"" + route_name(i) + "\"";
    for (std::size_t b = 0; b <= kLatencyBucketsUs.size(); ++b) {
      cumulative += c.latency[b].load(std::memory_order_relaxed);
      const std::string le = b < kLatencyBucketsUs.size() ? seconds(kLatencyBucketsUs[b]) : "+Inf";
      if (cumulative == 0 && b < kLatencyBucketsUs.size()) continue;
      out += "pointsmall_http_request_duration_seconds_bucket{";
      out += label;
      out += ",le=\"" + le + "\"} ";
      out += std::to_string(cumulative) + "\n";
    }
    if (cumulative == 0) continue;
    out += "pointsmall_http_request_duration_seconds_sum{" + label + "} " +
           seconds(static_cast<std::int64_t>(c.latency_sum_us.load())) + "\n";
    out += "pointsmall_http_request_duration_seconds_count{" + label + "} " +
           std::to_string(cumulative) + "\n";
  }
  out += "# HELP pointsmall_ledger_batch_size Commands per group commit of the ledger writer.\n";
  out += "# TYPE pointsmall_ledger_batch_size histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b < writer.batch_size_buckets.size(); ++b) {
    cumulative += writer.batch_size_buckets[b];
    const std::string le = b + 1 < writer.batch_size_buckets.size()
                               ? std::to_string(store::WriterStats::kBatchBucketBounds[b])
                               : "+Inf";
    out += "pointsmall_ledger_batch_size_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) +
           "\n";
  }
  out += "pointsmall_ledger_batch_size_sum " + std::to_string(writer.commands) + "\n";
  out += "pointsmall_ledger_batch_size_count " + std::to_string(writer.batches) + "\n";
  out += "# HELP pointsmall_ledger_queue_depth Commands waiting for the ledger writer.\n";
  out += "# TYPE pointsmall_ledger_queue_depth gauge\n";
  out += "pointsmall_ledger_queue_depth " + std::to_string(writer.queue_depth) + "\n";
  return out;
}

}  // namespace pointsmall::api
