#include "loadtest/generator.hpp"

#include <fmt/format.h>

#include <array>
#include <iterator>
#include <random>

namespace logpipe::loadtest {
namespace {

// splitmix64: a cheap, well-mixed hash of (run, seq), so records vary but are reproducible.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Weighted like a real fleet: mostly INFO and DEBUG, some WARNING, few ERROR and CRITICAL.
constexpr std::array<const char*, 20> kLevels = {
    "INFO",  "INFO",  "INFO",  "INFO",  "INFO",    "INFO", "INFO",    "INFO",  "INFO", "INFO",
    "DEBUG", "DEBUG", "DEBUG", "DEBUG", "WARNING", "WARN", "WARNING", "ERROR", "ERR",  "CRITICAL"};
constexpr std::array<const char*, 6> kServices = {"sensor", "gateway", "auth",
                                                  "api",    "billing", "updater"};
constexpr std::array<const char*, 4> kRegions = {"eu-west-1", "us-east-2", "ap-south-1",
                                                 "sa-east-1"};

void append_message(std::string& out, std::uint64_t h) {
  const unsigned a = static_cast<unsigned>(h >> 8) % 1000;
  const unsigned b = static_cast<unsigned>(h >> 20) % 100;
  switch ((h >> 40) % 8) {
    case 0:
      fmt::format_to(std::back_inserter(out), "temperature {}.{} °C within range", 18 + b % 20,
                     a % 10);
      break;
    case 1:
      fmt::format_to(std::back_inserter(out), "battery level {}% below threshold", b);
      break;
    case 2:
      fmt::format_to(std::back_inserter(out), "GET /api/v1/items/{} 200 in {} ms", a * 37, b);
      break;
    case 3:
      fmt::format_to(std::back_inserter(out), "connection to gateway-{} re-established after {} ms",
                     b % 12, a);
      break;
    case 4:
      fmt::format_to(std::back_inserter(out), "user {} logged in from 10.{}.{}.{}", a * 13 + b, b,
                     a % 256, (a + b) % 256);
      break;
    case 5:
      fmt::format_to(std::back_inserter(out), "payment {}-{} declined: insufficient funds", a, b);
      break;
    case 6:
      fmt::format_to(std::back_inserter(out), "firmware check: 1.{}.{} is current", b % 10, a % 20);
      break;
    default:
      fmt::format_to(std::back_inserter(out), "disk usage {}% on /var/lib/data", b);
      break;
  }
}

// kLevels as syslog severities (RFC 5424: 2 crit, 3 err, 4 warning, 6 info, 7 debug).
int severity_of(std::string_view level) {
  if (level == "DEBUG") return 7;
  if (level == "WARNING" || level == "WARN") return 4;
  if (level == "ERROR" || level == "ERR") return 3;
  if (level == "CRITICAL") return 2;
  return 6;
}

}  // namespace

const char* to_string(Api api) {
  switch (api) {
    case Api::batch:
      return "batch";
    case Api::single:
      return "single";
    case Api::ingest:
      return "ingest";
    case Api::syslog_tcp:
      return "syslog-tcp";
  }
  return "batch";
}

const char* target_path(Api api) {
  switch (api) {
    case Api::single:
      return "/api/log";
    case Api::ingest:
      return "/api/v1/ingest";
    case Api::syslog_tcp:
      return "syslog";
    case Api::batch:
      break;
  }
  return "/api/logs/batch";
}

const char* content_type(Api api) {
  return api == Api::ingest ? "application/x-ndjson" : "application/json";
}

Generator::Generator(std::string run_id, std::size_t devices) : run_id_(std::move(run_id)) {
  device_ids_.reserve(devices);
  for (std::size_t i = 0; i < devices; ++i)
    device_ids_.push_back(fmt::format("lt-{}-d{:03}", run_id_, i));
}

const std::string& Generator::device_of(std::uint64_t seq) const {
  return device_ids_[seq % device_ids_.size()];
}

void Generator::append_record(std::string& out, std::uint64_t seq, bool canonical) const {
  const std::uint64_t h = mix(seq ^ (std::hash<std::string>{}(run_id_) << 1));
  out += R"({"device_id":")";
  out += device_of(seq);
  out += canonical ? R"(","level":")" : R"(","log_level":")";
  out += kLevels[h % kLevels.size()];
  out += R"(","message":")";
  append_message(out, h);
  out += R"(","service":")";
  out += kServices[(h >> 12) % kServices.size()];
  out += canonical ? R"(","attrs":{"run":")" : R"(","log_data":{"run":")";
  fmt::format_to(std::back_inserter(out),
                 R"({}","seq":{},"region":"{}","latency_ms":{},"fw":"1.{}.{}","ok":{}}}}})",
                 run_id_, seq, kRegions[(h >> 16) % kRegions.size()], (h >> 24) % 2000,
                 (h >> 32) % 10, (h >> 36) % 20, (h >> 44) % 7 ? "true" : "false");
}

void Generator::append_syslog_frame(std::string& out, std::uint64_t seq) const {
  const std::uint64_t h = mix(seq ^ (std::hash<std::string>{}(run_id_) << 1));
  // Built first, then prefixed with its length: the frame's own bytes are what is counted.
  thread_local std::string frame;
  frame.clear();
  // local0 (16 × 8), the record's severity; no TIMESTAMP (the receive time), as a pure function
  // of (run, seq).
  fmt::format_to(std::back_inserter(frame),
                 "<{}>1 - {} {} {} - [{} run=\"{}\" seq=\"{}\" region=\"{}\"] ",
                 128 + severity_of(kLevels[h % kLevels.size()]), device_of(seq),
                 kServices[(h >> 12) % kServices.size()], 1000 + (h >> 24) % 30000, kSyslogSdId,
                 run_id_, seq, kRegions[(h >> 16) % kRegions.size()]);
  append_message(frame, h);
  fmt::format_to(std::back_inserter(out), "{} ", frame.size());
  out += frame;
}

void Generator::append_body(std::string& out, Api api, std::uint64_t first_seq,
                            std::size_t count) const {
  switch (api) {
    case Api::syslog_tcp:
      for (std::size_t i = 0; i < count; ++i)
        append_syslog_frame(out, first_seq + i);
      return;
    case Api::single:
      append_record(out, first_seq, false);
      return;
    case Api::ingest:
      for (std::size_t i = 0; i < count; ++i) {
        append_record(out, first_seq + i, true);
        out += '\n';
      }
      return;
    case Api::batch:
      out += R"({"logs":[)";
      for (std::size_t i = 0; i < count; ++i) {
        if (i) out += ',';
        append_record(out, first_seq + i, false);
      }
      out += "]}";
      return;
  }
}

std::string new_run_id() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::string id;
  for (int i = 0; i < 8; ++i)
    id += kAlphabet[rd() % (sizeof kAlphabet - 1)];
  return id;
}

}  // namespace logpipe::loadtest
