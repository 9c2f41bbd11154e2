#include "app/online_retail.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>

// How rows become events. Every row is either used or counted under exactly one skip reason, with
// one exception: a cancellation line that is larger than what is left of its order is used for the
// part that is left and also counted under "cancellation capped at what is left of its order".
//
// 1. A row is checked in this order, and the first failing check names its reason:
//    unparseable row (bad CSV quoting, wrong column count, empty invoice or stock code, quantity
//    not an integer, price not a plain decimal), bad date, sub-penny price, missing customer, bad
//    customer id, non-product adjustment code, zero or negative price, zero quantity, the sign of
//    the quantity against the kind of invoice, amount out of range, customer differs within
//    invoice. Validity of the text comes before meaning so that a count such as "missing
//    customer" equals the number of rows with an empty CustomerID (135,080 in the data set).
// 2. Rows are grouped by invoice number wherever they are in the file. An invoice's customer and
//    time are those of its first usable row; the time is the shop's local time converted to UTC.
// 3. A purchase invoice (number not starting with 'C') becomes one Purchase. Its usable lines all
//    have a positive quantity and a positive price, so its amount is always positive.
// 4. Cancellation invoices are matched in time order (then file order), line by line: a line
//    refunds |quantity| * price against the customer's most recent purchase at or before the
//    cancellation that contains the same stock code and has enough left unrefunded to cover it;
//    when no such purchase covers it, the most recent one with anything left refunds what it has
//    left. No order is ever refunded more than its amount. The matched lines of one cancellation
//    are merged into one Refund per order.
// 5. Events are sorted by time; at equal times purchases come first, so a refund always follows
//    the purchase it refunds. Otherwise file order is kept.
//
// Limits: a line is at most kMaxLineBytes (longer lines are unparseable rows; quoted fields may not
// span lines, which the data set never needs). A line amount is at most kMaxLineAmountMinor, so
// sums cannot overflow for any file of fewer than 90 million rows.

namespace pointsmall::online_retail {
namespace {

constexpr std::string_view kHeader =
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country";
constexpr std::size_t kColumns = 8;
constexpr std::size_t kBufferBytes = std::size_t{256} * 1024;
constexpr std::size_t kMaxLineBytes = std::size_t{64} * 1024;
constexpr unsigned kGzipBufferBytes = 128 * 1024;
constexpr std::int64_t kProgressStepBytes = std::int64_t{64} * 1024;
constexpr std::int64_t kMaxQuantity = 1'000'000'000;
constexpr MinorUnits kMaxLineAmountMinor = 100'000'000'000;  // one billion pounds
constexpr int kMaxPriceIntegerDigits = 9;

enum class Skip : std::uint8_t {
  unparseable,
  bad_date,
  sub_penny_price,
  missing_customer,
  bad_customer_id,
  adjustment_code,
  non_positive_price,
  zero_quantity,
  negative_quantity,
  positive_cancellation_quantity,
  amount_out_of_range,
  customer_differs,
  no_earlier_purchase,
  refund_capped,
  count
};

constexpr std::array<std::string_view, std::size_t(Skip::count)> kSkipNames = {
    "unparseable row",
    "bad date",
    "sub-penny price",
    "missing customer",
    "bad customer id",
    "non-product adjustment code",
    "zero or negative price",
    "zero quantity",
    "negative quantity outside a cancellation",
    "positive quantity in a cancellation",
    "amount out of range",
    "customer differs within invoice",
    "cancellation without an earlier purchase",
    "cancellation capped at what is left of its order",
};

// Stock codes that are charges, fees or bookkeeping rather than goods, as found in the data set:
// POST postage, DOT dotcom postage, C2 carriage, M / m manual adjustment, D discount, S samples,
// BANK CHARGES, AMAZONFEE, CRUK (charity commission), B (adjust bad debt), and gift_0001_* (sale of
// a gift voucher, which is a prepayment, not a purchase of goods). PADS ("pads to match all
// cushions") and the DCGS* codes are real goods; PADS only ever appears at a sub-penny price.
bool is_adjustment_code(std::string_view code) {
  static constexpr std::array<std::string_view, 11> kCodes = {
      "POST", "DOT", "C2", "M", "m", "D", "S", "BANK CHARGES", "AMAZONFEE", "CRUK", "B"};
  return code.starts_with("gift_") || std::find(kCodes.begin(), kCodes.end(), code) != kCodes.end();
}

// Transparent hashing so that maps keyed by std::string can be searched with a string_view.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const {
    return std::hash<std::string_view>{}(text);
  }
};
template <typename Value>
using StringMap = std::unordered_map<std::string, Value, StringHash, std::equal_to<>>;

