#include "mall/service/mall_catalog.h"

#include <stdexcept>

namespace pointsmall::mall {
namespace {

// A document of either kind read into its value; nullopt with errors.
struct Parsed {
  std::string id;
  std::optional<Item> item;
  std::optional<CouponTemplate> coupon_template;
};

std::optional<Parsed> parse(CatalogKind kind, const nlohmann::json& document,
                            std::vector<FieldError>& errors) {
  Parsed parsed;
  if (kind == CatalogKind::item) {
    parsed.item = read_item(document, errors);
    if (!parsed.item) return std::nullopt;
    parsed.id = parsed.item->id;
  } else {
    parsed.coupon_template = read_coupon_template(document, errors);
    if (!parsed.coupon_template) return std::nullopt;
    parsed.id = parsed.coupon_template->id;
  }
  return parsed;
}

nlohmann::json canonical(const Parsed& parsed) {
  return parsed.item ? to_json(*parsed.item) : to_json(*parsed.coupon_template);
}

bool in_catalog(const Catalog& catalog, CatalogKind kind, const std::string& id) {
  return kind == CatalogKind::item ? catalog.item(id) != nullptr
                                   : catalog.coupon_template(id) != nullptr;
}

}  // namespace

std::string_view catalog_kind_name(CatalogKind kind) {
  return kind == CatalogKind::item ? "item" : "coupon_template";
}

const Item* Catalog::item(const std::string& id) const {
  auto it = items.find(id);
  return it == items.end() ? nullptr : &it->second;
}

const CouponTemplate* Catalog::coupon_template(const std::string& id) const {
  auto it = templates.find(id);
  return it == templates.end() ? nullptr : &it->second;
}

nlohmann::json item_json(const Item& item, std::int64_t version) {
  nlohmann::json out = to_json(item);
  out["version"] = version;
  return out;
}

nlohmann::json template_json(const CouponTemplate& coupon_template, std::int64_t version) {
  nlohmann::json out = to_json(coupon_template);
  out["version"] = version;
  return out;
}

MallCatalog::MallCatalog(store::EarningDocuments& documents, earning::EarningPrograms& programs,
                         const Clock& clock)
    : documents_(documents), programs_(programs), clock_(clock) {}

std::shared_ptr<const Catalog> MallCatalog::current() {
  std::lock_guard lock(mutex_);
  refresh();
  return current_;
}

std::shared_ptr<const Catalog> MallCatalog::latest() {
  std::lock_guard lock(mutex_);
  freshness_.look_now();
  refresh();
  return current_;
}

void MallCatalog::refresh() {
  if (!freshness_.stale(documents_, clock_.now_us(), current_ != nullptr)) return;
  current_ = build();
  freshness_.built();
}

std::shared_ptr<const Catalog> MallCatalog::build() {
  auto catalog = std::make_shared<Catalog>();
  for (CatalogKind kind : {CatalogKind::item, CatalogKind::coupon_template}) {
    for (const store::EarningDocument& stored :
         documents_.in_force(std::string(catalog_kind_name(kind)))) {
      std::vector<FieldError> errors;
      const auto document = nlohmann::json::parse(stored.document, nullptr, false);
      auto parsed = parse(kind, document, errors);
      if (!parsed)
        throw std::runtime_error("stored " + std::string(catalog_kind_name(kind)) + " \"" +
                                 stored.id + "\" is unreadable");
      if (parsed->item) {
        catalog->items.emplace(parsed->id, std::move(*parsed->item));
        catalog->item_versions[parsed->id] = stored.version;
      } else {
        catalog->templates.emplace(parsed->id, std::move(*parsed->coupon_template));
        catalog->template_versions[parsed->id] = stored.version;
      }
    }
  }
  return catalog;
}

std::vector<FieldError> MallCatalog::check_against_catalog(const Catalog& catalog, const Item* item,
                                                           const std::string& retired_template) {
  std::vector<FieldError> errors;
  if (item != nullptr) {
    errors = check_item(*item, *programs_.current());
    if (item->kind == ItemKind::coupon && catalog.coupon_template(item->coupon_template) == nullptr)
      errors.push_back({"coupon_template", "no coupon template \"" + item->coupon_template +
                                               "\" is in force; create it first"});
  }
  if (!retired_template.empty()) {
    for (const auto& [id, issuing] : catalog.items)
      if (issuing.kind == ItemKind::coupon && issuing.coupon_template == retired_template)
        errors.push_back({"id", "item \"" + id + "\" issues this template; retire it first"});
  }
  return errors;
}

MallCatalog::Saved MallCatalog::save(CatalogKind kind, const std::string& id,
                                     const nlohmann::json& body, bool create,
                                     const std::string& actor) {
  Saved out;
  nlohmann::json document = body;
  std::optional<std::int64_t> expected_version;
  if (document.is_object()) {
    expected_version = earning::take_version(document, out.errors);
    if (!id.empty() && !document.contains("id")) document["id"] = id;
    if (!id.empty() && document["id"] != id)
      out.errors.push_back({"id", "must be \"" + id + "\" as in the path"});
  }
  auto parsed = parse(kind, document, out.errors);
  if (!out.errors.empty() || !parsed) return out;

  std::lock_guard lock(mutex_);
  freshness_.look_now();
  refresh();
  const bool exists = in_catalog(*current_, kind, parsed->id);
  if (create && exists) out.exists = true;
  if (!create && !exists) out.unknown = true;
  if (out.exists || out.unknown) return out;
  out.errors = check_against_catalog(*current_, parsed->item ? &*parsed->item : nullptr, "");
  if (!out.errors.empty()) return out;

  const std::string kind_text(catalog_kind_name(kind));
  if (create) {  // a new id, or one that was retired: it continues after the retired versions
    const auto history = documents_.versions(kind_text, parsed->id);
    expected_version = history.empty() ? 0 : history.front().version;
  }
  const auto saved = documents_.save(kind_text, parsed->id, canonical(*parsed).dump(), false, actor,
                                     clock_.now_us(), expected_version);
  if (saved.stale) {
    out.stale = true;
    return out;
  }
  freshness_.rebuild();
  refresh();
  out.document = canonical(*parsed);
  out.document["version"] = saved.version;
  return out;
}

MallCatalog::Saved MallCatalog::retire(CatalogKind kind, const std::string& id,
                                       const std::string& actor) {
  Saved out;
  std::lock_guard lock(mutex_);
  freshness_.look_now();
  refresh();
  if (!in_catalog(*current_, kind, id)) {
    out.unknown = true;
    return out;
  }
  if (kind == CatalogKind::coupon_template)
    out.errors = check_against_catalog(*current_, nullptr, id);
  if (!out.errors.empty()) return out;
  const std::string kind_text(catalog_kind_name(kind));
  const auto history = documents_.versions(kind_text, id);
  documents_.save(kind_text, id, history.empty() ? "{}" : history.front().document, true, actor,
                  clock_.now_us(), std::nullopt);
  freshness_.rebuild();
  refresh();
  return out;
}

std::vector<nlohmann::json> MallCatalog::versions(CatalogKind kind, const std::string& id) {
  return earning::document_versions(documents_, std::string(catalog_kind_name(kind)), id);
}

}  // namespace pointsmall::mall
