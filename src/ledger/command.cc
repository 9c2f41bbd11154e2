// Command validation, request digests and the encoding of outcomes for idempotent replay.
#include <algorithm>
#include <charconv>
#include <cstring>

#include "ledger/ledger.h"

namespace pointsmall::ledger {
namespace {

constexpr std::size_t kMaxKeyLength = 128;
constexpr std::size_t kMaxReferenceLength = 128;
constexpr std::size_t kMaxSourceLength = 64;
constexpr std::size_t kMaxTextLength = 500;       // reason and actor
constexpr Points kMaxPoints = 1'000'000'000'000;  // per command; keeps every sum far from overflow
constexpr MinorUnits kMaxMoney = 1'000'000'000'000'000;
constexpr std::size_t kMaxEventPayload = std::size_t{64} * 1024;

// FNV-1a over length-prefixed fields, so that ("ab","c") and ("a","bc") differ.
class Digest {
 public:
  void add(std::int64_t value) {
    for (int i = 0; i < 8; ++i) byte(static_cast<unsigned char>(value >> (8 * i)));
  }
  void add(std::string_view text) {
    add(static_cast<std::int64_t>(text.size()));
    for (char c : text) byte(static_cast<unsigned char>(c));
  }
  [[nodiscard]] std::uint64_t value() const { return hash_; }

 private:
  void byte(unsigned char b) {
    hash_ ^= b;
    hash_ *= 0x100000001b3ULL;
  }
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

bool text_ok(const std::string& text, std::size_t max, bool required) {
  if (required && text.empty()) return false;
  if (text.size() > max) return false;
  for (unsigned char c : text)
    if (c < 0x20 && c != '\t') return false;  // no control characters in the journal
  return true;
}

bool points_ok(Points points) {
  return points > 0 && points <= kMaxPoints;
}

std::optional<Rejection> validate_body(const Command& command) {
  const auto bad = std::optional<Rejection>(Rejection::invalid_request);
  return std::visit(
      [&](const auto& body) -> std::optional<Rejection> {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, OpenAccount>) {
          if (!text_ok(body.external_id, kMaxReferenceLength, true)) return bad;
        } else if constexpr (std::is_same_v<T, Earn>) {
          // 0 points only for an order: the purchase is recorded so that its refund is known.
          const bool recorded_order = body.points == 0 && !body.order_id.empty();
          if ((!points_ok(body.points) && !recorded_order) ||
              !text_ok(body.source, kMaxSourceLength, true) ||
              !text_ok(body.order_id, kMaxReferenceLength, false) || body.cost_minor < 0 ||
              body.cost_minor > kMaxMoney || body.matures_at_us < 0 || body.expires_at_us < 0)
            return bad;
          if (!body.order_id.empty() &&
              (body.order_amount_minor <= 0 || body.order_amount_minor > kMaxMoney))
            return bad;
          // An explicit expiry must leave the points some time to be used.
          if (body.expires_at_us != 0 &&
              body.expires_at_us <= std::max(command.at_us, body.matures_at_us))
            return bad;
        } else if constexpr (std::is_same_v<T, Spend>) {
          if (!points_ok(body.points) || !text_ok(body.order_id, kMaxReferenceLength, false))
            return bad;
        } else if constexpr (std::is_same_v<T, PlaceHold>) {
          if (!points_ok(body.points) || !text_ok(body.hold_ref, kMaxReferenceLength, true))
            return bad;
        } else if constexpr (std::is_same_v<T, CaptureHold> || std::is_same_v<T, ReleaseHold>) {
          if (!text_ok(body.hold_ref, kMaxReferenceLength, true)) return bad;
        } else if constexpr (std::is_same_v<T, Refund>) {
          if (!text_ok(body.order_id, kMaxReferenceLength, true) || body.amount_minor <= 0 ||
              body.amount_minor > kMaxMoney)
            return bad;
        } else if constexpr (std::is_same_v<T, CancelTransaction>) {
          if (body.transaction_id <= 0) return bad;
        } else if constexpr (std::is_same_v<T, Adjust>) {
          if (body.points == 0 || body.points > kMaxPoints || body.points < -kMaxPoints) return bad;
          if (command.reason.empty()) return bad;  // an operator must say why
        } else if constexpr (std::is_same_v<T, FreezeAccount> ||
                             std::is_same_v<T, UnfreezeAccount>) {
          if (command.reason.empty()) return bad;
        } else if constexpr (std::is_same_v<T, FreezeLot> || std::is_same_v<T, UnfreezeLot>) {
          if (body.lot_id <= 0 || command.reason.empty()) return bad;
        } else if constexpr (std::is_same_v<T, RecordEvent>) {
          if (!text_ok(body.type, kMaxSourceLength, true)) return bad;
        }
        return std::nullopt;
      },
      command.body);
}

void add_body(Digest& digest, const CommandBody& body) {
  digest.add(static_cast<std::int64_t>(body.index()));
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, OpenAccount>) {
          digest.add(b.external_id);
        } else if constexpr (std::is_same_v<T, Earn>) {
          digest.add(b.points), digest.add(b.source), digest.add(b.order_id);
          digest.add(b.order_amount_minor), digest.add(b.cost_minor);
          digest.add(b.matures_at_us), digest.add(b.expires_at_us);
        } else if constexpr (std::is_same_v<T, Spend>) {
          digest.add(b.points), digest.add(b.order_id);
        } else if constexpr (std::is_same_v<T, PlaceHold>) {
          digest.add(b.hold_ref), digest.add(b.points), digest.add(b.expires_at_us);
        } else if constexpr (std::is_same_v<T, CaptureHold> || std::is_same_v<T, ReleaseHold>) {
          digest.add(b.hold_ref);
        } else if constexpr (std::is_same_v<T, Refund>) {
          digest.add(b.order_id), digest.add(b.amount_minor);
        } else if constexpr (std::is_same_v<T, CancelTransaction>) {
          digest.add(b.transaction_id);
        } else if constexpr (std::is_same_v<T, Adjust>) {
          digest.add(b.points);
        } else if constexpr (std::is_same_v<T, FreezeLot> || std::is_same_v<T, UnfreezeLot>) {
          digest.add(b.lot_id);
        } else if constexpr (std::is_same_v<T, RecordEvent>) {
          digest.add(b.type);
        }
      },
      body);
}

