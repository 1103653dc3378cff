#include "queue/dlq.hpp"

#include <fmt/format.h>

#include "core/json_writer.hpp"
#include "core/time.hpp"
#include "queue/batch_codec.hpp"
#include "queue/status.hpp"
#include "queue/stream_consumer.hpp"

namespace logpipe::queue {
namespace {

std::vector<DlqEntry> parse_range(const redisReply& list) {
  std::vector<DlqEntry> out;
  for (std::size_t i = 0; i < reply_size(list); ++i) {
    const redisReply& e = reply_at(list, i);  // [id, [field, value…]]
    if (reply_size(e) < 2) continue;
    DlqEntry d;
    d.id = reply_string(reply_at(e, 0));
    const redisReply& fields = reply_at(e, 1);
    for (std::size_t f = 0; f + 1 < reply_size(fields); f += 2) {
      const auto key = reply_string(reply_at(fields, f));
      const std::string value(reply_string(reply_at(fields, f + 1)));
      if (key == field::entry) d.entry = value;
      if (key == field::error) d.error = value;
      if (key == field::failed_at) d.failed_at = value;
      if (key == field::payload) d.payload = value;
    }
    out.push_back(std::move(d));
  }
  return out;
}

// "<ms>-<seq>" or "<ms>", digits only: what XDEL accepts. Checked first so that one bad id
// cannot fail the pipeline halfway, after other ids were deleted.
bool is_entry_id(std::string_view id) {
  const auto digits = [](std::string_view part) {
    return !part.empty() && part.find_first_not_of("0123456789") == std::string_view::npos;
  };
  const auto dash = id.find('-');
  if (dash == std::string_view::npos) return digits(id);
  return digits(id.substr(0, dash)) && digits(id.substr(dash + 1));
}

}  // namespace

core::Result<DlqPage> dlq_list(SyncClient& redis, const std::string& stream, std::size_t limit) {
  DlqPage page;
  page.stream = dead_letter_stream(stream);
  const std::string count = std::to_string(limit);
  auto r =
      redis.pipeline({{"XLEN", page.stream}, {"XRANGE", page.stream, "-", "+", "COUNT", count}});
  if (!r) return r.error();
  page.length = reply_integer(*(*r)[0]);
  page.entries = parse_range(*(*r)[1]);
  return page;
}

core::Result<ReplayResult> dlq_replay(SyncClient& redis, const std::string& stream,
                                      std::span<const std::string> ids, std::size_t limit) {
  const std::string dlq = dead_letter_stream(stream);
  std::vector<DlqEntry> entries;
  if (ids.empty()) {
    auto page = dlq_list(redis, stream, limit);
    if (!page) return page.error();
    entries = std::move(page->entries);
  } else {
    for (const auto& id : ids) {
      auto r = redis.command({"XRANGE", dlq, id, id});
      if (!r) return r.error();
      for (auto& e : parse_range(**r))
        entries.push_back(std::move(e));
    }
  }
  ReplayResult result;
  for (const auto& e : entries) {
    auto r = redis.pipeline({{"MULTI"},
                             {"XADD", stream, "*", field::payload, e.payload},
                             {"XDEL", dlq, e.id},
                             {"EXEC"}});
    if (!r) return r.error();
    ++result.replayed;
  }
  auto left = redis.command({"XLEN", dlq});
  if (!left) return left.error();
  result.remaining = reply_integer(**left);
  return result;
}

core::Result<DlqDeleteResult> dlq_delete(SyncClient& redis, const std::string& stream,
                                         const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    if (!is_entry_id(id))
      return core::make_error(
          core::Errc::invalid_argument,
          fmt::format("\"{}\" is not a stream entry id (e.g. 1700000000000-0)", id));
  }
  const std::string dlq = dead_letter_stream(stream);
  // One XDEL per id, so that each reply says whether that id was there.
  std::vector<std::vector<std::string_view>> commands;
  commands.reserve(ids.size() + 1);
  for (const auto& id : ids)
    commands.push_back({"XDEL", dlq, id});
  commands.push_back({"XLEN", dlq});
  auto replies = redis.pipeline(commands);
  if (!replies) return replies.error();
  DlqDeleteResult result;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (reply_integer(*(*replies)[i]) > 0) {
      ++result.deleted;
    } else {
      result.not_found.push_back(ids[i]);
    }
  }
  result.remaining = reply_integer(*replies->back());
  return result;
}

}  // namespace logpipe::queue
