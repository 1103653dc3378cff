#include "store/connection.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <cstdlib>

#include "core/log.hpp"

namespace logpipe::store {
namespace {

core::Errc classify(std::string_view sqlstate) {
  if (sqlstate.size() != 5) return core::Errc::unavailable;  // no SQLSTATE: connection trouble
  const std::string_view cls = sqlstate.substr(0, 2);
  if (cls == "08" || cls == "53" || cls == "57") return core::Errc::unavailable;
  if (cls == "40") return core::Errc::timeout;
  if (cls == "22" || cls == "23") return core::Errc::invalid_field;
  return core::Errc::internal;
}

std::string one_line(std::string text);

// Server notices ("relation … already exists, skipping") go to our structured log at debug
// level rather than libpq's default, a bare line on stderr.
void log_notice(void* /*arg*/, const char* message) {
  core::log::debug("postgres notice", {{"notice", one_line(message)}});
}

std::string one_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  for (auto& c : text) {
    if (c == '\n') c = ' ';
  }
  return text;
}

}  // namespace

void PgDeleter::operator()(pg_result* result) const {
  PQclear(result);
}
void PgDeleter::operator()(pg_conn* conn) const {
  PQfinish(conn);
}

int Rows::size() const {
  return result_ ? PQntuples(result_.get()) : 0;
}
bool Rows::is_null(int row, int column) const {
  return PQgetisnull(result_.get(), row, column) != 0;
}
std::string_view Rows::get(int row, int column) const {
  return {PQgetvalue(result_.get(), row, column),
          static_cast<std::size_t>(PQgetlength(result_.get(), row, column))};
}
long long Rows::get_int(int row, int column) const {
  return std::strtoll(PQgetvalue(result_.get(), row, column), nullptr, 10);
}

std::string redact_url(std::string_view url) {
  // scheme://user:password@host → scheme://user:***@host
  const auto scheme = url.find("://");
  const auto at = url.find('@');
  if (scheme == std::string_view::npos || at == std::string_view::npos || at < scheme)
    return std::string(url);
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return fmt::format("{}***{}", url.substr(0, colon + 1), url.substr(at));
}

core::Result<Connection> Connection::open(const std::string& url,
                                          std::chrono::seconds connect_timeout) {
  const std::string timeout = std::to_string(connect_timeout.count());
  // The URI comes last so that its own settings override these defaults.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), "logpipe", url.c_str(), nullptr};
  ConnPtr conn(PQconnectdbParams(keys, values, 1));
  if (conn == nullptr) return core::make_error(core::Errc::unavailable, "postgres: out of memory");
  if (PQstatus(conn.get()) != CONNECTION_OK)
    return core::make_error(core::Errc::unavailable,
                            fmt::format("postgres: cannot connect to {}: {}", redact_url(url),
                                        one_line(PQerrorMessage(conn.get()))));
  PQsetNoticeProcessor(conn.get(), log_notice, nullptr);
  Connection c(std::move(conn));
  // Timestamps travel as UTC text; make the session agree whatever the server's default.
  if (auto s = c.exec("SET TIME ZONE 'UTC'"); !s) return s.error();
  return c;
}

bool Connection::broken() const {
  return conn_ == nullptr || PQstatus(conn_.get()) != CONNECTION_OK;
}

bool Connection::in_transaction() const {
  if (conn_ == nullptr) return false;
  const auto status = PQtransactionStatus(conn_.get());
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
}

core::Error Connection::last_error(const pg_result* result, std::string_view what) const {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = result ? PQresultErrorMessage(result) : "";
  if (message.empty()) message = PQerrorMessage(conn_.get());
  const core::Errc code = broken() ? core::Errc::unavailable : classify(state ? state : "");
  return core::make_error(code, fmt::format("postgres: {}: {}{}", what, one_line(message),
                                            state ? fmt::format(" (SQLSTATE {})", state) : ""));
}

core::Status Connection::exec(std::string_view sql) {
  const std::string text(sql);
  // PQexec runs every statement of a multi-statement string and returns the last result; an
  // error stops the batch and is that result.
  ResultPtr result(PQexec(conn_.get(), text.c_str()));
  const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY)
    return last_error(result.get(), "statement failed");
  return {};
}

core::Result<Rows> Connection::query(std::string_view sql, const Params& params) {
  const std::string text(sql);
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params)
    values.push_back(p ? p->c_str() : nullptr);
  ResultPtr result(PQexecParams(conn_.get(), text.c_str(), static_cast<int>(params.size()), nullptr,
                                values.data(), nullptr, nullptr, 0));
  const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
    return last_error(result.get(), "query failed");
  return Rows(std::move(result));
}

core::Status Connection::begin_copy(std::string_view copy_sql, int expected_status) {
  const std::string text(copy_sql);
  ResultPtr start(PQexec(conn_.get(), text.c_str()));
  if (start == nullptr || PQresultStatus(start.get()) != expected_status)
    return last_error(start.get(), "COPY failed");
  return {};
}

core::Status Connection::end_copy(core::Status status) {
  while (ResultPtr r{PQgetResult(conn_.get())}) {
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK && status)
      status = last_error(r.get(), "COPY failed");
  }
  return status;
}

core::Status Connection::copy_in(std::string_view copy_sql, std::string_view data) {
  if (auto s = begin_copy(copy_sql, PGRES_COPY_IN); !s) return s;
  // libpq buffers internally; hand it the data in large pieces.
  constexpr std::size_t kChunk = 1 << 20;
  for (std::size_t off = 0; off < data.size(); off += kChunk) {
    const auto n = std::min(kChunk, data.size() - off);
    if (PQputCopyData(conn_.get(), data.data() + off, static_cast<int>(n)) != 1) {
      return last_error(nullptr, "COPY send failed");
    }
  }
  if (PQputCopyEnd(conn_.get(), nullptr) != 1) return last_error(nullptr, "COPY end failed");
  return end_copy({});
}

core::Status Connection::copy_out(std::string_view copy_sql,
                                  const std::function<void(std::string_view)>& on_row) {
  if (auto s = begin_copy(copy_sql, PGRES_COPY_OUT); !s) return s;
  char* row = nullptr;
  int n = 0;
  while ((n = PQgetCopyData(conn_.get(), &row, 0)) > 0) {
    on_row(std::string_view(row, static_cast<std::size_t>(n)));
    PQfreemem(row);
  }
  return end_copy(n == -2 ? core::Status(last_error(nullptr, "COPY receive failed"))
                          : core::Status());
}

}  // namespace logpipe::store
