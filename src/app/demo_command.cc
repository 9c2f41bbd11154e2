// `pointsmall demo --data-dir DIR`: a fresh store that looks like a real, lively program. The
// program's documents, the catalog and the credentials are saved through the same interfaces the
// API uses (EarningPrograms, MallCatalog, CredentialStore); the members and their year of
// purchases come from the Online Retail data set through the importer, moved so that the year
// ends yesterday; check-ins and orders go through the same preparers as the API's.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <ostream>
#include <random>

#include "api/program.h"
#include "app/commands.h"
#include "app/demo_program.h"
#include "app/stores.h"
#include "auth/crypto.h"
#include "core/time_zone.h"
#include "earning/event_payload.h"
#include "earning/member_facts.h"
#include "earning/preparers.h"
#include "earning/programs.h"
#include "ledger/policy.h"
#include "mall/service/hold_release.h"
#include "mall/service/mall_catalog.h"
#include "mall/service/preparers.h"
#include "store/settlement.h"

namespace pointsmall::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kActor = "demo";
constexpr const char* kTimeZone = "Europe/London";
constexpr TimeUs kUsPerDay = 86'400'000'000LL;
constexpr TimeUs kUsPerHour = 3'600'000'000LL;
constexpr int kPoolSize = 20;
constexpr std::int64_t kSampleEvery = 25;  // every 25th member checks in and redeems
constexpr Points kDemoMemberGoodwillPoints = 5000;

// Collects what the writer answers (its callbacks run on the writer thread).
class Results {
 public:
  store::LedgerStore::Callback count() {
    return [this](const store::CommandResult& result) {
      std::lock_guard lock(mutex_);
      if (result.ok()) {
        ++accepted_;
      } else {
        ++refused_;
        if (result.rejection)
          last_problem_ = std::string(ledger::rejection_name(*result.rejection));
        if (result.refusal) last_problem_ = result.refusal->problem + ": " + result.refusal->detail;
        if (!result.storage_error.empty()) last_problem_ = result.storage_error;
      }
    };
  }
  std::int64_t accepted() {
    std::lock_guard lock(mutex_);
    return accepted_;
  }
  std::int64_t refused() {
    std::lock_guard lock(mutex_);
    return refused_;
  }
  std::string last_problem() {
    std::lock_guard lock(mutex_);
    return last_problem_;
  }

 private:
  std::mutex mutex_;
  std::int64_t accepted_ = 0;
  std::int64_t refused_ = 0;
  std::string last_problem_;
};

// Everything the demo works with once the store exists.
struct Demo {
  Demo(store::LedgerStore& ledger_in, store::MemberDirectory& members_in,
       auth::CredentialStore& credentials_in, earning::EarningPrograms& programs_in,
       mall::MallCatalog& catalog_in, TimeUs now_us_in)
      : ledger(ledger_in),
        members(members_in),
        credentials(credentials_in),
        programs(programs_in),
        catalog(catalog_in),
        now_us(now_us_in) {}

  store::LedgerStore& ledger;
  store::MemberDirectory& members;
  auth::CredentialStore& credentials;
  earning::EarningPrograms& programs;
  mall::MallCatalog& catalog;
  TimeUs now_us;
  Results results;
  std::int64_t checkins = 0;
  std::int64_t orders = 0;
};

bool save_program(earning::EarningPrograms& programs, const TimeZone& zone, TimeUs now_us,
                  Console console) {
  auto saved = [&](const earning::EarningPrograms::Saved& result, const std::string& what) {
    if (result.errors.empty() && !result.exists && !result.stale) return true;
    console.err << "error: the demo's " << what << " was refused:";
    for (const FieldError& error : result.errors)
      console.err << " " << error.field << " " << error.message << ";";
    console.err << "\n";
    return false;
  };
  using Kind = earning::DocumentKind;
  for (const json& rule : demo_data::rules())
    if (!saved(programs.save(Kind::rule, "", rule, true, std::nullopt, kActor), "rule"))
      return false;
  if (!saved(programs.save(Kind::tiers, "default", demo_data::tiers(), false, std::nullopt, kActor),
             "tiers"))
    return false;
  if (!saved(programs.save(Kind::engagement, "default", demo_data::engagement(), false,
                           std::nullopt, kActor),
             "engagement"))
    return false;
  for (const json& campaign : demo_data::campaigns(zone, now_us))
    if (!saved(programs.save(Kind::campaign, "", campaign, true, std::nullopt, kActor), "campaign"))
      return false;
  return true;
}

