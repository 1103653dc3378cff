// GET /api/v1/logs/export with the search as its oracle: the same rows for the same filters, in
// both formats and both orders; bad parameters; a million rows through serve with flat memory; a
// client that leaves; PostgreSQL failing midway; the cap on concurrent exports.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include "core/json_writer.hpp"
#include "core/time.hpp"
#include "harness.hpp"
#include "store/batch_writer.hpp"

// The ASan build runs serve about ten times slower: a fifth of the rows keeps the test within a
// minute there and still streams 40 chunks (memory is measured the same way).
#if defined(__SANITIZE_ADDRESS__)
constexpr int kLargeExportRows = 200'000;
#else
constexpr int kLargeExportRows = 1'000'000;
#endif

namespace logpipe::test {
namespace {

// ---- the oracle and the readers ----

std::string minified(simdjson::dom::element element) {
  return simdjson::minify(element);
}

// Every item of the search for `filter` (a query string), page after page, each minified.
std::vector<std::string> search_items(unsigned short port, const std::string& filter) {
  std::vector<std::string> items;
  std::string cursor;
  simdjson::dom::parser parser;
  for (int page = 0; page < 100; ++page) {
    const auto r = get(
        port, "/api/v1/logs?limit=1000&" + filter + (cursor.empty() ? "" : "&cursor=" + cursor));
    EXPECT_EQ(r.status, 200) << filter << "\n" << r.body;
    auto doc = parse_json(parser, r.body);
    for (auto item : doc["logs"].get_array())
      items.push_back(minified(item));
    auto next = doc["next_cursor"];
    if (next.is_null()) return items;
    cursor = std::string(std::string_view(next.get_string()));
  }
  ADD_FAILURE() << "more than 100 pages for " << filter;
  return items;
}

struct Body {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string data;
  bool complete = false;  // the last chunk came
};

Body read_export(unsigned short port, const std::string& query) {
  StreamingGet request(port, "/api/v1/logs/export?" + query);
  Body body{request.status(), request.headers(), {}, false};
  while (auto chunk = request.next_chunk())
    body.data += *chunk;
  body.complete = request.complete();
  return body;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    if (end == std::string::npos) {
      lines.push_back(text.substr(start));
      ADD_FAILURE() << "the last line has no newline: " << lines.back();
      break;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// RFC 4180: records end with CRLF; a quoted field may hold commas, CR, LF and doubled quotes.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '"') {
      EXPECT_TRUE(field.empty()) << "a quote inside an unquoted field at " << i;
      for (++i;; ++i) {
        if (i >= text.size()) {
          ADD_FAILURE() << "unterminated quoted field";
          return records;
        }
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field.push_back('"');
            ++i;
            continue;
          }
          ++i;
          break;
        }
        field.push_back(text[i]);
      }
    }
    if (i >= text.size()) break;
    if (text[i] == ',') {
      record.push_back(std::move(field));
      field.clear();
      ++i;
    } else if (text.compare(i, 2, "\r\n") == 0) {
      record.push_back(std::move(field));
      field.clear();
      records.push_back(std::move(record));
      record.clear();
      i += 2;
    } else {
      EXPECT_TRUE(text[i] != '\r' && text[i] != '\n')
          << "a bare line break outside quotes at " << i;
      field.push_back(text[i++]);
    }
  }
  EXPECT_TRUE(record.empty() && field.empty()) << "the last record has no CRLF";
  return records;
}

// What a spreadsheet-safe CSV cell holds for `value`.
std::string neutralised(std::string_view value) {
  if (!value.empty() && std::string_view("=+-@\t\r").find(value.front()) != std::string_view::npos)
    return "'" + std::string(value);
  return std::string(value);
}

const std::string kClientGone = R"(log_exports_aborted_total{reason="client_gone"})";
const std::string kDatabaseError = R"(log_exports_aborted_total{reason="database_error"})";

// ---- what the export holds, against the search ----

