#include "earning/event_payload.h"

namespace pointsmall::earning {
namespace {

std::string text(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t integer(const nlohmann::json& object, const char* name, std::int64_t fallback) {
  auto it = object.find(name);
  return it != object.end() && it->is_number_integer() ? it->get<std::int64_t>() : fallback;
}

// {"amount": n, "currency": "USD"}: the amount, and the currency into `currency` when given.
MinorUnits money(const nlohmann::json& object, const char* name, std::string* currency) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_object()) return 0;
  if (currency != nullptr) *currency = text(*it, "currency");
  return integer(*it, "amount", 0);
}

}  // namespace

rules::Event event_from_payload(const std::string& type, TimeUs occurred_at_us,
                                const nlohmann::json& body) {
  rules::Event event;
  event.type = type;
  event.occurred_at_us = occurred_at_us;
  if (!body.is_object()) return event;
  event.amount_minor = money(body, "amount", &event.currency);
  event.discount_minor = money(body, "discount", nullptr);
  event.points_discount_minor = money(body, "points_discount", nullptr);
  event.channel = text(body, "channel");
  event.store = text(body, "store");
  event.task = text(body, "task");
  if (auto items = body.find("items"); items != body.end() && items->is_array()) {
    for (const nlohmann::json& item : *items) {
      if (!item.is_object()) continue;
      event.items.push_back(rules::Item{text(item, "sku"), text(item, "category"),
                                        text(item, "brand"), money(item, "price", nullptr),
                                        integer(item, "quantity", 1)});
    }
  }
  return event;
}

}  // namespace pointsmall::earning
