#include "earning/programs.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <variant>

#include "rules/document.h"

namespace pointsmall::earning {

struct EarningPrograms::Parsed {
  std::string id;
  std::variant<rules::Rule, rules::Campaign, rules::TierProgram, rules::Engagement> value;
};

namespace {

constexpr const char* kSingletonId = "default";  // the id of the tiers and engagement documents

std::int64_t ten_to(int digits) {
  std::int64_t value = 1;
  for (int i = 0; i < digits; ++i) value *= 10;
  return value;
}

nlohmann::json versioned(const EarningPrograms::Parsed& parsed, std::int64_t version);

template <typename Documents>
auto find_by_id(Documents& documents, const std::string& id) {
  return std::find_if(documents.begin(), documents.end(),
                      [&](const auto& document) { return document.id == id; });
}

// Puts `parsed` into `program`, replacing what has its id.
void put(rules::Program& program, EarningPrograms::Parsed parsed) {
  std::visit(
      [&](auto& value) {
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, rules::Rule>) {
          auto it = find_by_id(program.rules, value.id);
          if (it != program.rules.end())
            *it = std::move(value);
          else
            program.rules.push_back(std::move(value));
        } else if constexpr (std::is_same_v<T, rules::Campaign>) {
          auto it = find_by_id(program.campaigns, value.id);
          if (it != program.campaigns.end())
            *it = std::move(value);
          else
            program.campaigns.push_back(std::move(value));
        } else if constexpr (std::is_same_v<T, rules::TierProgram>) {
          program.tiers = std::move(value);
        } else {
          program.checkin = value.checkin;
          program.referral = value.referral;
        }
      },
      parsed.value);
}

bool in_program(const rules::Program& program, DocumentKind kind, const std::string& id) {
  switch (kind) {
    case DocumentKind::rule:
      return find_by_id(program.rules, id) != program.rules.end();
    case DocumentKind::campaign:
      return find_by_id(program.campaigns, id) != program.campaigns.end();
    case DocumentKind::tiers:
      return program.tiers.has_value();
    case DocumentKind::engagement:
      return true;
  }
  return false;
}

void remove_from(rules::Program& program, DocumentKind kind, const std::string& id) {
  if (kind == DocumentKind::rule)
    program.rules.erase(find_by_id(program.rules, id));
  else if (kind == DocumentKind::campaign)
    program.campaigns.erase(find_by_id(program.campaigns, id));
  else if (kind == DocumentKind::tiers)
    program.tiers.reset();
}

nlohmann::json versioned(const EarningPrograms::Parsed& parsed, std::int64_t version) {
  nlohmann::json out =
      std::visit([](const auto& value) { return rules::to_json(value); }, parsed.value);
  out["version"] = version;
  return out;
}

// The whole-program check of a candidate, its errors said in terms of the document being saved
// (kind, id): its own fields by their path in the document, other documents' fields by name.
std::vector<FieldError> program_errors(const rules::Program& candidate, DocumentKind kind,
                                       const std::string& id) {
  std::string own;  // "rules[3]" or "campaigns[0]": where the saved document is in the program
  if (kind == DocumentKind::rule) {
    auto it = find_by_id(candidate.rules, id);
    if (it != candidate.rules.end())
      own = "rules[" + std::to_string(it - candidate.rules.begin()) + "]";
  } else if (kind == DocumentKind::campaign) {
    auto it = find_by_id(candidate.campaigns, id);
    if (it != candidate.campaigns.end())
      own = "campaigns[" + std::to_string(it - candidate.campaigns.begin()) + "]";
  }
  std::vector<FieldError> errors = rules::check_program(candidate);
  for (FieldError& error : errors) {
    if (!own.empty() && error.field.starts_with(own + ".")) {
      error.field = error.field.substr(own.size() + 1);
      continue;
    }
    // Another document: name it, since the caller knows it by id, not by position.
    const bool rule = error.field.starts_with("rules[");
    const std::size_t index =
        static_cast<std::size_t>(std::strtoul(error.field.c_str() + (rule ? 6 : 10), nullptr, 10));
    std::string name;
    if (rule && index < candidate.rules.size())
      name = "rule \"" + candidate.rules[index].id + "\"";
    else if (!rule && error.field.starts_with("campaigns[") && index < candidate.campaigns.size())
      name = "campaign \"" + candidate.campaigns[index].id + "\"";
    if (!name.empty()) error.message = "(in " + name + ") " + error.message;
  }
  return errors;
}

void prefix_errors(std::vector<FieldError>& errors, std::size_t from, const std::string& path) {
  if (path.empty()) return;
  for (std::size_t i = from; i < errors.size(); ++i)
    errors[i].field = path + (errors[i].field.empty() ? "" : "." + errors[i].field);
}

// The stored document with its "version" member.
nlohmann::json with_version(const store::EarningDocument& stored) {
  nlohmann::json document = nlohmann::json::parse(stored.document, nullptr, false);
  document["version"] = stored.version;
  return document;
}

}  // namespace

