#include "queue/device_cache.hpp"

#include <fmt/format.h>

namespace logpipe::queue {
namespace {

// A stamp outlives any cached answer (their TTL is at most a day); expiring it only makes a
// reader's check fail, never pass wrongly.
constexpr std::string_view kInvalidate =
    "for i = 1, #KEYS, 2 do"
    " redis.call('INCR', KEYS[i]); redis.call('EXPIRE', KEYS[i], 172800);"
    " redis.call('DEL', KEYS[i + 1]) end return #KEYS / 2";

constexpr std::string_view kStore =
    "local stamp = redis.call('GET', KEYS[2]) or ''"
    " if stamp ~= ARGV[1] then return 0 end"
    " redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])"
    " redis.call('EXPIRE', KEYS[1], ARGV[4]) return 1";

}  // namespace

DeviceCacheKeys device_cache_keys(std::string_view stream, model::TenantId tenant,
                                  std::string_view device_id) {
  return {fmt::format("{}:cache:{}:{}", stream, tenant, device_id),
          fmt::format("{}:cache-stamp:{}:{}", stream, tenant, device_id)};
}

std::vector<std::string> device_cache_invalidation(std::string_view stream,
                                                   const DeviceSet& devices) {
  if (devices.empty()) return {};
  std::vector<std::string> command{"EVAL", std::string(kInvalidate),
                                   std::to_string(devices.size() * 2)};
  for (const auto& [tenant, device] : devices) {
    auto keys = device_cache_keys(stream, tenant, device);
    command.push_back(std::move(keys.stamp));
    command.push_back(std::move(keys.answers));
  }
  return command;
}

std::vector<std::string> device_cache_store(const DeviceCacheKeys& keys, std::string_view stamp,
                                            std::string_view limit, std::string_view answer,
                                            std::size_t ttl_seconds) {
  return {"EVAL",
          std::string(kStore),
          "2",
          keys.answers,
          keys.stamp,
          std::string(stamp),
          std::string(limit),
          std::string(answer),
          std::to_string(ttl_seconds)};
}

}  // namespace logpipe::queue
