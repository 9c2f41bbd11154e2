#include "api/static_site.h"

#include <array>
#include <chrono>
#include <fstream>
#include <sstream>
#include <vector>

#include "api/problem.h"

namespace pointsmall::api {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";
constexpr std::string_view kNoCache = "no-cache";
constexpr std::string_view kOneHour = "public, max-age=3600";

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool is_api_path(std::string_view path) {
  return path == "/v1" || starts_with(path, "/v1/") || path == "/healthz" || path == "/metrics";
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The decoded segments of a path, or nullopt when one could reach outside the root or cannot
// name a file: ".", "..", a backslash or a NUL (before or after decoding). Empty segments
// ("//") are dropped.
std::optional<std::vector<std::string>> safe_segments(std::string_view path) {
  std::vector<std::string> segments;
  std::string segment;
  auto finish = [&]() -> bool {
    if (segment == "." || segment == "..") return false;
    if (!segment.empty()) segments.push_back(std::move(segment));
    segment.clear();
    return true;
  };
  for (std::size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '/') {
      if (!finish()) return std::nullopt;
      continue;
    }
    if (c == '%' && i + 2 < path.size() && hex_value(path[i + 1]) >= 0 &&
        hex_value(path[i + 2]) >= 0) {
      c = static_cast<char>(hex_value(path[i + 1]) * 16 + hex_value(path[i + 2]));
      i += 2;
      if (c == '/') return std::nullopt;  // an encoded separator names no file of ours
    }
    if (c == '\0' || c == '\\') return std::nullopt;
    segment += c;
  }
  if (!finish()) return std::nullopt;
  return segments;
}

std::string_view extension_of(std::string_view name) {
  const std::size_t slash = name.rfind('/');
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  const std::size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return {};
  return name.substr(dot + 1);
}

bool inside(const fs::path& root, const fs::path& file) {
  const std::string root_text = root.string();
  const std::string file_text = file.string();
  return file_text.size() > root_text.size() && starts_with(file_text, root_text) &&
         file_text[root_text.size()] == '/';
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// A strong validator from the file's size and modification time.
std::string etag_of(std::uintmax_t size, fs::file_time_type modified) {
  const auto ticks =
      std::chrono::duration_cast<std::chrono::nanoseconds>(modified.time_since_epoch()).count();
  std::ostringstream out;
  out << '"' << std::hex << size << '-' << static_cast<std::uint64_t>(ticks) << '"';
  return out.str();
}

// Whether If-None-Match (a list of entity tags, or *) names `etag`.
bool matches(std::string_view if_none_match, std::string_view etag) {
  if (if_none_match.empty()) return false;
  std::size_t start = 0;
  while (start < if_none_match.size()) {
    std::size_t end = if_none_match.find(',', start);
    if (end == std::string_view::npos) end = if_none_match.size();
    std::string_view tag = if_none_match.substr(start, end - start);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag == "*" || tag == etag) return true;
    start = end + 1;
  }
  return false;
}

http::Response not_found(const std::string& detail) {
  return to_response(problem(ApiError::not_found, detail));
}

// The canonical regular file at `candidate` inside `root`, or its index.html when it is a
// directory; nullopt when there is none (or it lies outside the root).
std::optional<fs::path> find_file(const fs::path& root, const fs::path& candidate) {
  std::error_code ec;
  fs::path found = fs::canonical(candidate, ec);
  if (ec) return std::nullopt;
  if (found != root && !inside(root, found)) return std::nullopt;
  if (fs::is_directory(found, ec)) {
    found = fs::canonical(found / "index.html", ec);
    if (ec || !inside(root, found)) return std::nullopt;
  }
  if (!fs::is_regular_file(found, ec)) return std::nullopt;
  return found;
}

}  // namespace

