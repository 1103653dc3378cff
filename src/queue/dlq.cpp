#include "queue/dlq.hpp"

#include <fmt/format.h>

#include <charconv>

#include "core/json_writer.hpp"
#include "core/time.hpp"
#include "queue/batch_codec.hpp"
#include "queue/status.hpp"
#include "queue/stream_consumer.hpp"

namespace logpipe::queue {
namespace {

// A dead-letter entry's tenant: the default one when it names none (set aside before tenants were
// recorded) or none that parses.
model::TenantId tenant_of(std::string_view text) {
  model::TenantId id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0)
    return model::kDefaultTenant;
  return id;
}

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
      if (key == field::tenant) d.tenant = tenant_of(value);
    }
    out.push_back(std::move(d));
  }
  return out;
}

bool visible(const DlqEntry& e, DlqTenant tenant) {
  return !tenant || e.tenant == *tenant;
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

// One step of reading the dead-letter stream for one tenant, on the Redis side so that the other
// tenants' payloads never cross the network: up to ARGV[2] entries from ARGV[1] ("-" or
// "(<id>"); of those, the tenant's (field "tenant" = ARGV[3], or no such field when ARGV[4] is
// "1": the default tenant's) are counted and the first ARGV[5] returned whole. Answers
// [last id read, entries read, entries of the tenant, [entry…]]. A step is short: Redis is never
// held for the whole stream.
constexpr const char* kTenantScanScript = R"(
local entries = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', ARGV[2])
local want = tonumber(ARGV[5])
local matched, out = 0, {}
for _, e in ipairs(entries) do
  local fields, tenant = e[2], false
  for i = 1, #fields, 2 do
    if fields[i] == 'tenant' then tenant = fields[i + 1] break end
  end
  if tenant == ARGV[3] or (tenant == false and ARGV[4] == '1') then
    matched = matched + 1
    if #out < want then out[#out + 1] = e end
  end
end
local last = ''
if #entries > 0 then last = entries[#entries][1] end
return {last, #entries, matched, out})";
constexpr std::size_t kScanStep = 500;

// The tenant's entries in the dead-letter stream `dlq`: how many, and the oldest `want`.
core::Result<DlqPage> scan_tenant(SyncClient& redis, const std::string& dlq, model::TenantId tenant,
                                  std::size_t want) {
  DlqPage page;
  page.stream = dlq;
  const std::string id = std::to_string(tenant);
  const std::string step = std::to_string(kScanStep);
  const std::string_view untagged = tenant == model::kDefaultTenant ? "1" : "0";
  std::string start = "-";
  for (;;) {
    const std::string left = std::to_string(want - page.entries.size());
    auto r = redis.command({"EVAL", kTenantScanScript, "1", dlq, start, step, id, untagged, left});
    if (!r) return r.error();
    const redisReply& reply = **r;
    if (reply_size(reply) < 4)
      return core::make_error(core::Errc::internal, "unexpected reply to the dead-letter scan");
    page.length += reply_integer(reply_at(reply, 2));
    for (auto& e : parse_range(reply_at(reply, 3)))
      page.entries.push_back(std::move(e));
    if (reply_integer(reply_at(reply, 1)) < static_cast<std::int64_t>(kScanStep)) return page;
    // Exclusive: after the last id read. (Built by append: GCC 12's -Wrestrict misfires on
    // "(" + std::string in a Release build.)
    start.assign(1, '(');
    start.append(reply_string(reply_at(reply, 0)));
  }
}

// The entries a call may see, left in the dead-letter stream.
core::Result<std::int64_t> visible_length(SyncClient& redis, const std::string& dlq,
                                          DlqTenant tenant) {
  if (tenant) {
    auto scan = scan_tenant(redis, dlq, *tenant, 0);
    if (!scan) return scan.error();
    return scan->length;
  }
  auto r = redis.command({"XLEN", dlq});
  if (!r) return r.error();
  return reply_integer(**r);
}

}  // namespace

core::Result<DlqPage> dlq_list(SyncClient& redis, const std::string& stream, std::size_t limit,
                               DlqTenant tenant) {
  if (tenant) return scan_tenant(redis, dead_letter_stream(stream), *tenant, limit);
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
                                      std::span<const std::string> ids, std::size_t limit,
                                      DlqTenant tenant) {
  const std::string dlq = dead_letter_stream(stream);
  std::vector<DlqEntry> entries;
  if (ids.empty()) {
    auto page = dlq_list(redis, stream, limit, tenant);
    if (!page) return page.error();
    entries = std::move(page->entries);
  } else {
    for (const auto& id : ids) {
      auto r = redis.command({"XRANGE", dlq, id, id});
      if (!r) return r.error();
      for (auto& e : parse_range(**r)) {
        if (visible(e, tenant)) entries.push_back(std::move(e));
      }
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
  auto left = visible_length(redis, dlq, tenant);
  if (!left) return left.error();
  result.remaining = *left;
  return result;
}

core::Result<DlqDeleteResult> dlq_delete(SyncClient& redis, const std::string& stream,
                                         const std::vector<std::string>& ids, DlqTenant tenant) {
  for (const auto& id : ids) {
    if (!is_entry_id(id))
      return core::make_error(
          core::Errc::invalid_argument,
          fmt::format("\"{}\" is not a stream entry id (e.g. 1700000000000-0)", id));
  }
  const std::string dlq = dead_letter_stream(stream);
  // For one tenant, an entry is looked at before it is deleted: another tenant's is left alone
  // and reported like a missing one. (An entry never changes; one deleted in between makes its
  // XDEL below find nothing.)
  std::vector<bool> deletable(ids.size(), true);
  if (tenant) {
    std::vector<std::vector<std::string_view>> reads;
    reads.reserve(ids.size());
    for (const auto& id : ids)
      reads.push_back({"XRANGE", dlq, id, id});
    auto found = redis.pipeline(reads);
    if (!found) return found.error();
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const auto entries = parse_range(*(*found)[i]);
      deletable[i] = !entries.empty() && visible(entries.front(), tenant);
    }
  }
  // One XDEL per id, so that each reply says whether that id was there.
  std::vector<std::vector<std::string_view>> commands;
  commands.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (deletable[i]) commands.push_back({"XDEL", dlq, ids[i]});
  }
  std::vector<ReplyPtr> replies;
  if (!commands.empty()) {
    auto r = redis.pipeline(commands);
    if (!r) return r.error();
    replies = std::move(r).value();
  }
  DlqDeleteResult result;
  for (std::size_t i = 0, reply = 0; i < ids.size(); ++i) {
    if (deletable[i] && reply_integer(*replies[reply++]) > 0) {
      ++result.deleted;
    } else {
      result.not_found.push_back(ids[i]);
    }
  }
  auto left = visible_length(redis, dlq, tenant);
  if (!left) return left.error();
  result.remaining = *left;
  return result;
}

}  // namespace logpipe::queue
