// Errors as RFC 9457 problem details. One table (problem.cc) gives every error the API can answer,
// from the ledger's rejections and from the API itself, its stable `type`, title and HTTP status.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_fields.h"
#include "http/server.h"
#include "ledger/ledger.h"
#include "store/preparer.h"

namespace pointsmall::api {

// The API's own errors (the ledger's are ledger::Rejection).
enum class ApiError : std::uint8_t {
  malformed_json,
  malformed_request,
  unauthenticated,
  forbidden,
  csrf_failed,
  not_found,
  method_not_allowed,
  payload_too_large,
  unsupported_media_type,
  headers_too_large,
  validation_failed,
  idempotency_key_missing,
  login_failed,
  name_taken,
  too_many_requests,
  already_exists,
  version_conflict,
  event_too_late,
  already_checked_in,
  checkin_disabled,
  unknown_tier,
  tier_unchanged,
  // The mall (mall/catalog.h, mall/coupon.h, mall/service/preparers.h name them as refusals).
  unknown_item,
  item_unavailable,
  item_not_eligible,
  item_not_yet_available,
  item_no_longer_available,
  invalid_quantity,
  limit_per_order,
  out_of_stock,
  limit_per_member,
  limit_global,
  tier_not_higher,
  order_state_conflict,
  order_id_taken,
  unknown_coupon,
  coupon_used,
  coupon_not_yours,
  coupon_not_yet_valid,
  coupon_expired,
  coupon_wrong_currency,
  coupon_not_stackable,
  coupon_not_applicable,
  coupon_below_minimum_spend,
  coupon_limit_reached,
  coupon_not_redeemed,
  storage_unavailable,
  internal_error,
};

struct Problem {
  std::string_view type;
  std::string_view title;
  unsigned status = 500;
  std::string detail;
  std::vector<FieldError> errors;
};

Problem problem(ApiError error, std::string detail = {}, std::vector<FieldError> errors = {});
Problem problem(ledger::Rejection rejection, std::string detail = {});
// A preparer's refusal (store/preparer.h) by its problem name; unknown names are internal errors.
Problem problem(const store::Refusal& refusal);

// Every problem type with its status, for the documentation check.
struct ProblemType {
  std::string_view type;
  unsigned status;
  std::string_view title;
};
std::vector<ProblemType> problem_types();

http::Response to_response(const Problem& problem);

}  // namespace pointsmall::api