bool write_file(const fs::path& path, const std::string& text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return false;
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      ::close(fd);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  ::fchmod(fd, mode);
  return ::close(fd) == 0;
}

// Coupon templates, items (with their pictures in DATA_DIR/media/items) and the pool's codes.
bool save_catalog(Demo& demo, const fs::path& data_dir, Console console) {
  auto refused = [&](const mall::MallCatalog::Saved& result, const std::string& what) {
    if (result.errors.empty() && !result.exists && !result.stale) return false;
    console.err << "error: the demo's " << what << " was refused:";
    for (const FieldError& error : result.errors)
      console.err << " " << error.field << " " << error.message << ";";
    console.err << "\n";
    return true;
  };
  for (const json& coupon_template : demo_data::coupon_templates())
    if (refused(demo.catalog.save(mall::CatalogKind::coupon_template, "", coupon_template, true,
                                  kActor),
                "coupon template " + coupon_template.value("id", "")))
      return false;
  const fs::path images = data_dir / "media" / "items";
  std::error_code ec;
  fs::create_directories(images, ec);
  for (const json& item : demo_data::items()) {
    const std::string id = item.at("id").get<std::string>();
    if (refused(demo.catalog.save(mall::CatalogKind::item, "", item, true, kActor), "item " + id))
      return false;
    const std::string svg = demo_data::item_svg(id, item.at("name").get<std::string>(),
                                                item.at("category").get<std::string>());
    if (!write_file(images / (id + ".svg"), svg, 0644)) {
      console.err << "error: cannot write " << (images / (id + ".svg")).string() << "\n";
      return false;
    }
  }
  const auto snapshot = demo.catalog.current();
  const mall::CouponTemplate* pool_template = snapshot->coupon_template(demo_data::kPoolTemplate);
  std::string csv = "code\n";
  for (const std::string& code : demo_data::pool_codes(kPoolSize)) csv += code + "\n";
  const mall::PoolImport pool = mall::parse_coupon_pool_csv(csv);
  const mall::CouponWindow window = mall::issue_validity(*pool_template, demo.now_us);
  std::vector<store::Record> records;
  for (const std::string& code : pool.codes) {
    mall::Coupon coupon;
    coupon.code = code;
    coupon.template_id = pool_template->id;
    coupon.state = mall::CouponState::available;
    coupon.issued_at_us = demo.now_us;
    coupon.valid_from_us = window.valid_from_us;
    coupon.valid_until_us = window.valid_until_us;
    coupon.source = std::string(mall::kCouponSourcePool);
    records.push_back(store::Record{mall::kCouponRecord, code, 0, 0, "available", demo.now_us,
                                    demo.now_us, mall::coupon_to_json(coupon).dump()});
  }
  demo.ledger.insert_new_records(records);
  return true;
}

void check_in(Demo& demo, MemberId member, TimeUs at_us) {
  const json payload = {
      {"type", "checkin"}, {"member_id", member}, {"occurred_at", format_rfc3339_utc(at_us)}};
  ledger::Command command{"demo-checkin:" + std::to_string(member) + ":" +
                              format_local_date(demo.programs.zone(), at_us),
                          member,
                          at_us,
                          kActor,
                          "checkin",
                          ledger::RecordEvent{"checkin"}};
  command.event = ledger::EventRecord{"checkin", at_us, payload.dump()};
  rules::Member facts;
  facts.id = member;
  if (auto record = demo.members.find(member)) facts = earning::member_facts(*record, demo.ledger);
  auto preparer = std::make_shared<earning::EventPreparer>(
      demo.programs.current(), earning::event_from_payload("checkin", at_us, payload), facts);
  demo.ledger.submit_prepared(std::move(command), preparer, demo.results.count());
  ++demo.checkins;
}

