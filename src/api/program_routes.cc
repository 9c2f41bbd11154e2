// The merchant's earning program over the API: rules, campaigns, tiers and engagement settings
// (versioned documents, earning/programs.h), and back-tests of drafts.
#include <chrono>

#include "api/api.h"
#include "api/json_input.h"
#include "api/render.h"
#include "api/routes.h"
#include "earning/backtest.h"
#include "rules/document.h"

namespace pointsmall::api {
namespace {

using earning::DocumentKind;
using earning::EarningPrograms;

constexpr TimeUs kMaxBackTestRangeUs = 3700 * kMicrosPerDay;  // about ten years

// Answers a refused save: its problem, or nothing when it was saved.
bool fail_if_not_saved(const CallPtr& call, DocumentKind kind, const std::string& id,
                       EarningPrograms::Saved& saved) {
  const std::string what = std::string(earning::kind_name(kind)) + " \"" + id + "\"";
  if (!saved.errors.empty()) return fail_if_invalid(call, saved.errors);
  if (saved.exists) {
    call->fail(problem(ApiError::already_exists, "a " + what + " exists; replace it with PUT"));
    return true;
  }
  if (saved.unknown) {
    call->fail(problem(ApiError::not_found, "no " + what + " is in force"));
    return true;
  }
  if (saved.stale) {
    call->fail(problem(ApiError::version_conflict,
                       "the " + what + " changed since the version you sent; read it again"));
    return true;
  }
  return false;
}

void list_documents(const CallPtr& call, DocumentKind kind) {
  call->json(200, {{"data", call->services.earning.in_force(kind)}});
}

void get_document(const CallPtr& call, DocumentKind kind, const std::string& id) {
  for (nlohmann::json& document : call->services.earning.in_force(kind)) {
    if (document.value("id", std::string("default")) == id || kind == DocumentKind::tiers ||
        kind == DocumentKind::engagement) {
      call->json(200, document);
      return;
    }
  }
  if (kind == DocumentKind::engagement) {  // never saved: the defaults are in force
    nlohmann::json defaults = rules::to_json(rules::Engagement{});
    defaults["version"] = 0;
    call->json(200, defaults);
    return;
  }
  call->fail(problem(ApiError::not_found, "no " + std::string(earning::kind_name(kind)) + " \"" +
                                              id + "\" is in force"));
}

void save_document(const CallPtr& call, DocumentKind kind, const std::string& id, bool create) {
  auto body = read_body(call);
  if (!body) return;
  auto saved =
      call->services.earning.save(kind, id, *body, create, std::nullopt, call->caller.actor);
  if (fail_if_not_saved(call, kind, id.empty() ? body->value("id", std::string()) : id, saved))
    return;
  call->json(create ? 201 : 200, saved.document);
}

void retire_document(const CallPtr& call, DocumentKind kind, const std::string& id) {
  auto saved = call->services.earning.retire(kind, id, call->caller.actor);
  if (fail_if_not_saved(call, kind, id, saved)) return;
  call->no_content();
}

void list_versions(const CallPtr& call, DocumentKind kind, const std::string& id) {
  auto versions = call->services.earning.versions(kind, id);
  if (versions.empty()) {
    call->fail(problem(ApiError::not_found, "no " + std::string(earning::kind_name(kind)) + " \"" +
                                                id + "\" was ever saved"));
    return;
  }
  call->json(200, {{"data", std::move(versions)}});
}

}  // namespace

void list_rules(const CallPtr& call) {
  list_documents(call, DocumentKind::rule);
}
void create_rule(const CallPtr& call) {
  save_document(call, DocumentKind::rule, "", true);
}
void get_rule(const CallPtr& call) {
  get_document(call, DocumentKind::rule, call->params.at(0));
}
void replace_rule(const CallPtr& call) {
  save_document(call, DocumentKind::rule, call->params.at(0), false);
}
void retire_rule(const CallPtr& call) {
  retire_document(call, DocumentKind::rule, call->params.at(0));
}
void list_rule_versions(const CallPtr& call) {
  list_versions(call, DocumentKind::rule, call->params.at(0));
}

void list_campaigns(const CallPtr& call) {
  list_documents(call, DocumentKind::campaign);
}
void create_campaign(const CallPtr& call) {
  save_document(call, DocumentKind::campaign, "", true);
}
void get_campaign(const CallPtr& call) {
  get_document(call, DocumentKind::campaign, call->params.at(0));
}
void replace_campaign(const CallPtr& call) {
  save_document(call, DocumentKind::campaign, call->params.at(0), false);
}
void retire_campaign(const CallPtr& call) {
  retire_document(call, DocumentKind::campaign, call->params.at(0));
}
void list_campaign_versions(const CallPtr& call) {
  list_versions(call, DocumentKind::campaign, call->params.at(0));
}

void get_tiers(const CallPtr& call) {
  get_document(call, DocumentKind::tiers, "default");
}
void put_tiers(const CallPtr& call) {
  save_document(call, DocumentKind::tiers, "default", false);
}
void get_engagement(const CallPtr& call) {
  get_document(call, DocumentKind::engagement, "default");
}
void put_engagement(const CallPtr& call) {
  save_document(call, DocumentKind::engagement, "default", false);
}

// POST /v1/simulations {"from", "until", "draft": {...}}: the back-test of a draft program.
void create_simulation(const CallPtr& call) {
  auto body = read_body(call);
  if (!body) return;
  std::vector<FieldError> errors;
  Fields fields(*body, "", errors);
  auto from = fields.time("from", true);
  auto until = fields.time("until", true);
  if (from && until && *until <= *from) fields.error("until", "must be after from");
  if (from && until && *until - *from > kMaxBackTestRangeUs)
    fields.error("until", "the range may span at most 3700 days");
  fields.reject_unknown({"from", "until", "draft"});
  std::optional<rules::Program> draft;
  if (auto given = body->find("draft"); given != body->end()) {
    if (!given->is_object())
      fields.error("draft", "must be an object");
    else
      draft = call->services.earning.with_draft(*given, "draft", errors);
  } else {
    draft = *call->services.earning.current();
  }
  if (fail_if_invalid(call, errors)) return;
  const auto started = std::chrono::steady_clock::now();
  earning::BackTest result;
  try {
    result =
        earning::back_test(call->services.ledger, call->services.members, *draft, *from, *until);
  } catch (const earning::BackTestTooLarge& too_large) {
    std::vector<FieldError> range{{"until", std::string(too_large.what())}};
    fail_if_invalid(call, range);
    return;
  }
  nlohmann::json answer = earning::back_test_json(result);
  answer["duration_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - started)
                              .count();
  call->json(200, answer);
}

}  // namespace pointsmall::api
