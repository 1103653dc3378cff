// A thin RAII layer over libpq. SQL errors come back as values whose code tells the caller
// whether retrying can help:
//   Errc::unavailable    connection lost / server shutting down / too many connections (retry)
//   Errc::timeout        serialization failure or deadlock (retry the transaction)
//   Errc::invalid_field  the data itself was rejected (class 22, 23): retrying won't help
//   Errc::internal       anything else
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

struct pg_conn;
struct pg_result;

namespace logpipe::store {

// Owners of libpq handles: PQclear / PQfinish when they go.
struct PgDeleter {
  void operator()(pg_result* result) const;
  void operator()(pg_conn* conn) const;
};
using ResultPtr = std::unique_ptr<pg_result, PgDeleter>;
using ConnPtr = std::unique_ptr<pg_conn, PgDeleter>;

class Rows {
 public:
  Rows() = default;
  explicit Rows(ResultPtr result) : result_(std::move(result)) {}

  int size() const;
  bool is_null(int row, int column) const;
  std::string_view get(int row, int column) const;
  long long get_int(int row, int column) const;

 private:
  ResultPtr result_;
};

using Params = std::vector<std::optional<std::string>>;

class Connection {
 public:
  static core::Result<Connection> open(
      const std::string& url, std::chrono::seconds connect_timeout = std::chrono::seconds(5));

  // One or more statements without parameters.
  core::Status exec(std::string_view sql);
  // One statement with text parameters ($1…); std::nullopt is SQL NULL.
  core::Result<Rows> query(std::string_view sql, const Params& params = {});
  // COPY … FROM STDIN with `data` in the statement's format.
  core::Status copy_in(std::string_view copy_sql, std::string_view data);
  // Runs `COPY … TO STDOUT` and hands each row (one line of COPY text, with its newline) to
  // on_row as it arrives, so that large results are never held whole.
  core::Status copy_out(std::string_view copy_sql,
                        const std::function<void(std::string_view row)>& on_row);

  bool broken() const;
  // Inside BEGIN … (COMMIT or ROLLBACK not yet sent), also when the transaction failed.
  bool in_transaction() const;

 private:
  explicit Connection(ConnPtr conn) : conn_(std::move(conn)) {}
  // COPY: starts `copy_sql`, expecting PGRES_COPY_IN or PGRES_COPY_OUT; then collects the
  // results that end it (the first error wins over `status`).
  core::Status begin_copy(std::string_view copy_sql, int expected_status);
  core::Status end_copy(core::Status status);
  core::Error last_error(const pg_result* result, std::string_view what) const;

  ConnPtr conn_;
};

// A libpq URI with any password replaced by "***", for messages.
std::string redact_url(std::string_view url);

// Runs `fn` inside BEGIN … COMMIT; rolls back when it returns an error. Inside a transaction
// already, `fn` joins it: the outer one commits or rolls back (so that a change and its audit
// row, store/audit.hpp, are one unit however the change itself is written).
template <class Fn>
auto in_transaction(Connection& c, Fn&& fn) -> decltype(fn()) {
  if (c.in_transaction()) return fn();
  if (auto s = c.exec("BEGIN"); !s) return s.error();
  auto result = fn();
  if (!result) {
    (void)c.exec("ROLLBACK");
    return result;
  }
  if (auto s = c.exec("COMMIT"); !s) return s.error();
  return result;
}

}  // namespace logpipe::store
