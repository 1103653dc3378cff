// The syslog format: RFC 5424 and RFC 3164 as real senders write them (rsyslog, systemd-journald
// through rsyslog, util-linux logger, network gear), and what the scanner must not trip over.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "core/time.hpp"
#include "ingest/format.hpp"
#include "ingest/formats/syslog.hpp"

namespace logpipe::ingest {
namespace {

using model::Level;

core::Micros ts(const char* rfc3339) {
  return core::parse_rfc3339(rfc3339).value();
}

// Received 2024-03-15 12:00:00 UTC unless a test says otherwise.
DecodeOptions at(const char* received = "2024-03-15T12:00:00Z") {
  DecodeOptions o;
  o.received_at = ts(received);
  return o;
}

model::Record parse_ok(std::string_view line, const DecodeOptions& options = at()) {
  model::Record r;
  std::string why;
  EXPECT_TRUE(syslog::parse(line, options, r, why)) << line << ": " << why;
  simdjson::dom::parser parser;
  simdjson::dom::element attrs;
  EXPECT_EQ(parser.parse(r.attrs_json).get(attrs), simdjson::SUCCESS) << r.attrs_json;
  return r;
}

std::string parse_fails(std::string_view line, const DecodeOptions& options = at()) {
  model::Record r;
  std::string why;
  EXPECT_FALSE(syslog::parse(line, options, r, why)) << line;
  EXPECT_FALSE(why.empty());
  return why;
}

TEST(Syslog5424, RfcExampleWithStructuredDataAndBom) {
  // RFC 5424 §6.5, example 3, with a BOM before MSG.
  const auto r = parse_ok(
      "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
      "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] "
      "\xEF\xBB\xBF"
      "An application event log entry...");
  EXPECT_EQ(r.ts, ts("2003-10-11T22:14:15.003Z"));
  EXPECT_EQ(r.level, Level::notice);  // 165 = local4.notice
  EXPECT_EQ(r.host, "mymachine.example.com");
  EXPECT_EQ(r.service, "evntslog");
  EXPECT_EQ(r.app, "");
  EXPECT_EQ(r.message, "An application event log entry...");
  EXPECT_EQ(r.attrs_json,
            R"({"facility":"local4","msgid":"ID47","sd":{"exampleSDID@32473":{"iut":"3",)"
            R"("eventSource":"Application","eventID":"1011"}}})");
}

TEST(Syslog5424, SeveralElementsEscapesAndRepeatedParams) {
  const auto r =
      parse_ok(R"(<13>1 2024-02-29T23:59:59.123456+01:00 host app 42 - )"
               R"([a@1 q="say \"hi\"" path="C:\\dir" br="x\]y" other="\n"][origin ip="192.0.2.1" )"
               R"(ip="192.0.2.129" software="x"] hello)");
  EXPECT_EQ(r.ts, ts("2024-02-29T22:59:59.123456Z"));  // leap day, offset applied
  EXPECT_EQ(r.message, "hello");
  EXPECT_EQ(r.attrs_json,
            R"({"facility":"user","procid":"42","sd":{"a@1":{"q":"say \"hi\"","path":"C:\\dir",)"
            R"("br":"x]y","other":"\\n"},"origin":{"ip":["192.0.2.1","192.0.2.129"],)"
            R"("software":"x"}}})");
}

TEST(Syslog5424, NilValuesEverywhere) {
  const auto r = parse_ok("<14>1 - - - - - - just text");
  EXPECT_EQ(r.ts, at().received_at);
  EXPECT_EQ(r.host, "");
  EXPECT_EQ(r.service, "");
  EXPECT_EQ(r.level, Level::info);
  EXPECT_EQ(r.message, "just text");
  EXPECT_EQ(r.attrs_json, R"({"facility":"user"})");
}

