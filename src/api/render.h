// JSON shapes shared by several routes (see docs/openapi.yaml for each schema).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/call.h"
#include "ledger/model.h"
#include "store/member_directory.h"

namespace pointsmall::api {

nlohmann::json member_json(const store::MemberRecord& member, const ledger::AccountRow& account);
// Balances, lifetime earned and the next expiry dates of the member's active lots.
nlohmann::json balance_json(const ledger::AccountRow& account,
                            const std::vector<ledger::Lot>& lots);
// The change of the member's points (available + pending - debt) a transaction made.
Points member_points_change(const ledger::Transaction& transaction);
nlohmann::json transaction_json(const ledger::Transaction& transaction);
// {"available", "pending", "debt"} after a command.
nlohmann::json balance_after(const ledger::Outcome& outcome);
// A whole decimal number (a query parameter), or nullopt.
std::optional<std::int64_t> to_int(const std::string& text);
// null for "", the text otherwise.
nlohmann::json text_or_null(const std::string& text);

// The Idempotency-Key header, checked; answers 428 or 422 and returns nullopt when missing or bad.
std::optional<std::string> idempotency_key(const CallPtr& call);
// A points-changing call's Idempotency-Key and JSON body; answers the problem and returns nullopt
// when either is missing or bad.
struct KeyedBody {
  std::string key;
  nlohmann::json body;
};
std::optional<KeyedBody> read_keyed_body(const CallPtr& call);
// The ledger's idempotency key for a key the caller sent. A member's keys are their own (scoped
// by their id), so that two members' apps choosing the same key never collide; other callers'
// keys are taken as they are.
std::string ledger_key(const CallPtr& call, std::string key);
// A ledger command of this call: the key (ledger_key), the member, the time from the clock, the
// caller as actor; the caller sets the reason and body.
ledger::Command ledger_command(const CallPtr& call, std::string key, MemberId member_id);

// Answers the JSON of an accepted command: status and body, plus Idempotent-Replayed when the
// ledger replayed an earlier result for the key.
void answer_command(const CallPtr& call, const store::CommandResult& result, unsigned status,
                    const nlohmann::json& body);
// The same with one more member of the body given as JSON text.
void answer_command_with_raw(const CallPtr& call, const store::CommandResult& result,
                             unsigned status, const nlohmann::json& body, std::string_view name,
                             std::string_view raw_json);

// The member named by path parameter `index`, or answers 404 unknown_member.
std::optional<ledger::AccountRow> member_param(const CallPtr& call, std::size_t index);
// Pagination: `limit` (1..100, default 20) and a numeric `cursor`; answers 422 when bad.
struct Page {
  std::size_t limit = 20;
  std::int64_t cursor = 0;  // 0: from the start
};
std::optional<Page> page_params(const CallPtr& call);
nlohmann::json cursor_json(bool more, std::int64_t next);

}  // namespace pointsmall::api
