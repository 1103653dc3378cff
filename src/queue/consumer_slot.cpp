#include "queue/consumer_slot.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <random>

namespace logpipe::queue {
namespace {

// Scripts, so that each check-and-set is one atomic step however many processes race for a slot.
// Take the slot when it is free, or when it still holds `expected` (a holder found to be gone);
// otherwise answer who holds it.
constexpr const char* kTakeScript = R"(
local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 'OK'
end
return v)";
// Extend our lease, or take the slot back if it expired meanwhile (Redis was unreachable).
constexpr const char* kRefreshScript = R"(
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if v == false then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0)";
constexpr const char* kReleaseScript = R"(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0)";

// Tells this process apart from an earlier one that had the same pid (a restarted container).
const std::string& process_token() {
  static const std::string token = [] {
    std::random_device random;
    return fmt::format("{:08x}{:08x}", random(), random());
  }();
  return token;
}

struct Holder {
  std::string host;
  long pid = 0;
  std::string token;
};

// "<host>:<pid>:<token>"; the host may itself contain ':' (it never ends with one).
bool parse_holder(std::string_view text, Holder& out) {
  const auto last = text.rfind(':');
  if (last == std::string_view::npos || last == 0) return false;
  const auto middle = text.rfind(':', last - 1);
  if (middle == std::string_view::npos) return false;
  const std::string_view pid = text.substr(middle + 1, last - middle - 1);
  auto [p, ec] = std::from_chars(pid.data(), pid.data() + pid.size(), out.pid);
  if (ec != std::errc() || p != pid.data() + pid.size() || out.pid <= 0) return false;
  out.host = text.substr(0, middle);
  out.token = text.substr(last + 1);
  return true;
}

}  // namespace

std::string slot_key(const std::string& stream, const std::string& group, const std::string& name) {
  return fmt::format("{}:consumer:{}:{}", stream, group, name);
}

std::string host_name() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "localhost";
  return host;
}

bool ConsumerSlot::holder_is_gone(const std::string& holder, const std::string& host) {
  Holder h;
  // A lease this code did not write, or one of another host (whose processes it cannot see),
  // is left alone: it expires by itself if its holder is gone.
  if (!parse_holder(holder, h) || h.host != host) return false;
  if (h.pid == static_cast<long>(getpid())) return h.token != process_token();
  return ::kill(static_cast<pid_t>(h.pid), 0) != 0 && errno == ESRCH;
}

core::Result<ConsumerSlot> ConsumerSlot::acquire(SyncClient& redis, const SlotOptions& options) {
  const std::string host = options.host.empty() ? host_name() : options.host;
  const std::string holder = fmt::format("{}:{}:{}", host, getpid(), process_token());
  const std::string ttl = std::to_string(options.ttl.count());
  for (std::size_t i = 0; i < options.max_slots; ++i) {
    std::string name = fmt::format("{}-{}", host, i);
    std::string key = slot_key(options.stream, options.group, name);
    // First as if free; if held, once more expecting the holder we found, if it is gone.
    std::string expected;
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto r = redis.command({"EVAL", kTakeScript, "1", key, expected, holder, ttl});
      if (!r) return r.error();
      const std::string current(reply_string(**r));
      if (current == "OK")
        return ConsumerSlot(std::move(key), std::move(name), holder, options.ttl);
      if (current == holder || !holder_is_gone(current, host)) break;  // in use: next index
      expected = current;
    }
  }
  return core::make_error(core::Errc::unavailable,
                          fmt::format("no free consumer slot among {} on host {} (stream {})",
                                      options.max_slots, host, options.stream));
}

core::Result<bool> ConsumerSlot::refresh(SyncClient& redis) const {
  const std::string ttl = std::to_string(ttl_.count());
  auto r = redis.command({"EVAL", kRefreshScript, "1", key_, holder_, ttl});
  if (!r) return r.error();
  return reply_integer(**r) == 1;
}

core::Status ConsumerSlot::release(SyncClient& redis) const {
  auto r = redis.command({"EVAL", kReleaseScript, "1", key_, holder_});
  if (!r) return r.error();
  return {};
}

}  // namespace logpipe::queue