bool is_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// ---------------------------------------------------------------------------------------------
// Reading lines from a gzip file.

// Owns an open gzFile. close() reports gzclose's result; the destructor closes silently.
class GzipFile {
 public:
  explicit GzipFile(gzFile file) : file_(file) {}
  GzipFile(const GzipFile&) = delete;
  GzipFile& operator=(const GzipFile&) = delete;
  ~GzipFile() {
    if (file_ != nullptr) gzclose(file_);
  }
  [[nodiscard]] gzFile get() const { return file_; }
  int close() { return gzclose(std::exchange(file_, nullptr)); }

 private:
  gzFile file_;
};

// Splits the decompressed stream into lines. A line is returned without its '\n' and without a
// trailing '\r'; it stays valid until the next call. Lines longer than kMaxLineBytes are returned
// cut short with `too_long` set, and the rest of them is dropped.
class LineReader {
 public:
  using Progress = std::function<void(std::int64_t done, std::int64_t total)>;
  LineReader(gzFile file, std::int64_t total_bytes, const Progress& progress)
      : file_(file), total_bytes_(total_bytes), progress_(progress), buffer_(kBufferBytes) {}

  // True with a line; false at the end of the stream or on a read error (see failed()).
  bool next(std::string_view& line, bool& too_long);
  [[nodiscard]] bool failed() const { return failed_; }

 private:
  bool fill();  // reads more data after the pending bytes; false at end of stream or on error
  // Returns the next `length` bytes as `line` and drops `skipped` more bytes after them.
  bool take(std::size_t length, std::size_t skipped, std::string_view& line);
  void report_progress();

  gzFile file_;
  std::int64_t total_bytes_;
  const Progress& progress_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;  // first byte not yet returned
  std::size_t end_ = 0;    // end of the bytes read
  bool end_of_stream_ = false;
  bool failed_ = false;
  bool dropping_ = false;  // inside the rest of a too long line
  std::int64_t reported_bytes_ = 0;
};

bool LineReader::next(std::string_view& line, bool& too_long) {
  too_long = false;
  for (;;) {
    const std::size_t pending = end_ - begin_;
    const auto* start = buffer_.data() + begin_;
    const auto* newline = static_cast<const char*>(std::memchr(start, '\n', pending));
    if (dropping_) {
      dropping_ = newline == nullptr;
      begin_ = dropping_ ? end_ : begin_ + std::size_t(newline - start) + 1;
      if (dropping_ && !fill()) return false;
      continue;
    }
    const std::size_t length = newline == nullptr ? pending : std::size_t(newline - start);
    if (newline != nullptr && length <= kMaxLineBytes) return take(length, 1, line);
    if (length > kMaxLineBytes) {
      too_long = true;
      dropping_ = newline == nullptr;  // the rest of the line is still to come
      return take(kMaxLineBytes, length - kMaxLineBytes + (dropping_ ? 0 : 1), line);
    }
    if (fill()) continue;
    if (failed_ || pending == 0) return false;
    return take(pending, 0, line);  // a last line without '\n'
  }
}

bool LineReader::take(std::size_t length, std::size_t skipped, std::string_view& line) {
  line = std::string_view(buffer_.data() + begin_, length);
  begin_ += length + skipped;
  if (line.ends_with('\r')) line.remove_suffix(1);
  return true;
}

bool LineReader::fill() {
  if (end_of_stream_ || failed_) return false;
  std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
  end_ -= begin_;
  begin_ = 0;
  const int read = gzread(file_, buffer_.data() + end_, unsigned(buffer_.size() - end_));
  if (read < 0) failed_ = true;
  if (read <= 0) {
    end_of_stream_ = true;
    return false;
  }
  end_ += std::size_t(read);
  report_progress();
  return true;
}

