#include "app/serve_config.h"

#include <gtest/gtest.h>

namespace pointsmall::app {
namespace {

TEST(ServeConfig, DefaultsListenOnLoopback8080AndAreValid) {
  ServeConfig config;
  EXPECT_EQ(config.server.host, "127.0.0.1");
  EXPECT_EQ(config.server.port, 8080);
  EXPECT_FALSE(validate(config));
}

TEST(ServeConfig, FileThenEnvironmentOverride) {
  ServeConfig config;
  const std::string toml = R"(
[server]
listen = "0.0.0.0:9000"
threads = 4
access_log = false
[store]
data_dir = "/var/lib/pointsmall"
[program]
currency = "EUR"
return_window_days = 30
accepted_lateness_days = 7
points_per_unit = { EUR = 2, USD = 1 }
[mall]
payment_minutes = 15
confirm_within_hours = 72
)";
  ASSERT_FALSE(apply_toml(config, toml, "test.toml"));
  EXPECT_EQ(config.server.host, "0.0.0.0");
  EXPECT_EQ(config.server.port, 9000);
  EXPECT_EQ(config.server.threads, 4U);
  EXPECT_FALSE(config.access_log);
  EXPECT_EQ(config.program.currency, "EUR");
  EXPECT_EQ(config.program.return_window_us, 30LL * 86'400'000'000);
  EXPECT_EQ(config.program.accepted_lateness_us, 7LL * 86'400'000'000);
  ASSERT_EQ(config.program.accepted.size(), 2U);
  EXPECT_EQ(config.program.redemption_payment_window_us, 15LL * 60'000'000);
  EXPECT_EQ(config.program.redemption_confirm_window_us, 72LL * 3'600'000'000);
  EXPECT_FALSE(validate(config));

  ASSERT_FALSE(apply_environment(config, {{"POINTSMALL_LISTEN", "127.0.0.1:9100"},
                                          {"POINTSMALL_DATA_DIR", "/tmp/x"},
                                          {"POINTSMALL_ACCESS_LOG", "true"}}));
  EXPECT_EQ(config.server.port, 9100);
  EXPECT_EQ(config.data_dir, "/tmp/x");
  EXPECT_TRUE(config.access_log);
}

TEST(ServeConfig, ErrorsNameTheKeyAtFault) {
  ServeConfig config;
  auto error = apply_toml(config, "[server]\nthreads = \"two\"\n", "c.toml");
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("server.threads"), std::string::npos) << *error;
  error = apply_toml(config, "[server]\nlisten_on = \"x\"\n", "c.toml");
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("server.listen_on"), std::string::npos) << *error;
  error = apply_toml(config, "[server\n", "c.toml");
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("c.toml"), std::string::npos) << *error;
  EXPECT_TRUE(apply_environment(config, {{"POINTSMALL_THREADS", "0"}}));
  EXPECT_TRUE(apply_listen(config, "localhost"));
  EXPECT_TRUE(apply_listen(config, "127.0.0.1:70000"));
}

TEST(ServeConfig, ValidationRefusesAProgramCurrencyWithoutARate) {
  ServeConfig config;
  config.program.currency = "EUR";  // accepted is USD only
  EXPECT_TRUE(validate(config));
  config = ServeConfig{};
  config.time_zone = "Mars/Olympus";
  EXPECT_TRUE(validate(config));
  config = ServeConfig{};
  config.server.tls_certificate_file = "cert.pem";  // without its key
  EXPECT_TRUE(validate(config));
}

TEST(ServeConfig, TheWebFrontEndComesFromTheFileThenTheEnvironment) {
  ServeConfig config;
  EXPECT_EQ(media_dir_of(config), "data/ledger/media") << "the embedded store's media";
  ASSERT_FALSE(
      apply_toml(config, "[web]\ndir = \"/srv/web\"\nmedia_dir = \"/srv/media\"\n", "test.toml"));
  EXPECT_EQ(config.web_dir, "/srv/web");
  EXPECT_EQ(media_dir_of(config), "/srv/media");
  ASSERT_FALSE(apply_environment(config, {{"POINTSMALL_WEB_DIR", "/opt/dist"}}));
  EXPECT_EQ(config.web_dir, "/opt/dist");
  EXPECT_EQ(config.media_dir, "/srv/media");
  auto error = apply_toml(config, "[web]\nroot = \"x\"\n", "test.toml");
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("web.root is not a known key"), std::string::npos) << *error;
  ServeConfig shared;
  shared.store_url = "postgresql://localhost/pointsmall";
  EXPECT_EQ(media_dir_of(shared), "") << "no media directory beside a shared database";
}

}  // namespace
}  // namespace pointsmall::app
