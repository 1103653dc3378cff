// GELF as Graylog's inputs take it. HTTP: gzip-compressed, several messages per request,
// additional fields into attrs, source_format gelf. UDP and TCP listeners: gelf-pro (a Node GELF
// library) sending zlib-compressed chunked datagrams and NUL-terminated TCP frames, a gzip
// datagram as Docker's gelf driver sends it, and datagrams that are broken in every way a
// network breaks them.
#include <gtest/gtest.h>
#include <unistd.h>

#include "../common/compress.hpp"
#include "harness.hpp"

namespace logpipe::test {
namespace {

TEST(Gelf, HttpMessagesArriveWithTheirFields) {
  TestDatabase db("gelf_http");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  Logpipe lp(LogpipeOptions{.database_url = db.url(), .stream = unique_tag("gelf")});

  HttpRequest request;
  request.method = "POST";
  request.target = "/gelf";
  request.headers = {{"Content-Encoding", "gzip"}};
  request.body = gzipped(
      R"({"version":"1.1","host":"web-1","short_message":"disk full","full_message":"disk full\n/var at 100%","timestamp":1732615200.25,"level":3,"_service":"storage","_mount":"/var"})"
      "\n"
      R"({"version":"1.1","host":"web-2","short_message":"started","level":6,"_app":"shop"})");
  const auto r = http(lp.port(), request);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.body, R"({"enqueued":2,"backend":"redis"})");
  ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == 2; }, 20s));
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE host = 'web-1' AND level = 'ERROR' AND "
                     "service = 'storage' AND message = 'disk full' AND source_format = 'gelf' "
                     "AND ts = '2024-11-26T10:00:00.25Z' AND attrs->>'mount' = '/var' AND "
                     "attrs->>'full_message' LIKE 'disk full%100%'"),
            1);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE host = 'web-2' AND level = 'INFO' AND "
                     "app = 'shop' AND source_format = 'gelf'"),
            1);

  // A message without short_message is refused, naming it; nothing of the request is stored.
  request.headers.clear();
  request.body = R"({"short_message":"fine"})"
                 "\n"
                 R"({"host":"h"})";
  const auto bad = http(lp.port(), request);
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_NE(bad.body.find("short_message"), std::string::npos) << bad.body;
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs"), 2);
}

// `logpipe run` with the GELF listeners on free loopback ports.
struct GelfServer {
  explicit GelfServer(const std::string& tag) : db(tag), udp(free_port()), tcp(free_port()) {
    if (run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first != 0)
      throw std::runtime_error("migrate failed");
    lp = std::make_unique<Logpipe>(
        LogpipeOptions{.database_url = db.url(),
                       .stream = unique_tag(tag),
                       .extra_args = {"--gelf-udp-addr", "127.0.0.1:" + std::to_string(udp),
                                      "--gelf-tcp-addr", "127.0.0.1:" + std::to_string(tcp)}});
  }
  long long count(const std::string& where) const {
    return db.count("SELECT count(*) FROM logs WHERE " + where);
  }
  TestDatabase db;
  unsigned short udp, tcp;
  std::unique_ptr<Logpipe> lp;
};

std::string this_host() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

