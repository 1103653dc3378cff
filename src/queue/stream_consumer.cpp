#include "queue/stream_consumer.hpp"

#include "core/log.hpp"
#include "core/time.hpp"
#include "queue/batch_codec.hpp"
#include "queue/status.hpp"

namespace logpipe::queue {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// [[id, [field, value…]]…] → entries, decoded.
std::vector<ConsumedEntry> parse_entries(const redisReply& list) {
  std::vector<ConsumedEntry> entries;
  for (std::size_t i = 0; i < reply_size(list); ++i) {
    const redisReply& entry = reply_at(list, i);
    if (reply_size(entry) < 2) continue;
    ConsumedEntry consumed{std::string(reply_string(reply_at(entry, 0))), {}};
    const redisReply& fields = reply_at(entry, 1);
    // A pending entry that was deleted meanwhile comes back with nil fields.
    for (std::size_t f = 0; f + 1 < reply_size(fields); f += 2) {
      if (reply_string(reply_at(fields, f)) == field::payload)
        consumed.payload = reply_string(reply_at(fields, f + 1));
    }
    // Deleted while pending (empty) decodes to nothing; a corrupt payload keeps its error.
    if (!consumed.payload.empty()) consumed.batches = decode_entry(consumed.payload);
    entries.push_back(std::move(consumed));
  }
  return entries;
}

}  // namespace

core::Status ensure_group(SyncClient& redis, const std::string& stream, const std::string& group) {
  auto r = redis.command({"XGROUP", "CREATE", stream, group, "0", "MKSTREAM"});
  if (!r && r.error().message.find("BUSYGROUP") == std::string::npos) return r.error();
  return {};
}

std::size_t ConsumedEntry::records() const {
  std::size_t n = 0;
  if (batches) {
    for (const auto& b : *batches)
      n += b.records.size();
  }
  return n;
}

StreamConsumer::StreamConsumer(ConsumerOptions options)
    : options_(std::move(options)), name_(options_.name) {}

core::Status StreamConsumer::connect() {
  if (redis_ && !redis_->broken()) return keep_slot();
  redis_.reset();
  auto c = SyncClient::connect(options_.redis, milliseconds(3000));
  if (!c) return c.error();
  // XREADGROUP BLOCK must not trip the socket timeout.
  if (auto s = c->set_timeout(options_.longest_block + milliseconds(5000)); !s) return s;
  if (auto s = ensure_group(*c, options_.stream, options_.group); !s) return s;
  redis_.emplace(std::move(c).value());
  pending_drained_ = false;  // after a reconnect, look at our pending entries again
  return keep_slot();
}

void StreamConsumer::reset() {
  redis_.reset();
}

core::Status StreamConsumer::keep_slot() {
  if (!options_.name.empty()) return {};
  const auto now = Clock::now();
  if (slot_ && now < next_slot_refresh_) return {};
  if (slot_) {
    auto held = slot_->refresh(*redis_);
    if (!held) return held.error();
    if (*held) {
      next_slot_refresh_ = now + options_.slot_ttl / 6;
      return {};
    }
    // Only after our lease expired (Redis unreachable for longer than slot_ttl) can another
    // process of this host have taken the slot; two consumers must never share a name.
    core::log::warn("consumer slot taken by another process; moving to another slot",
                    {{"consumer", name_}});
    slot_.reset();
  }
  auto slot = ConsumerSlot::acquire(*redis_, {.stream = options_.stream,
                                              .group = options_.group,
                                              .host = options_.host,
                                              .ttl = options_.slot_ttl});
  if (!slot) return slot.error();
  slot_.emplace(std::move(slot).value());
  name_ = slot_->name();
  next_slot_refresh_ = now + options_.slot_ttl / 6;
  pending_drained_ = false;  // a predecessor's pending entries are now ours to re-read
  return {};
}

core::Status StreamConsumer::keep_alive() {
  if (!redis_ || redis_->broken()) return {};  // the next read reconnects and renews
  return keep_slot();
}

void StreamConsumer::release() {
  if (!slot_ || !redis_ || redis_->broken()) return;
  if (auto s = slot_->release(*redis_); !s)
    core::log::warn("cannot release the consumer slot; its lease expires by itself",
                    {{"consumer", name_}, {"error", s.error().message}});
  slot_.reset();
}

// XREADGROUP; `id` "0" re-reads our own pending entries, ">" new ones.
core::Result<std::vector<ConsumedEntry>> StreamConsumer::read(std::string_view id,
                                                              std::size_t count,
                                                              std::optional<milliseconds> block) {
  if (auto s = connect(); !s) return s.error();
  const std::string count_arg = std::to_string(count);
  const std::string block_ms = block ? std::to_string(block->count()) : std::string();
  std::vector<std::string_view> args{"XREADGROUP", "GROUP", options_.group,
                                     name_,        "COUNT", count_arg};
  if (block) {
    args.push_back("BLOCK");
    args.push_back(block_ms);
  }
  args.push_back("STREAMS");
  args.push_back(options_.stream);
  args.push_back(id);
  auto reply = redis_->command(args);
  if (!reply) {
    // The group was deleted (or Redis lost it): reconnecting creates it again.
    if (reply.error().message.find("NOGROUP") != std::string::npos) redis_.reset();
    return reply.error();
  }
  const redisReply& root = **reply;
  if (!reply_is_array(root) || reply_size(root) == 0) return std::vector<ConsumedEntry>{};
  const redisReply& stream = reply_at(root, 0);  // [name, [[id, [field, value…]]…]]
  if (reply_size(stream) < 2) return std::vector<ConsumedEntry>{};
  return parse_entries(reply_at(stream, 1));
}

