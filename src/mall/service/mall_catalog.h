// The mall's catalog in force: items and coupon templates from the merchant's versioned documents
// (store/earning_documents.h, kinds "item" and "coupon_template"), rebuilt as one immutable
// snapshot when one of them is saved, so that a redemption is checked against one consistent
// catalog. Saving checks a document alone (mall/catalog.h, mall/coupon.h) and against the
// program and the other documents (tier ids, the template a coupon item issues) first.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/json_fields.h"
#include "earning/programs.h"
#include "mall/catalog.h"
#include "mall/coupon.h"
#include "store/earning_documents.h"

namespace pointsmall::mall {

enum class CatalogKind : std::uint8_t { item, coupon_template };
std::string_view catalog_kind_name(CatalogKind kind);  // "item", "coupon_template"

struct Catalog {
  std::map<std::string, Item> items;  // by id
  std::map<std::string, std::int64_t> item_versions;
  std::map<std::string, CouponTemplate> templates;  // by id
  std::map<std::string, std::int64_t> template_versions;

  [[nodiscard]] const Item* item(const std::string& id) const;
  [[nodiscard]] const CouponTemplate* coupon_template(const std::string& id) const;
};

class MallCatalog {
 public:
  MallCatalog(store::EarningDocuments& documents, earning::EarningPrograms& programs,
              const Clock& clock);

  // The catalog in force. Never null. Saves by other processes (nodes) are seen within
  // store::DocumentsFreshness::kRecheckEveryUs.
  std::shared_ptr<const Catalog> current();
  // The catalog with every save made before the call, by any process: looks at the documents
  // now. For a request that names an item or template the current catalog lacks, which another
  // node may have saved a moment ago.
  std::shared_ptr<const Catalog> latest();

  struct Saved {
    std::vector<FieldError> errors;  // the document is refused, nothing saved
    bool stale = false;              // `version` is not the latest: nothing saved
    bool exists = false;             // a create named an id in use
    bool unknown = false;            // a replace or retire named no document in force
    nlohmann::json document;         // as saved, with its version
  };
  // Creates (`create`: the id must be new) or replaces a document. A "version" in the body makes
  // the replace conditional on it. `id` empty: the document's own "id".
  Saved save(CatalogKind kind, const std::string& id, const nlohmann::json& body, bool create,
             const std::string& actor);
  // Takes it out of force (its versions stay); a template an item in force issues cannot go.
  Saved retire(CatalogKind kind, const std::string& id, const std::string& actor);
  // Every version, newest first, as EarningPrograms::versions shows them.
  std::vector<nlohmann::json> versions(CatalogKind kind, const std::string& id);

 private:
  std::shared_ptr<const Catalog> build();
  void refresh();  // requires mutex_
  std::vector<FieldError> check_against_catalog(const Catalog& catalog, const Item* item,
                                                const std::string& retired_template);

  store::EarningDocuments& documents_;
  earning::EarningPrograms& programs_;
  const Clock& clock_;
  std::mutex mutex_;
  std::shared_ptr<const Catalog> current_;  // guarded by mutex_
  store::DocumentsFreshness freshness_;     // guarded by mutex_
};

// The document as the API shows it: the item or template with its "version".
nlohmann::json item_json(const Item& item, std::int64_t version);
nlohmann::json template_json(const CouponTemplate& coupon_template, std::int64_t version);

}  // namespace pointsmall::mall
