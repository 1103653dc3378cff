#include <gtest/gtest.h>
#include <stdlib.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>

#include "config/settings.hpp"

namespace logpipe::config {
namespace {

// Each test runs in a fresh directory so a developer's ./logpipe.toml can't leak in.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    old_ = std::filesystem::current_path();
    dir_ = std::filesystem::temp_directory_path() /
           ("logpipe-config-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::filesystem::current_path(dir_);
    for (const char* v : {"LOGPIPE_HTTP_ADDR", "LOGPIPE_BATCH_SIZE", "LOGPIPE_CONFIG"})
      unsetenv(v);
  }
  void TearDown() override {
    std::filesystem::current_path(old_);
    std::filesystem::remove_all(dir_);
    unsetenv("LOGPIPE_HTTP_ADDR");
    unsetenv("LOGPIPE_BATCH_SIZE");
  }

  core::Result<Settings> parse(std::vector<std::string> args) {
    CLI::App app;
    auto* sub = app.add_subcommand("run");
    options_ = std::make_unique<Options>();
    options_->add_to(*sub, kAll);
    args.insert(args.begin(), "run");
    std::reverse(args.begin(), args.end());  // CLI11 takes a reversed vector
    app.parse(args);
    return options_->resolve();
  }

  std::filesystem::path old_, dir_;
  std::unique_ptr<Options> options_;
};

TEST_F(ConfigTest, Defaults) {
  auto s = parse({});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->http_addr, "127.0.0.1:8080");
  EXPECT_EQ(s->host(), "127.0.0.1");
  EXPECT_EQ(s->port(), 8080);
  EXPECT_EQ(s->stream, "logs:stream");
  EXPECT_EQ(s->group, "log_workers");
  EXPECT_EQ(s->batch_size, 10000u);
  EXPECT_EQ(s->max_body_bytes, 10u * 1024 * 1024);
  EXPECT_GE(s->io_threads(), 1u);
  EXPECT_EQ(s->consumer, "");  // a leased <hostname>-<i> per consumer
}

TEST_F(ConfigTest, PrecedenceFlagsOverEnvOverFileOverDefaults) {
  std::ofstream("logpipe.toml")
      << "http_addr = \"127.0.0.1:9000\"\nbatch_size = 10\nstream = \"f\"\n";
  auto from_file = parse({});
  ASSERT_TRUE(from_file.ok()) << from_file.error().message;
  EXPECT_EQ(from_file->http_addr, "127.0.0.1:9000");
  EXPECT_EQ(from_file->batch_size, 10u);

  setenv("LOGPIPE_HTTP_ADDR", "127.0.0.1:9001", 1);
  auto from_env = parse({});
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(from_env->http_addr, "127.0.0.1:9001");
  EXPECT_EQ(from_env->stream, "f");

  auto from_flag = parse({"--http-addr", "127.0.0.1:9002"});
  ASSERT_TRUE(from_flag.ok());
  EXPECT_EQ(from_flag->http_addr, "127.0.0.1:9002");
  EXPECT_EQ(from_flag->batch_size, 10u);
}

TEST_F(ConfigTest, InvalidValuesAreOneClearError) {
  auto bad_addr = parse({"--http-addr", "nonsense"});
  ASSERT_FALSE(bad_addr.ok());
  EXPECT_NE(bad_addr.error().message.find("http_addr"), std::string::npos);
  setenv("LOGPIPE_BATCH_SIZE", "0", 1);
  auto bad_env = parse({});
  ASSERT_FALSE(bad_env.ok());
  EXPECT_NE(bad_env.error().message.find("LOGPIPE_BATCH_SIZE"), std::string::npos);
}

TEST_F(ConfigTest, ConfigFileErrors) {
  std::ofstream("logpipe.toml") << "no_such_option = 1\n";
  auto unknown = parse({});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("unknown key"), std::string::npos);
  std::ofstream("broken.toml") << "this is = = not toml\n";
  auto broken = parse({"--config", "broken.toml"});
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message.find("broken.toml"), std::string::npos);
  auto missing = parse({"--config", "missing.toml"});
  ASSERT_FALSE(missing.ok());
}

TEST_F(ConfigTest, PatternsAreATableOfTablesBesideTheFlatSettings) {
  std::ofstream("logpipe.toml") << R"(batch_size = 500

[patterns.myapp]
regex = '^(?P<ts>\S+ \S+) \[(?P<level>\w+)\] (?P<message>.*)$'
ts_format = "%Y-%m-%d %H:%M:%S"

[patterns.other]
regex = '^x (?P<message>.*)'
)";
  auto s = parse({});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->batch_size, 500u);
  ASSERT_EQ(s->patterns.size(), 2u);
  EXPECT_EQ(s->patterns[0].name, "myapp");
  EXPECT_EQ(s->patterns[0].regex, R"(^(?P<ts>\S+ \S+) \[(?P<level>\w+)\] (?P<message>.*)$)");
  EXPECT_EQ(s->patterns[0].ts_format, "%Y-%m-%d %H:%M:%S");
  EXPECT_EQ(s->patterns[1].name, "other");
  EXPECT_EQ(s->patterns[1].ts_format, "");
}

