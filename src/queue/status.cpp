#include "queue/status.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

namespace logpipe::queue {
namespace {

// XINFO replies are flat [key, value, key, value…] arrays.
const redisReply* field(const redisReply& map, std::string_view key) {
  for (std::size_t i = 0; i + 1 < reply_size(map); i += 2) {
    if (reply_string(reply_at(map, i)) == key) return &reply_at(map, i + 1);
  }
  return nullptr;
}

std::int64_t integer_field(const redisReply& map, std::string_view key) {
  const redisReply* v = field(map, key);
  return v ? reply_integer(*v) : 0;
}

std::string string_field(const redisReply& map, std::string_view key) {
  const redisReply* v = field(map, key);
  return v && !reply_is_nil(*v) ? std::string(reply_string(*v)) : std::string();
}

const redisReply* ok(std::span<const core::Result<ReplyPtr>> replies, std::size_t i) {
  return i < replies.size() && replies[i] ? replies[i]->get() : nullptr;
}

// `text` as a whole decimal integer; nullopt for anything else (empty, a sign, a tail).
std::optional<std::int64_t> whole_integer(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::string dead_letter_stream(const std::string& stream) {
  constexpr std::string_view suffix = ":stream";
  if (stream.size() > suffix.size() && stream.ends_with(suffix))
    return stream.substr(0, stream.size() - suffix.size()) + ":dlq";
  return stream + ":dlq";
}

std::vector<std::vector<std::string>> status_commands(const QueueNames& names) {
  return {{"XINFO", "STREAM", names.stream},
          {"XINFO", "GROUPS", names.stream},
          {"XINFO", "CONSUMERS", names.stream, names.group},
          {"XLEN", dead_letter_stream(names.stream)}};
}

QueueStatus read_status(const QueueNames& names, std::span<const core::Result<ReplyPtr>> replies) {
  const redisReply* stream = ok(replies, 0);
  const redisReply* groups = ok(replies, 1);
  const redisReply* consumers = ok(replies, 2);
  const redisReply* dlq = ok(replies, 3);

  const redisReply* group = nullptr;
  for (std::size_t i = 0; groups && i < reply_size(*groups); ++i) {
    if (string_field(reply_at(*groups, i), "name") == names.group) group = &reply_at(*groups, i);
  }
  QueueStatus status;
  status.names = names;
  status.length = stream ? integer_field(*stream, "length") : 0;
  status.pending = group ? integer_field(*group, "pending") : 0;
  // Redis reports lag as nil when it cannot tell (after deletions); then every entry not pending
  // is undelivered, since workers delete what they acknowledged.
  status.lag = status.length - status.pending;
  if (group) {
    if (const redisReply* l = field(*group, "lag"); l && !reply_is_nil(*l))
      status.lag = reply_integer(*l);
  }
  status.groups = static_cast<std::int64_t>(groups ? reply_size(*groups) : 0);
  status.last_message_id = stream ? string_field(*stream, "last-generated-id") : "";
  status.last_delivered_id = group ? string_field(*group, "last-delivered-id") : "";
  // first-entry is [id, [field, value…]], or nil for an empty stream.
  if (const redisReply* first = stream ? field(*stream, "first-entry") : nullptr;
      first && !reply_is_nil(*first) && reply_size(*first) > 0)
    status.first_entry_id = std::string(reply_string(reply_at(*first, 0)));
  for (std::size_t i = 0; consumers && i < reply_size(*consumers); ++i) {
    const redisReply& c = reply_at(*consumers, i);
    status.consumers.push_back(
        {string_field(c, "name"), integer_field(c, "pending"), integer_field(c, "idle")});
  }
  status.dlq_stream = dead_letter_stream(names.stream);
  status.dlq_length = dlq ? reply_integer(*dlq) : 0;
  return status;
}

std::int64_t entry_age_ms(std::string_view id, std::int64_t now_ms) {
  const auto added = whole_integer(id.substr(0, id.find('-')));
  if (!added) return 0;
  return std::max<std::int64_t>(0, now_ms - *added);
}

std::optional<std::int64_t> redis_time_ms(const redisReply& reply) {
  if (reply_size(reply) != 2) return std::nullopt;
  const auto seconds = whole_integer(reply_string(reply_at(reply, 0)));
  const auto micros = whole_integer(reply_string(reply_at(reply, 1)));
  if (!seconds || !micros) return std::nullopt;
  return *seconds * 1000 + *micros / 1000;
}

}  // namespace logpipe::queue
