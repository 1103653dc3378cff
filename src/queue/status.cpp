#include "queue/status.hpp"

#include <optional>

#include "core/json_writer.hpp"

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

std::string status_json(const QueueNames& names, std::span<const core::Result<ReplyPtr>> replies) {
  const redisReply* stream = ok(replies, 0);
  const redisReply* groups = ok(replies, 1);
  const redisReply* consumers = ok(replies, 2);
  const redisReply* dlq = ok(replies, 3);

  const redisReply* group = nullptr;
  for (std::size_t i = 0; groups && i < reply_size(*groups); ++i) {
    if (string_field(reply_at(*groups, i), "name") == names.group) group = &reply_at(*groups, i);
  }
  const std::int64_t length = stream ? integer_field(*stream, "length") : 0;
  const std::int64_t pending = group ? integer_field(*group, "pending") : 0;
  // Redis reports lag as nil when it cannot tell (after deletions); then every entry not pending
  // is undelivered, since workers delete what they acknowledged.
  std::int64_t lag = length - pending;
  if (group) {
    if (const redisReply* l = field(*group, "lag"); l && !reply_is_nil(*l)) lag = reply_integer(*l);
  }

  core::JsonWriter w;
  w.begin_object()
      .field("status", "success")
      .field("queue_name", names.stream)
      .field("group", names.group)
      .field("length", length)
      .field("pending_messages", pending)
      .field("lag", lag)
      .field("consumer_groups", static_cast<std::int64_t>(groups ? reply_size(*groups) : 0))
      .field("consumers", static_cast<std::int64_t>(consumers ? reply_size(*consumers) : 0))
      .field("last_message_id", stream ? string_field(*stream, "last-generated-id") : "")
      .field("last_delivered_id", group ? string_field(*group, "last-delivered-id") : "");
  w.key("consumer_details").begin_array();
  for (std::size_t i = 0; consumers && i < reply_size(*consumers); ++i) {
    const redisReply& c = reply_at(*consumers, i);
    w.begin_object()
        .field("name", string_field(c, "name"))
        .field("pending", integer_field(c, "pending"))
        .field("idle_ms", integer_field(c, "idle"))
        .end_object();
  }
  w.end_array();
  w.key("dlq")
      .begin_object()
      .field("stream", dead_letter_stream(names.stream))
      .field("length", dlq ? reply_integer(*dlq) : std::int64_t{0})
      .end_object();
  w.end_object();
  return w.take();
}

}  // namespace logpipe::queue