core::Result<std::vector<ConsumedEntry>> StreamConsumer::read_own_pending(std::size_t count) {
  if (auto s = connect(); !s) return s.error();
  if (pending_drained_) return std::vector<ConsumedEntry>{};
  auto pending = read("0", count, std::nullopt);
  if (pending && pending->empty()) pending_drained_ = true;
  return pending;
}

core::Result<std::vector<ConsumedEntry>> StreamConsumer::read_new(std::size_t count,
                                                                  milliseconds block) {
  return read(">", count, std::min(block, options_.longest_block));
}

core::Result<std::vector<ConsumedEntry>> StreamConsumer::claim_abandoned(std::size_t count) {
  const auto now = Clock::now();
  if (now < next_claim_) return std::vector<ConsumedEntry>{};
  next_claim_ = now + std::max(options_.claim_idle / 2, milliseconds(100));
  if (auto s = connect(); !s) return s.error();
  const std::string idle = std::to_string(options_.claim_idle.count());
  const std::string count_arg = std::to_string(count);
  auto reply = redis_->command({"XAUTOCLAIM", options_.stream, options_.group, name_, idle,
                                claim_cursor_, "COUNT", count_arg});
  if (!reply) return reply.error();
  const redisReply& root = **reply;  // [next cursor, [entries…], [deleted ids…]]
  if (!reply_is_array(root) || reply_size(root) < 2) return std::vector<ConsumedEntry>{};
  claim_cursor_ = std::string(reply_string(reply_at(root, 0)));
  // More may wait past the cursor: look again on the next round rather than in claim_idle / 2.
  if (claim_cursor_ != "0-0") next_claim_ = now;
  auto claimed = parse_entries(reply_at(root, 1));
  forget_dead_consumers();
  return claimed;
}

milliseconds StreamConsumer::forget_after() const {
  return std::max(options_.claim_idle * 20, milliseconds(600'000));
}

void StreamConsumer::forget_dead_consumers() {
  auto reply = redis_->command({"XINFO", "CONSUMERS", options_.stream, options_.group});
  if (!reply) {
    core::log::warn("cannot list the group's consumers", {{"error", reply.error().message}});
    return;
  }
  const auto idle_limit = forget_after().count();
  for (std::size_t i = 0; i < reply_size(**reply); ++i) {
    const redisReply& c = reply_at(**reply, i);  // [name, n, pending, p, idle, i, …]
    std::string name;
    long long pending = -1, idle = -1;
    for (std::size_t f = 0; f + 1 < reply_size(c); f += 2) {
      const auto key = reply_string(reply_at(c, f));
      const redisReply& value = reply_at(c, f + 1);
      if (key == "name") name = reply_string(value);
      if (key == "pending") pending = reply_integer(value);
      if (key == "idle") idle = reply_integer(value);
    }
    if (name.empty() || name == name_ || pending != 0 || idle < idle_limit) continue;
    if (auto r = redis_->command({"XGROUP", "DELCONSUMER", options_.stream, options_.group, name});
        r) {
      core::log::info("removed a dead consumer from the group", {{"consumer", name}});
    } else {
      core::log::warn("cannot remove a dead consumer from the group",
                      {{"consumer", name}, {"error", r.error().message}});
    }
  }
}

core::Result<std::int64_t> StreamConsumer::acknowledge(const std::vector<std::string>& ids,
                                                       const std::vector<std::string>& also) {
  if (auto s = connect(); !s) return s.error();
  std::vector<std::string_view> ack{"XACK", options_.stream, options_.group};
  std::vector<std::string_view> del{"XDEL", options_.stream};
  for (const auto& id : ids) {
    ack.push_back(id);
    del.push_back(id);
  }
  std::vector<std::vector<std::string_view>> commands;
  if (!ids.empty()) commands = {{"MULTI"}, ack, del, {"EXEC"}};
  if (!also.empty()) commands.emplace_back(also.begin(), also.end());
  commands.push_back({"XLEN", options_.stream});
  auto r = redis_->pipeline(commands);
  if (!r) return r.error();
  return reply_integer(*r->back());
}

core::Status StreamConsumer::dead_letter(const std::vector<DeadLetter>& items) {
  if (auto s = connect(); !s) return s;
  const std::string dlq = dead_letter_stream(options_.stream);
  const std::string failed_at = core::format_rfc3339(core::now_micros());
  std::vector<std::vector<std::string_view>> commands;
  std::vector<std::string> tenants;
  tenants.reserve(items.size());  // no reallocation: the commands point into it
  for (const auto& item : items) {
    tenants.push_back(std::to_string(item.tenant));
    commands.push_back({"XADD", dlq, "*", field::entry, item.entry, field::error, item.error,
                        field::failed_at, failed_at, field::tenant, tenants.back(), field::payload,
                        item.payload});
    core::log::error(
        "moved to the dead-letter stream",
        {{"entry", item.entry}, {"error", item.error}, {"dlq", dlq}, {"tenant", tenants.back()}});
  }
  // An error reply to any XADD fails the whole pipeline (and so the store it belongs to).
  if (auto r = redis_->pipeline(commands); !r) return r.error();
  return {};
}

}  // namespace logpipe::queue
