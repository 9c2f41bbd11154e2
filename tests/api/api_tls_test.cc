// HTTPS: with a certificate and key in the config file the server speaks TLS only, and marks the
// console's session cookie Secure. The certificate is made by the openssl command line and the
// client is curl, both from Debian, so nothing here shares code with the server.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <string>

#include "api_fixture.h"
#include "auth/crypto.h"

namespace pointsmall::api_test {
namespace {

// Runs a shell command; its standard output, or "" with a test failure when it fails.
std::string shell(const std::string& command, const ScratchDir& scratch) {
  const std::string out = scratch.file("shell.out");
  const int status =
      std::system((command + " >" + out + " 2>" + scratch.file("shell.err")).c_str());
  if (status != 0) {
    ADD_FAILURE() << command << " failed: " << read_text_file(scratch.file("shell.err"));
    return "";
  }
  return read_text_file(out);
}

class ApiTls : public ::testing::Test {
 protected:
  void SetUp() override {
    shell("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout " +
              scratch_.file("key.pem") + " -out " + scratch_.file("cert.pem"),
          scratch_);
  }
  std::string config() const {
    return "[server]\ntls_certificate = \"" + scratch_.file("cert.pem") +
           "\"\ntls_private_key = \"" + scratch_.file("key.pem") + "\"\n";
  }
  std::string curl(const std::string& arguments) {
    return shell("curl -s --max-time 10 --cacert " + scratch_.file("cert.pem") + " " + arguments,
                 scratch_);
  }

  ScratchDir scratch_;
};

TEST_F(ApiTls, ServesHttpsOnlyAndMarksTheSessionCookieSecure) {
  ServerProcess server(ServerSetup{"", config()});
  const std::string secret = server.create_operator("tls-admin", "admin", kOperatorPassword);
  ASSERT_TRUE(server.start());
  const std::string base = "https://localhost:" + std::to_string(server.port());
  EXPECT_EQ(curl(base + "/healthz"), R"({"status":"ok"})");

  // Plain HTTP to the same port gets no HTTP answer.
  const int plain = std::system(("curl -s --max-time 5 -o /dev/null http://127.0.0.1:" +
                                 std::to_string(server.port()) + "/healthz")
                                    .c_str());
  EXPECT_NE(plain, 0);

  const std::int64_t step = static_cast<std::int64_t>(std::time(nullptr)) / 30;
  const std::string body = R"({"name":"tls-admin","password":")" + std::string(kOperatorPassword) +
                           R"(","totp_code":")" + auth::totp_code(secret, step) + R"("})";
  const std::string headers = curl("-D - -o /dev/null -H 'Content-Type: application/json' -d '" +
                                   body + "' " + base + "/v1/auth/operator/login");
  EXPECT_NE(headers.find("HTTP/1.1 200"), std::string::npos) << headers;
  EXPECT_NE(headers.find("; Secure"), std::string::npos) << headers;
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace pointsmall::api_test