TEST_F(ConfigTest, PatternErrorsNameThePattern) {
  for (const char* text : {"[patterns.p]\nts_format = \"epoch\"\n",        // no regex
                           "[patterns.p]\nregex = 'x'\ncolour = 'red'\n",  // unknown key
                           "[patterns.p]\nregex = 5\n", "patterns = 'x'\n"}) {
    std::ofstream("logpipe.toml") << text;
    auto s = parse({});
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_NE(s.error().message.find("pattern"), std::string::npos) << s.error().message;
  }
}

}  // namespace
}  // namespace logpipe::config

namespace logpipe::config {
namespace {

TEST_F(ConfigTest, ElasticsearchPrefixAndRoot) {
  auto s = parse({});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->es_prefix, "/es");
  EXPECT_FALSE(s->es_at_root);
  s = parse({"--es-prefix", "/compat/es/", "--es-at-root", "true"});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->es_prefix, "/compat/es");  // a trailing slash is dropped
  EXPECT_TRUE(s->es_at_root);
  for (const char* bad : {"", "/", "es", "/es/{index}", "/a//b", "/a b", "/es?x"})
    EXPECT_FALSE(parse({"--es-prefix", bad}).ok()) << bad;
  EXPECT_FALSE(parse({"--es-at-root", "yes"}).ok());
  // TOML booleans are read as such.
  std::ofstream("logpipe.toml") << "es_at_root = true\nes_prefix = \"/elastic\"\n";
  s = parse({});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE(s->es_at_root);
  EXPECT_EQ(s->es_prefix, "/elastic");
}

TEST_F(ConfigTest, HttpLimitsTlsAndCors) {
  auto s = parse({});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->max_header_bytes, 65536u);
  EXPECT_EQ(s->max_header_count, 100u);
  EXPECT_EQ(s->max_connections_per_ip, 1000u);
  EXPECT_EQ(s->header_timeout_ms, 10'000u);
  EXPECT_EQ(s->body_timeout_ms, 60'000u);
  EXPECT_EQ(s->min_body_rate, 1024u);
  EXPECT_EQ(s->idle_timeout_ms, 60'000u);
  EXPECT_EQ(s->tls_cert, "");
  EXPECT_EQ(s->tls_key, "");
  EXPECT_TRUE(s->cors_origins.empty());

  s = parse({"--header-timeout", "2s", "--body-timeout", "500ms", "--idle-timeout", "1m",
             "--max-connections-per-ip", "0", "--min-body-rate", "0", "--tls-cert", "c.pem",
             "--tls-key", "k.pem", "--cors-origins",
             " https://ui.example , http://localhost:3000,*"});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->header_timeout_ms, 2000u);
  EXPECT_EQ(s->body_timeout_ms, 500u);
  EXPECT_EQ(s->idle_timeout_ms, 60'000u);
  EXPECT_EQ(s->max_connections_per_ip, 0u);
  EXPECT_EQ(s->min_body_rate, 0u);
  EXPECT_EQ(s->tls_cert, "c.pem");
  EXPECT_EQ(s->cors_origins,
            (std::vector<std::string>{"https://ui.example", "http://localhost:3000", "*"}));

  for (const char* bad : {"ui.example", "https://ui.example/", "https://ui.example/app",
                          "ftp://ui.example", "https://", "https://a.example,nope"}) {
    const auto r = parse({"--cors-origins", bad});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("cors_origins"), std::string::npos) << r.error().message;
  }
  EXPECT_FALSE(parse({"--max-header-count", "0"}).ok());
  EXPECT_FALSE(parse({"--header-timeout", "50ms"}).ok());  // at least 100 ms
}

TEST_F(ConfigTest, AlertNotifications) {
  auto defaults = parse({});
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  EXPECT_EQ(defaults->alert_notify_attempts, 5u);
  EXPECT_EQ(defaults->alert_notify_retry_delay_ms, 1000u);
  EXPECT_EQ(defaults->alert_notify_timeout_ms, 10'000u);
  EXPECT_EQ(defaults->alert_notify_queue, 1000u);
  auto s = parse({"--alert-notify-attempts", "3", "--alert-notify-retry-delay", "200ms"});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->alert_notify_attempts, 3u);
  EXPECT_EQ(s->alert_notify_retry_delay_ms, 200u);
  EXPECT_FALSE(parse({"--alert-notify-attempts", "0"}).ok());
}

}  // namespace
}  // namespace logpipe::config
