#include "loadtest/loadtest.hpp"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <set>

#include "ingest/formats/json.hpp"
#include "ingest/formats/ndjson.hpp"
#include "ingest/formats/syslog.hpp"
#include "loadtest/generator.hpp"
#include "loadtest/verify.hpp"

namespace logpipe::loadtest {
namespace {

ingest::DecodeOptions options() {
  ingest::DecodeOptions o;
  o.received_at = 1'731'580'200'000'000;
  o.require_device_id = true;
  return o;
}

TEST(Generator, BatchBodiesParseAndCarryRunAndSeq) {
  const Generator g("abc123", 7);
  std::string body;
  g.append_body(body, Api::batch, 100, 50);
  auto records = ingest::parse_logs_envelope(body, options());
  ASSERT_TRUE(records) << records.error().message << "\n" << body;
  ASSERT_EQ(records->size(), 50u);
  for (std::size_t i = 0; i < records->size(); ++i) {
    const auto& r = (*records)[i];
    EXPECT_EQ(r.device_id, g.device_of(100 + i));
    EXPECT_NE(r.attrs_json.find("\"run\":\"abc123\""), std::string::npos) << r.attrs_json;
    EXPECT_NE(r.attrs_json.find("\"seq\":" + std::to_string(100 + i) + ","), std::string::npos)
        << r.attrs_json;
    EXPECT_FALSE(r.message.empty());
  }
}

TEST(Generator, SingleAndNdjsonBodiesParse) {
  const Generator g("r", 3);
  std::string single;
  g.append_body(single, Api::single, 5, 1);
  auto one = ingest::parse_json(single, options());
  ASSERT_TRUE(one) << one.error().message << "\n" << single;
  EXPECT_EQ(one->size(), 1u);

  std::string ndjson;
  g.append_body(ndjson, Api::ingest, 0, 12);
  auto many = ingest::parse_ndjson(ndjson, options());
  ASSERT_TRUE(many) << many.error().message << "\n" << ndjson;
  EXPECT_EQ(many->size(), 12u);
}

TEST(Generator, SameSeqSameBytesAndVariedContent) {
  const Generator a("run1", 100), b("run1", 100);
  std::string x, y;
  a.append_body(x, Api::batch, 0, 200);
  b.append_body(y, Api::batch, 0, 200);
  EXPECT_EQ(x, y);

  auto records = ingest::parse_logs_envelope(x, options());
  ASSERT_TRUE(records);
  std::set<model::Level> levels;
  std::set<std::string> services, messages;
  std::size_t bytes = 0;
  for (const auto& r : *records) {
    levels.insert(r.level);
    services.insert(r.service);
    messages.insert(r.message);
    bytes += r.message.size() + r.attrs_json.size() + r.device_id.size() + r.service.size();
  }
  EXPECT_GE(levels.size(), 4u);
  EXPECT_GE(services.size(), 5u);
  EXPECT_GE(messages.size(), 150u);
  // Realistic size: the issue's reference rows are ~190 bytes.
  EXPECT_GT(bytes / records->size(), 120u);
  EXPECT_LT(bytes / records->size(), 260u);
}

TEST(Generator, DevicesShareTheLoadEvenly) {
  const Generator g("x", 10);
  EXPECT_EQ(g.device_ids().size(), 10u);
  EXPECT_EQ(g.device_of(3), "lt-x-d003");
  EXPECT_EQ(g.device_of(13), g.device_of(3));
  EXPECT_NE(new_run_id(), new_run_id());
}

TEST(Outcome, GatewayErrorsLeaveItUnknownOtherErrorsAreRefusals) {
  EXPECT_EQ(outcome_of_status(202), Outcome::acknowledged);
  EXPECT_EQ(outcome_of_status(200), Outcome::acknowledged);
  EXPECT_EQ(outcome_of_status(502), Outcome::unanswered);
  EXPECT_EQ(outcome_of_status(504), Outcome::unanswered);
  for (const int refusal : {400, 401, 413, 422, 429, 500, 503})
    EXPECT_EQ(outcome_of_status(refusal), Outcome::rejected) << refusal;
}

TEST(Percentile, NearestRank) {
  std::vector<std::uint32_t> us;
  for (std::uint32_t i = 1; i <= 1000; ++i)
    us.push_back(i * 1000);  // 1..1000 ms
  EXPECT_DOUBLE_EQ(percentile_ms(us, 50), 500);
  EXPECT_DOUBLE_EQ(percentile_ms(us, 99), 990);
  EXPECT_DOUBLE_EQ(percentile_ms(us, 99.9), 999);
  EXPECT_DOUBLE_EQ(percentile_ms(us, 100), 1000);
  EXPECT_DOUBLE_EQ(percentile_ms({}, 99), 0);
  EXPECT_DOUBLE_EQ(percentile_ms({7000}, 50), 7);
}

core::Result<Options> parse(std::vector<std::string> args) {
  CLI::App app;
  CommandLine line;
  add_flags(app, line);
  std::reverse(args.begin(), args.end());
  app.parse(args);
  return finish_flags(line);
}

TEST(Flags, OpenLoopNeedsRateAndDuration) {
  auto o = parse({"--rate", "2500/s", "--duration", "1.5m", "--api", "ingest"});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_DOUBLE_EQ(o->rate, 2500);
  EXPECT_EQ(o->duration, std::chrono::milliseconds(90'000));
  EXPECT_EQ(o->api, Api::ingest);
  EXPECT_FALSE(parse({"--rate", "100"}));
  EXPECT_FALSE(parse({"--duration", "10s"}));
  EXPECT_FALSE(parse({"--rate", "-5", "--duration", "1s"}));
  EXPECT_FALSE(parse({"--rate", "5", "--duration", "10h"}));
  EXPECT_FALSE(parse({"--api", "bulk"}));
  auto closed = parse({"--no-verify"});
  ASSERT_TRUE(closed);
  EXPECT_FALSE(closed->verify);
  EXPECT_EQ(closed->concurrency, 200u);
  EXPECT_EQ(closed->batch_size, 5u);
}

TEST(Flags, SyslogProtocol) {
  auto o = parse({"--protocol", "syslog-tcp", "--syslog-addr", "127.0.0.1:6514"});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->api, Api::syslog_tcp);
  EXPECT_EQ(o->syslog_host, "127.0.0.1");
  EXPECT_EQ(o->syslog_port, 6514);
  EXPECT_FALSE(parse({"--protocol", "syslog-tcp", "--syslog-addr", "nohost"}));
  EXPECT_FALSE(parse({"--protocol", "syslog-tcp", "--syslog-addr", "h:0"}));
  EXPECT_FALSE(parse({"--protocol", "carrier-pigeon"}));
}

TEST(Generator, SyslogFramesAreOctetCountedRfc5424WithRunAndSeq) {
  const Generator g("run1", 3);
  std::string frames;
  g.append_body(frames, Api::syslog_tcp, 10, 4);
  std::size_t at = 0, n = 0;
  while (at < frames.size()) {
    const auto space = frames.find(' ', at);
    const std::size_t length = std::stoul(frames.substr(at, space - at));
    const std::string frame = frames.substr(space + 1, length);
    EXPECT_TRUE(frame.starts_with("<13")) << frame;
    model::Record r;
    std::string why;
    ingest::DecodeOptions options;
    ASSERT_TRUE(ingest::syslog::parse(frame, options, r, why)) << why << ": " << frame;
    EXPECT_EQ(r.host, g.device_of(10 + n));
    EXPECT_NE(r.attrs_json.find(R"("lt@32473":{"run":"run1","seq":")" + std::to_string(10 + n)),
              std::string::npos)
        << r.attrs_json;
    at = space + 1 + length;
    ++n;
  }
  EXPECT_EQ(n, 4u);
}

}  // namespace
}  // namespace logpipe::loadtest
