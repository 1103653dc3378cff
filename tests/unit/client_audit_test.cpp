// `logpipe audit` without a server: its flags as the query string GET /api/v1/audit reads back
// (through the server's own parser), and its table row.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include "client/audit.hpp"
#include "http/query_string.hpp"
#include "query/audit.hpp"

namespace logpipe::client {
namespace {

core::Result<Query> parse(std::vector<std::string> args) {
  CLI::App app;
  AuditCommandLine line;
  add_audit_flags(app, line);
  std::vector<const char*> argv{"audit"};
  for (const auto& a : args)
    argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  return finish_audit_flags(line);
}

TEST(AuditCli, FlagsAreTheApisFilters) {
  auto q = parse({"--action", "logs.delete,app.delete", "--action", "dlq.replay", "--key-id", "k 1",
                  "--from", "2h", "--to", "2025-11-24T15:30:00Z", "--limit", "5000"});
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_EQ(q->limit, 5000u);
  const auto target = audit_page_target(q->search, kMaxPageSize, "abc");
  ASSERT_TRUE(target.starts_with("/api/v1/audit?")) << target;
  const auto params = http::query_params(target);
  constexpr core::Micros kNow = 1'764'000'000'000'000;
  auto read = query::parse_audit_query(params, 1, kNow);
  ASSERT_FALSE(read.ok()) << "abc is no cursor the server gave";
  auto without_cursor = audit_page_target(q->search, 10, "");
  read = query::parse_audit_query(http::query_params(without_cursor), 1, kNow);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->actions, (std::vector<std::string>{"logs.delete", "app.delete", "dlq.replay"}));
  EXPECT_EQ(read->key_id, "k 1");
  EXPECT_EQ(*read->from, kNow - 7'200'000'000);
  EXPECT_EQ(read->limit, 10);
}

TEST(AuditCli, RefusesABadUrl) {
  auto q = parse({"--url", "ftp://x"});
  EXPECT_FALSE(q.ok());
}

TEST(AuditCli, HttpsWithACaFile) {
  auto q = parse({"--url", "https://logs.example:8443", "--cacert", "ca.pem"});
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_TRUE(q->server.tls);
  EXPECT_EQ(q->tls.ca_file, "ca.pem");
  EXPECT_FALSE(q->tls.insecure);
}

TEST(AuditCli, TableRowShowsWhoWhatWhereWithControlCharactersEscaped) {
  auto row = audit_table_row(
      R"({"id":3,"at":"2026-11-26T13:49:27.154073Z","key_id":null,"action":"app.delete",)"
      R"("target":"sh\u001bop","detail":{"logs_deleted": 1},"remote_addr":"127.0.0.1",)"
      R"("request_id":"r-1"})");
  ASSERT_TRUE(row.ok()) << row.error().message;
  EXPECT_EQ(*row,
            "2026-11-26T13:49:27.154073Z app.delete sh\\x1bop key=- from=127.0.0.1 request=r-1 "
            "{\"logs_deleted\":1}\n");
  EXPECT_FALSE(audit_table_row("[1]").ok());
}

}  // namespace
}  // namespace logpipe::client
