// A thin RAII layer over the SQLite C API: connections and prepared statements.
// Every failure is a SqliteError carrying SQLite's message; the store turns it into a status.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pointsmall::store::sqlite {

class SqliteError : public std::runtime_error {
 public:
  SqliteError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  [[nodiscard]] int code() const { return code_; }

 private:
  int code_;
};

class Statement;

class Connection {
 public:
  Connection() = default;
  // Opens (and with `create`, creates) the database file. Throws SqliteError.
  Connection(const std::string& path, bool create, bool read_only);
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Runs one or more statements without results.
  void exec(std::string_view sql);
  Statement prepare(std::string_view sql);
  // The single integer a query returns (e.g. "SELECT count(*) ..."); `fallback` when no row.
  std::int64_t query_int(std::string_view sql, std::int64_t fallback = 0);
  // Closes the connection without checkpointing the write-ahead log, as a crash would leave it.
  void abandon();
  [[nodiscard]] sqlite3* handle() const { return db_; }
  [[noreturn]] void fail(int code) const;

 private:
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement(Connection& connection, std::string_view sql);
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binds parameter $n (PostgreSQL-style numbering, whatever order the SQL names them in).
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view value);  // the text must outlive the step
  Statement& bind_null(int index);
  // Advances to the next row; false when done. Throws on error.
  bool step();
  // Runs a statement that returns no rows, then resets it.
  void run();
  void reset();

  [[nodiscard]] std::int64_t column_int(int index) const;
  [[nodiscard]] std::string column_text(int index) const;
  [[nodiscard]] bool column_is_null(int index) const;

 private:
  [[nodiscard]] int slot(int number) const;

  Connection* connection_;
  sqlite3_stmt* stmt_ = nullptr;
  std::vector<int> slots_;  // slots_[n] is SQLite's index of parameter $n
};

// Resets a statement when leaving a scope, whatever happened.
class StatementScope {
 public:
  explicit StatementScope(Statement& statement) : statement_(statement) {}
  ~StatementScope() { statement_.reset(); }
  StatementScope(const StatementScope&) = delete;
  StatementScope& operator=(const StatementScope&) = delete;

 private:
  Statement& statement_;
};

}  // namespace pointsmall::store::sqlite
