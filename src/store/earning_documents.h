// The merchant's earning documents (rules, campaigns, tiers, engagement settings), versioned.
//
// Contract:
//  1. Every save adds a version: (kind, id, version) rows are never changed or removed, so a
//     document's history is complete and a change never rewrites what was in force before.
//  2. The document in force for (kind, id) is its latest version, unless that version retires it.
//  3. A save with `expected_version` fails with `stale` when the latest version differs (0: the
//     id must be new), so two operators editing one rule cannot overwrite each other.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/types.h"

namespace pointsmall::store {

struct EarningDocument {
  std::string kind;  // rule | campaign | tiers | engagement
  std::string id;
  std::int64_t version = 0;
  std::string document;  // JSON
  bool retired = false;
  TimeUs created_at_us = 0;
  std::string created_by;
};

class EarningDocuments {
 public:
  virtual ~EarningDocuments() = default;

  struct Saved {
    bool stale = false;  // expected_version did not match; nothing saved
    std::int64_t version = 0;
  };
  // Adds the next version of (kind, id). Throws std::runtime_error on a storage failure.
  virtual Saved save(const std::string& kind, const std::string& id, const std::string& document,
                     bool retire, const std::string& actor, TimeUs now_us,
                     std::optional<std::int64_t> expected_version) = 0;
  // The documents in force of a kind, by id.
  virtual std::vector<EarningDocument> in_force(const std::string& kind) = 0;
  // Every version of (kind, id), newest first.
  virtual std::vector<EarningDocument> versions(const std::string& kind, const std::string& id) = 0;
  // Changes whenever any document is saved (by any process on the same database).
  virtual std::int64_t generation() = 0;
};

// When a value built from the documents (the program in force, the mall's catalog) must be built
// again: when a document was saved since it was built, by this process or another. The
// documents' generation is looked at no more than once per kRecheckEveryUs, unless look_now().
// Not thread-safe: its owner's lock guards it.
class DocumentsFreshness {
 public:
  static constexpr TimeUs kRecheckEveryUs = 1'000'000;  // for saves by other processes

  // True when the value must be (re)built now; call built() once it is.
  bool stale(EarningDocuments& documents, TimeUs now_us, bool have_value) {
    if (have_value && built_ >= 0 && now_us - checked_at_us_ < kRecheckEveryUs) return false;
    checked_at_us_ = now_us;
    seen_ = documents.generation();
    return !have_value || seen_ != built_;
  }
  void built() { built_ = seen_; }
  // The next stale() looks at the generation (before a save: see other processes' saves).
  void look_now() { checked_at_us_ = 0; }
  // The next stale() is true (after this process saved).
  void rebuild() { built_ = -1; }

 private:
  std::int64_t built_ = -1;  // the generation the value was built for; -1: none
  std::int64_t seen_ = -1;   // the generation stale() saw last
  TimeUs checked_at_us_ = 0;
};

}  // namespace pointsmall::store