TEST(Syslog5424, TimestampsFractionsAndOffsets) {
  EXPECT_EQ(parse_ok("<14>1 2024-01-01T00:00:00Z h a - - - m").ts, ts("2024-01-01T00:00:00Z"));
  EXPECT_EQ(parse_ok("<14>1 2024-01-01T00:00:00.5Z h a - - - m").ts, ts("2024-01-01T00:00:00.5Z"));
  EXPECT_EQ(parse_ok("<14>1 2024-01-01T00:00:00.123456-05:30 h a - - - m").ts,
            ts("2024-01-01T05:30:00.123456Z"));
  // More digits than RFC 5424 allows are truncated, not refused (some Java senders).
  EXPECT_EQ(parse_ok("<14>1 2024-01-01T00:00:00.123456789Z h a - - - m").ts,
            ts("2024-01-01T00:00:00.123456Z"));
  EXPECT_EQ(parse_ok("<14>1 2016-12-31T23:59:60Z h a - - - leap second").ts,
            ts("2016-12-31T23:59:59Z"));
  EXPECT_NE(parse_fails("<14>1 2023-02-29T00:00:00Z h a - - - m").find("TIMESTAMP"),
            std::string::npos);
  parse_fails("<14>1 2024-01-01T00:00:00 h a - - - no zone");
  parse_fails("<14>1 2024-13-01T00:00:00Z h a - - - m");
  parse_fails("<14>1 2024-01-01T24:00:00Z h a - - - m");
}

TEST(Syslog5424, Rsyslog23FormatAndLoggerAndJournald) {
  // rsyslog's RSYSLOG_SyslogProtocol23Format, and what util-linux logger --rfc5424 sends.
  auto r = parse_ok(
      "<30>1 2024-03-15T11:59:58.016117+00:00 web01 systemd 1 - - Started Session 4 of user "
      "root.\n");
  EXPECT_EQ(r.service, "systemd");
  EXPECT_EQ(r.host, "web01");
  EXPECT_EQ(r.message, "Started Session 4 of user root.");
  EXPECT_EQ(r.attrs_json, R"({"facility":"daemon","procid":"1"})");
  r = parse_ok(
      "<13>1 2024-03-15T11:59:58.885243+00:00 box alice - - "
      "[timeQuality tzKnown=\"1\" isSynced=\"1\" syncAccuracy=\"108500\"] hello from logger");
  EXPECT_EQ(r.service, "alice");
  EXPECT_EQ(r.message, "hello from logger");
  EXPECT_NE(r.attrs_json.find(R"("timeQuality":{"tzKnown":"1")"), std::string::npos);
}

TEST(Syslog5424, StructuredDataOnlyAndBrokenStructuredData) {
  // No MSG: the structured data is the message, so that it stays searchable as text.
  auto r = parse_ok(R"(<14>1 - h a - - [x y="z"])");
  EXPECT_EQ(r.message, R"([x y="z"])");
  EXPECT_EQ(r.attrs_json, R"({"facility":"user","sd":{"x":{"y":"z"}}})");
  // A sender that leaves out the "-": the text is the message.
  r = parse_ok("<14>1 - h a - - hello there");
  EXPECT_EQ(r.message, "hello there");
  r = parse_ok(R"(<14>1 - h a - - [broken y="z" but not closed)");
  EXPECT_EQ(r.message, R"([broken y="z" but not closed)");
  EXPECT_EQ(r.attrs_json, R"({"facility":"user"})");
  parse_fails("<14>1 - h a - - -");  // nothing at all
}

TEST(Syslog5424, HeaderCutShortIsRefused) {
  EXPECT_NE(parse_fails("<14>1 2024-01-01T00:00:00Z host").find("APP-NAME"), std::string::npos);
  parse_fails("<14>1 - host  app - - - double space");
  parse_fails("<14>1 garbage");
  parse_fails("<192>1 - h a - - - pri out of range");
  parse_fails("<x>1 - h a - - - m");
}

TEST(Syslog3164, TraditionalWithTagPidAndYearInference) {
  auto r = parse_ok("<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick",
                    at("2024-10-12T00:00:00Z"));
  EXPECT_EQ(r.ts, ts("2024-10-11T22:14:15Z"));
  EXPECT_EQ(r.level, Level::critical);  // 34 = auth.crit
  EXPECT_EQ(r.host, "mymachine");
  EXPECT_EQ(r.service, "su");
  EXPECT_EQ(r.message, "'su root' failed for lonvick");
  EXPECT_EQ(r.attrs_json, R"({"facility":"auth","procid":"230"})");
  // December logs received in January belong to last year; January logs received on 31
  // December to next year.
  EXPECT_EQ(parse_ok("<13>Dec 31 23:59:59 h t: m", at("2025-01-01T00:00:05Z")).ts,
            ts("2024-12-31T23:59:59Z"));
  EXPECT_EQ(parse_ok("<13>Jan  1 00:00:01 h t: m", at("2024-12-31T23:59:58Z")).ts,
            ts("2025-01-01T00:00:01Z"));
  // Leap day: only a leap year has it.
  EXPECT_EQ(parse_ok("<13>Feb 29 10:00:00 h t: m", at("2025-01-10T00:00:00Z")).ts,
            ts("2024-02-29T10:00:00Z"));
}

