#include "store/postgresql/pg_db.h"

#include <libpq-fe.h>

#include <charconv>

namespace pointsmall::store::pg {

bool PgError::connection_lost() const {
  // Class 08: connection exception; 57P01..57P03: the server shuts down or is starting.
  return sqlstate_.empty() || sqlstate_.starts_with("08") || sqlstate_ == "57P01" ||
         sqlstate_ == "57P02" || sqlstate_ == "57P03";
}

bool PgError::transient() const {
  return connection_lost() || sqlstate_ == "40001" || sqlstate_ == "40P01";
}

Params& Params::add(std::int64_t value) {
  values_.push_back(std::to_string(value));
  null_.push_back(false);
  return *this;
}

Params& Params::add(std::string_view value) {
  values_.emplace_back(value);
  null_.push_back(false);
  return *this;
}

Params& Params::add_null() {
  values_.emplace_back();
  null_.push_back(true);
  return *this;
}

std::vector<const char*> Params::pointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (std::size_t i = 0; i < values_.size(); ++i)
    out.push_back(null_[i] ? nullptr : values_[i].c_str());
  return out;
}

std::string array_literal(const std::vector<std::int64_t>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(values[i]);
  }
  return out + "}";
}

std::string array_literal(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (const char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

void RowBuffer::flush(Connection& db) {
  if (rows_.empty()) return;
  Params columns;
  for (int column = 0; column < rows_.front().size(); ++column) {
    std::string array = "{";
    for (std::size_t row = 0; row < rows_.size(); ++row) {
      if (row > 0) array += ',';
      if (rows_[row].is_null(column)) {
        array += "NULL";
        continue;
      }
      array += '"';
      for (const char c : rows_[row].value(column)) {
        if (c == '"' || c == '\\') array += '\\';
        array += c;
      }
      array += '"';
    }
    columns.add(array + "}");
  }
  rows_.clear();
  db.send(insert_, columns);
}

void report_corrupt(const Row& /*row*/, const std::string& message) {
  throw PgError("XX001", message);
}

void Result::Free::operator()(pg_result* result) const {
  PQclear(result);
}

Result::Result(pg_result* result) : result_(result) {}

int Result::rows() const {
  return result_ ? PQntuples(result_.get()) : 0;
}

bool Result::null(int row, int column) const {
  return PQgetisnull(result_.get(), row, column) != 0;
}

std::int64_t Result::integer(int row, int column) const {
  if (null(row, column)) return 0;
  const char* text = PQgetvalue(result_.get(), row, column);
  const int length = PQgetlength(result_.get(), row, column);
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text, text + length, value);
  if (error != std::errc() || end != text + length)
    throw PgError("22P02", std::string("not an integer: ") + std::string(text, length));
  return value;
}

std::string Result::text(int row, int column) const {
  return std::string(PQgetvalue(result_.get(), row, column),
                     static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

bool Result::boolean(int row, int column) const {
  return PQgetvalue(result_.get(), row, column)[0] == 't';
}

std::int64_t Result::affected() const {
  const char* count = PQcmdTuples(result_.get());
  return count[0] == '\0' ? 0 : std::stoll(count);
}

namespace {

// Accepts a finished statement's result or throws what went wrong.
Result checked(PGresult* raw, pg_conn* conn) {
  Result result(raw);
  if (raw == nullptr)
    throw PgError("", std::string("no result: ") + (conn ? PQerrorMessage(conn) : "no connection"));
  switch (PQresultStatus(raw)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY:
    case PGRES_PIPELINE_SYNC:
      return result;
    case PGRES_PIPELINE_ABORTED:
      throw PgError("", "skipped after an earlier error in the pipeline");
    default: {
      const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
      std::string message = PQresultErrorMessage(raw);
      while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
        message.pop_back();
      throw PgError(state ? state : "", message);
    }
  }
}

void ignore_notice(void* /*arg*/, const char* /*message*/) {}

}  // namespace

std::string redact(const std::string& url) {
  std::string out = url;
  // postgresql://user:password@host/...: the password between the user's colon and the '@'.
  const std::size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    const std::size_t start = scheme + 3;
    const std::size_t at = out.find('@', start);
    const std::size_t slash = out.find('/', start);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      const std::size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // password=... as a keyword (password = 'x y') or as a URL parameter (?password=x&...).
  for (std::size_t at = out.find("password"); at != std::string::npos;
       at = out.find("password", at + 1)) {
    std::size_t value = at + 8;
    while (value < out.size() && out[value] == ' ') ++value;
    if (value >= out.size() || out[value] != '=') continue;
    ++value;
    while (value < out.size() && out[value] == ' ') ++value;
    std::size_t end = value;
    if (end < out.size() && out[end] == '\'') {
      end = out.find('\'', end + 1);
      end = end == std::string::npos ? out.size() : end + 1;
    } else {
      while (end < out.size() && out[end] != ' ' && out[end] != '&') ++end;
    }
    out.replace(value, end - value, "***");
  }
  return out;
}

Connection Connection::open(const std::string& url) {
  Connection connection;
  connection.conn_ = PQconnectdb(url.c_str());
  if (connection.conn_ == nullptr) throw PgError("08006", "cannot connect: out of memory");
  if (PQstatus(connection.conn_) != CONNECTION_OK) {
    std::string message = PQerrorMessage(connection.conn_);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    throw PgError("08006", "cannot connect to " + redact(url) + ": " + message);
  }
  // Notices (e.g. "relation already exists, skipping") are not errors; nobody reads them.
  PQsetNoticeProcessor(connection.conn_, &ignore_notice, nullptr);
  return connection;
}

Connection::Connection(Connection&& other) noexcept
    : conn_(other.conn_),
      prepared_(std::move(other.prepared_)),
      pipeline_(other.pipeline_),
      outstanding_(other.outstanding_) {
  other.conn_ = nullptr;
}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = other.conn_;
    prepared_ = std::move(other.prepared_);
    pipeline_ = other.pipeline_;
    outstanding_ = other.outstanding_;
    other.conn_ = nullptr;
  }
  return *this;
}

Connection::~Connection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

bool Connection::healthy() const {
  return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK;
}

void Connection::fail(const std::string& what) const {
  std::string message = conn_ ? PQerrorMessage(conn_) : "no connection";
  while (!message.empty() && message.back() == '\n') message.pop_back();
  throw PgError(healthy() ? "XX000" : "", what + ": " + message);
}

Result Connection::exec(std::string_view sql) {
  return checked(PQexec(conn_, std::string(sql).c_str()), conn_);
}

Result Connection::query(std::string_view sql, const Params& params) {
  const auto values = params.pointers();
  return checked(PQexecParams(conn_, std::string(sql).c_str(), params.size(), nullptr,
                              values.data(), nullptr, nullptr, 0),
                 conn_);
}

void Connection::prepare_if_new(const Sql& sql) {
  if (prepared_.contains(sql.name)) return;
  if (pipeline_) {
    if (PQsendPrepare(conn_, sql.name, sql.text, 0, nullptr) == 0) fail("cannot send");
    queued();
  } else {
    checked(PQprepare(conn_, sql.name, sql.text, 0, nullptr), conn_);
  }
  prepared_.insert(sql.name);
}

Result Connection::run(const Sql& sql, const Params& params) {
  prepare_if_new(sql);
  const auto values = params.pointers();
  return checked(PQexecPrepared(conn_, sql.name, params.size(), values.data(), nullptr, nullptr, 0),
                 conn_);
}

void Connection::enter_pipeline() {
  if (PQenterPipelineMode(conn_) == 0) fail("cannot enter pipeline mode");
  pipeline_ = true;
}

void Connection::exit_pipeline() {
  if (PQexitPipelineMode(conn_) == 0) fail("cannot leave pipeline mode");
  pipeline_ = false;
}

void Connection::send(const Sql& sql, const Params& params) {
  prepare_if_new(sql);
  const auto values = params.pointers();
  if (PQsendQueryPrepared(conn_, sql.name, params.size(), values.data(), nullptr, nullptr, 0) == 0)
    fail("cannot send");
  queued();
}

void Connection::send(std::string_view sql, const Params& params) {
  const auto values = params.pointers();
  if (PQsendQueryParams(conn_, std::string(sql).c_str(), params.size(), nullptr, values.data(),
                        nullptr, nullptr, 0) == 0)
    fail("cannot send");
  queued();
}

Result Connection::fetch(const Sql& sql, const Params& params) {
  send(sql, params);
  return read_outstanding(outstanding_);
}

Result Connection::fetch(std::string_view sql, const Params& params) {
  send(sql, params);
  return read_outstanding(outstanding_);
}

void Connection::queued() {
  ++outstanding_;
  // Reading results now and then keeps both sides' socket buffers from filling up, which would
  // leave the client blocked writing while the server is blocked writing results.
  constexpr std::size_t kReadAheadLimit = 1024;
  if (outstanding_ >= kReadAheadLimit) read_outstanding(outstanding_);
}

Result Connection::next_result() {
  // A statement's results end with a null; the last non-null one is its outcome.
  PGresult* last = nullptr;
  while (PGresult* raw = PQgetResult(conn_)) {
    if (last != nullptr) PQclear(last);
    last = raw;
    if (PQresultStatus(raw) == PGRES_PIPELINE_SYNC) break;  // not followed by a null
  }
  if (last == nullptr) fail("the connection ended");
  return checked(last, conn_);
}

Result Connection::read_outstanding(std::size_t count) {
  if (PQsendFlushRequest(conn_) == 0 || PQflush(conn_) != 0) fail("cannot send");
  Result last;
  std::optional<PgError> first_error;
  for (std::size_t i = 0; i < count && outstanding_ > 0; ++i) {
    --outstanding_;
    try {
      last = next_result();
    } catch (const PgError& error) {
      if (!first_error) first_error = error;
      if (!healthy()) outstanding_ = 0;
    }
  }
  if (first_error) {
    // Statements prepared in the failed segment were skipped: forget every name, and have the
    // server forget them too before the next use (see abandon_pipeline).
    prepared_.clear();
    deallocate_ = true;
    throw *first_error;
  }
  return last;
}

void Connection::sync() {
  if (PQpipelineSync(conn_) == 0) fail("cannot send");
  ++outstanding_;  // the sync's own result
  read_outstanding(outstanding_);
}

void Connection::abandon_pipeline() noexcept {
  if (!healthy()) {
    outstanding_ = 0;
    return;
  }
  try {
    sync();
  } catch (const PgError&) {  // the failure being abandoned, or a later statement skipped
  }
  try {
    send("ROLLBACK");  // only a warning when no transaction is open
    if (deallocate_) send("DEALLOCATE ALL");
    sync();
    deallocate_ = false;
  } catch (const PgError&) {  // the connection broke: it is made again before any use
  }
}

}  // namespace pointsmall::store::pg