std::optional<std::int64_t> take_version(nlohmann::json& document,
                                         std::vector<FieldError>& errors) {
  auto version = document.find("version");
  if (version == document.end()) return std::nullopt;
  std::optional<std::int64_t> expected;
  if (version->is_number_integer() && version->get<std::int64_t>() >= 0)
    expected = version->get<std::int64_t>();
  else
    errors.push_back({"version", "must be the version you read (an integer >= 0)"});
  document.erase("version");
  return expected;
}

std::vector<nlohmann::json> document_versions(store::EarningDocuments& documents,
                                              const std::string& kind, const std::string& id) {
  std::vector<nlohmann::json> out;
  for (const store::EarningDocument& stored : documents.versions(kind, id)) {
    out.push_back({{"version", stored.version},
                   {"retired", stored.retired},
                   {"created_at", format_rfc3339_utc(stored.created_at_us)},
                   {"created_by", stored.created_by},
                   {"document", with_version(stored)}});
  }
  return out;
}

std::string_view kind_name(DocumentKind kind) {
  switch (kind) {
    case DocumentKind::rule:
      return "rule";
    case DocumentKind::campaign:
      return "campaign";
    case DocumentKind::tiers:
      return "tiers";
    case DocumentKind::engagement:
      return "engagement";
  }
  return "rule";
}

rules::Rule base_rate_rule(const std::string& currency, int minor_digits, Points points) {
  rules::Rule rule;
  std::string lower = currency;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return static_cast<char>(c - 'A' + 'a'); });
  rule.id = "base-rate-" + lower;
  rule.name = std::to_string(points) + " point(s) per 1 " + currency + " spent";
  rule.event_type = "purchase";
  rule.effect.kind = rules::Effect::Kind::per_unit;
  rule.effect.points = points;
  rule.effect.per_minor = ten_to(minor_digits);
  rule.effect.currency = currency;
  rule.effect.base = rules::EarnBase::paid;
  return rule;
}

EarningPrograms::EarningPrograms(store::EarningDocuments& documents,
                                 std::shared_ptr<const TimeZone> zone, const Clock& clock)
    : documents_(documents), zone_(std::move(zone)), clock_(clock) {}

void EarningPrograms::seed_if_empty(const std::vector<rules::Rule>& defaults) {
  std::lock_guard lock(mutex_);
  if (documents_.generation() != 0) return;
  for (const rules::Rule& rule : defaults) {
    nlohmann::json document = rules::to_json(rule);
    document.erase("version");
    documents_.save("rule", rule.id, document.dump(), false, "system", clock_.now_us(), 0);
  }
  freshness_.rebuild();
}

std::shared_ptr<const rules::Program> EarningPrograms::current() {
  std::lock_guard lock(mutex_);
  refresh();
  return current_;
}

void EarningPrograms::refresh() {
  if (!freshness_.stale(documents_, clock_.now_us(), current_ != nullptr)) return;
  current_ = std::make_shared<const rules::Program>(build());
  freshness_.built();
}