void LineReader::report_progress() {
  if (!progress_) return;
  const std::int64_t done = std::min<std::int64_t>(gzoffset(file_), total_bytes_);
  if (done - reported_bytes_ < kProgressStepBytes) return;
  reported_bytes_ = done;
  progress_(done, total_bytes_);
}

// ---------------------------------------------------------------------------------------------
// Parsing one row.

// Reads the quoted field that starts at line[pos] == '"' into `field` and returns the index just
// after its closing quote, or npos when it has none. A doubled quote stands for one quote; such a
// field is unescaped into `scratch`, which `field` then views.
std::size_t read_quoted(std::string_view line, std::size_t pos, std::string& scratch,
                        std::string_view& field) {
  std::size_t quote = line.find('"', pos + 1);
  while (quote != std::string_view::npos && quote + 1 < line.size() && line[quote + 1] == '"')
    quote = line.find('"', quote + 2);
  if (quote == std::string_view::npos) return quote;
  field = line.substr(pos + 1, quote - pos - 1);
  if (field.find('"') != std::string_view::npos) {
    scratch.clear();
    for (std::size_t i = 0; i < field.size(); i += field[i] == '"' ? 2 : 1)
      scratch.push_back(field[i]);
    field = scratch;
  }
  return quote + 1;
}

// Splits an RFC 4180 line into exactly kColumns fields. A quoted field may contain commas and
// doubled quotes. False when the quoting is malformed or the number of fields is wrong. Fields
// view `line` or `scratch` and stay valid until either changes.
bool split_csv(std::string_view line, std::array<std::string_view, kColumns>& fields,
               std::array<std::string, kColumns>& scratch) {
  std::size_t pos = 0;
  for (std::size_t column = 0; column < kColumns; ++column) {
    std::size_t end = 0;
    if (pos < line.size() && line[pos] == '"') {
      end = read_quoted(line, pos, scratch[column], fields[column]);
      if (end == std::string_view::npos || (end < line.size() && line[end] != ',')) return false;
    } else {
      end = std::min(line.find(',', pos), line.size());
      fields[column] = line.substr(pos, end - pos);
      if (fields[column].find('"') != std::string_view::npos) return false;
    }
    if (end == line.size()) return column + 1 == kColumns;
    pos = end + 1;
  }
  return false;  // more than kColumns fields
}

