// A thin RAII layer over libpq: connections, text parameters, results, and pipeline mode.
// Every failure is a PgError carrying PostgreSQL's SQLSTATE and message; the stores turn it into
// a status. Values travel as text (integers in decimal), so no binary formats are involved.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

struct pg_conn;
struct pg_result;

namespace pointsmall::store::pg {

class PgError : public std::runtime_error {
 public:
  PgError(std::string sqlstate, const std::string& message)
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
  // Five characters, e.g. "23505"; empty when libpq itself failed (e.g. the connection broke).
  [[nodiscard]] const std::string& sqlstate() const { return sqlstate_; }
  // The server is unreachable or went away: the connection must be made again.
  [[nodiscard]] bool connection_lost() const;
  // Trying the same transaction again may succeed: a deadlock, a serialisation failure, or a
  // lost connection (the transaction was rolled back, or never reached the server).
  [[nodiscard]] bool transient() const;
  [[nodiscard]] bool unique_violation() const { return sqlstate_ == "23505"; }

 private:
  std::string sqlstate_;
};

// The parameters of one statement, $1, $2, ... in the order added.
class Params {
 public:
  Params& add(std::int64_t value);
  Params& add(std::string_view value);
  Params& add(const char* value) { return add(std::string_view(value)); }
  Params& add(const std::string& value) { return add(std::string_view(value)); }
  Params& add_null();
  // An empty text as NULL (e.g. a missing idempotency key), else the text.
  Params& add_or_null(std::string_view value) { return value.empty() ? add_null() : add(value); }
  [[nodiscard]] int size() const { return static_cast<int>(values_.size()); }
  // Pointers into this object, valid until it changes.
  [[nodiscard]] std::vector<const char*> pointers() const;
  [[nodiscard]] const std::string& value(int index) const { return values_[index]; }
  [[nodiscard]] bool is_null(int index) const { return null_[index]; }

 private:
  std::vector<std::string> values_;
  std::vector<bool> null_;
};

// Quotes a value as a text array element, for parameters like $1::bigint[] or $1::text[].
std::string array_literal(const std::vector<std::int64_t>& values);
std::string array_literal(const std::vector<std::string>& values);

class Result {
 public:
  Result() = default;
  explicit Result(pg_result* result);
  [[nodiscard]] int rows() const;
  [[nodiscard]] bool null(int row, int column) const;
  // Throws PgError when the value is not an integer; NULL reads as 0.
  [[nodiscard]] std::int64_t integer(int row, int column) const;
  [[nodiscard]] std::string text(int row, int column) const;
  [[nodiscard]] bool boolean(int row, int column) const;  // 't' or 'f'
  // Rows an INSERT, UPDATE or DELETE touched.
  [[nodiscard]] std::int64_t affected() const;

 private:
  struct Free {
    void operator()(pg_result* result) const;
  };
  std::unique_ptr<pg_result, Free> result_;
};

// One row of a result, as store/ledger_rows.h reads rows.
struct Row {
  const Result& result;
  int row;
  [[nodiscard]] std::int64_t column_int(int column) const { return result.integer(row, column); }
  [[nodiscard]] std::string column_text(int column) const { return result.text(row, column); }
  [[nodiscard]] bool column_is_null(int column) const { return result.null(row, column); }
};
// A value the ledger cannot read: PgError XX001 (data corrupted).
[[noreturn]] void report_corrupt(const Row& row, const std::string& message);

// A statement prepared once per connection under its name, on first use.
struct Sql {
  const char* name;  // unique in the program
  const char* text;
};

class Connection {
 public:
  Connection() = default;
  // Connects. Throws PgError saying which server could not be reached and why (the URL's
  // password is never part of the message).
  static Connection open(const std::string& url);
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  [[nodiscard]] bool is_open() const { return conn_ != nullptr; }
  // False once the connection broke (reads, writes or the server's shutdown).
  [[nodiscard]] bool healthy() const;

  // One or more statements in the simple protocol, without parameters; the last one's result.
  Result exec(std::string_view sql);
  // One statement with parameters (unnamed, parsed every time).
  Result query(std::string_view sql, const Params& params = {});
  // A named statement, prepared on this connection the first time.
  Result run(const Sql& sql, const Params& params = {});

  // ---- Pipeline mode: statements are sent without waiting for their results -----------------
  // In pipeline mode only send(), fetch(), sync() and abandon_pipeline() may be used.
  void enter_pipeline();
  void exit_pipeline();
  // Queues a statement whose result is only checked (an error throws at the next fetch or sync).
  void send(const Sql& sql, const Params& params = {});
  void send(std::string_view sql, const Params& params = {});
  // Sends a statement and waits for its result, after checking every result queued before it.
  Result fetch(const Sql& sql, const Params& params = {});
  Result fetch(std::string_view sql, const Params& params = {});
  // Ends the pipeline's current segment and checks every outstanding result; throws the first
  // error (later statements of the segment were skipped by the server).
  void sync();
  // After a failure: reads and drops everything outstanding and rolls back the transaction left
  // open, so the connection can be used again. Never throws.
  void abandon_pipeline() noexcept;

  [[nodiscard]] pg_conn* handle() const { return conn_; }

 private:
  [[noreturn]] void fail(const std::string& what) const;
  void prepare_if_new(const Sql& sql);
  void queued();  // one more result to read; reads some when too many are outstanding
  // Reads `count` outstanding results (all but the last are checked and dropped).
  Result read_outstanding(std::size_t count);
  Result next_result();

  pg_conn* conn_ = nullptr;
  std::unordered_set<std::string> prepared_;
  bool pipeline_ = false;
  std::size_t outstanding_ = 0;  // pipeline results not read yet
  bool deallocate_ = false;      // prepared statements must be dropped (see abandon_pipeline)
};

// Rows for one table, sent as one statement when flushed: `INSERT INTO t (a, b) SELECT * FROM
// unnest($1::bigint[], $2::text[])`, one array parameter per column, whatever the row count. A
// row is written as Params of the table's columns in order.
class RowBuffer {
 public:
  explicit RowBuffer(const Sql& insert) : insert_(insert) {}
  void add(Params row) { rows_.push_back(std::move(row)); }
  [[nodiscard]] bool empty() const { return rows_.empty(); }
  // Queues the statement on the pipeline (Connection::send) and empties the buffer.
  void flush(Connection& db);

 private:
  const Sql& insert_;
  std::vector<Params> rows_;
};

// Removes the password from a connection URL or keyword string, for messages and logs.
std::string redact(const std::string& url);

}  // namespace pointsmall::store::pg
