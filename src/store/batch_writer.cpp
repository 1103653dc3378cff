#include "store/batch_writer.hpp"

#include <fmt/format.h>

#include <charconv>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

namespace logpipe::store {
namespace {

constexpr std::string_view kCopyLogs =
    "COPY logs (tenant_id, ts, received_at, device_id, service, app, host, level, message, attrs,"
    " source_format) FROM STDIN";
constexpr std::string_view kCopyLogsWithIds =
    "COPY logs (id, tenant_id, ts, received_at, device_id, service, app, host, level, message,"
    " attrs, source_format) FROM STDIN";

// COPY text escaping. Runs of ordinary bytes are appended whole: this is the worker's hottest
// loop. PostgreSQL text cannot hold NUL; a stray one would make the whole batch fail forever, so it
// becomes U+FFFD.
void append_escaped(std::string& out, std::string_view text) {
  std::size_t run = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '\\' && c != '\n' && c != '\r' && c != '\t' && c != '\0') continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\xEF\xBF\xBD";
        break;
    }
  }
  out.append(text.data() + run, text.size() - run);
}

void append_optional(std::string& out, std::string_view text) {
  if (text.empty()) {
    out += "\\N";
  } else {
    append_escaped(out, text);
  }
}

// jsonb rejects the escape \u0000; replace it (and only real escapes, not "\\u0000").
std::string jsonb_safe(std::string_view json) {
  if (json.find("\\u0000") == std::string_view::npos) return std::string(json);
  std::string out;
  out.reserve(json.size());
  for (std::size_t i = 0; i < json.size(); ++i) {
    if (json[i] == '\\' && i + 1 < json.size()) {
      if (json.compare(i, 6, "\\u0000") == 0) {
        out += "\\ufffd";
        i += 5;
      } else {
        out += json[i];
        out += json[++i];
      }
      continue;
    }
    out += json[i];
  }
  return out;
}

struct DeviceRollup {
  core::Micros first_seen;
  core::Micros last_seen;
  std::int64_t count = 0;
};

// Minute buckets per (tenant, minute, level, service, app); std::map keeps keys sorted so that
// concurrent workers take row locks in the same order and cannot deadlock.
using CountKey = std::tuple<std::int32_t, core::Micros, std::string, std::string, std::string>;
using DeviceKey = std::pair<std::int32_t, std::string>;

core::Result<std::set<std::string>> already_stored(Connection& c, std::string_view stream,
                                                   std::span<const StreamEntry> entries) {
  std::vector<std::string> ids;
  ids.reserve(entries.size());
  for (const auto& e : entries)
    ids.push_back(e.id);
  auto rows =
      c.query("SELECT entry_id FROM ingest_batches WHERE stream = $1 AND entry_id = ANY($2)",
              {std::string(stream), array_literal(ids)});
  if (!rows) return rows.error();
  std::set<std::string> found;
  for (int i = 0; i < rows->size(); ++i)
    found.emplace(rows->get(i, 0));
  return found;
}

core::Status record_entries(Connection& c, std::string_view stream,
                            const std::vector<const StreamEntry*>& fresh) {
  std::vector<std::string> ids, counts;
  for (const auto* e : fresh) {
    ids.push_back(e->id);
    counts.push_back(std::to_string(e->record_count()));
  }
  auto r = c.query(
      "INSERT INTO ingest_batches (stream, entry_id, record_count)"
      " SELECT $1, * FROM unnest($2::text[], $3::int[])",
      {std::string(stream), array_literal(ids), array_literal(counts)});
  if (!r) {
    // Another consumer stored one of these entries meanwhile (it claimed them from us, or we
    // from it) and committed first: this transaction rolls back, and the retry finds the entries
    // stored and skips them. Not a fault of the data.
    if (r.error().message.find("SQLSTATE 23505") != std::string::npos)
      return core::make_error(core::Errc::timeout,
                              "entry stored concurrently by another consumer; retrying");
    return r.error();
  }
  return {};
}

