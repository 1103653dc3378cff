#include "loadtest/verify.hpp"

#include <thread>

#include "store/batch_writer.hpp"
#include "store/connection.hpp"

namespace logpipe::loadtest {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPollInterval = std::chrono::milliseconds(100);
// A run whose stored count stops growing this long will not complete: report, don't hang.
constexpr auto kStallLimit = std::chrono::seconds(20);

}  // namespace

Verification verify_stored(const std::string& database_url, const Generator& generator,
                           std::uint64_t acknowledged, Clock::time_point first_send,
                           std::chrono::milliseconds timeout) {
  Verification v;
  v.done = true;
  auto db = store::Connection::open(database_url, std::chrono::seconds(5));
  if (!db) {
    v.error = db.error().message;
    return v;
  }
  const std::string devices = store::array_literal(generator.device_ids());
  const auto give_up = Clock::now() + timeout;
  long long last_count = -1;
  auto last_change = Clock::now();
  for (;;) {
    auto progress = db->query(
        "SELECT coalesce(sum(log_count), 0) FROM devices "
        "WHERE tenant_id = 1 AND device_id = ANY($1::text[])",
        {devices});
    if (!progress) {
      v.error = progress.error().message;
      return v;
    }
    const auto now = Clock::now();
    const long long count = progress->get_int(0, 0);
    if (count != last_count) {
      last_count = count;
      last_change = now;
    }
    if (static_cast<std::uint64_t>(count) >= acknowledged) {
      v.seconds = std::chrono::duration<double>(now - first_send).count();
      break;
    }
    if (now >= give_up || now - last_change >= kStallLimit) {
      v.timed_out = true;
      v.seconds = std::chrono::duration<double>(now - first_send).count();
      break;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  auto exact = db->query(
      "SELECT count(*), count(DISTINCT attrs->>'seq') FROM logs "
      "WHERE tenant_id = 1 AND device_id = ANY($1::text[]) AND attrs->>'run' = $2",
      {devices, generator.run_id()});
  if (!exact) {
    v.error = exact.error().message;
    return v;
  }
  v.found = static_cast<std::uint64_t>(exact->get_int(0, 0));
  v.unique = static_cast<std::uint64_t>(exact->get_int(0, 1));
  return v;
}

}  // namespace logpipe::loadtest
