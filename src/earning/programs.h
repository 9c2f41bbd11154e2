// The earning program in force: built from the merchant's stored documents (rules, campaigns,
// tiers, engagement), replaced as a whole when one of them is saved, so that every event is
// evaluated against one consistent version. Saving checks a document alone (rules/document.h) and
// within the program it would make (check_program) before anything is stored.
#pragma once

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/json_fields.h"
#include "rules/program.h"
#include "store/earning_documents.h"

namespace pointsmall::earning {

enum class DocumentKind : std::uint8_t { rule, campaign, tiers, engagement };
std::string_view kind_name(DocumentKind kind);

// Every version of the stored document (kind, id), newest first, each {"version", "retired",
// "created_at", "created_by", "document"} (the document with its "version" member); empty when
// the id was never saved. For the earning documents and the mall's catalog documents alike.
std::vector<nlohmann::json> document_versions(store::EarningDocuments& documents,
                                              const std::string& kind, const std::string& id);

// Takes "version" out of a document's body: the version the caller read (0: never saved), when
// the body says one; nullopt and an error at "version" when that is not an integer >= 0.
std::optional<std::int64_t> take_version(nlohmann::json& document, std::vector<FieldError>& errors);

// The standing rule a new program starts with: `points` per whole unit of `currency` (which has
// `minor_digits` digits after the point) on purchases, on what the customer paid.
rules::Rule base_rate_rule(const std::string& currency, int minor_digits, Points points);

class EarningPrograms {
 public:
  EarningPrograms(store::EarningDocuments& documents, std::shared_ptr<const TimeZone> zone,
                  const Clock& clock);

  // Saves `defaults` as the first version of each when the database has no earning document.
  void seed_if_empty(const std::vector<rules::Rule>& defaults);

  // The program in force. Never null.
  std::shared_ptr<const rules::Program> current();
  [[nodiscard]] const TimeZone& zone() const { return *zone_; }

  struct Parsed;  // a document read into its part of the program (programs.cc)

  struct Saved {
    std::vector<FieldError> errors;  // the document is refused, nothing saved
    bool stale = false;              // expected_version is not the latest: nothing saved
    bool exists = false;             // a create named an id in use: nothing saved
    bool unknown = false;            // a replace or retire named no document in force
    nlohmann::json document;         // as saved, with its version
  };
  // Creates (`create`: the id must be new) or replaces the document of (kind, id); for tiers and
  // engagement the id is "default". `id` empty: the document's own "id".
  Saved save(DocumentKind kind, const std::string& id, const nlohmann::json& body, bool create,
             std::optional<std::int64_t> expected_version, const std::string& actor);
  // Takes the document out of force; its versions stay.
  Saved retire(DocumentKind kind, const std::string& id, const std::string& actor);

  std::vector<nlohmann::json> in_force(DocumentKind kind);
  // Every version, newest first, each {"version", "retired", "created_at", "created_by",
  // "document"}; empty when the id was never saved.
  std::vector<nlohmann::json> versions(DocumentKind kind, const std::string& id);

  // The program in force with a draft's changes: {"rules": [...], "campaigns": [...] (added, or
  // replacing those with the same id), "retire_rules": [ids], "retire_campaigns": [ids],
  // "tiers": {...} or null (none), "engagement": {...}}, every part optional. Errors name the
  // draft's fields (prefixed with `path`).
  std::optional<rules::Program> with_draft(const nlohmann::json& draft, const std::string& path,
                                           std::vector<FieldError>& errors);

 private:
  // Reads a document of `kind` (the program's zone for local times); nullopt with errors.
  std::optional<Parsed> parse(DocumentKind kind, const nlohmann::json& body,
                              std::vector<FieldError>& errors) const;
  rules::Program build();  // from the stored documents in force; throws when one is unreadable
  void refresh();          // requires mutex_

  store::EarningDocuments& documents_;
  std::shared_ptr<const TimeZone> zone_;
  const Clock& clock_;
  std::mutex mutex_;
  std::shared_ptr<const rules::Program> current_;  // guarded by mutex_
  store::DocumentsFreshness freshness_;            // guarded by mutex_
};

}  // namespace pointsmall::earning