std::optional<EarningPrograms::Parsed> EarningPrograms::parse(
    DocumentKind kind, const nlohmann::json& body, std::vector<FieldError>& errors) const {
  const std::size_t before = errors.size();
  nlohmann::json document = body;  // "version" is the server's (see save)
  if (document.is_object()) document.erase("version");
  Parsed parsed;
  switch (kind) {
    case DocumentKind::rule:
      if (auto rule = rules::read_rule(document, *zone_, errors)) {
        parsed.id = rule->id;
        parsed.value = std::move(*rule);
      }
      break;
    case DocumentKind::campaign:
      if (auto campaign = rules::read_campaign(document, *zone_, errors)) {
        parsed.id = campaign->id;
        parsed.value = std::move(*campaign);
      }
      break;
    case DocumentKind::tiers:
      if (auto tiers = rules::read_tiers(document, errors)) {
        parsed.id = kSingletonId;
        parsed.value = std::move(*tiers);
      }
      break;
    case DocumentKind::engagement:
      if (auto engagement = rules::read_engagement(document, errors)) {
        parsed.id = kSingletonId;
        parsed.value = std::move(*engagement);
      }
      break;
  }
  if (errors.size() > before || parsed.id.empty()) return std::nullopt;
  return parsed;
}

rules::Program EarningPrograms::build() {
  rules::Program program;
  program.zone = zone_;
  for (DocumentKind kind : {DocumentKind::rule, DocumentKind::campaign, DocumentKind::tiers,
                            DocumentKind::engagement}) {
    for (const store::EarningDocument& stored : documents_.in_force(std::string(kind_name(kind)))) {
      nlohmann::json body = nlohmann::json::parse(stored.document, nullptr, false);
      std::vector<FieldError> errors;
      std::optional<Parsed> parsed;
      if (body.is_object()) {
        body.erase("version");
        parsed = parse(kind, body, errors);
      }
      if (!parsed)
        throw std::runtime_error(
            "the stored " + stored.kind + " " + stored.id + " version " +
            std::to_string(stored.version) + " cannot be read" +
            (errors.empty() ? "" : ": " + errors.front().field + " " + errors.front().message));
      if (auto* rule = std::get_if<rules::Rule>(&parsed->value)) rule->version = stored.version;
      if (auto* campaign = std::get_if<rules::Campaign>(&parsed->value))
        campaign->version = stored.version;
      put(program, std::move(*parsed));
    }
  }
  return program;
}

EarningPrograms::Saved EarningPrograms::save(DocumentKind kind, const std::string& id,
                                             const nlohmann::json& body, bool create,
                                             std::optional<std::int64_t> expected_version,
                                             const std::string& actor) {
  Saved out;
  nlohmann::json document = body;
  const bool singleton = kind == DocumentKind::tiers || kind == DocumentKind::engagement;
  if (auto version = take_version(document, out.errors)) expected_version = version;
  if (!singleton && !id.empty()) {
    auto given = document.find("id");
    if (given == document.end())
      document["id"] = id;
    else if (!given->is_string() || given->get<std::string>() != id)
      out.errors.push_back({"id", "must be \"" + id + "\" as in the path"});
  }
  std::optional<Parsed> parsed = parse(kind, document, out.errors);
  if (!out.errors.empty() || !parsed) return out;

  std::lock_guard lock(mutex_);
  freshness_.look_now();
  refresh();
  const bool exists = in_program(*current_, kind, parsed->id);
  if (create && exists) {
    out.exists = true;
    return out;
  }
  if (!create && !exists && !singleton) {
    out.unknown = true;
    return out;
  }
  rules::Program candidate = *current_;
  put(candidate, *parsed);
  out.errors = program_errors(candidate, kind, parsed->id);
  if (!out.errors.empty()) return out;

  nlohmann::json stored = versioned(*parsed, 0);
  stored.erase("version");
  const std::string kind_text(kind_name(kind));
  if (create) {
    // A new id, or one that was retired: it continues after the retired versions.
    const auto history = documents_.versions(kind_text, parsed->id);
    expected_version = history.empty() ? 0 : history.front().version;
  }
  const auto saved = documents_.save(kind_text, parsed->id, stored.dump(), false, actor,
                                     clock_.now_us(), expected_version);
  if (saved.stale) {
    out.stale = true;
    return out;
  }
  freshness_.rebuild();
  refresh();
  out.document = versioned(*parsed, saved.version);
  return out;
}