core::Status upsert_devices(Connection& c, const std::map<DeviceKey, DeviceRollup>& devices,
                            int shard) {
  if (devices.empty()) return {};
  std::vector<std::string> tenants, ids, first, last, counts;
  for (const auto& [key, d] : devices) {
    tenants.push_back(std::to_string(key.first));
    ids.push_back(key.second);
    first.push_back(core::format_rfc3339(d.first_seen));
    last.push_back(core::format_rfc3339(d.last_seen));
    counts.push_back(std::to_string(d.count));
  }
  auto r = c.query(
      "INSERT INTO devices AS d (tenant_id, device_id, shard, first_seen, last_seen, log_count)"
      " SELECT t, id, $6, f, l, n FROM unnest($1::int[], $2::text[], $3::timestamptz[],"
      " $4::timestamptz[], $5::bigint[]) AS u(t, id, f, l, n)"
      " ON CONFLICT (tenant_id, device_id, shard) DO UPDATE SET"
      " first_seen = least(d.first_seen, excluded.first_seen),"
      " last_seen = greatest(d.last_seen, excluded.last_seen),"
      " log_count = d.log_count + excluded.log_count",
      {array_literal(tenants), array_literal(ids), array_literal(first), array_literal(last),
       array_literal(counts), std::to_string(shard)});
  if (!r) return r.error();
  return {};
}

// One statement for the three grains: minutes as counted, hours and days summed from them.
constexpr std::string_view kUpsertCounts = R"sql(
WITH input AS (
  SELECT * FROM unnest($1::int[], $2::timestamptz[], $3::text[], $4::text[], $5::text[],
                       $6::bigint[]) AS u(tenant_id, minute, level, service, app, n)
), minutes AS (
  INSERT INTO log_counts AS l (tenant_id, minute, level, service, app, shard, count)
  SELECT tenant_id, minute, level, service, app, $7, n FROM input
  ON CONFLICT (tenant_id, minute, level, service, app, shard)
  DO UPDATE SET count = l.count + excluded.count
), hours AS (
  INSERT INTO log_counts_hourly AS l (tenant_id, hour, level, service, app, shard, count)
  SELECT tenant_id, date_trunc('hour', minute, 'UTC'), level, service, app, $7, sum(n)
  FROM input GROUP BY 1, 2, 3, 4, 5
  ON CONFLICT (tenant_id, hour, level, service, app, shard)
  DO UPDATE SET count = l.count + excluded.count
)
INSERT INTO log_counts_daily AS l (tenant_id, day, level, service, app, shard, count)
SELECT tenant_id, (minute AT TIME ZONE 'UTC')::date, level, service, app, $7, sum(n)
FROM input GROUP BY 1, 2, 3, 4, 5
ON CONFLICT (tenant_id, day, level, service, app, shard)
DO UPDATE SET count = l.count + excluded.count
)sql";

core::Status upsert_counts(Connection& c, const std::map<CountKey, std::int64_t>& counts,
                           int shard) {
  if (counts.empty()) return {};
  std::vector<std::string> tenants, minutes, levels, services, apps, values;
  for (const auto& [key, n] : counts) {
    tenants.push_back(std::to_string(std::get<0>(key)));
    minutes.push_back(core::format_rfc3339(std::get<1>(key)));
    levels.push_back(std::get<2>(key));
    services.push_back(std::get<3>(key));
    apps.push_back(std::get<4>(key));
    values.push_back(std::to_string(n));
  }
  auto r =
      c.query(kUpsertCounts, {array_literal(tenants), array_literal(minutes), array_literal(levels),
                              array_literal(services), array_literal(apps), array_literal(values),
                              std::to_string(shard)});
  if (!r) return r.error();
  return {};
}

// An app named by a record exists from then on (seed 002); known ones cost an index probe.
core::Status create_apps(Connection& c,
                         const std::set<std::pair<std::int32_t, std::string>>& apps) {
  if (apps.empty()) return {};
  std::vector<std::string> tenants, names;
  for (const auto& [tenant, name] : apps) {
    tenants.push_back(std::to_string(tenant));
    names.push_back(name);
  }
  auto r = c.query(
      "INSERT INTO apps (tenant_id, name) SELECT * FROM unnest($1::int[], $2::text[])"
      " ON CONFLICT DO NOTHING",
      {array_literal(tenants), array_literal(names)});
  if (!r) return r.error();
  return {};
}

}  // namespace