bool parse_int64(std::string_view text, std::int64_t& out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

enum class PriceParse { ok, malformed, sub_penny };

// Parses a plain decimal ("2.55", "-11062.06", "3", "0.010") into exact pence. Digits after the
// second decimal must be zeros, else the price is sub-penny. No exponents, no thousands separators.
PriceParse parse_price_minor(std::string_view text, MinorUnits& out) {
  const bool negative = text.starts_with('-');
  if (negative) text.remove_prefix(1);
  const std::size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (!is_digits(whole) || whole.size() > kMaxPriceIntegerDigits) return PriceParse::malformed;
  if (dot != std::string_view::npos && !is_digits(fraction)) return PriceParse::malformed;
  MinorUnits pence = 0;
  for (char c : whole) pence = pence * 10 + (c - '0');
  for (std::size_t i = 0; i < 2; ++i)
    pence = pence * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
  if (fraction.size() > 2 && fraction.substr(2).find_first_not_of('0') != std::string_view::npos)
    return PriceParse::sub_penny;
  out = negative ? -pence : pence;
  return PriceParse::ok;
}

// "17850.0" -> "17850". Digits, optionally followed by '.' and zeros; nullopt otherwise.
std::optional<std::string_view> normalize_customer_id(std::string_view text) {
  const std::size_t dot = text.find('.');
  const std::string_view digits = text.substr(0, dot);
  if (!is_digits(digits)) return std::nullopt;
  if (dot != std::string_view::npos &&
      text.find_first_not_of('0', dot + 1) != std::string_view::npos)
    return std::nullopt;
  return digits;
}

// One usable invoice line.
struct Line {
  std::string_view invoice;
  std::string_view stock_code;
  std::string_view customer_id;
  CivilTime local_time;
  bool cancellation = false;
  MinorUnits amount_minor = 0;  // |quantity| * price, positive
};

enum class Column { invoice = 0, stock_code = 1, quantity = 3, date = 4, price = 5, customer = 6 };

std::string_view field(const std::array<std::string_view, kColumns>& fields, Column column) {
  return fields[std::size_t(column)];
}

// Checks the row's text; the first check that fails names the reason (see the list at the top).
std::optional<Skip> parse_fields(const std::array<std::string_view, kColumns>& fields, Line& line,
                                 std::int64_t& quantity, MinorUnits& price_minor) {
  line.invoice = field(fields, Column::invoice);
  line.stock_code = field(fields, Column::stock_code);
  if (line.invoice.empty() || line.stock_code.empty()) return Skip::unparseable;
  if (!parse_int64(field(fields, Column::quantity), quantity)) return Skip::unparseable;
  const PriceParse price = parse_price_minor(field(fields, Column::price), price_minor);
  if (price == PriceParse::malformed) return Skip::unparseable;
  const auto local_time = parse_civil_time(field(fields, Column::date));
  if (!local_time) return Skip::bad_date;
  line.local_time = *local_time;
  if (price == PriceParse::sub_penny) return Skip::sub_penny_price;
  if (field(fields, Column::customer).empty()) return Skip::missing_customer;
  const auto customer_id = normalize_customer_id(field(fields, Column::customer));
  if (!customer_id) return Skip::bad_customer_id;
  line.customer_id = *customer_id;
  return std::nullopt;
}

// Checks the row's meaning once its text is valid, and computes the line amount.
std::optional<Skip> check_meaning(Line& line, std::int64_t quantity, MinorUnits price_minor) {
  if (is_adjustment_code(line.stock_code)) return Skip::adjustment_code;
  if (price_minor <= 0) return Skip::non_positive_price;
  if (quantity == 0) return Skip::zero_quantity;
  line.cancellation = line.invoice.starts_with('C');
  if (!line.cancellation && quantity < 0) return Skip::negative_quantity;
  if (line.cancellation && quantity > 0) return Skip::positive_cancellation_quantity;
  if (quantity < -kMaxQuantity || quantity > kMaxQuantity) return Skip::amount_out_of_range;
  const std::int64_t units = quantity < 0 ? -quantity : quantity;
  if (units > kMaxLineAmountMinor / price_minor) return Skip::amount_out_of_range;
  line.amount_minor = units * price_minor;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Collecting invoices and planning events.

struct Item {
  std::int32_t stock_id = 0;
  MinorUnits amount_minor = 0;
};

struct Invoice {
  std::string number;
  std::string customer_id;
  TimeUs at_us = 0;
  std::int64_t first_row = 0;  // 1-based data row of its first usable line
  bool cancellation = false;
  MinorUnits amount_minor = 0;
  std::vector<Item> items;  // usable lines in file order; purchases sort them by stock id later
};

// The part of one cancellation that refunds one order.
struct RefundPart {
  std::size_t cancellation = 0;  // index into invoices
  std::size_t order = 0;         // index into invoices
  MinorUnits amount_minor = 0;
};

class Planner {
 public:
  Planner(const TimeZone& zone, Plan& plan) : zone_(zone), plan_(plan) {}
  void add_row(std::string_view text, bool too_long);
  void finish();

 private:
  void skip(Skip reason) { ++skipped_[std::size_t(reason)]; }
  Invoice* invoice_for(const Line& line);
  std::int32_t stock_id(std::string_view code);
  void index_purchases();
  std::vector<RefundPart> match_cancellations();
  void refund_line(std::size_t cancellation, const Item& item, std::vector<RefundPart>& parts);
  void emit_events(const std::vector<RefundPart>& refunds);

  const TimeZone& zone_;
  Plan& plan_;
  std::array<std::int64_t, std::size_t(Skip::count)> skipped_{};
  std::array<std::string_view, kColumns> fields_;
  std::array<std::string, kColumns> scratch_;
  std::vector<Invoice> invoices_;
  StringMap<std::size_t> invoice_index_;
  std::size_t last_invoice_ = 0;  // most rows follow the previous row's invoice
  StringMap<std::int32_t> stock_ids_;
  // Per customer, its purchases (indexes into invoices_) by time, then file order.
  StringMap<std::vector<std::size_t>> purchases_by_customer_;
  std::vector<MinorUnits> refunded_minor_;  // per invoice
};

void Planner::add_row(std::string_view text, bool too_long) {
  ++plan_.rows_read;
  if (too_long || !split_csv(text, fields_, scratch_)) return skip(Skip::unparseable);
  Line line;
  std::int64_t quantity = 0;
  MinorUnits price_minor = 0;
  if (auto reason = parse_fields(fields_, line, quantity, price_minor)) return skip(*reason);
  if (auto reason = check_meaning(line, quantity, price_minor)) return skip(*reason);
  Invoice* invoice = invoice_for(line);
  if (invoice->customer_id != line.customer_id) return skip(Skip::customer_differs);
  invoice->amount_minor += line.amount_minor;
  invoice->items.push_back(Item{stock_id(line.stock_code), line.amount_minor});
}

// The invoice of `line`, created from it (customer, time) when this is its first usable line.
Invoice* Planner::invoice_for(const Line& line) {
  if (!invoices_.empty() && invoices_[last_invoice_].number == line.invoice)
    return &invoices_[last_invoice_];
  if (auto found = invoice_index_.find(line.invoice); found != invoice_index_.end()) {
    last_invoice_ = found->second;
    return &invoices_[last_invoice_];
  }
  last_invoice_ = invoices_.size();
  invoice_index_.emplace(std::string(line.invoice), last_invoice_);
  Invoice& invoice = invoices_.emplace_back();
  invoice.number = line.invoice;
  invoice.customer_id = line.customer_id;
  invoice.at_us = zone_.to_utc(line.local_time);
  invoice.first_row = plan_.rows_read;
  invoice.cancellation = line.cancellation;
  return &invoice;
}

std::int32_t Planner::stock_id(std::string_view code) {
  if (auto found = stock_ids_.find(code); found != stock_ids_.end()) return found->second;
  const auto id = std::int32_t(stock_ids_.size());
  stock_ids_.emplace(std::string(code), id);
  return id;
}

bool earlier(const Invoice& a, const Invoice& b) {
  return a.at_us != b.at_us ? a.at_us < b.at_us : a.first_row < b.first_row;
}

void Planner::index_purchases() {
  for (std::size_t i = 0; i < invoices_.size(); ++i) {
    Invoice& invoice = invoices_[i];
    if (invoice.cancellation) continue;
    std::sort(invoice.items.begin(), invoice.items.end(),
              [](const Item& a, const Item& b) { return a.stock_id < b.stock_id; });
    purchases_by_customer_[invoice.customer_id].push_back(i);
  }
  for (auto& [customer_id, orders] : purchases_by_customer_) {
    std::sort(orders.begin(), orders.end(),
              [&](std::size_t a, std::size_t b) { return earlier(invoices_[a], invoices_[b]); });
  }
}

bool contains_stock(const Invoice& order, std::int32_t stock_id) {
  return std::binary_search(order.items.begin(), order.items.end(), Item{stock_id, 0},
                            [](const Item& a, const Item& b) { return a.stock_id < b.stock_id; });
}

// Refunds one cancellation line against the customer's orders (rule 4 at the top of this file).
void Planner::refund_line(std::size_t cancellation, const Item& item,
                          std::vector<RefundPart>& parts) {
  const Invoice& cancel = invoices_[cancellation];
  const auto orders = purchases_by_customer_.find(cancel.customer_id);
  if (orders == purchases_by_customer_.end()) return skip(Skip::no_earlier_purchase);
  const auto after =
      std::upper_bound(orders->second.begin(), orders->second.end(), cancel.at_us,
                       [&](TimeUs at_us, std::size_t i) { return at_us < invoices_[i].at_us; });
  std::optional<std::size_t> fallback;  // most recent candidate with anything left
  std::optional<std::size_t> chosen;    // most recent candidate that covers the whole line
  for (auto it = std::make_reverse_iterator(after); it != orders->second.rend() && !chosen; ++it) {
    const MinorUnits left = invoices_[*it].amount_minor - refunded_minor_[*it];
    if (left <= 0 || !contains_stock(invoices_[*it], item.stock_id)) continue;
    if (!fallback) fallback = *it;
    if (left >= item.amount_minor) chosen = *it;
  }
  if (!fallback) return skip(Skip::no_earlier_purchase);
  const std::size_t order = chosen.value_or(*fallback);
  const MinorUnits amount =
      std::min(item.amount_minor, invoices_[order].amount_minor - refunded_minor_[order]);
  if (amount < item.amount_minor) skip(Skip::refund_capped);
  refunded_minor_[order] += amount;
  const auto part = std::find_if(parts.begin(), parts.end(), [&](const RefundPart& p) {
    return p.cancellation == cancellation && p.order == order;
  });
  if (part != parts.end()) {
    part->amount_minor += amount;
  } else {
    parts.push_back(RefundPart{cancellation, order, amount});
  }
}

// Refund parts in the order of their cancellations (time, then file order).
std::vector<RefundPart> Planner::match_cancellations() {
  std::vector<std::size_t> cancellations;
  for (std::size_t i = 0; i < invoices_.size(); ++i) {
    if (invoices_[i].cancellation) cancellations.push_back(i);
  }
  std::sort(cancellations.begin(), cancellations.end(),
            [&](std::size_t a, std::size_t b) { return earlier(invoices_[a], invoices_[b]); });
  refunded_minor_.assign(invoices_.size(), 0);
  std::vector<RefundPart> refunds;
  std::vector<RefundPart> parts;  // of the current cancellation
  for (std::size_t cancellation : cancellations) {
    parts.clear();
    for (const Item& item : invoices_[cancellation].items) refund_line(cancellation, item, parts);
    refunds.insert(refunds.end(), parts.begin(), parts.end());
  }
  return refunds;
}

void Planner::emit_events(const std::vector<RefundPart>& refunds) {
  std::vector<Event>& events = plan_.events;
  events.reserve(invoices_.size());
  for (Invoice& invoice : invoices_) {
    if (invoice.cancellation) continue;
    Event& event = events.emplace_back();
    event.kind = Event::Kind::purchase;
    event.purchase = Purchase{invoice.customer_id, invoice.number, invoice.at_us,
                              invoice.amount_minor, std::int64_t(invoice.items.size())};
  }
  for (const RefundPart& part : refunds) {
    const Invoice& cancel = invoices_[part.cancellation];
    Event& event = events.emplace_back();
    event.kind = Event::Kind::refund;
    event.refund = Refund{cancel.customer_id, invoices_[part.order].number, cancel.number,
                          cancel.at_us, part.amount_minor};
  }
  // Purchases are in file order, then refunds in cancellation order. A stable sort by time keeps
  // that order among equal times, so a purchase comes before a refund of the same time.
  const auto at_us = [](const Event& e) {
    return e.kind == Event::Kind::refund ? e.refund.at_us : e.purchase.at_us;
  };
  std::stable_sort(events.begin(), events.end(),
                   [&](const Event& a, const Event& b) { return at_us(a) < at_us(b); });
}

void Planner::finish() {
  index_purchases();
  emit_events(match_cancellations());
  plan_.customers = std::int64_t(purchases_by_customer_.size());
  for (std::size_t i = 0; i < skipped_.size(); ++i) {
    if (skipped_[i] > 0) plan_.skipped_rows.emplace(kSkipNames[i], skipped_[i]);
  }
}

// ---------------------------------------------------------------------------------------------
// The file.

// Opens `path` for gzip reading; nullptr with `error` filled when it cannot be opened or is not
// gzip.
gzFile open_gzip(const std::string& path, ReadError& error) {
  if (std::error_code ignored; std::filesystem::is_directory(path, ignored)) {
    error.message = "cannot open " + path + ": it is a directory";
    return nullptr;
  }
  errno = 0;
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    error.message =
        "cannot open " + path + ": " + (errno != 0 ? std::strerror(errno) : "out of memory");
    return nullptr;
  }
  gzbuffer(file, kGzipBufferBytes);
  if (gzdirect(file) == 1) {  // zlib would pass the bytes through unchanged
    gzclose(file);
    error.message = "not a gzip file: " + path;
    return nullptr;
  }
  return file;
}

std::string describe_header(std::string_view line) {
  constexpr std::size_t kShown = 120;
  return line.size() > kShown ? std::string(line.substr(0, kShown)) + "..." : std::string(line);
}

// Reads the header and all rows into `planner`. False on a missing or wrong header (with `error`
// filled) or when reading failed (the caller asks zlib why).
bool read_rows(LineReader& reader, const std::string& path, Planner& planner, ReadError& error) {
  std::string_view line;
  bool too_long = false;
  if (!reader.next(line, too_long)) {
    error.message = "no header line in " + path + " (the file is empty)";
    return false;
  }
  if (line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);  // a UTF-8 byte order mark
  if (too_long || line != kHeader) {
    error.message = "unexpected header line in " + path + ": \"" + describe_header(line) +
                    "\" (expected \"" + std::string(kHeader) + "\")";
    return false;
  }
  while (reader.next(line, too_long)) planner.add_row(line, too_long);
  return !reader.failed();
}

// Why zlib failed to read `file`, or nullopt when it did not. A truncated file is only noticed at
// its end, as Z_BUF_ERROR ("unexpected end of file").
std::optional<std::string> zlib_problem(gzFile file, const std::string& path) {
  int code = Z_OK;
  const char* message = gzerror(file, &code);
  if (code == Z_OK) return std::nullopt;
  std::string_view reason = message;
  if (const std::string prefix = path + ": "; reason.starts_with(prefix))
    reason.remove_prefix(prefix.size());
  const char* what = code == Z_BUF_ERROR ? "truncated gzip file " : "cannot read gzip file ";
  return what + path + " (" + std::string(reason) + ")";
}

}  // namespace

