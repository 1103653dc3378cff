#include "loadtest/verify.hpp"

#include <fmt/format.h>

#include <charconv>
#include <thread>

#include "auth/keys.hpp"
#include "store/batch_writer.hpp"
#include "store/connection.hpp"

namespace logpipe::loadtest {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPollInterval = std::chrono::milliseconds(100);
constexpr auto kRecheckInterval = std::chrono::milliseconds(1000);
// A run whose stored count stops growing this long will not complete: report, don't hang.
constexpr auto kStallLimit = std::chrono::seconds(20);

// Counts how often each seq of the run is stored, and classifies them against `outcomes`.
core::Status exact_check(store::Connection& db, const std::string& tenant,
                         const std::string& devices, const std::string& run_id,
                         const std::vector<Outcome>& outcomes, Verification& v, Api api) {
  std::vector<std::uint8_t> seen(outcomes.size(), 0);
  std::uint64_t found = 0, foreign = 0;
  // COPY takes no parameters; the values are ours (a run id of [a-z0-9] and quoted device ids),
  // quoted as SQL literals all the same.
  const auto literal = [](const std::string& text) {
    std::string out = "'";
    for (char c : text) {
      if (c == '\'') out += '\'';
      out += c;
    }
    return out + "'";
  };
  const bool syslog = api == Api::syslog_tcp;
  const std::string sd = fmt::format("'{{sd,{},", kSyslogSdId);
  auto status = db.copy_out(
      "COPY (SELECT " + (syslog ? "attrs #>> " + sd + "seq}'" : std::string("attrs->>'seq'")) +
          " FROM logs WHERE tenant_id = " + tenant + " AND " + (syslog ? "host" : "device_id") +
          " = ANY(" + literal(devices) + "::text[]) AND " +
          (syslog ? "attrs #>> " + sd + "run}'" : std::string("attrs->>'run'")) + " = " +
          literal(run_id) + ") TO STDOUT",
      [&](std::string_view row) {
        ++found;
        std::uint64_t seq = 0;
        auto [p, ec] = std::from_chars(row.data(), row.data() + row.size(), seq);
        if (ec != std::errc() || seq >= seen.size()) {
          ++foreign;
          return;
        }
        if (seen[seq] < 255) ++seen[seq];
      });
  if (!status) return status;
  v.found = found;
  v.missing = v.rejected_stored = v.unanswered_stored = 0;
  v.duplicates = foreign;  // a seq the run never sent cannot be stored legitimately
  for (std::size_t seq = 0; seq < seen.size(); ++seq) {
    if (seen[seq] > 1) v.duplicates += seen[seq] - 1;
    switch (outcomes[seq]) {
      case Outcome::acknowledged:
        if (seen[seq] == 0) ++v.missing;
        break;
      case Outcome::rejected:
        if (seen[seq] > 0) ++v.rejected_stored;
        break;
      case Outcome::unanswered:
        if (seen[seq] > 0) ++v.unanswered_stored;
        break;
    }
  }
  return {};
}

}  // namespace

Outcome outcome_of_status(int status) {
  if (status >= 200 && status < 300) return Outcome::acknowledged;
  if (status == 502 || status == 504) return Outcome::unanswered;
  return Outcome::rejected;
}

Verification verify_stored(const std::string& database_url, const Generator& generator,
                           const std::vector<Outcome>& outcomes, std::uint64_t acknowledged,
                           Clock::time_point first_send, std::chrono::milliseconds timeout, Api api,
                           const std::string& api_key) {
  Verification v;
  v.done = true;
  auto db = store::Connection::open(database_url, std::chrono::seconds(5));
  if (!db) {
    v.error = db.error().message;
    return v;
  }
  // The logs are stored under the key's tenant (1, default, without a key).
  std::string tenant = "1";
  if (const auto id = auth::key_id_of(api_key)) {
    auto rows = db->query("SELECT tenant_id FROM api_keys WHERE id = $1", {std::string(*id)});
    if (rows && rows->size() == 1) tenant = std::string(rows->get(0, 0));
  }
  const std::string devices = store::array_literal(generator.device_ids());
  const auto give_up = Clock::now() + timeout;
  long long last_count = -1;
  auto last_change = Clock::now();
  const auto stalled = [&](long long count, Clock::time_point now) {
    if (count != last_count) {
      last_count = count;
      last_change = now;
    }
    return now >= give_up || now - last_change >= kStallLimit;
  };

  // Cheap progress first: wait until as many logs are stored as were acknowledged.
  Clock::time_point stored_by = Clock::now();
  for (;;) {
    // Syslog records have no device: their rows are counted (a scan, hence polled less often).
    auto progress =
        db->query(api == Api::syslog_tcp ? "SELECT count(*) FROM logs "
                                           "WHERE tenant_id = $2 AND host = ANY($1::text[])"
                                         : "SELECT coalesce(sum(log_count), 0) FROM devices "
                                           "WHERE tenant_id = $2 AND device_id = ANY($1::text[])",
                  {devices, tenant});
    if (!progress) {
      v.error = progress.error().message;
      return v;
    }
    const auto now = Clock::now();
    const long long count = progress->get_int(0, 0);
    stored_by = now;
    if (static_cast<std::uint64_t>(count) >= acknowledged) break;
    if (stalled(count, now)) {
      v.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(api == Api::syslog_tcp ? 5 * kPollInterval : kPollInterval);
  }
  // Then exactly, again while acknowledged logs are still missing and arriving: logs of
  // unanswered requests can make the count reach the target before every acknowledged one is in.
  last_count = -1;
  for (bool first = true;; first = false) {
    const auto check_started = Clock::now();
    if (auto s = exact_check(*db, tenant, devices, generator.run_id(), outcomes, v, api); !s) {
      v.error = s.error().message;
      return v;
    }
    // The end-to-end time excludes the check itself: everything was stored by `stored_by` when
    // the first exact check agrees, or by the start of the check that finally did.
    v.seconds =
        std::chrono::duration<double>((first ? stored_by : check_started) - first_send).count();
    const auto now = Clock::now();
    if (v.missing == 0 || v.timed_out) break;
    if (stalled(static_cast<long long>(v.found), now)) {
      v.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(kRecheckInterval);
  }
  return v;
}

}  // namespace logpipe::loadtest