int rollup_shard(std::string_view writer_name) {
  // FNV-1a: std::hash may differ between builds, and a shard must not move on an upgrade.
  std::uint32_t h = 2166136261u;
  for (unsigned char ch : writer_name)
    h = (h ^ ch) * 16777619u;
  return static_cast<int>(h % kRollupShards);
}

std::size_t StreamEntry::record_count() const {
  std::size_t n = 0;
  for (const auto& b : batches)
    n += b.records.size();
  return n;
}

void append_copy_row(std::string& out, const model::Record& r, const model::Batch& batch) {
  char tenant[16];
  const auto end = std::to_chars(tenant, tenant + sizeof tenant, batch.tenant_id).ptr;
  out.append(tenant, end);
  out.push_back('\t');
  core::append_rfc3339(out, r.ts);
  out.push_back('\t');
  core::append_rfc3339(out, batch.received_at);
  out.push_back('\t');
  append_optional(out, r.device_id);
  out.push_back('\t');
  append_optional(out, r.service);
  out.push_back('\t');
  append_optional(out, r.app);
  out.push_back('\t');
  append_optional(out, r.host);
  out.push_back('\t');
  out += model::to_string(r.level);
  out.push_back('\t');
  append_escaped(out, r.message);
  out.push_back('\t');
  append_escaped(out, jsonb_safe(r.attrs_json));
  out.push_back('\t');
  append_escaped(out, batch.source_format);
  out.push_back('\n');
}

core::Status copy_rows(Connection& c, std::string_view rows) {
  return c.copy_in(kCopyLogs, rows);
}

std::string array_literal(std::span<const std::string> items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out.push_back(',');
    out.push_back('"');
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      if (c != '\0') out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

namespace {

struct Row {
  const model::Batch* batch;
  const model::Record* record;
  const StreamEntry* entry;
};

bool data_fault(const core::Error& e) {
  return e.code == core::Errc::invalid_field;
}

// COPYs rows [lo, hi) of `copy` (row i starts at starts[i]) under a savepoint; when PostgreSQL
// rejects them for their data, rolls back to the savepoint and halves the range, down to the
// single records at fault, which are added to `bad` with their error. Any other error ends it.
core::Status copy_bisecting(Connection& c, const std::string& copy,
                            const std::vector<std::size_t>& starts, std::size_t lo, std::size_t hi,
                            std::vector<std::pair<std::size_t, std::string>>& bad) {
  if (lo >= hi) return {};
  if (auto s = c.exec("SAVEPOINT isolate"); !s) return s;
  const std::string_view rows(copy.data() + starts[lo], starts[hi] - starts[lo]);
  auto copied = copy_rows(c, rows);
  if (copied) return c.exec("RELEASE SAVEPOINT isolate");
  if (!data_fault(copied.error())) return copied;
  if (auto s = c.exec("ROLLBACK TO SAVEPOINT isolate"); !s) return s;
  if (auto s = c.exec("RELEASE SAVEPOINT isolate"); !s) return s;
  if (hi - lo == 1) {
    bad.emplace_back(lo, copied.error().message);
    return {};
  }
  const std::size_t mid = lo + (hi - lo) / 2;
  if (auto s = copy_bisecting(c, copy, starts, lo, mid, bad); !s) return s;
  return copy_bisecting(c, copy, starts, mid, hi, bad);
}

// The ids first (one round trip for all), then the rows with them.
core::Status copy_with_ids(Connection& c, const std::vector<Row>& rows,
                           std::vector<std::int64_t>& ids) {
  auto drawn = c.query("SELECT nextval('logs_id_seq') FROM generate_series(1, $1)",
                       {std::to_string(rows.size())});
  if (!drawn) return drawn.error();
  if (static_cast<std::size_t>(drawn->size()) != rows.size())
    return core::make_error(core::Errc::internal, "the id sequence returned too few ids");
  std::string copy;
  ids.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    ids.push_back(std::stoll(std::string(drawn->get(static_cast<int>(i), 0))));
    copy += drawn->get(static_cast<int>(i), 0);
    copy.push_back('\t');
    append_copy_row(copy, *rows[i].record, *rows[i].batch);
  }
  return c.copy_in(kCopyLogsWithIds, copy);
}

}  // namespace

