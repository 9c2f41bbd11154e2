// Members: profiles, balances and histories, for the merchant, operators and the member.
#include <algorithm>

#include "api/api.h"
#include "api/json_input.h"
#include "api/render.h"
#include "api/routes.h"
#include "auth/crypto.h"
#include "core/time_zone.h"
#include "earning/event_payload.h"
#include "earning/member_facts.h"
#include "earning/preparers.h"

namespace pointsmall::api {
namespace {

const std::vector<std::string_view> kProfileFields = {"email",  "phone",  "name",     "birthday",
                                                      "gender", "region", "referrer", "tags"};
constexpr std::size_t kMaxTags = 20;
constexpr std::size_t kMaxSearchLength = 128;
const std::vector<std::string_view> kGenders = {"female", "male", "other"};

bool email_ok(const std::string& email) {
  const auto at = email.find('@');
  return at != std::string::npos && at > 0 && at + 1 < email.size() &&
         email.find('@', at + 1) == std::string::npos && email.find(' ') == std::string::npos;
}

bool phone_ok(const std::string& phone) {
  const auto digits =
      std::count_if(phone.begin(), phone.end(), [](char c) { return c >= '0' && c <= '9'; });
  return digits >= 3 && std::all_of(phone.begin(), phone.end(), [](char c) {
           return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == ' ' || c == '(' ||
                  c == ')';
         });
}

// A birthday: a real date, YYYY-MM-DD, from 1900 to today.
bool birthday_ok(const std::string& text, TimeUs now_us) {
  int year = 0;
  int month = 0;
  int day = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d", &year, &month, &day) != 3) return false;
  if (year < 1900 || !is_valid_date(year, month, day)) return false;
  const auto at_us = parse_rfc3339(text);
  return at_us && *at_us <= now_us;
}

// Tags: distinct labels of 1..32 characters of a-z, 0-9, "-" and "_"; null clears them.
void read_tags(Fields& fields, const nlohmann::json& value, std::vector<std::string>& tags) {
  tags.clear();
  if (value.is_null()) return;
  // Repeats are merged; the limit counts distinct tags (checked after the loop).
  if (!value.is_array() || value.size() > 10 * kMaxTags) {
    fields.error("tags", "must be an array of at most " + std::to_string(kMaxTags) + " tags");
    return;
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    const nlohmann::json& tag = value[i];
    const bool ok = tag.is_string() && !tag.get_ref<const std::string&>().empty() &&
                    tag.get_ref<const std::string&>().size() <= 32 &&
                    std::all_of(tag.get_ref<const std::string&>().begin(),
                                tag.get_ref<const std::string&>().end(), [](char c) {
                                  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                         c == '-' || c == '_';
                                });
    if (!ok) {
      fields.error("tags[" + std::to_string(i) + "]",
                   "must be 1 to 32 characters of a-z, 0-9, - and _");
      continue;
    }
    if (std::find(tags.begin(), tags.end(), tag.get<std::string>()) == tags.end())
      tags.push_back(tag.get<std::string>());
  }
  if (tags.size() > kMaxTags)
    fields.error("tags", "must be an array of at most " + std::to_string(kMaxTags) + " tags");
}

// Reads the profile fields present in `fields` into `profile`; a field sent as null clears it.
void read_profile(Fields& fields, const nlohmann::json& body, store::MemberProfile& profile,
                  TimeUs now_us) {
  struct TextField {
    std::string_view name;
    std::string store::MemberProfile::*member;
    std::size_t max_length;
  };
  const TextField texts[] = {{"email", &store::MemberProfile::email, 254},
                             {"phone", &store::MemberProfile::phone, 32},
                             {"name", &store::MemberProfile::name, 128},
                             {"region", &store::MemberProfile::region, 64},
                             {"referrer", &store::MemberProfile::referrer, 128}};
  for (const TextField& field : texts) {
    if (!fields.has(field.name)) continue;
    if (body.at(std::string(field.name)).is_null()) {
      profile.*field.member = "";
      continue;
    }
    if (auto value = fields.text(field.name, TextRule{.max_length = field.max_length}))
      profile.*field.member = *value;
  }
  if (fields.has("email") && !profile.email.empty() && !email_ok(profile.email))
    fields.error("email", "must be an e-mail address such as ana@example.com");
  if (fields.has("phone") && !profile.phone.empty() && !phone_ok(profile.phone))
    fields.error("phone", "must be a phone number of digits, spaces, + - ( )");
  if (fields.has("birthday")) {
    if (body.at("birthday").is_null()) {
      profile.birthday = "";
    } else if (auto birthday = fields.text("birthday", TextRule{.max_length = 10})) {
      if (birthday_ok(*birthday, now_us))
        profile.birthday = *birthday;
      else
        fields.error("birthday", "must be a date YYYY-MM-DD between 1900-01-01 and today");
    }
  }
  if (fields.has("gender")) {
    if (body.at("gender").is_null())
      profile.gender = "";
    else if (auto gender = fields.one_of("gender", false, kGenders))
      profile.gender = *gender;
  }
  if (fields.has("tags")) read_tags(fields, body.at("tags"), profile.tags);
}

// Checks the referrer names another member who joined before this one (`own_id`, 0 for a member
// not yet created), so that referrals can never form a ring.
void check_referrer(const CallPtr& call, Fields& fields, const std::string& referrer,
                    const std::string& own_external_id, MemberId own_id) {
  if (referrer.empty()) return;
  const auto referrer_id = call->services.ledger.member_by_external_id(referrer);
  if (referrer == own_external_id) {
    fields.error("referrer", "a member cannot refer themselves");
  } else if (!referrer_id) {
    fields.error("referrer", "no member has this external id");
  } else if (own_id != 0 && *referrer_id > own_id) {
    fields.error("referrer", "must be a member who joined before this one");
  }
}

bool profile_complete(const store::MemberProfile& p) {
  return !p.email.empty() && !p.phone.empty() && !p.name.empty() && !p.birthday.empty();
}

bool program_rewards(const rules::Program& program, const std::string& type) {
  auto rewards = [&](const rules::Rule& rule) { return rule.enabled && rule.event_type == type; };
  if (std::any_of(program.rules.begin(), program.rules.end(), rewards)) return true;
  return std::any_of(program.campaigns.begin(), program.campaigns.end(),
                     [&](const rules::Campaign& campaign) {
                       return campaign.enabled &&
                              std::any_of(campaign.rules.begin(), campaign.rules.end(), rewards);
                     });
}

// Events the server records itself when the program has a rule for them: "register" when a member
// joins, "profile_completed" the first time the profile has e-mail, phone, name and birthday.
// Each has one key per member, so it counts once ever. `then` runs afterwards whatever the
// outcome: the member's change stands either way. An event the store fails to record is not
// rewarded now; "profile_completed" is tried again at the next change of a complete profile.
void record_milestones(const CallPtr& call, MemberId member_id,
                       std::shared_ptr<std::vector<std::string>> types,
                       std::function<void(const CallPtr&)> then) {
  const auto program = call->services.earning.current();
  while (!types->empty() && !program_rewards(*program, types->front()))
    types->erase(types->begin());
  if (types->empty()) {
    then(call);
    return;
  }
  const std::string type = types->front();
  types->erase(types->begin());
  const TimeUs now = call->services.clock.now_us();
  ledger::Command command;
  command.idempotency_key = "auto:" + type + ":" + std::to_string(member_id);
  command.member_id = member_id;
  command.at_us = now;
  command.actor = call->caller.actor;
  command.reason = type == "register" ? "registration" : "profile completed";
  command.body = ledger::RecordEvent{type};
  const nlohmann::json payload = {{"type", type}, {"member_id", member_id}};
  command.event = ledger::EventRecord{type, now, payload.dump()};
  rules::Member facts;
  facts.id = member_id;
  if (auto record = call->services.members.find(member_id))
    facts = earning::member_facts(*record, call->services.ledger);
  auto preparer = std::make_shared<earning::EventPreparer>(
      program, earning::event_from_payload(type, now, payload), facts);
  call->services.ledger.submit_prepared(
      std::move(command), preparer,
      [call, member_id, types, then = std::move(then)](const store::CommandResult&) {
        call->defer([call, member_id, types, then] {
          call->guard([&] { record_milestones(call, member_id, types, then); });
        });
      });
}

void answer_member(const CallPtr& call, unsigned status, MemberId member_id,
                   std::vector<http::Header> headers = {}) {
  auto record = call->services.members.find(member_id);
  auto account = call->services.ledger.account(member_id);
  if (!record || !account) {
    call->fail(problem(ledger::Rejection::unknown_member));
    return;
  }
  call->json(status, member_json(*record, *account), std::move(headers));
}

const rules::Campaign* find_campaign(const rules::Program& program, const std::string& id) {
  const auto found = std::find_if(program.campaigns.begin(), program.campaigns.end(),
                                  [&](const rules::Campaign& c) { return c.id == id; });
  return found == program.campaigns.end() ? nullptr : &*found;
}

// The display name of a standing rule, or of a rule of `campaign` (when given); "" when it is not
// in the program any more (retired) or `rule` is a built-in step such as "checkin".
std::string rule_name(const rules::Program& program, const rules::Campaign* campaign,
                      const std::string& rule) {
  for (const rules::Rule& r : campaign != nullptr ? campaign->rules : program.rules)
    if (r.id == rule) return r.name;
  return "";
}

// The lines of an earning transaction's record (the rules that paid, as the event's answer gave
// them), each with the display names the program has for its rule and campaign today, so that a
// member reads "Double points weekend" rather than an id. Empty when the transaction has no
// record (imports before the earning engine, adjustments).
nlohmann::json explained_lines(const CallPtr& call, const rules::Program& program,
                               TransactionId transaction_id) {
  const auto stored = call->services.ledger.earning_record(transaction_id);
  const nlohmann::json record =
      stored ? nlohmann::json::parse(*stored, nullptr, false) : nlohmann::json();
  nlohmann::json lines = nlohmann::json::array();
  if (!record.is_object() || !record.contains("rules") || !record["rules"].is_array()) return lines;
  for (nlohmann::json line : record["rules"]) {
    if (!line.is_object()) continue;
    const std::string campaign_id = line.value("campaign", "");
    const rules::Campaign* campaign =
        campaign_id.empty() ? nullptr : find_campaign(program, campaign_id);
    if (!campaign_id.empty() && campaign == nullptr) {  // retired: ids only
      lines.push_back(std::move(line));
      continue;
    }
    const std::string name = rule_name(program, campaign, line.value("rule", ""));
    if (!name.empty()) line["name"] = name;
    if (campaign != nullptr && !campaign->name.empty()) line["campaign_name"] = campaign->name;
    lines.push_back(std::move(line));
  }
  return lines;
}

void answer_transactions(const CallPtr& call, MemberId member_id) {
  auto page = page_params(call);
  if (!page) return;
  auto history = call->services.ledger.history(member_id, page->cursor, page->limit + 1);
  const bool more = history.size() > page->limit;
  if (more) history.resize(page->limit);
  const auto program = call->services.earning.current();
  nlohmann::json data = nlohmann::json::array();
  for (const ledger::Transaction& transaction : history) {
    nlohmann::json line = transaction_json(transaction);
    if (transaction.kind == ledger::TransactionKind::earn) {
      nlohmann::json lines = explained_lines(call, *program, transaction.id);
      if (!lines.empty()) line["lines"] = std::move(lines);
    }
    data.push_back(std::move(line));
  }
  call->json(200, {{"data", std::move(data)},
                   {"next_cursor", cursor_json(more, more ? history.back().id : 0)}});
}

void answer_balance(const CallPtr& call, const ledger::AccountRow& account) {
  call->json(200, balance_json(account, call->services.ledger.lots(account.member_id)));
}

}  // namespace

void create_member(const CallPtr& call) {
  auto body = read_body(call);
  if (!body) return;
  std::vector<FieldError> errors;
  Fields fields(*body, "", errors);
  auto external_id = fields.text("external_id", TextRule{.required = true, .max_length = 128});
  store::MemberProfile profile;
  const TimeUs now = call->services.clock.now_us();
  read_profile(fields, *body, profile, now);
  auto referral_code = fields.text("referral_code", TextRule{.max_length = 32});
  if (referral_code) {
    auto referrer = call->services.members.member_by_referral_code(*referral_code);
    auto record = referrer ? call->services.members.find(*referrer) : std::nullopt;
    if (!record)
      fields.error("referral_code", "no member has this referral code");
    else if (fields.has("referrer") && profile.referrer != record->external_id)
      fields.error("referral_code", "names another referrer than \"referrer\"");
    else
      profile.referrer = record->external_id;
  }
  std::vector<std::string_view> known = kProfileFields;
  known.push_back("external_id");
  known.push_back("referral_code");
  fields.reject_unknown(known);
  if (external_id) check_referrer(call, fields, profile.referrer, *external_id, 0);
  if (fail_if_invalid(call, errors)) return;

  std::string key;
  if (!call->request.header("idempotency-key").empty()) {
    auto checked = idempotency_key(call);
    if (!checked) return;
    key = *checked;
  } else {
    key = "member-" + auth::random_token(16);  // no retry protection asked for
  }
  ledger::Command command;
  command.idempotency_key = key;
  command.at_us = now;
  command.actor = call->caller.actor;
  command.reason = "member registered";
  command.body = ledger::OpenAccount{*external_id};
  call->submit(std::move(command), [profile](const CallPtr& c, const store::CommandResult& result) {
    const MemberId member_id = result.outcome.member_id;
    auto existing = c->services.members.find(member_id);
    // A replay writes the profile only if the first attempt stopped before it did.
    if (!result.replayed || (existing && !existing->has_profile))
      c->services.members.put_profile(member_id, profile, c->services.clock.now_us());
    std::vector<http::Header> headers{{"location", "/v1/members/" + std::to_string(member_id)}};
    if (result.replayed) headers.push_back({"idempotent-replayed", "true"});
    auto milestones =
        std::make_shared<std::vector<std::string>>(std::vector<std::string>{"register"});
    if (profile_complete(profile)) milestones->push_back("profile_completed");
    record_milestones(c, member_id, milestones, [member_id, headers](const CallPtr& done) {
      answer_member(done, 201, member_id, headers);
    });
  });
}

void list_members(const CallPtr& call) {
  auto page = page_params(call);
  if (!page) return;
  nlohmann::json data = nlohmann::json::array();
  const auto text = call->query_value("q");
  if (text) {
    std::vector<FieldError> errors;
    if (call->query_value("external_id"))
      errors.push_back({"q", "cannot be combined with external_id"});
    else if (text->empty() || text->size() > kMaxSearchLength)
      errors.push_back({"q", "must be 1 to 128 characters"});
    if (fail_if_invalid(call, errors)) return;
  }
  if (auto external_id = call->query_value("external_id")) {
    if (auto record = call->services.members.find_by_external_id(*external_id)) {
      if (auto account = call->services.ledger.account(record->member_id))
        data.push_back(member_json(*record, *account));
    }
    call->json(200, {{"data", std::move(data)}, {"next_cursor", nullptr}});
    return;
  }
  auto records = text ? call->services.members.search(*text, page->cursor, page->limit + 1)
                      : call->services.members.list(page->cursor, page->limit + 1);
  const bool more = records.size() > page->limit;
  if (more) records.resize(page->limit);
  for (const store::MemberRecord& record : records) {
    if (auto account = call->services.ledger.account(record.member_id))
      data.push_back(member_json(record, *account));
  }
  call->json(200, {{"data", std::move(data)},
                   {"next_cursor", cursor_json(more, more ? records.back().member_id : 0)}});
}

void get_member(const CallPtr& call) {
  auto account = member_param(call, 0);
  if (!account) return;
  answer_member(call, 200, account->member_id);
}

void update_member(const CallPtr& call) {
  auto account = member_param(call, 0);
  if (!account) return;
  auto body = read_body(call);
  if (!body) return;
  auto record = call->services.members.find(account->member_id);
  if (!record) {
    call->fail(problem(ledger::Rejection::unknown_member));
    return;
  }
  std::vector<FieldError> errors;
  Fields fields(*body, "", errors);
  store::MemberProfile profile = record->profile;
  read_profile(fields, *body, profile, call->services.clock.now_us());
  fields.reject_unknown(kProfileFields);
  if (body->empty()) errors.push_back({"body", "must name at least one profile field to change"});
  if (fields.has("referrer") && profile.referrer != record->profile.referrer) {
    if (!record->profile.referrer.empty())
      fields.error("referrer", "cannot be changed once set");
    else
      check_referrer(call, fields, profile.referrer, record->external_id, record->member_id);
  }
  if (fail_if_invalid(call, errors)) return;
  call->services.members.put_profile(account->member_id, profile, call->services.clock.now_us());
  auto milestones = std::make_shared<std::vector<std::string>>();
  if (profile_complete(profile)) milestones->push_back("profile_completed");
  record_milestones(call, account->member_id, milestones,
                    [member_id = account->member_id](const CallPtr& done) {
                      answer_member(done, 200, member_id);
                    });
}

void get_balance(const CallPtr& call) {
  if (auto account = member_param(call, 0)) answer_balance(call, *account);
}

void list_transactions(const CallPtr& call) {
  if (auto account = member_param(call, 0)) answer_transactions(call, account->member_id);
}

void get_me(const CallPtr& call) {
  answer_member(call, 200, call->caller.id);
}

void get_my_balance(const CallPtr& call) {
  auto account = call->services.ledger.account(call->caller.id);
  if (!account) {
    call->fail(problem(ledger::Rejection::unknown_member));
    return;
  }
  answer_balance(call, *account);
}

void list_my_transactions(const CallPtr& call) {
  answer_transactions(call, call->caller.id);
}

}  // namespace pointsmall::api
