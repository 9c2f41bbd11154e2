// The configuration of `pointsmall serve`: defaults, then the TOML file, then environment
// variables, then command-line flags, each overriding the one before.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "api/program.h"
#include "http/server.h"

namespace pointsmall::app {

struct ServeConfig {
  std::string data_dir = "data/ledger";  // the embedded store, unless store_url is set
  // A PostgreSQL database (postgresql://...) shared by several nodes instead of the data
  // directory (app/stores.h).
  std::string store_url;
  std::size_t store_pool_size = 8;  // PostgreSQL reader connections of this node
  http::ServerOptions server;       // listens on 127.0.0.1:8080 by default
  bool access_log = true;           // JSON lines on standard output
  // Commands per commit; 0: the engine's default (SQLite 8,192, PostgreSQL 512).
  std::size_t max_batch = 0;
  // How often the server matures and expires due points and releases timed-out holds; 0: never
  // (run `pointsmall expire` from cron instead).
  std::chrono::seconds settle_interval{60};
  api::ProgramSettings program;
  // Used when the data directory is new; an existing ledger keeps its own.
  std::string expiry = "days:365";
  std::string shortfall = "debt";
  std::string time_zone = "UTC";
  // The built front end (web/dist) served beside the API (api/static_site.h); "" none.
  std::string web_dir;
  // Served under /media/; "" with a data directory (SQLite): DATA_DIR/media, else none.
  std::string media_dir;
};

// Reads `toml_text` (the file's content; `source` names it in messages) over `config`. Returns an
// error message naming the key at fault, or nullopt.
std::optional<std::string> apply_toml(ServeConfig& config, const std::string& toml_text,
                                      const std::string& source);
// Applies POINTSMALL_* variables of `environment` (POINTSMALL_DATA_DIR, POINTSMALL_STORE_URL,
// POINTSMALL_LISTEN,
// POINTSMALL_THREADS, POINTSMALL_ACCESS_LOG, POINTSMALL_TLS_CERTIFICATE,
// POINTSMALL_TLS_PRIVATE_KEY, POINTSMALL_WEB_DIR, POINTSMALL_MEDIA_DIR). Returns an error
// message or nullopt.
std::optional<std::string> apply_environment(ServeConfig& config,
                                             const std::map<std::string, std::string>& environment);
// "HOST:PORT" (IPv6 as "[::1]:8080") into the server options; an error message or nullopt.
std::optional<std::string> apply_listen(ServeConfig& config, const std::string& listen);
// Checks the whole configuration; an error message or nullopt.
std::optional<std::string> validate(const ServeConfig& config);
// The directory served under /media/: config.media_dir, else DATA_DIR/media on the embedded
// store, else "" (none).
std::string media_dir_of(const ServeConfig& config);

}  // namespace pointsmall::app