EarningPrograms::Saved EarningPrograms::retire(DocumentKind kind, const std::string& id,
                                               const std::string& actor) {
  Saved out;
  std::lock_guard lock(mutex_);
  freshness_.look_now();
  refresh();
  if (!in_program(*current_, kind, id) || kind == DocumentKind::engagement) {
    out.unknown = true;
    return out;
  }
  rules::Program candidate = *current_;
  remove_from(candidate, kind, id);
  out.errors = program_errors(candidate, kind, "");  // e.g. a multiplier still names this rule
  if (!out.errors.empty()) return out;
  const auto history = documents_.versions(std::string(kind_name(kind)), id);
  const std::string last = history.empty() ? "{}" : history.front().document;
  documents_.save(std::string(kind_name(kind)), id, last, true, actor, clock_.now_us(),
                  std::nullopt);
  freshness_.rebuild();
  refresh();
  return out;
}

std::vector<nlohmann::json> EarningPrograms::in_force(DocumentKind kind) {
  std::vector<nlohmann::json> out;
  for (const store::EarningDocument& stored : documents_.in_force(std::string(kind_name(kind))))
    out.push_back(with_version(stored));
  return out;
}

std::vector<nlohmann::json> EarningPrograms::versions(DocumentKind kind, const std::string& id) {
  return document_versions(documents_, std::string(kind_name(kind)), id);
}

std::optional<rules::Program> EarningPrograms::with_draft(const nlohmann::json& draft,
                                                          const std::string& path,
                                                          std::vector<FieldError>& errors) {
  rules::Program program = *current();
  const std::size_t before = errors.size();
  Fields fields(draft, path, errors);
  fields.reject_unknown(
      {"rules", "campaigns", "retire_rules", "retire_campaigns", "tiers", "engagement"});
  auto read_list = [&](const char* name, DocumentKind kind) {
    auto list = draft.find(name);
    if (list == draft.end()) return;
    if (!list->is_array()) {
      fields.error(name, "must be an array");
      return;
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
      const std::size_t first = errors.size();
      if (auto parsed = parse(kind, (*list)[i], errors)) put(program, std::move(*parsed));
      prefix_errors(errors, first, fields.path_of(name) + "[" + std::to_string(i) + "]");
    }
  };
  read_list("rules", DocumentKind::rule);
  read_list("campaigns", DocumentKind::campaign);
  auto retire_list = [&](const char* name, DocumentKind kind) {
    auto list = draft.find(name);
    if (list == draft.end()) return;
    if (!list->is_array()) {
      fields.error(name, "must be an array of ids");
      return;
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
      const nlohmann::json& id = (*list)[i];
      if (!id.is_string() || !in_program(program, kind, id.get<std::string>()))
        errors.push_back(
            {fields.path_of(name) + "[" + std::to_string(i) + "]", "names nothing in force"});
      else
        remove_from(program, kind, id.get<std::string>());
    }
  };
  retire_list("retire_rules", DocumentKind::rule);
  retire_list("retire_campaigns", DocumentKind::campaign);
  if (auto tiers = draft.find("tiers"); tiers != draft.end()) {
    if (tiers->is_null()) {
      program.tiers.reset();
    } else {
      const std::size_t first = errors.size();
      if (auto parsed = parse(DocumentKind::tiers, *tiers, errors))
        put(program, std::move(*parsed));
      prefix_errors(errors, first, fields.path_of("tiers"));
    }
  }
  if (auto engagement = draft.find("engagement"); engagement != draft.end()) {
    const std::size_t first = errors.size();
    if (auto parsed = parse(DocumentKind::engagement, *engagement, errors))
      put(program, std::move(*parsed));
    prefix_errors(errors, first, fields.path_of("engagement"));
  }
  if (errors.size() == before) {
    std::vector<FieldError> whole = rules::check_program(program);
    prefix_errors(whole, 0, path);
    errors.insert(errors.end(), whole.begin(), whole.end());
  }
  if (errors.size() > before) return std::nullopt;
  return program;
}

}  // namespace pointsmall::earning