// Messages and fields that CSV must quote or neutralise, and JSON must escape.
const std::vector<std::string> kMessages{
    "=SUM(A1:A9)",   "+33 6 12 34 56 78", "-1 retries left",           "@import evil",
    "\tleading tab", "plain, with comma", "say \"hi\" twice",          "two\nlines",
    "crlf\r\nline",  "a, \"b\"\nand c",   "h\xC3\xA9llo \xE2\x9C\x93", "ordinary words",
};

const char* const kLevels[] = {"DEBUG", "INFO", "WARNING", "ERROR", "FATAL"};
const char* const kServices[] = {"api", "db", "web"};

class ExportContent : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
    lp.emplace(LogpipeOptions{.database_url = db.url(), .stream = unique_tag("export")});
    const core::Micros start = core::now_micros() - 2LL * 86'400'000'000;
    std::string body;
    for (int n = 0; n < kRows; ++n) {
      core::JsonWriter w;
      w.begin_object()
          .field("ts", core::format_rfc3339(start + n * 401'000'000LL))
          .field("message", kMessages[n % kMessages.size()] + " #" + std::to_string(n))
          .field("level", kLevels[n % 5])
          .field("service", kServices[n % 3]);
      if (n % 4 != 0) w.field("device_id", "dev-" + std::string(1, static_cast<char>('a' + n % 3)));
      if (n % 7 == 0) w.field("host", "=host");
      w.key("attrs").begin_object().field("k", n % 5).field("note", "a,b \"c\"").end_object();
      body += w.end_object().take() + "\n";
    }
    ASSERT_EQ(ingest_ndjson(lp->port(), body).status, 202);
    ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == kRows; }, 30s));
    from_ = core::format_rfc3339(start + 100 * 401'000'000LL);
    to_ = core::format_rfc3339(start + 300 * 401'000'000LL);
  }

  // Query strings, each with its search answer, in both orders.
  std::vector<std::string> filters() const {
    std::vector<std::string> out;
    for (const std::string& f : std::vector<std::string>{
             "", "service=api", "level=ERROR,FATAL", "min_level=warning&service=web", "q=comma",
             "attrs.k=3", "from=" + from_ + "&to=" + to_, "device_id=dev-b&q=line",
             "host=%3Dhost"}) {
      out.push_back(f);
      out.push_back(f + (f.empty() ? "" : "&") + "order=asc");
    }
    return out;
  }

  static constexpr int kRows = 400;
  TestDatabase db{"export"};
  std::optional<Logpipe> lp;
  std::string from_, to_;
};

TEST_F(ExportContent, NdjsonLinesAreTheSearchItems) {
  simdjson::dom::parser parser;
  std::size_t non_empty = 0;
  for (const auto& filter : filters()) {
    const auto want = search_items(lp->port(), filter);
    const auto body = read_export(lp->port(), filter + "&format=ndjson");
    ASSERT_EQ(body.status, 200) << filter;
    EXPECT_TRUE(body.complete) << filter;
    std::vector<std::string> got;
    for (const auto& line : lines_of(body.data))
      got.push_back(minified(parse_json(parser, line)));
    EXPECT_EQ(got, want) << filter;
    non_empty += want.empty() ? 0 : 1;
  }
  EXPECT_EQ(non_empty, filters().size());
}