TEST(Gelf, GelfProOverUdpAndTcp) {
  GelfServer s("gelf_listeners");
  const std::string tag = unique_tag("run");
  constexpr int kUdp = 200, kTcp = 60;
  auto r = run_node("gelf.js", {"udp", std::to_string(s.udp), std::to_string(kUdp), tag});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  r = run_node("gelf.js", {"tcp", std::to_string(s.tcp), std::to_string(kTcp), tag});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const std::string run = "attrs->>'run' = '" + tag + "'";
  ASSERT_TRUE(eventually([&] { return s.count(run) == kUdp + kTcp + 1; }, 30s))
      << s.count(run) << " of " << kUdp + kTcp + 1;

  for (const std::string transport : {"udp", "tcp"}) {
    const int sent = transport == "udp" ? kUdp : kTcp;
    const std::string mine = run + " AND message LIKE '" + transport + " message %'";
    EXPECT_EQ(s.count(mine + " AND source_format = 'gelf' AND service = 'checkout' AND host = '" +
                      this_host() + "'"),
              sent)
        << transport;
    // gelf-pro's levels are syslog severities; nested fields arrive flattened (_request_status).
    EXPECT_EQ(s.count(mine + " AND level = 'ERROR' AND attrs->>'request_status' = '502'"), sent / 2)
        << transport;
    EXPECT_EQ(s.count(mine + " AND level = 'INFO' AND attrs->>'request_path' = '/pay'"), sent / 2)
        << transport;
    // Every message once: seq 0..sent-1, no duplicates.
    EXPECT_EQ(s.db.count("SELECT count(DISTINCT attrs->>'seq') FROM logs WHERE " + mine), sent)
        << transport;
    // The first message's 60 KB full_message: dozens of UDP chunks, one TCP frame.
    EXPECT_EQ(s.count(mine + " AND attrs->>'seq' = '0' AND length(attrs->>'full_message') = 60000"),
              1)
        << transport;
  }
  EXPECT_EQ(s.count(run + " AND message = 'gzip " + tag +
                    "' AND host = 'docker-host' AND level = 'WARNING' AND "
                    "attrs->>'container_name' = 'web'"),
            1);
  const auto m = get(s.lp->port(), "/metrics").body;
  EXPECT_EQ(metric(m, R"(gelf_messages_received_total{transport="udp"})"), kUdp + 1);
  EXPECT_EQ(metric(m, R"(gelf_messages_received_total{transport="tcp"})"), kTcp);
  EXPECT_EQ(s.lp->process().terminate(), 0);
}

std::string chunk(std::uint64_t id, unsigned sequence, unsigned count, std::string_view data) {
  std::string out = {'\x1e', '\x0f'};
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((id >> shift) & 0xff));
  out.push_back(static_cast<char>(sequence));
  out.push_back(static_cast<char>(count));
  out.append(data);
  return out;
}

// What a network does to datagrams, and what a hostile sender sends: every bad one is counted by
// reason and the listener goes on; chunks may come out of order and twice.
TEST(Gelf, BrokenDatagramsAreCountedAndTheListenerGoesOn) {
  GelfServer s("gelf_broken");
  const auto message = [](const std::string& text) {
    return R"({"version":"1.1","host":"h","short_message":")" + text + R"("})";
  };
  // Out of order, the middle chunk repeated; zlib-compressed.
  const std::string whole = deflated(message("reordered"), 15);
  const std::size_t third = whole.size() / 3;
  const std::string parts[] = {whole.substr(0, third), whole.substr(third, third),
                               whole.substr(2 * third)};
  for (const unsigned i : {2u, 1u, 1u, 0u})
    ASSERT_TRUE(send_udp(s.udp, chunk(7, i, 3, parts[i])));
  ASSERT_TRUE(send_udp(s.udp, "not json at all"));
  ASSERT_TRUE(send_udp(s.udp, R"({"host":"h"})"));        // no short_message
  ASSERT_TRUE(send_udp(s.udp, chunk(8, 200, 201, "x")));  // more than 128 chunks
  ASSERT_TRUE(send_udp(s.udp, std::string("\x78\x9c broken zlib")));
  ASSERT_TRUE(send_udp(s.udp, chunk(9, 0, 2, "first half of a message that never ends")));
  // The lost half: given up after 5 s, counted when the next datagram sweeps.
  std::this_thread::sleep_for(6500ms);
  ASSERT_TRUE(send_udp(s.udp, message("after the storm")));
  ASSERT_TRUE(eventually([&] { return s.count("true") == 2; }, 20s)) << s.count("true");
  EXPECT_EQ(s.count("message IN ('reordered', 'after the storm')"), 2);
  const auto m = get(s.lp->port(), "/metrics").body;
  EXPECT_EQ(metric(m, R"(gelf_messages_rejected_total{reason="malformed",transport="udp"})"), 4);
  EXPECT_EQ(metric(m, R"(gelf_messages_rejected_total{reason="incomplete",transport="udp"})"), 1);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(s.count("true"), 2);
  EXPECT_EQ(s.lp->process().terminate(), 0);
}

}  // namespace
}  // namespace logpipe::test
