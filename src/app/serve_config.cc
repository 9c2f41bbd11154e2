#include "app/serve_config.h"

#include "app/stores.h"

#include <toml++/toml.h>
#include <charconv>
#include <filesystem>

#include "core/time_zone.h"
#include "ledger/policy.h"

namespace pointsmall::app {
namespace {

std::optional<std::int64_t> parse_int(const std::string& text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<bool> parse_bool(const std::string& text) {
  if (text == "true" || text == "1" || text == "yes") return true;
  if (text == "false" || text == "0" || text == "no") return false;
  return std::nullopt;
}

// Reads table[key] into `out` when present; an error when it has the wrong type or range.
class TomlReader {
 public:
  TomlReader(const toml::table& root, std::string source)
      : root_(root), source_(std::move(source)) {}

  void text(std::string_view path, std::string& out) {
    const auto node = root_.at_path(path);
    if (!node) return;
    if (auto value = node.value<std::string>()) {
      out = *value;
    } else {
      fail(path, "must be a string");
    }
  }
  template <typename Int>
  void integer(std::string_view path, Int& out, std::int64_t min, std::int64_t max) {
    const auto node = root_.at_path(path);
    if (!node) return;
    auto value = node.value<std::int64_t>();
    if (!value || !node.is_integer() || *value < min || *value > max) {
      fail(path, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
      return;
    }
    out = static_cast<Int>(*value);
  }
  void boolean(std::string_view path, bool& out) {
    const auto node = root_.at_path(path);
    if (!node) return;
    if (auto value = node.value<bool>(); value && node.is_boolean()) {
      out = *value;
    } else {
      fail(path, "must be true or false");
    }
  }
  void milliseconds(std::string_view path, std::chrono::milliseconds& out) {
    std::int64_t ms = out.count();
    integer(path, ms, 1, 3'600'000);
    out = std::chrono::milliseconds(ms);
  }
  void fail(std::string_view path, const std::string& message) {
    if (!error) error = source_ + ": " + std::string(path) + " " + message;
  }
  [[nodiscard]] const toml::table& root() const { return root_; }

  std::optional<std::string> error;

 private:
  const toml::table& root_;
  std::string source_;
};

void read_known_keys(TomlReader& reader) {
  const std::map<std::string, std::vector<std::string>> known = {
      {"server",
       {"listen", "threads", "max_body_bytes", "max_header_bytes", "max_connections",
        "read_timeout_ms", "idle_timeout_ms", "drain_timeout_ms", "access_log", "tls_certificate",
        "tls_private_key"}},
      {"store", {"data_dir", "url", "pool_size", "max_batch", "settle_interval_seconds"}},
      {"program",
       {"name", "currency", "points_per_unit", "return_window_days", "accepted_lateness_days",
        "member_session_minutes", "operator_session_minutes", "expiry", "shortfall", "time_zone",
        "point_value_per_100_points"}},
      {"mall", {"payment_minutes", "confirm_within_hours"}},
      {"web", {"dir", "media_dir"}}};
  for (const auto& [section, node] : reader.root()) {
    const std::string name(section.str());
    auto it = known.find(name);
    if (it == known.end()) {
      reader.fail(name, "is not a known section (server, store, program, mall, web)");
      return;
    }
    const toml::table* table = node.as_table();
    if (table == nullptr) {
      reader.fail(name, "must be a table");
      return;
    }
    for (const auto& [key, value] : *table) {
      const std::string key_name(key.str());
      if (std::find(it->second.begin(), it->second.end(), key_name) != it->second.end()) continue;
      std::string path = name;
      path += ".";
      path += key_name;
      reader.fail(path, "is not a known key");
    }
  }
}

}  // namespace

std::optional<std::string> apply_listen(ServeConfig& config, const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return "listen address " + listen + " must be HOST:PORT";
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const auto port = parse_int(listen.substr(colon + 1));
  if (!port || *port < 0 || *port > 65535) return "listen address " + listen + " has no valid port";
  config.server.host = host;
  config.server.port = static_cast<std::uint16_t>(*port);
  return std::nullopt;
}

std::optional<std::string> apply_toml(ServeConfig& config, const std::string& toml_text,
                                      const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& error) {
    return source + ": " + std::string(error.description()) + " (line " +
           std::to_string(error.source().begin.line) + ")";
  }
  TomlReader reader(root, source);
  read_known_keys(reader);
  std::string listen;
  reader.text("server.listen", listen);
  if (!listen.empty() && !reader.error) {
    if (auto error = apply_listen(config, listen)) reader.fail("server.listen", *error);
  }
  reader.integer("server.threads", config.server.threads, 1, 64);
  reader.integer("server.max_body_bytes", config.server.max_body_bytes, 1024, 64 << 20);
  reader.integer("server.max_header_bytes", config.server.max_header_bytes, 1024, 1 << 20);
  reader.integer("server.max_connections", config.server.max_connections, 1, 1'000'000);
  reader.milliseconds("server.read_timeout_ms", config.server.read_timeout);
  reader.milliseconds("server.idle_timeout_ms", config.server.idle_timeout);
  reader.milliseconds("server.drain_timeout_ms", config.server.drain_timeout);
  reader.boolean("server.access_log", config.access_log);
  reader.text("server.tls_certificate", config.server.tls_certificate_file);
  reader.text("server.tls_private_key", config.server.tls_private_key_file);
  reader.text("web.dir", config.web_dir);
  reader.text("web.media_dir", config.media_dir);
  reader.text("store.data_dir", config.data_dir);
  reader.text("store.url", config.store_url);
  reader.integer("store.pool_size", config.store_pool_size, 1, 256);
  reader.integer("store.max_batch", config.max_batch, 1, 65536);
  std::int64_t settle_seconds = config.settle_interval.count();
  reader.integer("store.settle_interval_seconds", settle_seconds, 0, 86'400);
  config.settle_interval = std::chrono::seconds(settle_seconds);
  reader.text("program.name", config.program.name);
  reader.text("program.currency", config.program.currency);
  reader.text("program.expiry", config.expiry);
  reader.text("program.shortfall", config.shortfall);
  reader.text("program.time_zone", config.time_zone);
  reader.integer("program.point_value_per_100_points", config.program.point_value_per_100_points, 0,
                 1'000'000'000);
  std::int64_t days = config.program.return_window_us / 86'400'000'000LL;
  reader.integer("program.return_window_days", days, 0, 365);
  config.program.return_window_us = days * 86'400'000'000LL;
  days = config.program.accepted_lateness_us / 86'400'000'000LL;
  reader.integer("program.accepted_lateness_days", days, 0, 3650);
  config.program.accepted_lateness_us = days * 86'400'000'000LL;
  std::int64_t minutes = config.program.redemption_payment_window_us / 60'000'000;
  reader.integer("mall.payment_minutes", minutes, 1, 10'080);
  config.program.redemption_payment_window_us = minutes * 60'000'000;
  std::int64_t hours = config.program.redemption_confirm_window_us / 3'600'000'000LL;
  reader.integer("mall.confirm_within_hours", hours, 0, 8'760);
  config.program.redemption_confirm_window_us = hours * 3'600'000'000LL;
  minutes = config.program.member_session_ttl_us / 60'000'000;
  reader.integer("program.member_session_minutes", minutes, 1, 1440);
  config.program.member_session_ttl_us = minutes * 60'000'000;
  minutes = config.program.operator_session_ttl_us / 60'000'000;
  reader.integer("program.operator_session_minutes", minutes, 1, 1440);
  config.program.operator_session_ttl_us = minutes * 60'000'000;
  if (const toml::table* rates = root.at_path("program.points_per_unit").as_table()) {
    config.program.accepted.clear();
    for (const auto& [currency, value] : *rates) {
      auto rate = value.value<std::int64_t>();
      if (!rate || !value.is_integer() || *rate < 0 || *rate > 1000) {
        reader.fail("program.points_per_unit." + std::string(currency.str()),
                    "must be an integer from 0 to 1000");
        continue;
      }
      config.program.accepted.push_back({std::string(currency.str()), *rate});
    }
  } else if (root.at_path("program.points_per_unit")) {
    reader.fail("program.points_per_unit", "must be a table such as { USD = 1 }");
  }
  return reader.error;
}

std::optional<std::string> apply_environment(
    ServeConfig& config, const std::map<std::string, std::string>& environment) {
  auto get = [&](const char* name) -> const std::string* {
    auto it = environment.find(name);
    return it == environment.end() || it->second.empty() ? nullptr : &it->second;
  };
  if (auto* v = get("POINTSMALL_DATA_DIR")) config.data_dir = *v;
  if (auto* v = get("POINTSMALL_STORE_URL")) config.store_url = *v;
  if (auto* v = get("POINTSMALL_LISTEN")) {
    if (auto error = apply_listen(config, *v)) return "POINTSMALL_LISTEN: " + *error;
  }
  if (auto* v = get("POINTSMALL_THREADS")) {
    auto threads = parse_int(*v);
    if (!threads || *threads < 1 || *threads > 64)
      return "POINTSMALL_THREADS must be an integer from 1 to 64";
    config.server.threads = static_cast<unsigned>(*threads);
  }
  if (auto* v = get("POINTSMALL_ACCESS_LOG")) {
    auto on = parse_bool(*v);
    if (!on) return "POINTSMALL_ACCESS_LOG must be true or false";
    config.access_log = *on;
  }
  if (auto* v = get("POINTSMALL_TLS_CERTIFICATE")) config.server.tls_certificate_file = *v;
  if (auto* v = get("POINTSMALL_TLS_PRIVATE_KEY")) config.server.tls_private_key_file = *v;
  if (auto* v = get("POINTSMALL_WEB_DIR")) config.web_dir = *v;
  if (auto* v = get("POINTSMALL_MEDIA_DIR")) config.media_dir = *v;
  return std::nullopt;
}

std::optional<std::string> validate(const ServeConfig& config) {
  if (config.data_dir.empty()) return "the data directory must not be empty";
  if (!config.store_url.empty()) {
    if (auto problem = store_url_problem(config.store_url)) return "store.url: " + *problem;
  }
  const std::string& currency = config.program.currency;
  if (currency.size() != 3 ||
      !std::all_of(currency.begin(), currency.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
    return "program.currency must be an ISO 4217 code such as USD";
  for (const api::AcceptedCurrency& accepted : config.program.accepted) {
    const std::string& code = accepted.currency;
    if (code.size() != 3 ||
        !std::all_of(code.begin(), code.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
      return "program.points_per_unit: " + code + " is not an ISO 4217 code";
  }
  if (api::find_accepted(config.program, currency) == nullptr)
    return "program.points_per_unit must give a rate for the program's currency " + currency;
  if (!ledger::parse_expiry_policy(config.expiry))
    return "program.expiry " + config.expiry + " is not valid";
  if (!ledger::parse_shortfall_policy(config.shortfall))
    return "program.shortfall " + config.shortfall +
           " is not valid (debt, absorb-after-lots, absorb)";
  if (!TimeZone::load(config.time_zone))
    return "program.time_zone " + config.time_zone + " is unknown";
  if (config.server.tls_certificate_file.empty() != config.server.tls_private_key_file.empty())
    return "TLS needs both server.tls_certificate and server.tls_private_key";
  return std::nullopt;
}

std::string media_dir_of(const ServeConfig& config) {
  if (!config.media_dir.empty()) return config.media_dir;
  if (!config.store_url.empty()) return {};
  return (std::filesystem::path(config.data_dir) / "media").string();
}

}  // namespace pointsmall::app