// Runs of daily check-ins over the last year, ending at the latest the day before yesterday.
void check_in_over_the_year(Demo& demo, MemberId member, std::mt19937_64& random) {
  std::int64_t day = 360 - static_cast<std::int64_t>(random() % 60);
  while (day > 2) {
    const std::int64_t run = 1 + static_cast<std::int64_t>(random() % 8);
    for (std::int64_t i = 0; i < run && day > 2; ++i, --day)
      check_in(demo, member,
               demo_data::local_time(demo.programs.zone(), demo.now_us, -day,
                                     8 + static_cast<int>(random() % 12)));
    day -= 3 + static_cast<std::int64_t>(random() % 20);
  }
}

json address_of(MemberId member) {
  std::vector<FieldError> errors;
  const json given = {{"name", "Member " + std::to_string(member)},
                      {"line1", std::to_string(1 + member % 200) + " High Street"},
                      {"city", "London"},
                      {"postal_code", "N1 1AA"},
                      {"country", "GB"}};
  auto address = mall::read_shipping_address(given, "shipping_address", errors);
  return address ? mall::to_json(*address) : json();
}

// Places an order as POST /v1/redemptions does; returns its id (the order may still be refused:
// the writer's answer is counted in demo.results).
std::string place_order(Demo& demo, MemberId member, const mall::Item& item, TimeUs at_us) {
  const std::string key =
      "demo-order:" + std::to_string(member) + ":" + item.id + ":" + std::to_string(at_us);
  mall::RedeemRequest request;
  request.order_id = mall::order_id_for_key(key);
  request.member_id = member;
  request.item_id = item.id;
  request.quantity = 1;
  if (mall::needs_shipping(item)) request.shipping_address = address_of(member);
  if (item.kind == mall::ItemKind::coupon)
    request.coupon_codes = {mall::generate_code(auth::random_bytes)};
  ledger::Command command{
      key,    member, at_us,
      kActor, "",     ledger::PlaceHold{mall::hold_ref_of(request.order_id), 1, kTimeNever}};
  const mall::MallSnapshot snapshot{demo.programs.current(), demo.catalog.current()};
  std::string order_id = request.order_id;
  demo.ledger.submit_prepared(std::move(command),
                              std::make_shared<mall::RedeemPreparer>(snapshot, std::move(request)),
                              demo.results.count());
  ++demo.orders;
  return order_id;
}

// Takes `step` on the order as it is stored now, `hours` after it was made.
void take_step(Demo& demo, const std::string& order_id, mall::OrderStep step, std::int64_t hours) {
  auto record = demo.ledger.record({mall::kRedemptionRecord, order_id});
  if (!record) return;  // refused when placed
  mall::StepRequest request;
  request.order = mall::order_of(*record);
  request.step = step;
  if (step == mall::OrderStep::ship) {
    request.carrier = "Royal Mail";
    request.tracking_number = "RM" + std::to_string(100000000 + record->seq) + "GB";
  }
  if (step == mall::OrderStep::cancel) {
    request.note = "changed my mind";
    if (auto hold = demo.ledger.hold(request.order.member_id, mall::hold_ref_of(order_id)))
      request.hold_transaction_id = hold->transaction_id;
  }
  const TimeUs at_us =
      std::min(request.order.created_at_us + hours * kUsPerHour, demo.now_us - kUsPerHour);
  ledger::Command command{"demo-step:" + order_id + ":" + std::string(mall::order_step_name(step)),
                          request.order.member_id,
                          at_us,
                          kActor,
                          "",
                          ledger::RecordEvent{"redemption_step"}};
  const mall::MallSnapshot snapshot{demo.programs.current(), demo.catalog.current()};
  demo.ledger.submit_prepared(std::move(command),
                              std::make_shared<mall::StepPreparer>(snapshot, std::move(request)),
                              demo.results.count());
}

// Where an order ends: the steps it takes after it was made.
std::vector<mall::OrderStep> life_of(std::size_t index) {
  using Step = mall::OrderStep;
  switch (index % 6) {
    case 0:
    case 1:
      return {Step::confirm, Step::fulfil, Step::ship, Step::deliver};
    case 2:
      return {Step::confirm, Step::fulfil, Step::ship};
    case 3:
      return {Step::confirm};
    case 4:
      return {};  // still reserved: for an operator to confirm
    default:
      return {Step::cancel};
  }
}

