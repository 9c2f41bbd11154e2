// `pointsmall demo` as the README's first command and the browser tests use it: a fresh store
// that passes `check`, a demo.json the tests read, and a served mall where the demo member signs
// in, has points, sees the catalog with its pictures and earns the plain base rate today (the
// browser test doubles it with a campaign of its own); the operator signs in with TOTP.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <set>
#include <string>

#include "../api/api_fixture.h"

namespace pointsmall::api_test {
namespace {

namespace fs = std::filesystem;

const std::string& data_set() {
  static const std::string path = std::string(POINTSMALL_SOURCE_DIR) + "/data/online_retail.csv.gz";
  return path;
}

// One demo store for every test of this file: it takes a few seconds to make.
class Demo : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = new ScratchDir();  // NOLINT: gtest's suite-level fixture idiom
    dir_ = scratch_->file("demo");
    run_ = new CliResult(run_cli({"demo", "--data-dir", dir_, "--data", data_set()}, *scratch_));
  }
  static void TearDownTestSuite() {
    delete run_;
    delete scratch_;
  }

  static json described() {
    return json::parse(read_text_file(dir_ + "/demo.json"), nullptr, false);
  }

  static ScratchDir* scratch_;
  static std::string dir_;
  static CliResult* run_;
};
ScratchDir* Demo::scratch_ = nullptr;
std::string Demo::dir_;
CliResult* Demo::run_ = nullptr;

TEST_F(Demo, FillsAStoreThatChecksCleanAndSaysHowToSignIn) {
  ASSERT_EQ(run_->exit_code, 0) << run_->out << run_->err;
  for (const char* text :
       {"login demo", "password demo-points-2026", "name admin", "password demo-console-2026",
        "TOTP secret: ", "otpauth://totp/", "/admin/"})
    EXPECT_NE(run_->out.find(text), std::string::npos) << text << " in:\n" << run_->out;
  const CliResult check = run_cli({"check", "--data-dir", dir_}, *scratch_);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("all invariants hold"), std::string::npos) << check.out;
  EXPECT_NE(check.out.find("checked 4,334 members"), std::string::npos) << check.out;
}

TEST_F(Demo, WritesDemoJsonForTheOwnerOnly) {
  ASSERT_EQ(run_->exit_code, 0) << run_->err;
  struct stat info {};
  ASSERT_EQ(::stat((dir_ + "/demo.json").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600U);
  const json demo = described();
  ASSERT_TRUE(demo.is_object()) << read_text_file(dir_ + "/demo.json");
  EXPECT_GT(demo["member"]["id"].get<std::int64_t>(), 0);
  EXPECT_FALSE(demo["member"]["external_id"].get<std::string>().empty());
  EXPECT_EQ(demo["member"]["login"], "demo");
  EXPECT_EQ(demo["member"]["password"], "demo-points-2026");
  EXPECT_EQ(demo["operator"]["name"], "admin");
  EXPECT_EQ(demo["operator"]["password"], "demo-console-2026");
  EXPECT_GE(demo["operator"]["totp_secret"].get<std::string>().size(), 16U);
  EXPECT_EQ(demo["api_key"].get<std::string>().rfind("pm_", 0), 0U);
  EXPECT_NE(read_text_file(dir_ + "/pointsmall.toml").find("currency = \"GBP\""),
            std::string::npos);
}

TEST_F(Demo, ASecondRunOnTheSameDirectoryIsRefused) {
  ASSERT_EQ(run_->exit_code, 0) << run_->err;
  const std::string before = read_text_file(dir_ + "/demo.json");
  const CliResult again = run_cli({"demo", "--data-dir", dir_, "--data", data_set()}, *scratch_);
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("pointsmall.db exists"), std::string::npos) << again.err;
  EXPECT_EQ(read_text_file(dir_ + "/demo.json"), before) << "nothing was touched";
}

