#include "app/demo_program.h"

#include <array>
#include <cstdio>
#include <string_view>

#include "app/online_retail.h"

namespace pointsmall::app::demo_data {
namespace {

using nlohmann::json;

json gbp(std::int64_t minor) {
  return {{"amount", minor}, {"currency", "GBP"}};
}

// One row of the catalog. stock < 0: unlimited; per_member_units 0: no per-member limit.
struct ItemRow {
  std::string_view id;
  std::string_view name;
  std::string_view category;
  std::int64_t points;
  std::int64_t stock;
  std::string_view description;
  std::int64_t per_member_units = 0;
  std::string_view per_member_period = "month";
  std::string_view tag;
};

// Most names come from the Online Retail data set's best sellers.
constexpr std::array<ItemRow, 52> kGoods = {{
    // home
    {"heart-t-light-holder", "White hanging heart T-light holder", "home", 450, 120,
     "The shop's best seller: a white metal heart that holds a tea light.", 2, "month",
     "bestseller"},
    {"regency-cakestand", "Regency cakestand, 3 tier", "home", 2400, 25,
     "Three tiers of bone china for afternoon tea.", 1, "month", "bestseller"},
    {"bird-ornament", "Assorted colour bird ornament", "home", 180, 300,
     "A little wooden bird to hang anywhere."},
    {"slate-heart-chalkboard", "Natural slate heart chalkboard", "home", 520, 60,
     "Write the shopping list on a heart of real slate."},
    {"doormat-keep-calm", "Doormat: Keep calm and come in", "home", 1400, 40,
     "A coir doormat with a welcome for every guest."},
    {"glass-t-light", "Victorian glass hanging T-light", "home", 260, 150,
     "Clear glass with a Victorian pattern."},
    {"rabbit-night-light", "Rabbit night light", "home", 900, 4,
     "A soft glow for the nursery. Only a few left.", 1, "lifetime"},
    {"white-metal-lantern", "White metal lantern", "home", 850, 70,
     "A garden lantern for a candle."},
    {"cupid-coat-hanger", "Cream cupid hearts coat hanger", "home", 300, 90,
     "Three hooks with hearts."},
    {"home-block-word", "Home building block word", "home", 700, 50,
     "Wooden letters that spell HOME."},
    {"alarm-clock-bakelike", "Alarm clock Bakelike, red", "home", 1100, 35,
     "A retro alarm clock with a loud bell."},
    {"red-toadstool-light", "Red toadstool LED night light", "home", 650, 3,
     "A toadstool that lights up. Almost gone."},
    // kitchen
    {"retrospot-cake-cases", "Pack of 72 retrospot cake cases", "kitchen", 150, 500,
     "Red and white spotted paper cases.", 5, "month", "bestseller"},
    {"pantry-cake-tins", "Set of 3 cake tins, pantry design", "kitchen", 1300, 40,
     "Three nesting tins for cakes and biscuits."},
    {"jam-making-set", "Jam making set with jars", "kitchen", 1100, 30,
     "Jars, lids, labels and a funnel."},
    {"spice-tins", "Set of 6 spice tins, pantry design", "kitchen", 1500, 45,
     "Six tins with a rack."},
    {"jelly-moulds", "Set of 4 pantry jelly moulds", "kitchen", 600, 80,
     "Four shapes for wobbly puddings."},
    {"recipe-box", "Recipe box, pantry yellow design", "kitchen", 800, 55,
     "With cards to write the family's recipes."},
    {"fairy-cake-cases", "60 teatime fairy cake cases", "kitchen", 140, 400,
     "Pastel cases for fairy cakes."},
    {"baking-set", "Baking set, 9 piece retrospot", "kitchen", 1800, 25,
     "Everything a young baker needs."},
    {"tea-glass", "Antique silver tea glass, etched", "kitchen", 280, 200,
     "A tea glass with an etched pattern."},
    {"enamel-jug", "Enamel flower jug, cream", "kitchen", 1200, 30,
     "A jug for flowers or lemonade."},
    {"popcorn-holder", "Popcorn holder", "kitchen", 160, 250, "Striped boxes for film night."},
    {"strawberry-trinket-box", "Strawberry ceramic trinket box", "kitchen", 250, 120,
     "A ceramic strawberry with a lid."},
    // stationery
    {"paper-chain-kit", "Paper chain kit, 50's Christmas", "stationery", 600, 100,
     "Fifty strips to make a chain for the tree."},
    {"london-tissues", "Pack of 12 London tissues", "stationery", 90, 600,
     "Pocket tissues with London sights."},
    {"vintage-snap-cards", "Vintage snap cards", "stationery", 240, 150,
     "The classic card game, in a tin."},
    {"mini-paint-set", "Mini paint set, vintage", "stationery", 200, 180,
     "Twelve colours and a brush."},
    {"vintage-notebook", "Vintage notebook, Paris days", "stationery", 320, 140,
     "A5, lined, with a linen cover."},
    {"christmas-cards", "Set of 10 Christmas cards", "stationery", 380, 160,
     "With envelopes. Robins and snow."},
    {"wrapping-paper", "Wrapping paper, vintage leaf", "stationery", 120, 300,
     "Two sheets and matching tags."},
    {"pencil-set", "Set of 6 woodland pencils", "stationery", 110, 400,
     "Pencils with animal toppers."},
    // toys
    {"spaceboy-cutlery", "Children's cutlery, spaceboy", "toys", 450, 70,
     "A knife, fork and spoon for young astronauts."},
    {"feltcraft-doll", "Feltcraft princess Charlotte doll", "toys", 1100, 35,
     "A hand-finished felt doll."},
    {"gliders", "World War 2 gliders, assorted", "toys", 60, 1000, "Balsa gliders that really fly.",
     10, "day"},
    {"woodland-snack-boxes", "Round snack boxes, set of 4, woodland", "toys", 700, 60,
     "Four stacking boxes for a picnic."},
    {"spaceboy-apron", "Children's apron, spaceboy design", "toys", 550, 45, "For budding chefs."},
    {"party-bunting", "Party bunting", "toys", 900, 80, "Ten metres of flags.", 0, "month",
     "bestseller"},
    {"skull-paper-cups", "Pack of 6 skull paper cups", "toys", 120, 300, "For a spooky party."},
    {kSellOutItem, "Limited edition Christmas bauble set", "toys", 700, 2,
     "Hand-painted glass baubles: only two sets were made.", 1, "lifetime", "limited"},
    // bags
    {"jumbo-bag-retrospot", "Jumbo bag, red retrospot", "bags", 350, 200,
     "A big shopper that folds away.", 0, "month", "bestseller"},
    {"lunch-bag-red", "Lunch bag, red retrospot", "bags", 300, 150, "Insulated, with a zip."},
    {"charlotte-bag", "Red retrospot Charlotte bag", "bags", 180, 220,
     "A small bag that folds into its pocket."},
    {"jumbo-storage-bag", "Jumbo storage bag, Suki", "bags", 380, 120,
     "For toys, laundry or cushions."},
    {"jumbo-shopper", "Rex cash and carry jumbo shopper", "bags", 450, 90,
     "The strongest bag in the shop."},
    {"lunch-bag-pink", "Lunch bag, pink polkadot", "bags", 300, 140, "Insulated, with a zip."},
    {"london-tote", "Canvas tote, London", "bags", 600, 75, "Heavy canvas with a print."},
    {"weekend-bag", "Weekend bag, vintage paisley", "bags", 4200, 12,
     "A holdall for two nights away."},
    // more expensive goods, for members who save
    {"picnic-hamper", "Picnic hamper for four", "home", 12000, 10,
     "Wicker, with plates, cups and cutlery.", 1, "lifetime"},
    {"armchair", "Union Jack armchair", "home", 25000, 3, "A statement chair for the living room.",
     1, "lifetime"},
    {"cast-iron-pot", "Cast iron casserole pot", "kitchen", 8500, 15,
     "Four litres, enamelled, for the oven and the hob."},
    {"dolls-house", "Wooden dolls house", "toys", 15000, 5,
     "Three floors and twelve pieces of furniture.", 1, "lifetime"},
}};

std::string initials(const std::string& name) {
  std::string out;
  bool at_word = true;
  for (char c : name) {
    const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (at_word && letter && out.size() < 2)
      out += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    at_word = !letter && c != '\'';  // "Children's" is one word
  }
  return out.empty() ? "?" : out;
}

std::string xml_escaped(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::uint32_t fnv1a(std::string_view text) {
  std::uint32_t hash = 2166136261U;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 16777619U;
  }
  return hash;
}

}  // namespace

std::string local_date(const TimeZone& zone, TimeUs now_us, std::int64_t days) {
  const CivilTime today = zone.to_local(now_us);
  const CivilTime date =
      civil_from_days(days_from_civil(today.year, today.month, today.day) + days);
  std::array<char, 16> text{};
  std::snprintf(text.data(), text.size(), "%04d-%02d-%02d", date.year, date.month, date.day);
  return text.data();
}

TimeUs local_time(const TimeZone& zone, TimeUs now_us, std::int64_t days, int hour) {
  const CivilTime today = zone.to_local(now_us);
  CivilTime at = civil_from_days(days_from_civil(today.year, today.month, today.day) + days);
  at.hour = hour;
  return zone.to_utc(at);
}

std::vector<json> rules() {
  return {
      {{"id", "base-rate"},
       {"name", "1 point per pound"},
       {"event_type", "purchase"},
       {"effect", {{"kind", "per_unit"}, {"points", 1}, {"per", gbp(100)}, {"base", "paid"}}}},
      {{"id", "welcome-purchase"},
       {"name", "Welcome bonus on the first purchase"},
       {"event_type", "purchase"},
       {"conditions",
        {{{"field", "member.first_purchase"}, {"op", "eq"}, {"value", true}},
         {{"field", "amount"}, {"op", "gte"}, {"value", 1000}},
         {{"field", "currency"}, {"op", "eq"}, {"value", "GBP"}}}},
       {"effect", {{"kind", "bonus"}, {"points", 50}}},
       {"caps", {{"per_member", {{{"period", "lifetime"}, {"times", 1}}}}}}},
      {{"id", "review-points"},
       {"name", "Points for a review"},
       {"event_type", "review"},
       {"effect", {{"kind", "fixed"}, {"points", 20}}},
       {"caps", {{"per_member", {{{"period", "day"}, {"times", 3}}}}}}},
      {{"id", "share-points"},
       {"name", "Points for sharing"},
       {"event_type", "share"},
       {"effect", {{"kind", "fixed"}, {"points", 5}}},
       {"caps",
        {{"per_member",
          {{{"period", "day"}, {"points", 15}}, {{"period", "month"}, {"points", 100}}}}}}},
  };
}

json tiers() {
  return {{"measure", "money_spent"},
          {"currency", "GBP"},
          {"period", "rolling_months"},
          {"months", 12},
          {"downgrade", "recalculate"},
          {"tiers",
           {{{"id", "bronze"}, {"name", "Bronze"}, {"threshold", 0}},
            {{"id", "silver"}, {"name", "Silver"}, {"threshold", 50000}, {"earn_percent", 110}},
            {{"id", "gold"},
             {"name", "Gold"},
             {"threshold", 150000},
             {"earn_percent", 125},
             {"redemption_discount_percent", 5}},
            {{"id", "platinum"},
             {"name", "Platinum"},
             {"threshold", 500000},
             {"earn_percent", 150},
             {"validity_days", 730},
             {"redemption_discount_percent", 10},
             {"exclusive_item_tags", {"platinum-only"}}}}}};
}

json engagement() {
  return {{"checkin",
           {{"enabled", true},
            {"points", 5},
            {"cycle_days", 7},
            {"streak_rewards", {{{"day", 3}, {"points", 10}}, {{"day", 7}, {"points", 50}}}}}},
          {"referral",
           {{"enabled", true},
            {"referrer_points", 300},
            {"friend_points", 100},
            {"min_purchase", gbp(2000)},
            {"max_rewards_per_month", 10}}}};
}

std::vector<json> campaigns(const TimeZone& zone, TimeUs now_us) {
  auto double_points = [](std::string_view name) {
    return json{
        {"id", "double"},
        {"name", name},
        {"event_type", "purchase"},
        {"effect", {{"kind", "multiplier"}, {"percent", 200}, {"of_rules", {"base-rate"}}}}};
  };
  return {{{"id", "autumn-double"},
           {"name", "Double points fortnight"},
           {"from", local_date(zone, now_us, -45)},
           {"until", local_date(zone, now_us, -31)},
           {"budget", 0},
           {"rules", {double_points("Double points")}}},
          {{"id", "winter-double"},
           {"name", "Double points for the holidays"},
           {"from", local_date(zone, now_us, 31)},
           {"until", local_date(zone, now_us, 45)},
           {"budget", 500000},
           {"rules", {double_points("Double points")}}}};
}

std::vector<json> coupon_templates() {
  return {{{"id", "five-off"},
           {"name", "£5 off your next order"},
           {"benefit", {{"kind", "fixed_amount"}, {"amount", gbp(500)}}},
           {"min_spend", gbp(2500)},
           {"validity", {{"days_after_issue", 30}}},
           {"per_member_cap", 3}},
          {{"id", "ten-off"},
           {"name", "£10 off orders over £50"},
           {"benefit", {{"kind", "fixed_amount"}, {"amount", gbp(1000)}}},
           {"min_spend", gbp(5000)},
           {"validity", {{"days_after_issue", 60}}},
           {"per_member_cap", 2}},
          {{"id", "kitchen-15"},
           {"name", "15% off kitchen, up to £10"},
           {"benefit", {{"kind", "percent"}, {"percent", 15}, {"max_off", gbp(1000)}}},
           {"scope", {{"categories", {"kitchen"}}}},
           {"validity", {{"days_after_issue", 45}}},
           {"stackable", true}},
          {{"id", kPoolTemplate},
           {"name", "Free delivery"},
           {"benefit", {{"kind", "free_shipping"}}},
           {"validity", {{"days_after_issue", 90}}},
           {"per_member_cap", 1}}};
}

std::vector<std::string> pool_codes(int count) {
  std::vector<std::string> codes;
  for (int i = 1; i <= count; ++i) {
    std::array<char, 24> text{};
    std::snprintf(text.data(), text.size(), "FREEDEL-%04d", i);
    codes.emplace_back(text.data());
  }
  return codes;
}

std::vector<json> items() {
  std::vector<json> out;
  auto image = [](std::string_view id) {
    return json::array({"/media/items/" + std::string(id) + ".svg"});
  };
  for (const ItemRow& row : kGoods) {
    json item = {{"id", row.id},
                 {"name", row.name},
                 {"description", row.description},
                 {"kind", "physical"},
                 {"category", row.category},
                 {"brand", "Online Retail"},
                 {"images", image(row.id)},
                 {"points_price", row.points}};
    if (row.stock >= 0) item["stock"] = row.stock;
    if (!row.tag.empty()) item["tags"] = {row.tag};
    json limits = {{"per_order", 5}};
    if (row.per_member_units > 0)
      limits["per_member"] = {{"units", row.per_member_units}, {"period", row.per_member_period}};
    item["limits"] = limits;
    out.push_back(std::move(item));
  }
  auto coupon_item = [&](std::string_view id, std::string_view name, std::string_view template_id,
                         std::int64_t points, std::string_view description) {
    out.push_back({{"id", id},
                   {"name", name},
                   {"description", description},
                   {"kind", "coupon"},
                   {"category", "gift-cards"},
                   {"coupon_template", template_id},
                   {"images", image(id)},
                   {"points_price", points},
                   {"limits", {{"per_order", 3}}}});
  };
  coupon_item("five-pounds-off", "£5 off your next order", "five-off", 500,
              "A coupon for £5 off an order of £25 or more, valid 30 days.");
  coupon_item("ten-pounds-off", "£10 off orders over £50", "ten-off", 950,
              "A coupon for £10 off an order of £50 or more, valid 60 days.");
  coupon_item("kitchen-coupon", "15% off kitchen", "kitchen-15", 300,
              "15% off everything in the kitchen range, up to £10.");
  coupon_item("free-delivery-coupon", "Free delivery", kPoolTemplate, 200,
              "Your next order delivered free. One per member.");
  auto service = [&](std::string_view id, std::string_view name, std::int64_t points,
                     std::string_view description) {
    out.push_back(
        {{"id", id},
         {"name", name},
         {"description", description},
         {"kind", "service"},
         {"category", "services"},
         {"images", image(id)},
         {"points_price", points},
         {"limits", {{"per_order", 1}, {"per_member", {{"units", 2}, {"period", "month"}}}}}});
  };
  service("gift-wrapping", "Gift wrapping", 250, "We wrap your next order by hand.");
  service("styling-session", "Table styling session", 4000,
          "An hour with our stylist, in the shop or by video.");
  service("priority-delivery", "Priority delivery for a year", 3000,
          "Next-day delivery on every order for twelve months.");
  out.push_back({{"id", "gold-for-a-year"},
                 {"name", "Gold membership"},
                 {"description", "Move up to Gold: 25% more points and 5% off the mall."},
                 {"kind", "tier_upgrade"},
                 {"category", "membership"},
                 {"tier", "gold"},
                 {"images", image("gold-for-a-year")},
                 {"points_price", 20000},
                 {"limits", {{"per_member", {{"units", 1}, {"period", "lifetime"}}}}}});
  out.push_back({{"id", "platinum-tea-hamper"},
                 {"name", "Platinum afternoon tea hamper"},
                 {"description", "Teas, jams and shortbread, for Platinum members only."},
                 {"kind", "physical"},
                 {"category", "home"},
                 {"tags", {"platinum-only"}},
                 {"images", image("platinum-tea-hamper")},
                 {"points_price", 6000},
                 {"stock", 20},
                 {"limits", {{"per_member", {{"units", 1}, {"period", "month"}}}}}});
  out.push_back({{"id", "mug-flash"},
                 {"name", "Spotty mug, first 100 members"},
                 {"description", "A mug for the first hundred members to ask."},
                 {"kind", "physical"},
                 {"category", "kitchen"},
                 {"images", image("mug-flash")},
                 {"points_price", 400},
                 {"stock", 100},
                 {"limits",
                  {{"per_member", {{"units", 1}, {"period", "lifetime"}}},
                   {"global", {{"units", 100}, {"period", "lifetime"}}}}}});
  return out;
}

std::string item_svg(const std::string& id, const std::string& name, const std::string& category) {
  const std::uint32_t hash = fnv1a(id);
  const int hue = static_cast<int>(hash % 360);
  const int accent = static_cast<int>((hash / 360 + 140) % 360);
  const std::string light = "hsl(" + std::to_string(hue) + ",60%,90%)";
  const std::string strong = "hsl(" + std::to_string(hue) + ",55%,45%)";
  const std::string spot = "hsl(" + std::to_string(accent) + ",65%,60%)";
  // The shape says the category: bags are rounded squares, coupons tickets, the rest circles or
  // diamonds.
  std::string shape;
  const std::uint32_t category_hash = fnv1a(category);
  if (category == "bags") {
    shape = R"(<rect x="95" y="80" width="210" height="190" rx="36" fill=")" + strong +
            R"("/><path d="M150 80 q50 -70 100 0" stroke=")" + strong +
            R"(" stroke-width="14" fill="none"/>)";
  } else if (category == "gift-cards") {
    shape = R"(<rect x="70" y="95" width="260" height="160" rx="18" fill=")" + strong +
            R"("/><circle cx="70" cy="175" r="22" fill=")" + light +
            R"("/><circle cx="330" cy="175" r="22" fill=")" + light + R"("/>)";
  } else if (category_hash % 2 == 0) {
    shape = R"(<path d="M200 55 L330 175 L200 295 L70 175 Z" fill=")" + strong + R"("/>)";
  } else {
    shape = R"(<circle cx="200" cy="175" r="120" fill=")" + strong + R"("/>)";
  }
  std::string label = name;
  if (name.size() > 30) {  // cut at a character's start: half a UTF-8 sequence is not XML

    std::size_t end = 28;
    while (end > 0 && (static_cast<unsigned char>(name[end]) & 0xC0U) == 0x80U) --end;
    label = name.substr(0, end) + "…";
  }
  std::string svg;
  svg +=
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400" viewBox="0 0 400 400">)";
  svg += "\n<title>" + xml_escaped(name) + "</title>\n";
  svg += R"(<rect width="400" height="400" fill=")" + light + R"("/>)" + "\n";
  svg += R"(<circle cx="340" cy="60" r="34" fill=")" + spot + R"(" opacity="0.7"/>)" + "\n";
  svg += shape + "\n";
  svg += R"(<text x="200" y="205" font-family="Helvetica, Arial, sans-serif" font-size="88" )"
         R"(font-weight="700" fill="#ffffff" text-anchor="middle">)" +
         xml_escaped(initials(name)) + "</text>\n";
  svg += R"(<text x="200" y="355" font-family="Helvetica, Arial, sans-serif" font-size="24" )"
         R"(fill="#333333" text-anchor="middle">)" +
         xml_escaped(label) + "</text>\n";
  svg += "</svg>\n";
  return svg;
}

}  // namespace pointsmall::app::demo_data