bool read_plan(const std::string& path, const TimeZone& zone, Plan& plan, ReadError& error,
               const std::function<void(std::int64_t done, std::int64_t total)>& progress) {
  plan = Plan{};
  error = ReadError{};
  std::error_code size_error;
  const auto size = std::filesystem::file_size(path, size_error);
  const std::int64_t total_bytes = size_error ? 0 : std::int64_t(size);
  gzFile opened = open_gzip(path, error);
  if (opened == nullptr) return false;
  GzipFile file(opened);
  LineReader reader(file.get(), total_bytes, progress);
  Planner planner(zone, plan);
  bool ok = read_rows(reader, path, planner, error);
  if (auto problem = zlib_problem(file.get(), path)) {  // more telling than a header complaint
    error.message = *problem;
    ok = false;
  }
  if (const int closed = file.close(); ok && closed != Z_OK) {
    error.message =
        "cannot read gzip file " + path + " (gzclose error " + std::to_string(closed) + ")";
    ok = false;
  }
  if (!ok) {
    if (error.message.empty()) error.message = "cannot read gzip file " + path;
    plan = Plan{};
    return false;
  }
  planner.finish();
  if (progress) progress(total_bytes, total_bytes);
  return true;
}

std::int64_t shift_to_end_yesterday(Plan& plan, TimeUs now_us, const TimeZone& zone) {
  if (plan.events.empty()) return 0;
  auto at_of = [](Event& event) -> TimeUs& {
    return event.kind == Event::Kind::purchase ? event.purchase.at_us : event.refund.at_us;
  };
  TimeUs last_us = at_of(plan.events.front());
  for (Event& event : plan.events) last_us = std::max(last_us, at_of(event));
  const CivilTime last = zone.to_local(last_us);
  const CivilTime today = zone.to_local(now_us);
  const std::int64_t days = days_from_civil(today.year, today.month, today.day) - 1 -
                            days_from_civil(last.year, last.month, last.day);
  if (days == 0) return 0;
  constexpr TimeUs kUsPerSecond = 1'000'000;
  for (Event& event : plan.events) {
    TimeUs& at_us = at_of(event);
    const TimeUs fraction_us = ((at_us % kUsPerSecond) + kUsPerSecond) % kUsPerSecond;
    CivilTime local = zone.to_local(at_us);
    const CivilTime date =
        civil_from_days(days_from_civil(local.year, local.month, local.day) + days);
    local.year = date.year;
    local.month = date.month;
    local.day = date.day;
    at_us = zone.to_utc(local) + fraction_us;
  }
  return days;
}

}  // namespace pointsmall::online_retail
