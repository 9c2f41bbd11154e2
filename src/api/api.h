// The HTTP API: authenticates a request, finds its route in the one table (routes.cc), checks the
// caller's role, runs the handler, and records metrics and the access log.
//
// Contract: every request gets exactly one response; a handler that throws gets a 500 problem
// (after anything it committed stays committed: handlers write through the ledger, whose
// idempotency keys make retries safe); no input crashes the server.
#pragma once

#include <iosfwd>
#include <memory>
#include <mutex>
#include <string>

#include "api/metrics.h"
#include "api/program.h"
#include "api/static_site.h"
#include "auth/credential_store.h"
#include "core/clock.h"
#include "earning/programs.h"
#include "http/server.h"
#include "mall/service/mall_catalog.h"
#include "store/member_directory.h"
#include "store/store.h"

namespace pointsmall::api {

// What handlers use. All must outlive the Api.
struct Services {
  store::LedgerStore& ledger;
  store::MemberDirectory& members;
  auth::CredentialStore& credentials;
  const Clock& clock;
  ProgramSettings program;
  earning::EarningPrograms& earning;
  mall::MallCatalog& mall;
};

// Writes one JSON line per request (route template, status, duration, caller kind and role;
// no keys, tokens or personal data). Lines are buffered: written out when 64 KiB wait, when a line
// comes a second or more after the last write-out, and at flush() (shutdown).
class AccessLog {
 public:
  explicit AccessLog(std::ostream& out) : out_(out) {}
  ~AccessLog();
  void write(const std::string& line);
  void flush();

 private:
  std::mutex mutex_;
  std::ostream& out_;
  std::string buffer_;
  std::chrono::steady_clock::time_point last_flush_ = std::chrono::steady_clock::now();
};

class Api final : public http::Handler {
 public:
  // `access_log` may be null (no access log); `site` may be null (the API alone), else it
  // answers the paths it owns (api/static_site.h).
  Api(Services services, AccessLog* access_log, StaticSite* site = nullptr);
  ~Api() override;

  void handle(http::Request request, http::Reply reply) override;
  http::Response reject(http::ProtocolError error) override;

  [[nodiscard]] Services& services() { return services_; }
  [[nodiscard]] Metrics& metrics() { return metrics_; }

  struct Impl;

 private:
  Services services_;
  AccessLog* access_log_;
  StaticSite* site_;
  Metrics metrics_;
  std::unique_ptr<Impl> impl_;
};

// The route table as JSON lines {"method","path","roles"} (for `pointsmall routes`).
std::string route_table_json_lines();

}  // namespace pointsmall::api
