#include "api/api.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <set>

#include "api/render.hpp"
#include "http/query_string.hpp"

namespace logpipe::api {
namespace {

TEST(QueryString, FindsAndDecodes) {
  EXPECT_EQ(http::query_param("/x?limit=10", "limit"), "10");
  EXPECT_EQ(http::query_param("/x?a=1&limit=5&limit=7", "limit"), "5");
  EXPECT_EQ(http::query_param("/x?q=a%20b+c", "q"), "a b c");
  EXPECT_EQ(http::query_param("/x?flag", "flag"), "");
  EXPECT_EQ(http::query_param("/x?a=1", "limit"), std::nullopt);
  EXPECT_EQ(http::query_param("/x", "limit"), std::nullopt);
  EXPECT_EQ(http::percent_decode("%zz%4", false), "%zz%4");
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The route table and /openapi.json describe exactly the same endpoints: one cannot gain or
// lose an endpoint without the other.
TEST(OpenApi, DocumentsExactlyTheRegisteredRoutes) {
  std::set<std::string> registered;
  for (const auto& spec : route_specs())
    registered.insert(lower(http::bhttp::to_string(spec.method)) + " " + spec.pattern);

  simdjson::dom::parser parser;
  simdjson::dom::object paths;
  ASSERT_EQ(parser.parse(std::string(openapi_document()))["paths"].get(paths), simdjson::SUCCESS);
  std::set<std::string> documented;
  for (auto [path, item] : paths) {
    simdjson::dom::object operations;
    ASSERT_EQ(item.get(operations), simdjson::SUCCESS);
    for (auto [method, operation] : operations) {
      if (method == "parameters") continue;
      documented.insert(std::string(method) + " " + std::string(path));
    }
  }
  EXPECT_EQ(registered, documented);
}

query::StoredLog stored_log(std::string message) {
  query::StoredLog log;
  log.id = 42;
  log.ts = 1'731'580'200'000'000;
  log.received_at = log.ts + 1;
  log.level = "ERROR";
  log.message = std::move(message);
  log.service = "api";
  log.attrs_json = R"({"a": "x,y"})";
  log.source_format = "ndjson";
  return log;
}

TEST(Render, NdjsonLinesAreTheSearchItems) {
  const std::vector<query::StoredLog> logs{stored_log("one"), stored_log("two\nlines")};
  const std::string page = logs_json({logs, std::nullopt});
  const std::string lines = logs_ndjson(logs);
  const auto newline = lines.find('\n');
  ASSERT_EQ(lines.back(), '\n');
  const std::string items = "[" + lines.substr(0, newline) + "," +
                            lines.substr(newline + 1, lines.size() - newline - 2) + "]";
  EXPECT_EQ(page, R"({"logs":)" + items + R"(,"count":2,"next_cursor":null})");
}

TEST(Render, CsvQuotesPerRfc4180AndNeutralisesFormulas) {
  const std::vector<query::StoredLog> logs{stored_log("plain"), stored_log("a, \"b\"\r\nc"),
                                           stored_log("=1+2"),  stored_log("-3, and \"more\""),
                                           stored_log("@x"),    stored_log("\tx")};
  EXPECT_EQ(logs_csv(logs),
            "42,2024-11-14T10:30:00.000000Z,2024-11-14T10:30:00.000001Z,ERROR,,api,,,plain,"
            "\"{\"\"a\"\": \"\"x,y\"\"}\",ndjson\r\n"
            "42,2024-11-14T10:30:00.000000Z,2024-11-14T10:30:00.000001Z,ERROR,,api,,,"
            "\"a, \"\"b\"\"\r\nc\",\"{\"\"a\"\": \"\"x,y\"\"}\",ndjson\r\n"
            "42,2024-11-14T10:30:00.000000Z,2024-11-14T10:30:00.000001Z,ERROR,,api,,,'=1+2,"
            "\"{\"\"a\"\": \"\"x,y\"\"}\",ndjson\r\n"
            "42,2024-11-14T10:30:00.000000Z,2024-11-14T10:30:00.000001Z,ERROR,,api,,,"
            "\"'-3, and \"\"more\"\"\",\"{\"\"a\"\": \"\"x,y\"\"}\",ndjson\r\n"
            "42,2024-11-14T10:30:00.000000Z,2024-11-14T10:30:00.000001Z,ERROR,,api,,,'@x,"
            "\"{\"\"a\"\": \"\"x,y\"\"}\",ndjson\r\n"
            "42,2024-11-14T10:30:00.000000Z,2024-11-14T10:30:00.000001Z,ERROR,,api,,,'\tx,"
            "\"{\"\"a\"\": \"\"x,y\"\"}\",ndjson\r\n");
}

TEST(RouteTable, EveryRouteHasASummaryAndWritesNeedAScope) {
  for (const auto& spec : route_specs()) {
    EXPECT_FALSE(spec.summary.empty()) << spec.pattern;
    if (spec.method != http::bhttp::verb::get && spec.method != http::bhttp::verb::head) {
      EXPECT_NE(spec.scope, model::Scope::none) << spec.pattern;
    }
  }
}

}  // namespace
}  // namespace logpipe::api