TEST(Syslog3164, TagWithoutPidMissingHostnameAndPadding) {
  auto r = parse_ok("<13>Mar  5 09:08:07 host kernel: [ 1.234] usb 1-1: new device");
  EXPECT_EQ(r.ts, ts("2024-03-05T09:08:07Z"));
  EXPECT_EQ(r.service, "kernel");
  EXPECT_EQ(r.message, "[ 1.234] usb 1-1: new device");
  // A local socket's form (systemd, glibc syslog()): no hostname.
  r = parse_ok("<30>Mar 15 11:00:00 systemd[1]: Started Daily apt upgrade.");
  EXPECT_EQ(r.host, "");
  EXPECT_EQ(r.service, "systemd");
  EXPECT_EQ(r.attrs_json, R"({"facility":"daemon","procid":"1"})");
  r = parse_ok("<86>Mar 5 9:08:07 host CRON[1234]: pam_unix(cron:session): opened");
  parse_ok("<86>Mar 5 09:08:07 host postfix/smtpd[1234]: connect from x[1.2.3.4]");
  EXPECT_EQ(parse_ok("<22>Mar  5 09:08:07 host postfix/smtpd[1234]: connect").service,
            "postfix/smtpd");
  // No tag at all (MikroTik's topics): host, then the message.
  r = parse_ok("<30>Mar 15 11:00:00 MikroTik system,info,account user admin logged in");
  EXPECT_EQ(r.host, "MikroTik");
  EXPECT_EQ(r.service, "");
  EXPECT_EQ(r.message, "system,info,account user admin logged in");
}

TEST(Syslog3164, YearInTheHeaderAndIsoTimestamps) {
  auto r = parse_ok("<190>Mar 15 2023 10:11:12 fw01 %ASA-6-302013: Built outbound TCP");
  EXPECT_EQ(r.ts, ts("2023-03-15T10:11:12Z"));
  EXPECT_EQ(r.host, "fw01");
  EXPECT_EQ(r.service, "%ASA-6-302013");
  // rsyslog's RSYSLOG_ForwardFormat (high-precision ISO timestamp).
  r = parse_ok("<30>2024-03-15T11:59:58.123456+02:00 web01 nginx[77]: GET / 200");
  EXPECT_EQ(r.ts, ts("2024-03-15T09:59:58.123456Z"));
  EXPECT_EQ(r.host, "web01");
  EXPECT_EQ(r.service, "nginx");
  EXPECT_EQ(r.message, "GET / 200");
  // IPv6 hosts.
  r = parse_ok("<13>Mar 15 11:00:00 2001:db8::1 app: v6 sender");
  EXPECT_EQ(r.host, "2001:db8::1");
  EXPECT_EQ(r.service, "app");
  r = parse_ok("<13>1 2024-03-15T11:00:00Z fe80::1%eth0 app - - - v6 in 5424");
  EXPECT_EQ(r.host, "fe80::1%eth0");
}

TEST(Syslog3164, PriorityLessFileLines) {
  // /var/log/syslog in RSYSLOG_TraditionalFileFormat and RSYSLOG_FileFormat.
  auto r = parse_ok("Mar 15 06:25:01 web01 CRON[3210]: (root) CMD (run-parts /etc/cron.daily)");
  EXPECT_EQ(r.level, Level::info);
  EXPECT_EQ(r.host, "web01");
  EXPECT_EQ(r.service, "CRON");
  EXPECT_EQ(r.attrs_json, R"({"procid":"3210"})");
  r = parse_ok("2024-03-15T06:25:01.123456+00:00 web01 sshd[9]: Accepted publickey for bob");
  EXPECT_EQ(r.ts, ts("2024-03-15T06:25:01.123456Z"));
  EXPECT_EQ(r.service, "sshd");
  parse_fails("just some text");
  parse_fails("");
}

