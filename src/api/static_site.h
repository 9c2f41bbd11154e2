// The web front end's files (web/dist: the member mall at /, the operators' console at /admin/)
// and the demo's media (DATA_DIR/media, under /media/), served beside the API by `pointsmall
// serve`.
//
// Contract:
//  1. The site owns every path outside the API's (/v1, /v1/..., /healthz, /metrics): with a web
//     directory all of them, with only a media directory /media/... alone. Paths it does not own
//     go to the API's routes as before.
//  2. GET and HEAD answer a regular file found under the root with its type by extension,
//     `X-Content-Type-Options: nosniff`, a strong ETag (from size and modification time;
//     `If-None-Match` with it answers 304) and a Cache-Control: content-hashed /assets/... are
//     immutable for a year, HTML is `no-cache`, anything else an hour. Other methods: 405.
//  3. A path without a file whose last segment has no extension (a route of the front end)
//     answers the page of its app: DIR/admin/index.html for /admin, /admin/ and /admin/...,
//     DIR/index.html for the rest. A missing file under /assets/ or /media/, or one with an
//     extension, is a 404 problem: never a page in place of a script.
//  4. Nothing outside the canonical root is ever read: percent-decoded "." and ".." segments,
//     backslashes and NUL are refused (404) and the canonical path of what is found (symlinks
//     resolved) must lie inside the canonical root.
//  5. Files are read whole (at most kMaxFileBytes) on the server's thread and kept in a cache of
//     at most kMaxCacheBytes, checked against size and modification time on every request, so
//     a request costs a stat() once the file was read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "http/message.h"

namespace pointsmall::api {

class StaticSite {
 public:
  static constexpr std::uintmax_t kMaxFileBytes = std::uintmax_t{32} << 20;
  static constexpr std::uintmax_t kMaxCacheBytes = std::uintmax_t{64} << 20;

  // `web_dir` (may be empty: no front end) must hold index.html; `media_dir` (may be empty or
  // missing: nothing under /media/). Returns null and says why in `error` otherwise.
  static std::unique_ptr<StaticSite> open(const std::string& web_dir, const std::string& media_dir,
                                          std::string& error);
  // Roots already canonical and checked (open() makes them so); empty: none.
  StaticSite(std::filesystem::path web_root, std::filesystem::path media_root)
      : web_root_(std::move(web_root)), media_root_(std::move(media_root)) {}

  // Whether the request path (percent-encoded, without the query) is the site's (contract 1).
  [[nodiscard]] bool owns(std::string_view path) const;
  // The response to a request for a path the site owns.
  [[nodiscard]] http::Response answer(const http::Request& request, std::string_view path);

 private:
  struct Cached {
    std::uintmax_t size = 0;
    std::filesystem::file_time_type modified;
    std::shared_ptr<const std::string> content;
  };
  // The content of the regular file `file` (canonical), from the cache when unchanged; null when
  // it cannot be read or is too large.
  std::shared_ptr<const std::string> content_of(const std::filesystem::path& file,
                                                std::uintmax_t size,
                                                std::filesystem::file_time_type modified);

  std::filesystem::path web_root_;    // canonical; empty: no front end
  std::filesystem::path media_root_;  // canonical; empty: no media
  std::mutex mutex_;
  std::map<std::filesystem::path, Cached> cache_;  // guarded by mutex_
  std::uintmax_t cached_bytes_ = 0;                // guarded by mutex_
};

// The Content-Type of a file name by its extension (application/octet-stream when unknown).
std::string_view content_type_of(std::string_view file_name);

}  // namespace pointsmall::api
