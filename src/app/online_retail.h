// Reading the UCI Online Retail data set (data/online_retail.csv.gz) into loyalty events.
//
// The file is a gzipped CSV of invoice lines. Lines are grouped into invoices: an invoice with a
// customer and a positive total becomes one purchase (an order) of that customer; a cancellation
// invoice (number starting with 'C') becomes refunds against the customer's earlier purchases.
// Every line that cannot be used is counted under a named reason; nothing is dropped silently.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/time_zone.h"
#include "core/types.h"

namespace pointsmall::online_retail {

// One purchase invoice of one customer.
struct Purchase {
  std::string customer_id;      // "17850" (the data set writes it as "17850.0")
  std::string order_id;         // the invoice number, e.g. "536365"
  TimeUs at_us = 0;             // invoice time, converted from the shop's local time to UTC
  MinorUnits amount_minor = 0;  // sum of quantity * unit price over the invoice's lines, in pence
  std::int64_t lines = 0;
};

// The part of one cancellation invoice that refunds one earlier purchase.
struct Refund {
  std::string customer_id;
  std::string order_id;         // the refunded purchase's invoice number
  std::string cancellation_id;  // the cancellation invoice number, e.g. "C536379"
  TimeUs at_us = 0;
  MinorUnits amount_minor = 0;  // positive amount refunded against order_id
};

// Events in the order they happened (by time, then by position in the file).
struct Event {
  enum class Kind { purchase, refund } kind = Kind::purchase;
  Purchase purchase;  // set when kind == purchase
  Refund refund;      // set when kind == refund
};

struct Plan {
  std::vector<Event> events;
  std::int64_t rows_read = 0;  // data rows, header excluded
  std::int64_t customers = 0;  // distinct customers with at least one purchase
  // Rows not used, by reason (e.g. "missing customer", "zero or negative price"). Refund amounts
  // that found no earlier purchase to refund are counted by row under their own reason too.
  std::map<std::string, std::int64_t> skipped_rows;
};

struct ReadError {
  std::string message;  // says what is wrong with the file ("cannot open ...", "not gzip ...")
};

// Reads and plans the whole file. `zone` is the shop's time zone (Europe/London for this data set).
// `progress` (optional) is called now and then with the number of compressed bytes read so far and
// the file's size. Returns false and fills `error` when the file is missing, not gzip, truncated or
// has the wrong header; a malformed row is never an error, only a skipped row.
bool read_plan(const std::string& path, const TimeZone& zone, Plan& plan, ReadError& error,
               const std::function<void(std::int64_t done, std::int64_t total)>& progress = {});

// Moves every event by the same whole number of local days, keeping its local time of day in
// `zone`, so that the last event's local date is the day before `now_us`'s local date: the data
// set's year then ends yesterday. Returns the number of days moved (0 for an empty plan).
std::int64_t shift_to_end_yesterday(Plan& plan, TimeUs now_us, const TimeZone& zone);

}  // namespace pointsmall::online_retail