TEST(Syslog3164, NetworkGear) {
  // Cisco IOS with sequence numbers, an unsynchronised clock (*), msec and the zone.
  auto r = parse_ok(
      "<189>52: *Mar  1 18:46:11.123 UTC: %SYS-5-CONFIG_I: Configured from console by vty0");
  EXPECT_EQ(r.level, Level::notice);
  EXPECT_EQ(r.host, "");
  EXPECT_EQ(r.message, "%SYS-5-CONFIG_I: Configured from console by vty0");
  EXPECT_EQ(r.attrs_json, R"({"facility":"local7","seq":"52","mnemonic":"SYS-5-CONFIG_I"})");
  EXPECT_EQ(r.ts, ts("2024-03-01T18:46:11.123Z"));
  r = parse_ok("<187>Mar  1 18:46:11: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down");
  EXPECT_EQ(r.level, Level::error);
  EXPECT_NE(r.attrs_json.find(R"("mnemonic":"LINK-3-UPDOWN")"), std::string::npos);
  // Juniper (BSD form).
  r = parse_ok("<28>Mar 15 11:00:00 mx1 mib2d[1409]: SNMP_TRAP_LINK_DOWN: ifIndex 545");
  EXPECT_EQ(r.service, "mib2d");
  EXPECT_EQ(r.message, "SNMP_TRAP_LINK_DOWN: ifIndex 545");
  // MikroTik without BSD headers, and a bare tag.
  r = parse_ok("<30>system,info user admin logged in via winbox");
  EXPECT_EQ(r.ts, at().received_at);
  EXPECT_EQ(r.message, "system,info user admin logged in via winbox");
  r = parse_ok("<27>dhcpd: lease 10.0.0.5 expired");
  EXPECT_EQ(r.service, "dhcpd");
  EXPECT_EQ(r.message, "lease 10.0.0.5 expired");
}

TEST(Syslog, Utf8TabsCrlfAndBadBytes) {
  auto r = parse_ok("<13>Mar 15 11:00:00 h app: caf\xC3\xA9\tna\xC3\xAFve \xF0\x9F\x98\x80\r\n");
  EXPECT_EQ(r.message, "caf\xC3\xA9\tna\xC3\xAFve \xF0\x9F\x98\x80");
  // Latin-1 from an old device: repaired, so that PostgreSQL takes it.
  r = parse_ok("<13>Mar 15 11:00:00 h app: caf\xE9 cr\xE8me");
  EXPECT_EQ(r.message, "caf\xEF\xBF\xBD cr\xEF\xBF\xBDme");
  constexpr char kNuls[] = "<13>1 - h app - - - nul at end\0\0";
  r = parse_ok(std::string_view(kNuls, sizeof kNuls - 1));
  EXPECT_EQ(r.message, "nul at end");
}

TEST(Syslog, LimitsAreEnforced) {
  DecodeOptions o = at();
  o.max_message_bytes = 10;
  parse_fails("<13>1 - h app - - - this message is too long", o);
  o = at();
  o.max_name_bytes = 4;
  EXPECT_NE(parse_fails("<13>1 - hostname app - - - m", o).find("HOSTNAME"), std::string::npos);
}

TEST(Syslog, SniffLineScores) {
  EXPECT_EQ(syslog::sniff_line("<165>1 2003-10-11T22:14:15.003Z host app - - - m"), 90);
  EXPECT_EQ(syslog::sniff_line("<34>Oct 11 22:14:15 mymachine su: m"), 85);
  EXPECT_EQ(syslog::sniff_line("Oct 11 22:14:15 mymachine su: m"), 60);
  EXPECT_EQ(syslog::sniff_line("2024-03-15T06:25:01+00:00 web01 sshd[9]: m"), 40);
  EXPECT_EQ(syslog::sniff_line("2024-03-15T06:25:01Z INFO starting up"), 0);
  EXPECT_EQ(syslog::sniff_line("{\"message\":\"json\"}"), 0);
  EXPECT_EQ(syslog::sniff_line("127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /\""), 0);
  EXPECT_EQ(syslog::sniff_line("<html>"), 0);
}

TEST(Syslog, RegisteredAsALineFormat) {
  const auto* f = builtin_formats().find("syslog");
  ASSERT_NE(f, nullptr);
  ASSERT_TRUE(f->parse_line && f->sniff_line && f->decode);
  auto decoded = f->decode(
      "\xEF\xBB\xBF<13>Mar 15 11:00:00 h a: one\r\n\r\nnot syslog\n<14>1 - h b - - - two\n", at());
  ASSERT_TRUE(decoded);
  ASSERT_EQ(decoded->records.size(), 2u);
  EXPECT_EQ(decoded->records[1].service, "b");
  ASSERT_EQ(decoded->problems.size(), 1u);
  EXPECT_EQ(decoded->problems[0].index, 3);  // the line number
}

}  // namespace
}  // namespace logpipe::ingest