TEST_F(Demo, TheServedMallWorksForTheDemoMemberAndOperator) {
  ASSERT_EQ(run_->exit_code, 0) << run_->err;
  const json demo = described();
  ServerSetup setup;
  setup.data_dir = dir_;
  setup.config_toml = read_text_file(dir_ + "/pointsmall.toml");
  ServerProcess server(setup);
  ASSERT_TRUE(server.start());
  ApiClient client(server.port());

  // The member signs in with the demo's login and has points.
  const HttpResponse login =
      client.call_json("POST", "/v1/auth/member/login",
                       {{"login", "demo"}, {"password", demo["member"]["password"]}});
  ASSERT_EQ(login.status, 201) << login.describe();
  const Headers member = bearer(login.json().value("token", ""));
  const HttpResponse balance = client.call("GET", "/v1/me/balance", member);
  ASSERT_EQ(balance.status, 200) << balance.describe();
  const std::int64_t available = balance.json()["available"].get<std::int64_t>();
  EXPECT_GT(available, 0);
  EXPECT_EQ(balance.json()["member_id"], demo["member"]["id"]);

  // At least 50 items, each with a picture that is served; five or more in stock and affordable.
  const HttpResponse items = client.call("GET", "/v1/me/items?limit=100", member);
  ASSERT_EQ(items.status, 200) << items.describe();
  const json listed = items.json();
  const json& data = listed["data"];
  EXPECT_GE(data.size(), 50U);
  std::set<std::string> categories;
  int affordable_in_stock = 0;
  for (const json& item : data) {
    categories.insert(item.value("category", ""));
    if (item["affordable"] == true && (item["stock_left"].is_null() || item["stock_left"] > 0))
      ++affordable_in_stock;
    ASSERT_FALSE(item["images"].empty()) << item;
    const std::string image = item["images"][0].get<std::string>();
    EXPECT_EQ(image.rfind("/media/items/", 0), 0U) << image;
    const HttpResponse picture = client.call("GET", image);
    EXPECT_EQ(picture.status, 200) << image;
    EXPECT_EQ(picture.header("content-type"), "image/svg+xml") << image;
    EXPECT_EQ(picture.body.rfind("<svg", 0), 0U) << image;
  }
  EXPECT_GE(affordable_in_stock, 5);
  EXPECT_GE(categories.size(), 6U);
  int unaffordable = 0;
  for (const json& item : data) unaffordable += item["affordable"] == false ? 1 : 0;
  EXPECT_GE(unaffordable, 3) << "some items are worth saving for";

  // History to look at: orders and check-ins; today's check-in is still the member's to make.
  const HttpResponse orders = client.call("GET", "/v1/me/redemptions", member);
  ASSERT_EQ(orders.status, 200) << orders.describe();
  EXPECT_GE(orders.json()["data"].size(), 2U);
  const HttpResponse checkins = client.call("GET", "/v1/me/checkins", member);
  ASSERT_EQ(checkins.status, 200) << checkins.describe();
  EXPECT_EQ(checkins.json()["checked_in_today"], false);
  EXPECT_GE(checkins.json()["streak"].get<int>(), 1);

  // The operator signs in with password and TOTP.
  bool signed_in = false;
  const std::string secret = demo["operator"]["totp_secret"].get<std::string>();
  for (std::int64_t step = -1; step <= 1 && !signed_in; ++step) {
    const HttpResponse r = client.call_json("POST", "/v1/auth/operator/login",
                                            {{"name", "admin"},
                                             {"password", demo["operator"]["password"]},
                                             {"totp_code", totp_now(secret, step)}});
    signed_in = r.status == 200;
  }
  EXPECT_TRUE(signed_in) << "the demo operator signs in with password and TOTP";

  // A plain purchase today earns exactly the base rate: 1 point per pound, nothing multiplied.
  const Headers key = bearer(demo["api_key"].get<std::string>());
  const HttpResponse purchase =
      client.call_json("POST", "/v1/events",
                       {{"type", "purchase"},
                        {"member_id", demo["member"]["id"]},
                        {"order_id", "demo-test-1"},
                        {"amount", {{"amount", 4250}, {"currency", "GBP"}}}},
                       with(key, "Idempotency-Key", "demo-test-purchase"));
  ASSERT_EQ(purchase.status, 201) << purchase.describe();
  EXPECT_EQ(purchase.json()["points"], 42) << purchase.body;
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace pointsmall::api_test
