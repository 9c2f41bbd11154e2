#include "api/render.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "api/api.h"
#include "auth/crypto.h"
#include "core/json_text.h"
#include "core/time_zone.h"

namespace pointsmall::api {
namespace {

constexpr std::size_t kMaxExpiringDates = 12;
constexpr std::size_t kMaxKeyLength = 128;

}  // namespace

std::optional<std::int64_t> to_int(const std::string& text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

nlohmann::json text_or_null(const std::string& text) {
  return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text);
}

nlohmann::json member_json(const store::MemberRecord& member, const ledger::AccountRow& account) {
  const store::MemberProfile& p = member.profile;
  return {{"id", member.member_id},
          {"external_id", member.external_id},
          {"email", text_or_null(p.email)},
          {"phone", text_or_null(p.phone)},
          {"name", text_or_null(p.name)},
          {"birthday", text_or_null(p.birthday)},
          {"gender", text_or_null(p.gender)},
          {"region", text_or_null(p.region)},
          {"referrer", text_or_null(p.referrer)},
          {"tags", p.tags},
          {"status", account.account_frozen ? "frozen" : "active"},
          {"joined_at", format_rfc3339_utc(member.joined_at_us)},
          {"updated_at", format_rfc3339_utc(member.updated_at_us)}};
}

nlohmann::json balance_json(const ledger::AccountRow& account,
                            const std::vector<ledger::Lot>& lots) {
  Points lifetime_earned = 0;
  std::map<TimeUs, Points> expiring;
  for (const ledger::Lot& lot : lots) {
    if (lot.source != "adjustment") lifetime_earned += lot.amount;
    if (lot.state == ledger::LotState::active && lot.remaining > 0 &&
        lot.expires_at_us != kTimeNever)
      expiring[lot.expires_at_us / 1'000'000 * 1'000'000] += lot.remaining;  // as printed
  }
  nlohmann::json dates = nlohmann::json::array();
  for (const auto& [at_us, points] : expiring) {
    if (dates.size() == kMaxExpiringDates) break;
    dates.push_back({{"points", points}, {"expires_at", format_rfc3339_utc(at_us)}});
  }
  return {{"member_id", account.member_id},
          {"available", account.available},
          {"pending", account.pending},
          {"frozen", account.frozen},
          {"held", account.held},
          {"debt", account.debt},
          {"lifetime_earned", lifetime_earned},
          {"account_frozen", account.account_frozen},
          {"expiring", dates}};
}

Points member_points_change(const ledger::Transaction& transaction) {
  ledger::AccountRow change;
  for (const ledger::Entry& entry : transaction.entries)
    ledger::add_to_row(change, entry.account, entry.amount);
  return change.available + change.pending - change.debt;
}

nlohmann::json transaction_json(const ledger::Transaction& transaction) {
  return {{"id", transaction.id},
          {"kind", ledger::transaction_kind_name(transaction.kind)},
          {"points", member_points_change(transaction)},
          {"at", format_rfc3339_utc(transaction.at_us)},
          {"reference", transaction.reference},
          {"explanation", transaction.reason},
          {"actor", transaction.actor}};
}

nlohmann::json balance_after(const ledger::Outcome& outcome) {
  return {{"available", outcome.available_after},
          {"pending", outcome.pending_after},
          {"debt", outcome.debt_after}};
}

std::optional<std::string> idempotency_key(const CallPtr& call) {
  const std::string_view key = call->request.header("idempotency-key");
  if (key.empty()) {
    call->fail(problem(ApiError::idempotency_key_missing,
                       "send a unique Idempotency-Key header; retry with the same one"));
    return std::nullopt;
  }
  const bool printable = std::all_of(key.begin(), key.end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7F;
  });
  if (key.size() > kMaxKeyLength || !printable) {
    call->fail(problem(ApiError::validation_failed, "the Idempotency-Key is not valid",
                       {{"Idempotency-Key", "must be 1 to 128 printable ASCII characters"}}));
    return std::nullopt;
  }
  return std::string(key);
}

std::optional<KeyedBody> read_keyed_body(const CallPtr& call) {
  auto key = idempotency_key(call);
  if (!key) return std::nullopt;
  auto body = read_body(call);
  if (!body) return std::nullopt;
  return KeyedBody{std::move(*key), std::move(*body)};
}

std::string ledger_key(const CallPtr& call, std::string key) {
  if (call->caller.kind != Caller::Kind::member_session) return key;
  const std::string scope = "member:" + std::to_string(call->caller.id) + ":";
  if (scope.size() + key.size() <= kMaxKeyLength) return scope + key;
  return scope + auth::sha256_hex(key).substr(0, 32);  // still the same key for every retry
}

ledger::Command ledger_command(const CallPtr& call, std::string key, MemberId member_id) {
  ledger::Command command;
  command.idempotency_key = ledger_key(call, std::move(key));
  command.member_id = member_id;
  command.at_us = call->services.clock.now_us();
  command.actor = call->caller.actor;
  return command;
}

void answer_command(const CallPtr& call, const store::CommandResult& result, unsigned status,
                    const nlohmann::json& body) {
  std::vector<http::Header> headers;
  if (result.replayed) headers.push_back({"idempotent-replayed", "true"});
  call->json(status, body, std::move(headers));
}

void answer_command_with_raw(const CallPtr& call, const store::CommandResult& result,
                             unsigned status, const nlohmann::json& body, std::string_view name,
                             std::string_view raw_json) {
  http::Response response;
  response.status = status;
  response.body = with_raw_member(
      body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), name, raw_json);
  if (result.replayed) response.headers.push_back({"idempotent-replayed", "true"});
  call->answer(std::move(response));
}

std::optional<ledger::AccountRow> member_param(const CallPtr& call, std::size_t index) {
  const Problem unknown = problem(ledger::Rejection::unknown_member);
  auto id = call->id_param(index, unknown);
  if (!id) return std::nullopt;
  auto account = call->services.ledger.account(*id);
  if (!account) call->fail(unknown);
  return account;
}

std::optional<Page> page_params(const CallPtr& call) {
  Page page;
  std::vector<FieldError> errors;
  if (auto limit = call->query_value("limit")) {
    auto value = to_int(*limit);
    if (!value || *value < 1 || *value > 100)
      errors.push_back({"limit", "must be an integer from 1 to 100"});
    else
      page.limit = static_cast<std::size_t>(*value);
  }
  if (auto cursor = call->query_value("cursor")) {
    auto value = to_int(*cursor);
    if (!value || *value < 1)
      errors.push_back({"cursor", "must be a next_cursor from a previous page"});
    else
      page.cursor = *value;
  }
  if (fail_if_invalid(call, errors)) return std::nullopt;
  return page;
}

nlohmann::json cursor_json(bool more, std::int64_t next) {
  return more ? nlohmann::json(std::to_string(next)) : nlohmann::json(nullptr);
}

}  // namespace pointsmall::api
