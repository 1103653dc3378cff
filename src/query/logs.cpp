#include "query/logs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "core/base64.hpp"
#include "core/log.hpp"
#include "core/time.hpp"
#include "store/forget.hpp"

namespace logpipe::query {
namespace {

using core::Errc;

constexpr std::size_t kMaxTerms = 16;
constexpr std::size_t kMaxAttrs = 16;
constexpr std::size_t kMaxValueBytes = 1024;

core::Error bad(std::string_view param, std::string message) {
  return invalid_param(param, std::move(message));
}

}  // namespace

core::Error invalid_param(std::string_view param, std::string message) {
  std::string summary = fmt::format("{} {}", param, message);
  return core::Error(Errc::invalid_field, std::move(summary),
                     {{-1, std::string(param), std::move(message)}});
}

core::Result<core::Micros> parse_time(std::string_view param, std::string_view text,
                                      core::Micros now) {
  if (auto ago = core::parse_duration(text)) return now - *ago;
  auto t = core::parse_rfc3339(text);
  if (!t) return bad(param, "must be an RFC 3339 time or a duration before now (30s, 15m, 2h, 7d)");
  return *t;
}

namespace {

core::Result<model::Level> parse_level_param(std::string_view param, std::string_view text) {
  auto level = model::parse_level(text);
  if (!level)
    return bad(param,
               "must be a level (TRACE, DEBUG, INFO, NOTICE, WARNING, ERROR, CRITICAL, FATAL)");
  return *level;
}

// Words, and "quoted phrases" kept whole.
core::Result<std::vector<std::string>> parse_terms(std::string_view q) {
  std::vector<std::string> terms;
  std::size_t i = 0;
  while (i < q.size()) {
    if (q[i] == ' ' || q[i] == '\t') {
      ++i;
      continue;
    }
    std::string term;
    if (q[i] == '"') {
      const auto close = q.find('"', i + 1);
      if (close == std::string_view::npos) return bad("q", "has an unterminated quote");
      term = q.substr(i + 1, close - i - 1);
      i = close + 1;
    } else {
      const auto end = q.find_first_of(" \t", i);
      term = q.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i);
      i = end == std::string_view::npos ? q.size() : end;
    }
    if (!term.empty()) terms.push_back(std::move(term));
  }
  if (terms.size() > kMaxTerms) return bad("q", fmt::format("has more than {} terms", kMaxTerms));
  return terms;
}

// LIKE pattern matching `term` anywhere, with LIKE's own characters escaped.
std::string contains_pattern(std::string_view term) {
  std::string out = "%";
  for (const char c : term) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('%');
  return out;
}

std::string postgres_text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out.push_back(',');
    out.push_back('"');
    for (const char c : items[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

template <class Int>
bool parse_int(std::string_view text, Int& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string encode_cursor(const Cursor& cursor) {
  return core::base64_encode(fmt::format("{}.{}", cursor.ts, cursor.id), core::Base64::url);
}

core::Result<Cursor> decode_cursor(std::string_view text) {
  const auto raw = core::base64_decode(text, core::Base64::url);
  const auto malformed = [] { return bad("cursor", "is not a cursor this server gave out"); };
  if (!raw) return malformed();
  const auto dot = raw->find('.');
  Cursor c;
  if (dot == std::string::npos || !parse_int(std::string_view(*raw).substr(0, dot), c.ts) ||
      !parse_int(std::string_view(*raw).substr(dot + 1), c.id))
    return malformed();
  return c;
}

namespace {

// The filters and `order`, which the search and the export share.
class FilterParser {
 public:
  FilterParser(model::TenantId tenant, core::Micros now) : now_(now) { filter_.tenant = tenant; }

  // True when `key` is a filter or `order`; false when it is neither (the caller's to parse).
  core::Result<bool> take(const std::string& key, const std::string& value);
  // After the last parameter: min_level folded into the levels, from ≤ to.
  core::Status finish();

  LogFilter& filter() { return filter_; }
  bool ascending() const { return ascending_; }

 private:
  LogFilter filter_;
  bool ascending_ = false;
  std::optional<model::Level> min_level_;
  core::Micros now_;
};

core::Result<bool> FilterParser::take(const std::string& key, const std::string& value) {
  if (value.size() > kMaxValueBytes)
    return bad(key, fmt::format("is longer than {} bytes", kMaxValueBytes));
  const auto set_once = [&](std::optional<std::string>& field) -> core::Result<bool> {
    if (field) return bad(key, "is given twice");
    field = value;
    return true;
  };
  if (key == "device_id") return set_once(filter_.device_id);
  if (key == "service") return set_once(filter_.service);
  if (key == "app") return set_once(filter_.app);
  if (key == "host") return set_once(filter_.host);
  if (key == "level") {
    // level=ERROR&level=FATAL, or level=ERROR,FATAL
    std::string_view rest = value;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      auto level = parse_level_param(key, rest.substr(0, comma));
      if (!level) return level.error();
      filter_.levels.push_back(*level);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    return true;
  }
  if (key == "min_level") {
    auto level = parse_level_param(key, value);
    if (!level) return level.error();
    min_level_ = *level;
    return true;
  }
  if (key == "from" || key == "to") {
    auto t = parse_time(key, value, now_);
    if (!t) return t.error();
    (key == "from" ? filter_.from : filter_.to) = *t;
    return true;
  }
  if (key == "q") {
    auto terms = parse_terms(value);
    if (!terms) return terms.error();
    filter_.terms.insert(filter_.terms.end(), terms->begin(), terms->end());
    return true;
  }
  if (key.starts_with("attrs.") && key.size() > 6) {
    std::vector<std::string> path;
    std::string_view rest = std::string_view(key).substr(6);
    while (true) {
      const auto dot = rest.find('.');
      if (rest.substr(0, dot).empty()) return bad(key, "has an empty key in its path");
      path.emplace_back(rest.substr(0, dot));
      if (dot == std::string_view::npos) break;
      rest = rest.substr(dot + 1);
    }
    if (filter_.attrs.size() == kMaxAttrs)
      return bad(key, fmt::format("more than {} attrs filters", kMaxAttrs));
    filter_.attrs.emplace_back(std::move(path), value);
    return true;
  }
  if (key == "order") {
    if (value != "asc" && value != "desc") return bad(key, "must be asc or desc");
    ascending_ = value == "asc";
    return true;
  }
  return false;
}

core::Status FilterParser::finish() {
  if (min_level_) {
    // Folded into the level list: with both, a level must satisfy both.
    std::vector<model::Level> allowed;
    for (int l = static_cast<int>(*min_level_); l <= static_cast<int>(model::Level::fatal); ++l) {
      const auto level = static_cast<model::Level>(l);
      if (filter_.levels.empty() ||
          std::find(filter_.levels.begin(), filter_.levels.end(), level) != filter_.levels.end())
        allowed.push_back(level);
    }
    if (allowed.empty()) return bad("min_level", "excludes every level given in level");
    filter_.levels = std::move(allowed);
  }
  if (filter_.from && filter_.to && *filter_.from > *filter_.to) return bad("from", "is after to");
  return {};
}

core::Error unknown_parameter(std::string_view key, std::string_view also_known) {
  return bad(key, fmt::format("is not a filter (device_id, service, app, host, level, min_level, "
                              "from, to, q, attrs.<key>, order, {})",
                              also_known));
}

// The filters and `order` of `params`, into a LogQuery; `other` takes each remaining parameter,
// and refuses those it does not know either.
template <class Other>
core::Result<LogQuery> parse_query(const Params& params, model::TenantId tenant, core::Micros now,
                                   Other other) {
  LogQuery q;
  FilterParser filters(tenant, now);
  for (const auto& [key, value] : params) {
    auto taken = filters.take(key, value);
    if (!taken) return taken.error();
    if (*taken) continue;
    if (auto ok = other(q, key, value); !ok) return ok.error();
  }
  if (auto ok = filters.finish(); !ok) return ok.error();
  q.filter = std::move(filters.filter());
  q.ascending = filters.ascending();
  return q;
}

struct Select {
  std::string sql;
  store::Params params;
};

// The rows `filter` matches in (ts, id) order, after `after` when given, at most `limit`.
Select select_logs(const LogFilter& f, bool ascending, const std::optional<Cursor>& after,
                   std::optional<std::int64_t> limit) {
  SqlWhere w = where_clause(f);
  const char* op = ascending ? ">" : "<";
  const char* dir = ascending ? "ASC" : "DESC";
  if (after) {
    w.sql +=
        fmt::format(" AND (ts, id) {} ({}::timestamptz, {}::bigint)", op,
                    w.param(core::format_rfc3339(after->ts)), w.param(std::to_string(after->id)));
  }
  std::string sql = fmt::format("{} FROM logs WHERE {} ORDER BY ts {}, id {}", kStoredLogColumns,
                                w.sql, dir, dir);
  if (limit) sql += fmt::format(" LIMIT {}", *limit);
  return {std::move(sql), store::Params(w.args.begin(), w.args.end())};
}

constexpr std::string_view kCursorName = "log_export";

}  // namespace

std::optional<core::Status> parse_page_param(std::string_view key, std::string_view value,
                                             int& limit, std::optional<Cursor>& after) {
  if (key == "limit") {
    auto parsed = parse_limit(value, true);
    if (!parsed) return core::Status(parsed.error());
    limit = *parsed;
    return core::Status{};
  }
  if (key == "cursor") {
    auto cursor = decode_cursor(value);
    if (!cursor) return core::Status(cursor.error());
    after = *cursor;
    return core::Status{};
  }
  return std::nullopt;
}

core::Result<LogQuery> parse_log_query(const Params& params, model::TenantId tenant,
                                       core::Micros now) {
  return parse_query(
      params, tenant, now,
      [](LogQuery& q, const std::string& key, const std::string& value) -> core::Status {
        if (auto paged = parse_page_param(key, value, q.limit, q.after)) return *paged;
        return unknown_parameter(key, "limit, cursor");
      });
}

core::Result<LogFilter> parse_filter_params(const Params& params, model::TenantId tenant,
                                            core::Micros now, const OtherParam& other) {
  for (const auto& [key, value] : params) {
    if (key == "order") return bad(key, "does not apply here (there is no order)");
  }
  auto parsed = parse_query(params, tenant, now,
                            [&other](LogQuery&, const std::string& key, const std::string& value) {
                              return other(key, value);
                            });
  if (!parsed) return parsed.error();
  return std::move(parsed->filter);
}

core::Result<LogFilter> parse_log_filter(const Params& params, model::TenantId tenant,
                                         core::Micros now) {
  // A tail follows records as they come, an alert rule counts over its own window: no range, no
  // order, no pages. Refused by name before the shared parser sees them (it takes from, to and
  // order as the search's).
  for (const auto& [key, value] : params) {
    if (key == "from" || key == "to" || key == "order" || key == "limit" || key == "cursor")
      return bad(key,
                 "does not apply to a live tail or an alert rule (no time range, order or pages)");
  }
  auto parsed = parse_query(
      params, tenant, now,
      [](LogQuery&, const std::string& key, const std::string&) -> core::Status {
        return bad(key,
                   "is not a filter (device_id, service, app, host, level, min_level, q, "
                   "attrs.<key>)");
      });
  if (!parsed) return parsed.error();
  return std::move(parsed->filter);
}

core::Result<LogExportQuery> parse_log_export_query(const Params& params, model::TenantId tenant,
                                                    core::Micros now) {
  LogExportQuery x;
  bool format_given = false;
  auto pages = parse_query(
      params, tenant, now,
      [&](LogQuery&, const std::string& key, const std::string& value) -> core::Status {
        if (key == "format") {
          if (format_given) return bad(key, "is given twice");
          format_given = true;
          if (value == "ndjson") {
            x.format = ExportFormat::ndjson;
          } else if (value == "csv") {
            x.format = ExportFormat::csv;
          } else {
            return bad(key, "must be ndjson or csv");
          }
        } else if (key == "limit") {
          std::int64_t limit = 0;
          if (!parse_int(value, limit) || limit < 1) return bad(key, "must be a positive integer");
          x.limit = limit;
        } else if (key == "cursor") {
          return bad(key,
                     "does not apply to an export, which holds every matching row (narrow it "
                     "with from/to instead)");
        } else {
          return unknown_parameter(key, "format, limit");
        }
        return {};
      });
  if (!pages) return pages.error();
  x.filter = std::move(pages->filter);
  x.ascending = pages->ascending;
  return x;
}

SqlWhere where_clause(const LogFilter& f) {
  SqlWhere w;
  w.sql = "tenant_id = $1";
  w.args.push_back(std::to_string(f.tenant));
  const auto equals = [&](const char* column, const std::optional<std::string>& value) {
    if (value) w.sql += fmt::format(" AND {} = {}", column, w.param(*value));
  };
  equals("device_id", f.device_id);
  equals("service", f.service);
  equals("app", f.app);
  equals("host", f.host);
  if (!f.levels.empty()) {
    std::vector<std::string> names;
    for (const auto level : f.levels)
      names.emplace_back(model::to_string(level));
    w.sql += fmt::format(" AND level = ANY({}::text[])", w.param(postgres_text_array(names)));
  }
  // Times travel as RFC 3339 with all six fractional digits: exact to the microsecond, as the
  // keyset comparison needs (a double would round).
  if (f.from)
    w.sql += fmt::format(" AND ts >= {}::timestamptz", w.param(core::format_rfc3339(*f.from)));
  if (f.to) w.sql += fmt::format(" AND ts < {}::timestamptz", w.param(core::format_rfc3339(*f.to)));
  for (const auto& term : f.terms)
    w.sql += fmt::format(" AND message ILIKE {}", w.param(contains_pattern(term)));
  for (const auto& [path, value] : f.attrs)
    w.sql += fmt::format(" AND attrs #>> {}::text[] = {}", w.param(postgres_text_array(path)),
                         w.param(value));
  return w;
}

std::string SqlWhere::param(std::string value) {
  args.push_back(std::move(value));
  return fmt::format("${}", args.size());
}

bool LogFilter::empty() const {
  return !device_id && !service && !app && !host && levels.empty() && !from && !to &&
         terms.empty() && attrs.empty();
}

core::Result<LogPage> find_logs(store::Connection& db, const LogQuery& query) {
  // One row more than asked tells whether a next page exists.
  const auto select = select_logs(query.filter, query.ascending, query.after, query.limit + 1);
  auto rows = db.query(select.sql, select.params);
  if (!rows) return rows.error();
  LogPage page;
  page.logs = read_stored_logs(*rows);
  if (page.logs.size() > static_cast<std::size_t>(query.limit)) {
    page.logs.resize(static_cast<std::size_t>(query.limit));
    page.next = Cursor{page.logs.back().ts, page.logs.back().id};
  }
  return page;
}

core::Result<std::int64_t> parse_int_param(std::string_view param, std::string_view text,
                                           std::int64_t min, std::int64_t max) {
  std::int64_t n = 0;
  if (!parse_int(text, n) || n < min || n > max)
    return bad(param, fmt::format("must be an integer in {}..{}", min, max));
  return n;
}

core::Result<std::int64_t> parse_log_id(std::string_view text) {
  std::int64_t id = 0;
  if (!parse_int(text, id) || id <= 0) return bad("id", "must be a positive integer");
  return id;
}

core::Result<StoredLog> find_log(store::Connection& db, model::TenantId tenant, std::int64_t id) {
  auto rows =
      db.query(fmt::format("{} FROM logs WHERE tenant_id = $1 AND id = $2", kStoredLogColumns),
               {std::to_string(tenant), std::to_string(id)});
  if (!rows) return rows.error();
  if (rows->size() == 0)
    return core::make_error(Errc::not_found, fmt::format("no log with id {}", id));
  return read_stored_logs(*rows).front();
}

core::Result<LogDelete> parse_log_delete(const Params& params, model::TenantId tenant,
                                         core::Micros now) {
  constexpr std::int64_t kMaxDelete = 100'000;
  LogDelete d;
  Params filters;
  for (const auto& [key, value] : params) {
    if (key == "limit") {
      auto limit = parse_int_param(key, value, 1, kMaxDelete);
      if (!limit) return limit.error();
      d.limit = *limit;
    } else if (key == "order" || key == "cursor") {
      return bad(key, "does not apply to a delete (the oldest matching logs go first)");
    } else {
      filters.emplace_back(key, value);
    }
  }
  auto q = parse_log_query(filters, tenant, now);
  if (!q) return q.error();
  if (q->filter.empty())
    return bad("filter",
               "is missing: a delete needs at least one filter (device_id, service, "
               "app, host, level, min_level, from, to, q, attrs.<key>)");
  d.filter = std::move(q->filter);
  return d;
}

core::Result<store::Deleted> delete_logs(store::Connection& db, const LogDelete& what) {
  const SqlWhere w = where_clause(what.filter);
  return store::delete_logs(db, w.sql, store::Params(w.args.begin(), w.args.end()), what.limit);
}

core::Result<store::Deleted> delete_log(store::Connection& db, model::TenantId tenant,
                                        std::int64_t id) {
  auto gone = store::delete_logs(db, "tenant_id = $1 AND id = $2",
                                 {std::to_string(tenant), std::to_string(id)}, std::nullopt);
  if (!gone) return gone.error();
  if (gone->count == 0)
    return core::make_error(Errc::not_found, fmt::format("no log with id {}", id));
  return gone;
}

core::Result<LogCursor> LogCursor::open(store::Pool::Lease lease, const LogExportQuery& query) {
  LogCursor cursor(std::move(lease));
  auto& db = cursor.lease_->connection();
  if (auto begun = db.exec("BEGIN TRANSACTION READ ONLY"); !begun) return begun.error();
  // The cursor reads the snapshot of its DECLARE: rows stored meanwhile are not in the export.
  const auto select = select_logs(query.filter, query.ascending, std::nullopt, query.limit);
  auto declared = db.query(
      fmt::format("DECLARE {} NO SCROLL CURSOR FOR {}", kCursorName, select.sql), select.params);
  if (!declared) return declared.error();  // the destructor rolls back
  return cursor;
}

LogCursor::LogCursor(LogCursor&& other) noexcept : lease_(std::move(other.lease_)) {
  other.lease_.reset();
}

LogCursor::~LogCursor() {
  if (!lease_) return;
  if (auto ended = abandon(); !ended)
    core::log::warn("export cursor not rolled back", {{"error", ended.error().message}});
}

core::Result<std::vector<StoredLog>> LogCursor::fetch(int max_rows) {
  if (!lease_) return core::make_error(Errc::internal, "the export cursor was closed");
  auto rows = lease_->connection().query(fmt::format("FETCH {} FROM {}", max_rows, kCursorName));
  if (!rows) return rows.error();
  return read_stored_logs(*rows);
}

core::Status LogCursor::close() {
  return end("COMMIT");
}

core::Status LogCursor::abandon() {
  // A lost connection took its transaction with it: nothing is left to roll back, and the pool
  // drops the connection.
  if (lease_ && lease_->connection().broken()) lease_.reset();
  return end("ROLLBACK");
}

core::Status LogCursor::end(std::string_view statement) {
  if (!lease_) return {};
  auto ended = lease_->connection().exec(statement);
  // A connection whose transaction may still be open must not serve anyone else.
  if (!ended) lease_->discard();
  lease_.reset();
  return ended;
}

}  // namespace logpipe::query