TEST_F(ExportContent, CsvRowsAreTheSearchItemsQuotedAndNeutralised) {
  simdjson::dom::parser parser, attrs_parser;
  for (const auto& filter : filters()) {
    const auto want = search_items(lp->port(), filter);
    const auto body = read_export(lp->port(), filter + "&format=csv");
    ASSERT_EQ(body.status, 200) << filter;
    EXPECT_TRUE(body.complete) << filter;
    const auto records = parse_csv(body.data);
    ASSERT_EQ(records.size(), want.size() + 1) << filter;
    EXPECT_EQ(records[0],
              (std::vector<std::string>{"id", "ts", "received_at", "level", "device_id", "service",
                                        "app", "host", "message", "attrs", "source_format"}));
    for (std::size_t i = 0; i < want.size(); ++i) {
      const auto& row = records[i + 1];
      ASSERT_EQ(row.size(), 11u) << filter << " row " << i;
      auto item = parse_json(parser, want[i]);
      const auto text = [&](const char* name) {
        auto v = item[name];
        return v.is_null() ? std::string() : std::string(std::string_view(v.get_string()));
      };
      EXPECT_EQ(row[0], std::to_string(int64_t(item["id"])));
      EXPECT_EQ(row[1], text("ts"));
      EXPECT_EQ(row[2], text("received_at"));
      EXPECT_EQ(row[3], text("level"));
      EXPECT_EQ(row[4], neutralised(text("device_id")));
      EXPECT_EQ(row[5], neutralised(text("service")));
      EXPECT_EQ(row[6], neutralised(text("app")));
      EXPECT_EQ(row[7], neutralised(text("host")));
      EXPECT_EQ(row[8], neutralised(text("message")));
      EXPECT_EQ(minified(parse_json(attrs_parser, row[9])), minified(item["attrs"].value()));
      EXPECT_EQ(row[10], "ndjson");
    }
  }
  // The neutralised cells are really there (not merely equal on both sides).
  const auto all = read_export(lp->port(), "format=csv");
  for (const char* cell : {",'=SUM(A1:A9) #", ",'+33 6 12", ",'-1 retries", ",'@import evil",
                           ",'\tleading tab", ",'=host,"})
    EXPECT_NE(all.data.find(cell), std::string::npos) << cell;
}

TEST_F(ExportContent, IsAnAttachmentOfItsMediaType) {
  const std::regex name(R"re(attachment; filename="logs-\d{8}T\d{6}Z\.(ndjson|csv)")re");
  const auto ndjson = read_export(lp->port(), "limit=1");
  EXPECT_EQ(ndjson.headers.at("content-type"), "application/x-ndjson");
  EXPECT_EQ(ndjson.headers.at("transfer-encoding"), "chunked");
  EXPECT_TRUE(std::regex_match(ndjson.headers.at("content-disposition"), name))
      << ndjson.headers.at("content-disposition");
  EXPECT_NE(ndjson.headers.at("content-disposition").find(".ndjson\""), std::string::npos);
  const auto csv = read_export(lp->port(), "format=csv&limit=1");
  EXPECT_EQ(csv.headers.at("content-type"), "text/csv; charset=utf-8");
  EXPECT_TRUE(std::regex_match(csv.headers.at("content-disposition"), name));
  EXPECT_NE(csv.headers.at("content-disposition").find(".csv\""), std::string::npos);
}

TEST_F(ExportContent, LimitTakesTheFirstRowsAndNothingMatchedIsAnEmptyFile) {
  const auto want = search_items(lp->port(), "service=db&order=asc");
  const auto body = read_export(lp->port(), "service=db&order=asc&limit=7");
  simdjson::dom::parser parser;
  std::vector<std::string> got;
  for (const auto& line : lines_of(body.data))
    got.push_back(minified(parse_json(parser, line)));
  EXPECT_EQ(got, std::vector<std::string>(want.begin(), want.begin() + 7));

  const auto none = read_export(lp->port(), "service=nothing");
  EXPECT_EQ(none.status, 200);
  EXPECT_TRUE(none.complete);
  EXPECT_EQ(none.data, "");
  const auto header_only = read_export(lp->port(), "service=nothing&format=csv");
  EXPECT_TRUE(header_only.complete);
  EXPECT_EQ(header_only.data,
            "id,ts,received_at,level,device_id,service,app,host,message,attrs,source_format\r\n");
}

