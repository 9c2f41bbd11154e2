#include "api/problem.h"

#include <nlohmann/json.hpp>

namespace pointsmall::api {
namespace {

using ledger::Rejection;

// The one table of statuses: every error the API answers, its HTTP status and its title.
struct ApiRow {
  ApiError error;
  unsigned status;
  std::string_view type;
  std::string_view title;
};
constexpr ApiRow kApiErrors[] = {
    {ApiError::malformed_json, 400, "malformed_json", "The body is not valid JSON"},
    {ApiError::malformed_request, 400, "malformed_request", "The HTTP request cannot be read"},
    {ApiError::unauthenticated, 401, "unauthenticated", "Credentials are missing or not valid"},
    {ApiError::forbidden, 403, "forbidden", "Your role may not call this route"},
    {ApiError::csrf_failed, 403, "csrf_failed", "The X-CSRF-Token header does not match"},
    {ApiError::not_found, 404, "not_found", "Nothing is found at this path"},
    {ApiError::method_not_allowed, 405, "method_not_allowed", "The path has no such method"},
    {ApiError::payload_too_large, 413, "payload_too_large", "The body is too large"},
    {ApiError::unsupported_media_type, 415, "unsupported_media_type",
     "The body is not of the media type this route takes"},
    {ApiError::headers_too_large, 431, "headers_too_large", "The headers are too large"},
    {ApiError::validation_failed, 422, "validation_failed", "The request has invalid fields"},
    {ApiError::idempotency_key_missing, 428, "idempotency_key_missing",
     "This call needs an Idempotency-Key header"},
    {ApiError::login_failed, 401, "login_failed", "The sign-in details are not valid"},
    {ApiError::name_taken, 409, "name_taken", "The name is already in use"},
    {ApiError::too_many_requests, 429, "too_many_requests",
     "Too many sign-ins are being checked; retry in a moment"},
    {ApiError::already_exists, 409, "already_exists", "Something with this id exists"},
    {ApiError::version_conflict, 409, "version_conflict",
     "The document changed since you read it; read it again"},
    {ApiError::event_too_late, 422, "event_too_late",
     "The event is older than the program accepts"},
    {ApiError::already_checked_in, 409, "already_checked_in",
     "The member has checked in today already"},
    {ApiError::checkin_disabled, 409, "checkin_disabled", "Check-in is not part of the program"},
    {ApiError::unknown_tier, 422, "unknown_tier", "The program has no such tier"},
    {ApiError::tier_unchanged, 409, "tier_unchanged", "The member is in this tier already"},
    {ApiError::unknown_item, 404, "unknown_item", "No item with this id is in the catalog"},
    {ApiError::item_unavailable, 409, "item_unavailable", "The item cannot be redeemed now"},
    {ApiError::item_not_eligible, 409, "item_not_eligible",
     "The item is not offered to the member's tier"},
    {ApiError::item_not_yet_available, 409, "item_not_yet_available",
     "The item cannot be redeemed yet"},
    {ApiError::item_no_longer_available, 409, "item_no_longer_available",
     "The item can no longer be redeemed"},
    {ApiError::invalid_quantity, 422, "invalid_quantity", "The quantity is not valid"},
    {ApiError::limit_per_order, 422, "limit_per_order", "The order has more units than allowed"},
    {ApiError::out_of_stock, 409, "out_of_stock", "Not enough units are left"},
    {ApiError::limit_per_member, 409, "limit_per_member",
     "The member has reached the item's limit"},
    {ApiError::limit_global, 409, "limit_global", "The item's overall limit is reached"},
    {ApiError::tier_not_higher, 409, "tier_not_higher",
     "The member's tier is already this one or higher"},
    {ApiError::order_state_conflict, 409, "order_state_conflict",
     "The order is not in a state that allows this"},
    {ApiError::order_id_taken, 409, "order_id_taken",
     "Something with this id exists; send another Idempotency-Key"},
    {ApiError::unknown_coupon, 422, "unknown_coupon", "No coupon has this code"},
    {ApiError::coupon_used, 409, "coupon_used", "The coupon has been used"},
    {ApiError::coupon_not_yours, 409, "coupon_not_yours", "The coupon belongs to another member"},
    {ApiError::coupon_not_yet_valid, 409, "coupon_not_yet_valid", "The coupon is not valid yet"},
    {ApiError::coupon_expired, 409, "coupon_expired", "The coupon has expired"},
    {ApiError::coupon_wrong_currency, 422, "coupon_wrong_currency",
     "The coupon is for another currency"},
    {ApiError::coupon_not_stackable, 409, "coupon_not_stackable",
     "The coupon cannot be combined with the coupons on the order"},
    {ApiError::coupon_not_applicable, 422, "coupon_not_applicable",
     "The coupon takes nothing off this order"},
    {ApiError::coupon_below_minimum_spend, 422, "coupon_below_minimum_spend",
     "The order is below the coupon's minimum spend"},
    {ApiError::coupon_limit_reached, 409, "coupon_limit_reached",
     "No more coupons of this kind can be issued"},
    {ApiError::coupon_not_redeemed, 409, "coupon_not_redeemed",
     "The coupon is not in use for this order"},
    {ApiError::storage_unavailable, 503, "storage_unavailable",
     "The database is not available; retry with the same Idempotency-Key"},
    {ApiError::internal_error, 500, "internal_error", "An internal error occurred"},
};

struct RejectionRow {
  Rejection rejection;
  unsigned status;
  std::string_view title;
};
constexpr RejectionRow kRejections[] = {
    {Rejection::invalid_request, 422, "The request is not valid for the ledger"},
    {Rejection::unknown_member, 404, "No member has this id"},
    {Rejection::member_exists, 409, "A member with this external id exists"},
    {Rejection::account_frozen, 409, "The member's account is frozen"},
    {Rejection::insufficient_points, 422, "Not enough available points"},
    {Rejection::unknown_lot, 404, "No such lot for this member"},
    {Rejection::lot_not_freezable, 409, "Only pending and active lots can be frozen"},
    {Rejection::lot_not_frozen, 409, "The lot is not frozen"},
    {Rejection::hold_exists, 409, "A hold with this reference exists"},
    {Rejection::unknown_hold, 404, "No such hold for this member"},
    {Rejection::hold_not_open, 409, "The hold is no longer open"},
    {Rejection::hold_expired, 409, "The hold has timed out"},
    {Rejection::unknown_order, 404, "The ledger knows no such order for this member"},
    {Rejection::duplicate_order, 409, "This order has already earned points"},
    {Rejection::refund_exceeds_order, 422, "Refunds would exceed the order's amount"},
    {Rejection::unknown_transaction, 404, "No such transaction for this member"},
    {Rejection::not_cancellable, 409, "Only spends and holds can be cancelled"},
    {Rejection::already_cancelled, 409, "The transaction was cancelled before"},
    {Rejection::idempotency_conflict, 422,
     "The Idempotency-Key was used before with a different request"},
};

}  // namespace

Problem problem(ApiError error, std::string detail, std::vector<FieldError> errors) {
  for (const ApiRow& row : kApiErrors) {
    if (row.error != error) continue;
    return Problem{row.type, row.title, row.status, std::move(detail), std::move(errors)};
  }
  return Problem{"internal_error", "An internal error occurred", 500, std::move(detail), {}};
}

Problem problem(Rejection rejection, std::string detail) {
  for (const RejectionRow& row : kRejections) {
    if (row.rejection != rejection) continue;
    return Problem{ledger::rejection_name(rejection), row.title, row.status, std::move(detail), {}};
  }
  return problem(ApiError::internal_error, std::move(detail));
}

Problem problem(const store::Refusal& refusal) {
  for (const ApiRow& row : kApiErrors) {
    if (row.type == refusal.problem)
      return Problem{row.type, row.title, row.status, refusal.detail, {}};
  }
  return problem(ApiError::internal_error, "unexpected refusal " + refusal.problem);
}

std::vector<ProblemType> problem_types() {
  std::vector<ProblemType> types;
  for (const ApiRow& row : kApiErrors) types.push_back({row.type, row.status, row.title});
  for (const RejectionRow& row : kRejections)
    types.push_back({ledger::rejection_name(row.rejection), row.status, row.title});
  return types;
}

http::Response to_response(const Problem& problem) {
  nlohmann::json body = {
      {"type", problem.type},
      {"title", problem.title},
      {"status", problem.status},
      {"detail", problem.detail.empty() ? std::string(problem.title) : problem.detail}};
  if (!problem.errors.empty()) {
    nlohmann::json errors = nlohmann::json::array();
    for (const FieldError& e : problem.errors)
      errors.push_back({{"field", e.field}, {"message", e.message}});
    body["errors"] = std::move(errors);
  }
  http::Response response;
  response.status = problem.status;
  response.content_type = "application/problem+json";
  // Invalid UTF-8 echoed from input is replaced rather than thrown on.
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

}  // namespace pointsmall::api