// Outcome fields in their encoded order. The encoding is "name=value;" pairs for the fields that
// are not zero: readable in the database, and tolerant of fields added later (unknown names are
// ignored, missing ones are 0).
struct OutcomeField {
  std::string_view name;
  std::int64_t Outcome::*member;
};
constexpr OutcomeField kOutcomeFields[] = {
    {"tx", &Outcome::transaction_id},
    {"member", &Outcome::member_id},
    {"points", &Outcome::points},
    {"returned", &Outcome::points_returned},
    {"debt_added", &Outcome::debt_added},
    {"absorbed", &Outcome::absorbed},
    {"debt_repaid", &Outcome::debt_repaid},
    {"available", &Outcome::available_after},
    {"pending_after", &Outcome::pending_after},
    {"debt", &Outcome::debt_after},
};

}  // namespace

std::string_view command_name(const CommandBody& body) {
  static constexpr std::string_view kNames[] = {
      "open_account", "earn",         "spend",       "hold",   "capture",        "release",
      "refund",       "cancel",       "adjust",      "settle", "freeze_account", "unfreeze_account",
      "freeze_lot",   "unfreeze_lot", "record_event"};
  return kNames[body.index()];
}

std::uint64_t request_hash(const Command& command) {
  if (command.client_request_hash != 0) return command.client_request_hash;
  Digest digest;
  digest.add(command.member_id);
  digest.add(command.actor);
  digest.add(command.reason);
  add_body(digest, command.body);
  if (command.event) {
    // The occurrence time is part of the request (unlike the command's own time).
    digest.add(command.event->type), digest.add(command.event->occurred_at_us);
    digest.add(command.event->payload);
  }
  return digest.value();
}

std::optional<Rejection> validate(const Command& command) {
  if (!text_ok(command.idempotency_key, kMaxKeyLength, true)) return Rejection::invalid_request;
  if (!text_ok(command.actor, kMaxTextLength, false) ||
      !text_ok(command.reason, kMaxTextLength, false))
    return Rejection::invalid_request;
  const bool opening = std::holds_alternative<OpenAccount>(command.body);
  if (opening != (command.member_id == 0) || command.member_id < 0)
    return Rejection::invalid_request;
  if (command.event && (!text_ok(command.event->type, kMaxSourceLength, true) ||
                        command.event->payload.size() > kMaxEventPayload))
    return Rejection::invalid_request;
  return validate_body(command);
}

std::string encode_outcome(const Outcome& outcome) {
  std::string text;
  for (const OutcomeField& field : kOutcomeFields) {
    // Absent fields decode as 0; the transaction is always written, so no result is empty.
    if (outcome.*field.member == 0 && field.member != &Outcome::transaction_id) continue;
    text += field.name;
    text += '=';
    text += std::to_string(outcome.*field.member);
    text += ';';
  }
  if (outcome.pending) text += "pending=1;";
  return text;
}

std::optional<Outcome> decode_outcome(std::string_view text) {
  if (text.empty()) return std::nullopt;  // every stored outcome names its transaction
  Outcome outcome;
  while (!text.empty()) {
    const auto equals = text.find('=');
    const auto semicolon = text.find(';');
    if (equals == std::string_view::npos || semicolon == std::string_view::npos ||
        equals > semicolon)
      return std::nullopt;
    const std::string_view name = text.substr(0, equals);
    const std::string_view number = text.substr(equals + 1, semicolon - equals - 1);
    std::int64_t value = 0;
    auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (error != std::errc() || end != number.data() + number.size()) return std::nullopt;
    if (name == "pending") outcome.pending = value != 0;
    for (const OutcomeField& field : kOutcomeFields)
      if (field.name == name) outcome.*field.member = value;
    text.remove_prefix(semicolon + 1);
  }
  return outcome;
}

Replay replay_or_conflict(const Command& command, std::uint64_t stored_request_hash,
                          std::string_view stored_result) {
  Replay replay;
  if (stored_request_hash != request_hash(command)) {
    replay.rejection = Rejection::idempotency_conflict;
    return replay;
  }
  auto outcome = decode_outcome(stored_result);
  if (!outcome) {
    replay.rejection = Rejection::idempotency_conflict;
    return replay;
  }
  replay.outcome = *outcome;
  return replay;
}

}  // namespace pointsmall::ledger