std::string_view content_type_of(std::string_view file_name) {
  static const std::array<std::pair<std::string_view, std::string_view>, 19> kTypes = {{
      {"html", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"webp", "image/webp"},
      {"gif", "image/gif"},
      {"ico", "image/x-icon"},
      {"json", "application/json"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
      {"txt", "text/plain; charset=utf-8"},
      {"map", "application/json"},
      {"webmanifest", "application/manifest+json"},
      {"xml", "application/xml"},
      {"wasm", "application/wasm"},
  }};
  const std::string extension = lower(extension_of(file_name));
  for (const auto& [known, type] : kTypes)
    if (extension == known) return type;
  return "application/octet-stream";
}

std::unique_ptr<StaticSite> StaticSite::open(const std::string& web_dir,
                                             const std::string& media_dir, std::string& error) {
  std::error_code ec;
  fs::path web_root;
  if (!web_dir.empty()) {
    web_root = fs::canonical(web_dir, ec);
    if (ec || !fs::is_directory(web_root, ec)) {
      error = "the web directory " + web_dir + " is not a directory";
      return nullptr;
    }
    if (!fs::is_regular_file(web_root / "index.html", ec)) {
      error = "the web directory " + web_dir +
              " has no index.html (build the front end: scripts/web.sh build)";
      return nullptr;
    }
  }
  fs::path media_root;
  if (!media_dir.empty()) {
    media_root = fs::canonical(media_dir, ec);
    if (ec || !fs::is_directory(media_root, ec)) media_root.clear();  // nothing to serve yet
  }
  return std::make_unique<StaticSite>(std::move(web_root), std::move(media_root));
}

bool StaticSite::owns(std::string_view path) const {
  if (is_api_path(path)) return false;
  if (!web_root_.empty()) return true;
  return !media_root_.empty() && starts_with(path, "/media/");
}

std::shared_ptr<const std::string> StaticSite::content_of(const fs::path& file, std::uintmax_t size,
                                                          fs::file_time_type modified) {
  if (size > kMaxFileBytes) return nullptr;
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(file);
    if (it != cache_.end() && it->second.size == size && it->second.modified == modified)
      return it->second.content;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return nullptr;
  auto content = std::make_shared<std::string>(static_cast<std::size_t>(size), '\0');
  in.read(content->data(), static_cast<std::streamsize>(size));
  if (static_cast<std::uintmax_t>(in.gcount()) != size) return nullptr;  // changed meanwhile
  std::lock_guard lock(mutex_);
  auto it = cache_.find(file);
  if (it != cache_.end()) {
    cached_bytes_ -= it->second.size;
    cache_.erase(it);
  }
  if (cached_bytes_ + size > kMaxCacheBytes) {  // rarely: a front end larger than the cache
    cache_.clear();
    cached_bytes_ = 0;
  }
  cache_[file] = Cached{size, modified, content};
  cached_bytes_ += size;
  return content;
}

http::Response StaticSite::answer(const http::Request& request, std::string_view path) {
  if (request.method != "GET" && request.method != "HEAD") {
    http::Response response = to_response(problem(ApiError::method_not_allowed));
    response.headers.push_back({"allow", "GET, HEAD"});
    return response;
  }
  const auto segments = safe_segments(path);
  if (!segments) return not_found("no file at " + std::string(path));
  const bool media = !segments->empty() && segments->front() == "media";
  const fs::path& root = media ? media_root_ : web_root_;
  if (root.empty()) return not_found("no file at " + std::string(path));
  fs::path candidate = root;
  for (std::size_t i = media ? 1 : 0; i < segments->size(); ++i) candidate /= (*segments)[i];
  std::optional<fs::path> file = find_file(root, candidate);
  std::string_view cache_control = media ? kOneHour : kNoCache;
  if (file) {
    if (!media) {
      const bool asset = !segments->empty() && segments->front() == "assets";
      cache_control = asset                                    ? kImmutable
                      : extension_of(file->string()) == "html" ? kNoCache
                                                               : kOneHour;
    }
  } else {
    // A front-end route (no extension) gets its app's page; a missing script never does.
    const bool asset = !segments->empty() && segments->front() == "assets";
    if (media || asset || (!segments->empty() && !extension_of(segments->back()).empty()))
      return not_found("no file at " + std::string(path));
    const bool admin = !segments->empty() && segments->front() == "admin";
    if (admin) file = find_file(root, root / "admin" / "index.html");
    if (!file) file = find_file(root, root / "index.html");
    if (!file) return not_found("no file at " + std::string(path));
    cache_control = kNoCache;
  }
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(*file, ec);
  const fs::file_time_type modified = ec ? fs::file_time_type() : fs::last_write_time(*file, ec);
  if (ec) return not_found("no file at " + std::string(path));
  const std::string etag = etag_of(size, modified);
  http::Response response;
  response.headers.push_back({"cache-control", std::string(cache_control)});
  response.headers.push_back({"x-content-type-options", "nosniff"});
  response.headers.push_back({"etag", etag});
  if (matches(request.header("if-none-match"), etag)) {
    response.status = 304;
    return response;
  }
  auto content = content_of(*file, size, modified);
  if (!content) return not_found("the file at " + std::string(path) + " cannot be read");
  response.content_type = std::string(content_type_of(file->string()));
  response.body = *content;
  return response;
}

}  // namespace pointsmall::api