// Takes every order through its life, one step at a time for all of them.
void run_lives(Demo& demo,
               const std::vector<std::pair<std::string, std::vector<mall::OrderStep>>>& lives) {
  for (std::size_t round = 0; round < 4; ++round) {
    for (const auto& [order_id, steps] : lives)
      if (round < steps.size())
        take_step(demo, order_id, steps[round], 20 + static_cast<std::int64_t>(round) * 30);
    demo.ledger.flush();
  }
}

// Check-ins and orders of every kSampleEvery-th member, over the last year.
void sample_activity(Demo& demo, MemberId last_member, std::mt19937_64& random) {
  const auto snapshot = demo.catalog.current();
  std::vector<const mall::Item*> goods;
  for (const auto& [id, item] : snapshot->items)
    if (item.kind == mall::ItemKind::physical && item.tags.empty() && item.points_price <= 2000)
      goods.push_back(&item);
  std::vector<std::pair<std::string, std::vector<mall::OrderStep>>> lives;
  std::size_t index = 0;
  for (MemberId member = 1; member <= last_member; member += kSampleEvery) {
    check_in_over_the_year(demo, member, random);
    const auto account = demo.ledger.account(member);
    if (!account || account->available < 1500 || goods.empty()) continue;
    const mall::Item& item = *goods[random() % goods.size()];
    const TimeUs at_us = demo.now_us - (3 + static_cast<TimeUs>(random() % 25)) * kUsPerDay;
    lives.emplace_back(place_order(demo, member, item, at_us), life_of(index++));
  }
  // The limited item sells out to the two richest of the sample.
  if (const mall::Item* limited = snapshot->item(demo_data::kSellOutItem)) {
    std::size_t sold = 0;
    for (MemberId member = 2; member <= last_member && sold < 2; member += kSampleEvery) {
      const auto account = demo.ledger.account(member);
      if (!account || account->available < 3000) continue;
      lives.emplace_back(place_order(demo, member, *limited, demo.now_us - (10 + sold) * kUsPerDay),
                         life_of(0));
      ++sold;
    }
  }
  demo.ledger.flush();
  run_lives(demo, lives);
}

// Items in stock, for everyone, that `points` pay for.
std::int64_t affordable_items(const mall::Catalog& catalog, Points points) {
  std::int64_t count = 0;
  for (const auto& [id, item] : catalog.items)
    if (item.points_price <= points && item.tags.empty() && item.eligible_tiers.empty() &&
        (!item.stock || *item.stock > 20))
      ++count;
  return count;
}

// The demo member: the earliest member (the longest history) still in the first tier, so that a
// purchase earns exactly the base rate (the browser tests double it with a campaign of their
// own), with a few points of their own; demo_member_activity tops them up.
std::optional<MemberId> pick_demo_member(Demo& demo, MemberId last_member) {
  const auto program = demo.programs.current();
  for (MemberId member = 1; member <= last_member; ++member) {
    if (member % kSampleEvery == 1 || member % kSampleEvery == 2) continue;  // sample members
    const auto account = demo.ledger.account(member);
    if (!account || account->available < 100 || account->available > 300) continue;
    const CounterKey tier{member, "tier"};
    if (mall::tier_level_of(*program, demo.ledger.counters({tier}), member) == 0) return member;
  }
  return std::nullopt;
}

// The demo member's own recent activity: a check-in streak up to yesterday (so that today's is
// theirs to make), a delivered order, a shipped one and a coupon in the wallet.
void demo_member_activity(Demo& demo, MemberId member) {
  demo.ledger.submit(
      ledger::Command{"demo-goodwill:" + std::to_string(member), member,
                      demo.now_us - 5 * kUsPerDay, kActor, "goodwill points from customer service",
                      ledger::Adjust{kDemoMemberGoodwillPoints}},
      demo.results.count());
  for (std::int64_t day = 3; day >= 1; --day)
    check_in(demo, member, demo_data::local_time(demo.programs.zone(), demo.now_us, -day, 9));
  const auto snapshot = demo.catalog.current();
  std::vector<std::pair<std::string, std::vector<mall::OrderStep>>> lives;
  using Step = mall::OrderStep;
  if (const mall::Item* item = snapshot->item("jumbo-bag-retrospot"))
    lives.emplace_back(place_order(demo, member, *item, demo.now_us - 20 * kUsPerDay),
                       std::vector<Step>{Step::confirm, Step::fulfil, Step::ship, Step::deliver});
  if (const mall::Item* item = snapshot->item("charlotte-bag"))
    lives.emplace_back(place_order(demo, member, *item, demo.now_us - 4 * kUsPerDay),
                       std::vector<Step>{Step::confirm, Step::fulfil, Step::ship});
  if (const mall::Item* item = snapshot->item("five-pounds-off"))
    place_order(demo, member, *item, demo.now_us - 6 * kUsPerDay);
  demo.ledger.flush();
  run_lives(demo, lives);
}

