#include "api/api.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <set>

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

TEST(RouteTable, EveryRouteHasASummaryAndWritesNeedAScope) {
  for (const auto& spec : route_specs()) {
    EXPECT_FALSE(spec.summary.empty()) << spec.pattern;
    if (spec.method != http::bhttp::verb::get) {
      EXPECT_NE(spec.scope, model::Scope::none) << spec.pattern;
    }
  }
}

}  // namespace
}  // namespace logpipe::api