TEST_F(ExportContent, BadParametersAre422NamingTheParameterBeforeAnythingStreams) {
  const auto expect_field = [&](const std::string& query, const std::string& field) {
    const auto r = get(lp->port(), "/api/v1/logs/export?" + query);
    EXPECT_EQ(r.status, 422) << query << " " << r.body;
    EXPECT_EQ(r.headers.at("content-type"), "application/json") << query;
    EXPECT_EQ(r.headers.count("transfer-encoding"), 0u) << query;
    EXPECT_NE(r.body.find("\"field\":\"" + field + "\""), std::string::npos)
        << query << " " << r.body;
  };
  expect_field("format=xml", "format");
  expect_field("format=csv&format=ndjson", "format");
  expect_field("cursor=MTc5NTY3NDA5ODE0OTc0Ni4z", "cursor");
  expect_field("limit=0", "limit");
  expect_field("limit=-5", "limit");
  expect_field("limit=lots", "limit");
  expect_field("level=LOUD", "level");
  expect_field("from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "from");
  expect_field("order=sideways", "order");
  expect_field("services=api", "services");
  expect_field("q=%22unterminated", "q");
}

// ---- large exports through serve, from rows COPYed straight into PostgreSQL ----

class ExportLarge : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
    LogpipeOptions options{
        .command = "serve", .database_url = db.url(), .stream = unique_tag("export_large")};
#if defined(__SANITIZE_ADDRESS__)
    // ASan keeps freed memory in quarantine (256 MiB by default): RSS would measure that, not
    // what serve holds. A small quarantine still catches a use after free of a recent chunk.
    const char* inherited = std::getenv("ASAN_OPTIONS");
    options.env["ASAN_OPTIONS"] =
        std::string(inherited ? inherited : "") + (inherited ? ":" : "") + "quarantine_size_mb=8";
#endif
    lp.emplace(options);
  }

  // `rows` logs of service api over the last 50 minutes, ids (from the sequence) in ts order.
  void fill(int rows) {
    auto c = db.connect();
    model::Batch batch;
    batch.received_at = core::now_micros();
    const core::Micros start = batch.received_at - 50LL * 60'000'000;
    const core::Micros step = 40LL * 60'000'000 / rows;
    model::Record r;
    r.service = "api";
    r.host = "h1";
    std::string copy;
    for (int n = 0; n < rows; ++n) {
      r.ts = start + n * step;
      r.device_id = "dev-" + std::to_string(n % 100);
      r.level = n % 10 == 0 ? model::Level::error : model::Level::info;
      r.message = "export row " + std::to_string(n) + ": request served, nothing unusual to report";
      r.attrs_json = R"({"n":)" + std::to_string(n) + R"(,"path":"/api/items"})";
      store::append_copy_row(copy, r, batch);
      if (copy.size() > (8u << 20) || n + 1 == rows) {
        ASSERT_TRUE(store::copy_rows(c, copy).ok());
        copy.clear();
      }
    }
  }

  // A started export whose first chunk arrived; the client then stops reading.
  std::unique_ptr<StreamingGet> stalled_export() {
    auto request = std::make_unique<StreamingGet>(lp->port(), "/api/v1/logs/export");
    EXPECT_EQ(request->status(), 200);
    EXPECT_TRUE(request->next_chunk().has_value());
    return request;
  }

  // Backends of this database other than the asking one that run a statement or hold a
  // transaction (a cursor would need one).
  long long busy_backends() const {
    return db.count(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        " AND (state <> 'idle' OR xact_start IS NOT NULL)");
  }

  // Rows of a small export, to show that the database side works after a failure.
  int small_export_rows() {
    const auto body = read_export(lp->port(), "limit=10");
    return body.status == 200 && body.complete ? static_cast<int>(lines_of(body.data).size()) : -1;
  }

  TestDatabase db{"export_large"};
  std::optional<Logpipe> lp;
};

TEST_F(ExportLarge, RowsStreamWithFlatServeMemory) {
  fill(kLargeExportRows);
  const int pid = lp->process().pid();
  const long before = status_kib(pid, "VmRSS");
  ASSERT_GT(before, 0);
  const auto started = std::chrono::steady_clock::now();

  StreamingGet request(lp->port(), "/api/v1/logs/export?service=api&from=1h", 60s);
  ASSERT_EQ(request.status(), 200);
  long long rows = 0, previous_id = -1;
  long peak = before;
  std::string partial;  // a line split across chunks
  for (int chunks = 0;; ++chunks) {
    auto chunk = request.next_chunk();
    if (!chunk) break;
    partial += *chunk;
    std::size_t start = 0;
    for (auto end = partial.find('\n'); end != std::string::npos;
         start = end + 1, end = partial.find('\n', start)) {
      // Newest first: ids fall strictly, so no row came twice or out of order.
      ASSERT_EQ(partial.compare(start, 6, R"({"id":)"), 0);
      const long long id = std::stoll(partial.substr(start + 6, 20));
      EXPECT_TRUE(previous_id < 0 || id < previous_id) << id << " after " << previous_id;
      previous_id = id;
      ++rows;
    }
    partial.erase(0, start);
    if (chunks % 10 == 0) peak = std::max(peak, status_kib(pid, "VmRSS"));
  }
  EXPECT_TRUE(request.complete());
  EXPECT_EQ(rows, kLargeExportRows);
  EXPECT_EQ(previous_id, 1);
  // VmHWM: the peak over serve's life, so nothing between samples escapes.
  peak = std::max(peak, status_kib(pid, "VmHWM"));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "exported " << rows << " rows in " << seconds << " s; serve's RSS " << before
            << " KiB before, peak " << peak << " KiB (+" << (peak - before) / 1024 << " MiB)\n";
  EXPECT_LT(peak - before, 50 * 1024)
      << "serve's RSS grew from " << before << " to " << peak << " KiB";
  EXPECT_EQ(metric(lp->port(), "log_export_rows_total"), kLargeExportRows);
}