struct DemoCredentials {
  std::string member_login = "demo";
  std::string member_password = "demo-points-2026";
  std::string operator_name = "admin";
  std::string operator_password = "demo-console-2026";
  std::string totp_secret;
  std::string api_key;
};

bool make_credentials(Demo& demo, MemberId member, DemoCredentials& made, Console console) {
  auto login = demo.credentials.set_member_password(member, made.member_login, made.member_password,
                                                    demo.now_us);
  auto op = demo.credentials.create_operator(made.operator_name, auth::Role::admin,
                                             made.operator_password, demo.now_us);
  auto key = demo.credentials.create_api_key("demo-admin", auth::Role::admin, demo.now_us);
  if (!login.ok() || !op.ok() || !key.ok()) {
    console.err << "error: the demo's credentials were refused: "
                << (!login.ok() ? login.problem().message
                    : !op.ok()  ? op.problem().message
                                : key.problem().message)
                << "\n";
    return false;
  }
  made.totp_secret = op.value().totp_secret;
  made.api_key = key.value().key;
  store::MemberProfile profile;
  profile.name = "Alex Demo";
  profile.email = "demo@example.com";
  profile.region = "London";
  demo.members.put_profile(member, profile, demo.now_us);
  return true;
}

void print_sign_in(const DemoCredentials& made, const ledger::AccountRow& account,
                   const fs::path& data_dir, std::ostream& out) {
  out << "\nThe demo store is ready in " << data_dir.string() << ".\n"
      << "Serve it with the front end:\n"
      << "  pointsmall serve --config " << (data_dir / "pointsmall.toml").string() << " --data-dir "
      << data_dir.string() << " --web-dir web/dist\n"
      << "then open the member mall at / and the operators' console at /admin/.\n\n"
      << "Member (mall, /):       login " << made.member_login << ", password "
      << made.member_password << "\n"
      << "                        member " << account.member_id << " (customer "
      << account.external_id << "), " << with_commas(account.available) << " points available\n"
      << "Operator (console, /admin/): name " << made.operator_name << ", password "
      << made.operator_password << "\n"
      << "  TOTP secret: " << made.totp_secret << "\n"
      << "  TOTP URI: " << auth::totp_uri("pointsmall", made.operator_name, made.totp_secret)
      << "\n"
      << "Admin API key: " << made.api_key << "\n"
      << "All of this is in " << (data_dir / "demo.json").string() << " (readable by you only).\n";
}

// `given` when it is a file; else, for the default relative path, the data set beside the build
// directory of this binary (build/pointsmall -> data/online_retail.csv.gz), so that the demo
// also runs from another directory (the browser tests run from web/); "" when neither is.
std::string find_data_set(const std::string& given) {
  std::error_code ec;
  if (fs::is_regular_file(given, ec)) return given;
  if (given != DemoOptions{}.data_file) return {};
  const fs::path binary = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  const fs::path beside = binary.parent_path().parent_path() / given;
  return fs::is_regular_file(beside, ec) ? beside.string() : std::string();
}

constexpr const char* kConfig = R"([program]
name = "Online Retail rewards"
currency = "GBP"
points_per_unit = { GBP = 1 }
time_zone = "Europe/London"
expiry = "days:365"
return_window_days = 0
)";

}  // namespace

