// `pointsmall serve`: the ledger, the member directory and the credentials on the embedded
// SQLite store or on PostgreSQL (app/stores.h), behind the HTTP API.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "api/api.h"
#include "app/commands.h"
#include "app/serve_config.h"
#include "app/settler.h"
#include "app/stores.h"
#include "core/time_zone.h"
#include "earning/programs.h"
#include "http/server.h"
#include "ledger/policy.h"
#include "mall/service/hold_release.h"

namespace pointsmall::app {

int serve(const ServeConfig& config, const std::string& port_file, Console console) {
  if (auto error = validate(config)) {
    console.err << "error: " << *error << "\n";
    return kExitBadInput;
  }
  // The web front end and the media, checked before the store is opened.
  std::string site_error;
  std::unique_ptr<api::StaticSite> site;
  if (!config.web_dir.empty() || !media_dir_of(config).empty()) {
    site = api::StaticSite::open(config.web_dir, media_dir_of(config), site_error);
    if (!site) {
      console.err << "error: " << site_error << "\n";
      return kExitBadInput;
    }
  }
  StoreSettings settings;
  settings.max_batch = config.max_batch;
  settings.readers = config.store_pool_size;
  settings.policy_if_new.expiry = *ledger::parse_expiry_policy(config.expiry);
  settings.policy_if_new.shortfall = *ledger::parse_shortfall_policy(config.shortfall);
  settings.policy_if_new.zone = TimeZone::load(config.time_zone);
  settings.time_zone_if_new = config.time_zone;
  const StoreLocation where{config.data_dir, config.store_url};
  std::optional<Stores> stores = open_stores(where, true, settings, console);
  if (!stores) return kExitBadInput;
  store::LedgerStore* ledger = stores->ledger.get();
  store::MemberDirectory* members = stores->members.get();
  store::EarningDocuments* documents = stores->documents.get();
  auth::CredentialStore* credentials = stores->credentials.get();

  // Tests of the whole server set its time through a file (core/clock.h); else the real time.
  SystemClock system_clock;
  std::optional<FileClock> test_clock;
  if (const char* clock_file = std::getenv("POINTSMALL_TEST_CLOCK_FILE"))
    test_clock.emplace(clock_file);
  const Clock& clock = test_clock ? static_cast<const Clock&>(*test_clock) : system_clock;
  earning::EarningPrograms programs(*documents, ledger->policy().zone, clock);
  try {
    programs.seed_if_empty(api::default_rules(config.program));
    programs.current();  // every stored document must be readable before serving
  } catch (const std::exception& failure) {
    console.err << "error: the earning program cannot be loaded: " << failure.what() << "\n";
    return kExitBadInput;
  }
  mall::MallCatalog catalog(*documents, programs, clock);
  try {
    catalog.current();  // every stored item and coupon template must be readable too
  } catch (const std::exception& failure) {
    console.err << "error: the mall's catalog cannot be loaded: " << failure.what() << "\n";
    return kExitBadInput;
  }
  std::optional<Settler> settler;
  if (config.settle_interval.count() > 0)
    settler.emplace(*ledger, programs, mall::hold_release_preparers(*ledger, catalog, programs),
                    clock, config.settle_interval, console.err);
  std::optional<api::AccessLog> access_log;
  if (config.access_log) access_log.emplace(console.out);
  http::ServerOptions server_options = config.server;
  server_options.stop_on_signals = true;
  const bool tls = !server_options.tls_certificate_file.empty();
  api::ProgramSettings program = config.program;
  program.secure_cookies = tls;  // the session cookie never travels without TLS once it has it
  api::Api api(api::Services{*ledger, *members, *credentials, clock, program, programs, catalog},
               access_log ? &*access_log : nullptr, site.get());
  std::optional<http::Server> server;
  try {
    server.emplace(server_options, api);
  } catch (const std::exception& failure) {
    console.err << "error: " << failure.what() << "\n";
    return kExitBadInput;
  }
  console.err << "pointsmall: serving " << (tls ? "https" : "http") << "://" << server_options.host
              << ":" << server->port() << " (ledger in " << where.describe() << ")"
              << (config.web_dir.empty() ? "" : " with the web front end from " + config.web_dir)
              << "; stop with Ctrl-C\n";
  if (!port_file.empty()) {
    const std::string temporary = port_file + ".tmp";
    std::ofstream(temporary) << server->port() << "\n";
    std::filesystem::rename(temporary, port_file);  // readers never see half a number
  }
  server->run();  // returns after SIGINT/SIGTERM once in-flight requests are answered
  server.reset();
  settler.reset();
  ledger->flush();
  if (access_log) access_log->flush();
  console.err << "pointsmall: stopped; every acknowledged write is durable\n";
  return kExitOk;
}

}  // namespace pointsmall::app