core::Result<WriteReport> write_entries(Connection& c, std::string_view stream,
                                        std::span<const StreamEntry> entries,
                                        const WriteOptions& options) {
  if (options.return_ids && options.isolation != nullptr)
    throw std::logic_error("write_entries: return_ids with isolation");
  const Isolation* isolation = options.isolation;
  return in_transaction(c, [&]() -> core::Result<WriteReport> {
    WriteReport report;
    auto stored = already_stored(c, stream, entries);
    if (!stored) return stored.error();

    std::vector<const StreamEntry*> fresh;
    std::vector<Row> rows;
    std::string copy;
    std::vector<std::size_t> starts;  // where each row begins in `copy`, plus the end
    for (const auto& e : entries) {
      if (stored->count(e.id)) {
        ++report.entries_skipped;
        continue;
      }
      fresh.push_back(&e);
      for (const auto& batch : e.batches) {
        for (const auto& r : batch.records) {
          starts.push_back(copy.size());
          append_copy_row(copy, r, batch);
          rows.push_back({&batch, &r, &e});
        }
      }
    }
    starts.push_back(copy.size());
    if (fresh.empty()) return report;

    std::vector<bool> rejected(rows.size(), false);
    if (options.return_ids && !rows.empty()) {
      if (auto s = copy_with_ids(c, rows, report.ids); !s) return s.error();
    } else if (!rows.empty()) {
      if (isolation == nullptr) {
        if (auto s = copy_rows(c, copy); !s) return s.error();
      } else {
        std::vector<std::pair<std::size_t, std::string>> bad;
        if (auto s = copy_bisecting(c, copy, starts, 0, rows.size(), bad); !s) return s.error();
        std::vector<RejectedRecord> dead;
        for (auto& [index, error] : bad) {
          rejected[index] = true;
          const Row& row = rows[index];
          RejectedRecord d{row.entry->id, {}, std::move(error)};
          d.batch.received_at = row.batch->received_at;
          d.batch.tenant_id = row.batch->tenant_id;
          d.batch.source_format = row.batch->source_format;
          d.batch.records.push_back(*row.record);
          dead.push_back(std::move(d));
        }
        // Before COMMIT: a crash in between dead-letters a record twice, never loses it.
        if (!dead.empty()) {
          if (auto s = isolation->dead_letter(dead); !s) return s.error();
        }
        report.records_rejected = dead.size();
      }
    }

    std::map<DeviceKey, DeviceRollup> devices;
    std::map<CountKey, std::int64_t> counts;
    std::set<std::pair<std::int32_t, std::string>> apps;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (rejected[i]) continue;
      const model::Batch& batch = *rows[i].batch;
      const model::Record& r = *rows[i].record;
      ++counts[{batch.tenant_id, core::floor_to(r.ts, core::kMinute), model::to_string(r.level),
                r.service, r.app}];
      ++report.records_stored;
      if (!r.app.empty()) apps.emplace(batch.tenant_id, r.app);
      if (r.device_id.empty()) continue;
      auto [it, inserted] =
          devices.try_emplace({batch.tenant_id, r.device_id}, DeviceRollup{r.ts, r.ts, 0});
      it->second.first_seen = std::min(it->second.first_seen, r.ts);
      it->second.last_seen = std::max(it->second.last_seen, r.ts);
      ++it->second.count;
    }
    if (auto s = record_entries(c, stream, fresh); !s) return s.error();
    if (auto s = upsert_devices(c, devices, options.shard); !s) return s.error();
    if (auto s = upsert_counts(c, counts, options.shard); !s) return s.error();
    if (auto s = create_apps(c, apps); !s) return s.error();
    report.entries_stored = fresh.size();
    return report;
  });
}

}  // namespace logpipe::store