int demo(const DemoOptions& options, const Clock& clock, Console console) {
  const fs::path data_dir(options.data_dir);
  std::error_code ec;
  if (fs::exists(data_dir / "pointsmall.db", ec)) {
    console.err << "error: " << (data_dir / "pointsmall.db").string()
                << " exists: the demo fills a fresh store only (give another --data-dir)\n";
    return kExitBadInput;
  }
  const std::string data_file = find_data_set(options.data_file);
  if (data_file.empty()) {
    console.err << "error: cannot read the data set " << options.data_file
                << " (run from the repository's root, or give --data FILE)\n";
    return kExitBadInput;
  }
  const auto started = std::chrono::steady_clock::now();
  std::ostream null_stream(nullptr);
  std::ostream& out = options.quiet ? null_stream : console.out;
  const TimeUs now_us = clock.now_us();
  const auto zone = TimeZone::load(kTimeZone);
  StoreSettings settings;
  settings.policy_if_new.expiry = *ledger::parse_expiry_policy("days:365");
  settings.policy_if_new.shortfall = *ledger::parse_shortfall_policy("debt");
  settings.policy_if_new.zone = zone;
  settings.time_zone_if_new = kTimeZone;
  const StoreLocation where{options.data_dir, ""};
  {  // the program first, so that the imported purchases earn under it (tiers included)
    auto stores = open_stores(where, true, settings, console);
    if (!stores) return kExitBadInput;
    earning::EarningPrograms programs(*stores->documents, zone, clock);
    if (!save_program(programs, *zone, now_us, console)) return kExitProblem;
  }
  ImportOptions import;
  import.file = data_file;
  import.data_dir = options.data_dir;
  import.time_zone = kTimeZone;
  import.quiet = options.quiet;
  import.end_yesterday_of_us = now_us;
  if (const int code = import_online_retail(import, Console{out, console.err}); code != kExitOk)
    return code;

  auto stores = open_stores(where, false, settings, console);
  if (!stores) return kExitBadInput;
  earning::EarningPrograms programs(*stores->documents, zone, clock);
  mall::MallCatalog catalog(*stores->documents, programs, clock);
  Demo demo(*stores->ledger, *stores->members, *stores->credentials, programs, catalog, now_us);
  if (!save_catalog(demo, data_dir, console)) return kExitProblem;
  const MemberId last_member = static_cast<MemberId>(demo.ledger.summary().members);
  std::mt19937_64 random(20261123);
  sample_activity(demo, last_member, random);
  demo.ledger.flush();
  // Points older than a year expire now, as the server's settler would do at its first run.
  store::settle_due(demo.ledger, now_us,
                    mall::hold_release_preparers(demo.ledger, catalog, programs));
  const auto member = pick_demo_member(demo, last_member);
  if (!member) {
    console.err << "error: no member of the data set has points enough to be the demo member\n";
    return kExitProblem;
  }
  demo_member_activity(demo, *member);
  DemoCredentials made;
  if (!make_credentials(demo, *member, made, console)) return kExitProblem;
  demo.ledger.flush();
  const auto account = demo.ledger.account(*member);
  if (affordable_items(*catalog.current(), account->available) < 5) {
    console.err << "error: the demo member cannot afford five items\n";
    return kExitProblem;
  }

  json described = {{"member",
                     {{"id", *member},
                      {"external_id", account->external_id},
                      {"login", made.member_login},
                      {"password", made.member_password}}},
                    {"operator",
                     {{"name", made.operator_name},
                      {"password", made.operator_password},
                      {"totp_secret", made.totp_secret}}},
                    {"api_key", made.api_key}};
  if (!write_file(data_dir / "demo.json", described.dump(2) + "\n", 0600) ||
      !write_file(data_dir / "pointsmall.toml", kConfig, 0644)) {
    console.err << "error: cannot write demo.json or pointsmall.toml in " << options.data_dir
                << "\n";
    return kExitProblem;
  }
  const auto seconds = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  out << "demo: " << with_commas(demo.checkins) << " check-ins and " << with_commas(demo.orders)
      << " orders (" << with_commas(demo.results.refused()) << " refused"
      << (demo.results.refused() > 0 ? ", last: " + demo.results.last_problem() : "") << "), "
      << demo_data::items().size() << " items, in " << seconds / 1000 << "."
      << (seconds % 1000) / 100 << " s\n";
  print_sign_in(made, *account, data_dir, out);
  return kExitOk;
}

}  // namespace pointsmall::app
