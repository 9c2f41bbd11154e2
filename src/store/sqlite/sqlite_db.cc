#include "store/sqlite/sqlite_db.h"

#include <cstdlib>
#include <utility>

namespace pointsmall::store::sqlite {

Connection::Connection(const std::string& path, bool create, bool read_only) {
  int flags = SQLITE_OPEN_NOMUTEX;  // each connection is used by one thread at a time
  flags |= read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (create && !read_only) flags |= SQLITE_OPEN_CREATE;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw SqliteError(rc, "cannot open " + path + ": " + message);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 10'000);
}

Connection::Connection(Connection&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    if (db_) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

Connection::~Connection() {
  if (db_) sqlite3_close_v2(db_);
}

void Connection::fail(int code) const {
  throw SqliteError(code, db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(code));
}

void Connection::exec(std::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    throw SqliteError(rc, message);
  }
}

Statement Connection::prepare(std::string_view sql) {
  return Statement(*this, sql);
}

std::int64_t Connection::query_int(std::string_view sql, std::int64_t fallback) {
  Statement statement(*this, sql);
  if (!statement.step() || statement.column_is_null(0)) return fallback;
  return statement.column_int(0);
}

void Connection::abandon() {
  if (!db_) return;
  sqlite3_db_config(db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  sqlite3_close_v2(db_);
  db_ = nullptr;
}

Statement::Statement(Connection& connection, std::string_view sql) : connection_(&connection) {
  const int rc = sqlite3_prepare_v3(connection.handle(), sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) connection.fail(rc);
  const int count = sqlite3_bind_parameter_count(stmt_);
  for (int i = 1; i <= count; ++i) {
    const char* name = sqlite3_bind_parameter_name(stmt_, i);
    if (name == nullptr || name[0] != '$') throw SqliteError(SQLITE_MISUSE, "use $n parameters");
    const int number = std::atoi(name + 1);
    if (number <= 0) throw SqliteError(SQLITE_MISUSE, std::string("bad parameter ") + name);
    if (slots_.size() <= std::size_t(number)) slots_.resize(std::size_t(number) + 1, 0);
    slots_[std::size_t(number)] = i;
  }
}

int Statement::slot(int number) const {
  if (number <= 0 || std::size_t(number) >= slots_.size() || slots_[std::size_t(number)] == 0)
    throw SqliteError(SQLITE_RANGE, "no parameter $" + std::to_string(number));
  return slots_[std::size_t(number)];
}

Statement::Statement(Statement&& other) noexcept
    : connection_(other.connection_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      slots_(std::move(other.slots_)) {}

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, slot(index), value);
  if (rc != SQLITE_OK) connection_->fail(rc);
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  const int rc = sqlite3_bind_text(stmt_, slot(index), value.data(), static_cast<int>(value.size()),
                                   SQLITE_STATIC);
  if (rc != SQLITE_OK) connection_->fail(rc);
  return *this;
}

Statement& Statement::bind_null(int index) {
  const int rc = sqlite3_bind_null(stmt_, slot(index));
  if (rc != SQLITE_OK) connection_->fail(rc);
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3_reset(stmt_);
  connection_->fail(rc);
}

void Statement::run() {
  StatementScope scope(*this);
  while (step()) {
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::column_int(int index) const {
  return sqlite3_column_int64(stmt_, index);
}

std::string Statement::column_text(int index) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, index));
  return text ? std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index)))
              : std::string();
}

bool Statement::column_is_null(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

}  // namespace pointsmall::store::sqlite