TEST_F(ExportLarge, ClientThatLeavesStopsItAndReleasesTheConnection) {
  fill(200'000);
  // More times than exports may run at once (half the pool of 4): a place or a connection that
  // was not given back would turn the last one into a 503.
  for (int i = 1; i <= 3; ++i) {
    stalled_export()->close();
    ASSERT_TRUE(eventually([&] { return metric(lp->port(), kClientGone) == i; }, 30s)) << i;
  }
  EXPECT_TRUE(eventually([&] { return busy_backends() == 0; }, 10s));  // no cursor left open
  EXPECT_EQ(get(lp->port(), "/api/v1/logs?limit=1").status, 200);
  EXPECT_EQ(get(lp->port(), "/health").status, 200);
  EXPECT_EQ(small_export_rows(), 10);
  EXPECT_EQ(metric(lp->port(), "log_exports_started_total"), 4);
  EXPECT_EQ(metric(lp->port(), "log_exports_completed_total"), 1);
}

TEST_F(ExportLarge, ExportsBeyondHalfThePoolWaitTheirTurn) {
  fill(200'000);
  auto first = stalled_export();
  auto second = stalled_export();
  const auto refused = get(lp->port(), "/api/v1/logs/export?limit=1");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.headers.count("retry-after"), 1u);
  EXPECT_EQ(get(lp->port(), "/api/v1/logs?limit=1").status, 200);  // searches still have theirs
  first->close();
  second->close();
  EXPECT_TRUE(eventually([&] { return small_export_rows() == 10; }, 30s));
}

TEST_F(ExportLarge, DatabaseFailureMidwayCutsTheBodyShort) {
  fill(200'000);
  auto request = stalled_export();
  // serve's connections (the export's waits in its transaction between FETCHes) are all
  // terminated, found first and then ended by pid: pg_terminate_backend in the same WHERE could
  // run before the database condition and hit a test running beside this one.
  auto admin = db.connect();
  auto backends = admin.query(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
      " AND backend_type = 'client backend' AND pid <> pg_backend_pid()");
  ASSERT_TRUE(backends && backends->size() >= 1);
  for (int i = 0; i < backends->size(); ++i) {
    auto ended =
        admin.query("SELECT pg_terminate_backend($1::int)", {std::string(backends->get(i, 0))});
    ASSERT_TRUE(ended && ended->get(0, 0) == "t");
  }
  long long rows = 0;
  while (auto chunk = request->next_chunk())
    rows += std::count(chunk->begin(), chunk->end(), '\n');
  EXPECT_FALSE(request->complete()) << "a cut export must not end like a whole one";
  EXPECT_LT(rows, 200'000 - 5000);
  EXPECT_TRUE(eventually([&] { return metric(lp->port(), kDatabaseError) == 1; }, 10s));
  EXPECT_NE(lp->process().output().find("log export failed mid-stream"), std::string::npos);
  // The pool replaces a lost connection when it finds it broken (an idle one only once used).
  EXPECT_TRUE(eventually([&] { return small_export_rows() == 10; }, 10s));
}

}  // namespace
}  // namespace logpipe::test
