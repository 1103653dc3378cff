// The syslog parser on a generated corpus of realistic lines (issue #10: ≥ 100 MiB/s per core):
// RFC 5424 with and without structured data, and RFC 3164 as rsyslog forwards it.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "ingest/formats/syslog.hpp"

namespace {

using namespace logpipe;

std::vector<std::string> rfc5424_lines(int n) {
  static const char* apps[] = {"nginx", "sshd", "postgres", "kubelet", "app-api"};
  static const char* messages[] = {
      "GET /api/v1/orders/8812 200 0.012s upstream=10.0.3.17:8080",
      "Accepted publickey for deploy from 10.1.2.3 port 52144 ssh2: ED25519 SHA256:Xk3",
      "checkpoint complete: wrote 2811 buffers (17.2%); 0 WAL file(s) added, 1 removed",
      "Liveness probe failed: HTTP probe failed with statuscode: 503"};
  std::vector<std::string> lines;
  for (int i = 0; i < n; ++i) {
    std::string line = "<" + std::to_string(128 + i % 64) +
                       ">1 2024-03-15T11:59:" + std::to_string(10 + i % 50) + ".0" +
                       std::to_string(10000 + i % 89999) + "+01:00 web" + std::to_string(i % 40) +
                       ".example.net " + apps[i % 5] + " " + std::to_string(1000 + i % 9000) +
                       " ID" + std::to_string(i % 7);
    line += i % 2 ? " [req@32473 id=\"r-" + std::to_string(i) + "\" user=\"u" +
                        std::to_string(i % 300) + "\"] "
                  : " - ";
    line += messages[i % 4];
    lines.push_back(std::move(line));
  }
  return lines;
}

std::vector<std::string> rfc3164_lines(int n) {
  static const char* tags[] = {"CRON[", "sshd[", "postfix/smtpd[", "systemd[", "kernel"};
  static const char* messages[] = {
      "(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
      "Failed password for invalid user admin from 203.0.113.9 port 40022 ssh2",
      "connect from mail-ed1-f44.google.com[209.85.208.44]", "Started Session 4512 of User deploy.",
      "[12345.678901] eth0: link up, 1000 Mbps"};
  std::vector<std::string> lines;
  for (int i = 0; i < n; ++i) {
    std::string tag = tags[i % 5];
    if (tag.back() == '[') tag += std::to_string(100 + i % 30000) + "]";
    lines.push_back("<" + std::to_string(i % 192) + ">Mar " + std::to_string(1 + i % 28) + " 1" +
                    std::to_string(i % 10) + ":0" + std::to_string(i % 10) + ":3" +
                    std::to_string(i % 10) + " host-" + std::to_string(i % 50) + " " + tag + ": " +
                    messages[i % 5]);
  }
  return lines;
}

void run(benchmark::State& state, const std::vector<std::string>& lines) {
  ingest::DecodeOptions options;
  options.received_at = 1'710'504'000'000'000;
  std::int64_t bytes = 0;
  for (const auto& l : lines)
    bytes += static_cast<std::int64_t>(l.size());
  model::Record record;
  std::string why;
  for (auto _ : state) {
    for (const auto& l : lines) {
      const bool ok = ingest::syslog::parse(l, options, record, why);
      benchmark::DoNotOptimize(ok);
      benchmark::DoNotOptimize(record);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(lines.size()));
  state.SetBytesProcessed(state.iterations() * bytes);
}

void BM_ParseSyslog5424(benchmark::State& state) {
  run(state, rfc5424_lines(1000));
}
BENCHMARK(BM_ParseSyslog5424);

void BM_ParseSyslog3164(benchmark::State& state) {
  run(state, rfc3164_lines(1000));
}
BENCHMARK(BM_ParseSyslog3164);

}  // namespace
