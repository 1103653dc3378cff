#include "api/api.hpp"

#include <gtest/gtest.h>

#include "api/query_string.hpp"

namespace logpipe::api {
namespace {

TEST(QueryString, FindsAndDecodes) {
  EXPECT_EQ(query_param("/x?limit=10", "limit"), "10");
  EXPECT_EQ(query_param("/x?a=1&limit=5&limit=7", "limit"), "5");
  EXPECT_EQ(query_param("/x?q=a%20b+c", "q"), "a b c");
  EXPECT_EQ(query_param("/x?flag", "flag"), "");
  EXPECT_EQ(query_param("/x?a=1", "limit"), std::nullopt);
  EXPECT_EQ(query_param("/x", "limit"), std::nullopt);
  EXPECT_EQ(percent_decode("%zz%4", false), "%zz%4");
}

TEST(OpenApi, DocumentsEveryRoute) {
  const auto doc = openapi_document();
  for (const char* path : {"\"/health\"", "\"/health/live\"", "\"/health/ready\"", "\"/api/log\"",
                           "\"/api/logs/batch\"", "\"/api/v1/ingest\"", "\"/api/logs/{device_id}\"",
                           "\"/metrics\"", "\"/openapi.json\""}) {
    EXPECT_NE(doc.find(path), std::string_view::npos) << path;
  }
}

}  // namespace
}  // namespace logpipe::api
