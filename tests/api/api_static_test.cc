// The web front end served by `pointsmall serve` beside the API ([web] dir and media_dir): what a
// browser fetching the mall and the console sees (types, caching, revalidation, the single-page
// apps' routes), and what an attacker probing paths does not get.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "api_fixture.h"

namespace pointsmall::api_test {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMallPage = "<!doctype html><title>mall</title>";
constexpr const char* kConsolePage = "<!doctype html><title>console</title>";
constexpr const char* kScript = "console.log('mall');\n";
constexpr const char* kSecret = "top secret, outside the web directory";

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// A built front end (index.html, admin/index.html, assets/, a favicon, a manifest) and media,
// with a secret beside them that must never be served, and a symlink pointing at it.
class ApiWeb : public ::testing::Test {
 protected:
  ApiWeb() : server_(setup()) {}

  ServerSetup setup() {
    const fs::path web = files_.path() / "web";
    const fs::path media = files_.path() / "media";
    write(web / "index.html", kMallPage);
    write(web / "admin" / "index.html", kConsolePage);
    write(web / "assets" / "mall-Ab12Cd.js", kScript);
    write(web / "assets" / "mall-Ab12Cd.css", "body{margin:0}");
    write(web / "assets" / "font-X1.woff2", "wOF2");
    write(web / "favicon.ico", "ico");
    write(web / "site.webmanifest", "{}");
    write(web / "robots.txt", "User-agent: *\n");
    write(web / "data.bin", "\x01\x02");
    write(media / "items" / "mug.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
    write(files_.path() / "secret.txt", kSecret);
    fs::create_symlink(files_.path() / "secret.txt", web / "leak.txt");
    ServerSetup setup;
    setup.config_toml =
        "[web]\ndir = \"" + web.string() + "\"\nmedia_dir = \"" + media.string() + "\"\n";
    return setup;
  }

  void SetUp() override {
    ASSERT_TRUE(server_.start());
    client_.emplace(server_.port());
  }

  HttpResponse get(const std::string& target, Headers headers = {}) {
    return client_->call("GET", target, std::move(headers));
  }

  // Nothing of the secret, and no page in place of a file: a 404 or 400 problem.
  static ::testing::AssertionResult refused(const HttpResponse& r) {
    if (r.body.find("top secret") != std::string::npos)
      return ::testing::AssertionFailure() << "leaked: " << r.describe();
    if (r.status != 404 && r.status != 400)
      return ::testing::AssertionFailure() << "expected 404 or 400, got " << r.describe();
    if (r.header("content-type").rfind("application/problem+json", 0) != 0)
      return ::testing::AssertionFailure() << "not a problem: " << r.describe();
    return ::testing::AssertionSuccess();
  }

  ScratchDir files_;
  ServerProcess server_;
  std::optional<ApiClient> client_;
};

TEST_F(ApiWeb, FilesAreServedWithTheirTypeAndNosniff) {
  const std::pair<const char*, const char*> cases[] = {
      {"/assets/mall-Ab12Cd.js", "text/javascript; charset=utf-8"},
      {"/assets/mall-Ab12Cd.css", "text/css; charset=utf-8"},
      {"/assets/font-X1.woff2", "font/woff2"},
      {"/favicon.ico", "image/x-icon"},
      {"/site.webmanifest", "application/manifest+json"},
      {"/robots.txt", "text/plain; charset=utf-8"},
      {"/data.bin", "application/octet-stream"},
      {"/index.html", "text/html; charset=utf-8"},
      {"/media/items/mug.svg", "image/svg+xml"},
  };
  for (const auto& [path, type] : cases) {
    const HttpResponse r = get(path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.describe();
    EXPECT_EQ(r.header("content-type"), type) << path;
    EXPECT_EQ(r.header("x-content-type-options"), "nosniff") << path;
  }
  EXPECT_EQ(get("/assets/mall-Ab12Cd.js").body, kScript);
}

TEST_F(ApiWeb, HashedAssetsAreImmutableHtmlIsRevalidatedTheRestCachedAnHour) {
  const HttpResponse asset = get("/assets/mall-Ab12Cd.js");
  EXPECT_EQ(asset.header("cache-control"), "public, max-age=31536000, immutable");
  const HttpResponse page = get("/");
  EXPECT_EQ(page.header("cache-control"), "no-cache");
  EXPECT_EQ(get("/admin/").header("cache-control"), "no-cache");
  EXPECT_EQ(get("/favicon.ico").header("cache-control"), "public, max-age=3600");
  EXPECT_EQ(get("/media/items/mug.svg").header("cache-control"), "public, max-age=3600");
  // Each response says its caching once, and the API's answers stay uncached.
  int cache_headers = 0;
  for (const auto& [name, value] : asset.headers) cache_headers += name == "cache-control" ? 1 : 0;
  EXPECT_EQ(cache_headers, 1);
  EXPECT_EQ(get("/healthz").header("cache-control"), "no-store");
}

TEST_F(ApiWeb, AnEtagRevalidatesWith304AndAChangedFileGetsANewOne) {
  const HttpResponse first = get("/assets/mall-Ab12Cd.js");
  const std::string etag = first.header("etag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(etag.front(), '"') << "a strong validator: " << etag;
  const HttpResponse again = get("/assets/mall-Ab12Cd.js", {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(again.header("etag"), etag);
  EXPECT_EQ(get("/assets/mall-Ab12Cd.js", {{"If-None-Match", "\"other\""}}).status, 200);

  const std::string old_tag = get("/robots.txt").header("etag");
  write(files_.path() / "web" / "robots.txt", "User-agent: *\nDisallow: /admin/\n");
  const HttpResponse changed = get("/robots.txt", {{"If-None-Match", old_tag}});
  EXPECT_EQ(changed.status, 200) << "the file changed since";
  EXPECT_EQ(changed.body, "User-agent: *\nDisallow: /admin/\n");
}

TEST_F(ApiWeb, HeadGivesTheHeadersWithoutTheBody) {
  HttpConnection connection(server_.port());
  ASSERT_TRUE(connection.send_raw(
      "HEAD /assets/mall-Ab12Cd.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const std::string raw = connection.read_raw_until_close();
  EXPECT_EQ(raw.rfind("HTTP/1.1 200", 0), 0U) << raw;
  const std::string length = "Content-Length: " + std::to_string(std::string(kScript).size());
  EXPECT_NE(raw.find(length), std::string::npos) << raw;
  EXPECT_NE(raw.find("text/javascript"), std::string::npos) << raw;
  EXPECT_EQ(raw.find("console.log"), std::string::npos) << "no body: " << raw;
  EXPECT_TRUE(raw.size() >= 4 && raw.substr(raw.size() - 4) == "\r\n\r\n") << raw;
}

TEST_F(ApiWeb, RoutesOfTheAppsGetTheirPage) {
  for (const char* path : {"/", "/catalog/x", "/orders/R123?tab=open", "/me"}) {
    const HttpResponse r = get(path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.describe();
    EXPECT_EQ(r.body, kMallPage) << path;
    EXPECT_EQ(r.header("cache-control"), "no-cache") << path;
  }
  for (const char* path : {"/admin", "/admin/", "/admin/members/3", "/admin/catalog/mug"}) {
    const HttpResponse r = get(path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.describe();
    EXPECT_EQ(r.body, kConsolePage) << path;
    EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8") << path;
  }
}

TEST_F(ApiWeb, AMissingScriptOrFileIsA404ProblemNeverAPage) {
  for (const char* path : {"/assets/x.js", "/assets/nothing", "/missing.css", "/admin/app.js",
                           "/media/items/none.svg", "/media/"}) {
    const HttpResponse r = get(path);
    EXPECT_TRUE(is_problem(r, 404, "not_found")) << path;
    EXPECT_EQ(r.body.find("<title>"), std::string::npos) << path;
  }
}

TEST_F(ApiWeb, NothingOutsideTheDirectoryIsEverServed) {
  for (const char* path : {"/..%2f..%2fetc/passwd", "/%2e%2e/", "/%2e%2e/secret.txt",
                           "/assets/..%2f..%2fsecret.txt", "/a%00b", "/index.html%00.js",
                           "/..%5csecret.txt", "/leak.txt", "/media/..%2f..%2fsecret.txt",
                           "/media/%2e%2e/secret.txt", "/./index.html/../../secret.txt"}) {
    EXPECT_TRUE(refused(get(path))) << path;
  }
  // A raw "../" the client did not normalise.
  HttpConnection connection(server_.port());
  ASSERT_TRUE(connection.send_raw("GET /../secret.txt HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(refused(connection.read_response()));
}

TEST_F(ApiWeb, OtherMethodsAre405AndTheApiIsUnaffected) {
  const HttpResponse post = client_->call("POST", "/catalog/x", {}, "");
  EXPECT_TRUE(is_problem(post, 405, "method_not_allowed"));
  EXPECT_EQ(post.header("allow"), "GET, HEAD");
  EXPECT_TRUE(
      is_problem(client_->call("DELETE", "/assets/mall-Ab12Cd.js"), 405, "method_not_allowed"));
  EXPECT_TRUE(is_problem(get("/v1/nope"), 404, "not_found"));
  EXPECT_TRUE(is_problem(get("/v1"), 404, "not_found"));
  EXPECT_EQ(get("/healthz").json(), json({{"status", "ok"}}));
  EXPECT_EQ(get("/metrics").status, 200);
  EXPECT_TRUE(is_problem(get("/v1/me"), 401, "unauthenticated"));
}

TEST_F(ApiWeb, TheAccessLogNamesTheFrontEndsRequestsStatic) {
  EXPECT_EQ(get("/catalog/x").status, 200);
  EXPECT_EQ(get("/healthz").status, 200);
  EXPECT_EQ(server_.stop(), 0);
  const std::string log = server_.stdout_text();
  EXPECT_NE(log.find(R"("method":"GET","route":"static","status":200)"), std::string::npos) << log;
  EXPECT_NE(log.find(R"("route":"/healthz")"), std::string::npos) << log;
}

TEST(ApiWebStartUp, AWebDirectoryWithoutIndexHtmlIsRefusedAtStart) {
  ScratchDir files;
  fs::create_directories(files.path() / "empty");
  const CliResult r = run_cli({"serve", "--data-dir", files.file("data"), "--listen", "127.0.0.1:0",
                               "--web-dir", files.file("empty")},
                              files);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("index.html"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(files.path() / "data")) << "refused before the store is made";
}

// Without a web directory, the server is the API alone: no page for "/".
TEST(ApiWebStartUp, WithoutAWebDirectoryOnlyTheApiAnswers) {
  ServerProcess server;
  ASSERT_TRUE(server.start());
  ApiClient client(server.port());
  EXPECT_TRUE(is_problem(client.call("GET", "/"), 404, "not_found"));
  EXPECT_TRUE(is_problem(client.call("GET", "/admin/"), 404, "not_found"));
}

}  // namespace
}  // namespace pointsmall::api_test
