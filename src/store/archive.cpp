#include "store/archive.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <simdjson.h>
#include <unistd.h>
#include <zstd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include "core/time.hpp"

namespace logpipe::store {
namespace {

constexpr int kFetchRows = 10'000;
constexpr std::size_t kRecordsPerEntry = 10'000;
constexpr int kCompressionLevel = 6;

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};
using File = std::unique_ptr<std::FILE, FileCloser>;
struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

core::Error io_error(const std::string& what, const std::string& path) {
  return core::make_error(core::Errc::io,
                          fmt::format("{} {}: {}", what, path, std::strerror(errno)));
}

// Compresses what it is given into a file, in zstd frames of the streaming API.
class ZstdWriter {
 public:
  ZstdWriter(std::FILE* file) : file_(file), ctx_(ZSTD_createCCtx()), out_(ZSTD_CStreamOutSize()) {
    ZSTD_CCtx_setParameter(ctx_.get(), ZSTD_c_compressionLevel, kCompressionLevel);
  }
  core::Status write(std::string_view data) { return pump(data, ZSTD_e_continue); }
  core::Status finish() { return pump({}, ZSTD_e_end); }

 private:
  core::Status pump(std::string_view data, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    for (;;) {
      ZSTD_outBuffer out{out_.data(), out_.size(), 0};
      const std::size_t left = ZSTD_compressStream2(ctx_.get(), &out, &in, mode);
      if (ZSTD_isError(left))
        return core::make_error(core::Errc::io, fmt::format("zstd: {}", ZSTD_getErrorName(left)));
      if (out.pos && std::fwrite(out_.data(), 1, out.pos, file_) != out.pos)
        return core::make_error(core::Errc::io, "writing the archive failed");
      const bool done = mode == ZSTD_e_end ? left == 0 : in.pos == in.size;
      if (done) return {};
    }
  }

  std::FILE* file_;
  std::unique_ptr<ZSTD_CCtx, CCtxFree> ctx_;
  std::vector<char> out_;
};

// One archive line → a record and the batch metadata it carries.
core::Status decode_line(simdjson::dom::parser& parser, std::string_view line,
                         model::Record& record, std::tuple<int, core::Micros, std::string>& meta) {
  simdjson::dom::element doc;
  if (parser.parse(line.data(), line.size()).get(doc) != simdjson::SUCCESS)
    return core::make_error(core::Errc::malformed, "not JSON");
  const auto text = [&](const char* key, std::string& out, bool required) -> core::Status {
    simdjson::dom::element v;
    if (doc[key].get(v) != simdjson::SUCCESS || v.is_null()) {
      if (required)
        return core::make_error(core::Errc::invalid_field, fmt::format("{} missing", key));
      out.clear();
      return {};
    }
    std::string_view s;
    if (v.get_string().get(s) != simdjson::SUCCESS)
      return core::make_error(core::Errc::invalid_field, fmt::format("{} is not a string", key));
    out = std::string(s);
    return {};
  };
  std::string ts, received_at, level, source_format;
  for (auto [key, out, required] : {std::tuple<const char*, std::string*, bool>{"ts", &ts, true},
                                    {"received_at", &received_at, true},
                                    {"level", &level, true},
                                    {"message", &record.message, true},
                                    {"device_id", &record.device_id, false},
                                    {"service", &record.service, false},
                                    {"app", &record.app, false},
                                    {"host", &record.host, false},
                                    {"source_format", &source_format, false}}) {
    if (auto s = text(key, *out, required); !s) return s;
  }
  auto t = core::parse_rfc3339(ts);
  auto r = core::parse_rfc3339(received_at);
  auto l = model::parse_level(level);
  std::int64_t tenant = 0;
  if (!t || !r || !l || doc["tenant_id"].get_int64().get(tenant) != simdjson::SUCCESS)
    return core::make_error(core::Errc::invalid_field, "bad ts, received_at, level or tenant_id");
  record.ts = *t;
  record.level = *l;
  simdjson::dom::object attrs;
  record.attrs_json =
      doc["attrs"].get_object().get(attrs) == simdjson::SUCCESS ? simdjson::minify(attrs) : "{}";
  meta = {static_cast<int>(tenant), *r, source_format.empty() ? "json" : source_format};
  return {};
}

}  // namespace

core::Result<std::int64_t> archive_partition(Connection& c, const std::string& partition,
                                             const std::string& path) {
  const std::string tmp = path + ".tmp";
  File file(std::fopen(tmp.c_str(), "wb"));
  if (!file) return io_error("cannot create", tmp);
  ZstdWriter writer(file.get());
  std::int64_t rows_written = 0;
  auto copied = in_transaction(c, [&]() -> core::Status {
    if (auto s = c.exec("SET LOCAL TimeZone = 'UTC'"); !s) return s;
    // A cursor: the partition is read in bounded chunks, never whole into memory.
    if (auto s = c.exec(fmt::format(
            "DECLARE archive NO SCROLL CURSOR FOR SELECT json_build_object("
            "'tenant_id', tenant_id, 'id', id, 'ts', ts, 'received_at', received_at,"
            " 'level', level, 'message', message, 'device_id', device_id, 'service', service,"
            " 'app', app, 'host', host, 'attrs', attrs, 'source_format', source_format)::text"
            " FROM {}",
            partition));
        !s)
      return s;
    std::string chunk;
    for (;;) {
      auto rows = c.query(fmt::format("FETCH {} FROM archive", kFetchRows));
      if (!rows) return rows.error();
      if (rows->size() == 0) break;
      chunk.clear();
      for (int i = 0; i < rows->size(); ++i) {
        chunk += rows->get(i, 0);
        chunk += '\n';
      }
      if (auto s = writer.write(chunk); !s) return s;
      rows_written += rows->size();
    }
    return c.exec("CLOSE archive");
  });
  if (!copied) {
    std::filesystem::remove(tmp);
    return copied.error();
  }
  if (auto s = writer.finish(); !s) return s.error();
  // Durable before the partition may be dropped: a crash must not lose both.
  if (std::fflush(file.get()) != 0 || ::fsync(fileno(file.get())) != 0)
    return io_error("cannot sync", tmp);
  file.reset();
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return io_error("cannot rename", tmp);
  const int dir = ::open(std::filesystem::path(path).parent_path().c_str(), O_RDONLY);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return rows_written;
}

core::Result<ImportReport> import_archive(Connection& c, const std::string& path) {
  File file(std::fopen(path.c_str(), "rb"));
  if (!file) return io_error("cannot open", path);
  std::unique_ptr<ZSTD_DCtx, DCtxFree> ctx(ZSTD_createDCtx());
  std::vector<char> in_buffer(ZSTD_DStreamInSize()), out_buffer(ZSTD_DStreamOutSize());
  const std::string name = std::filesystem::path(path).filename().string();
  simdjson::dom::parser parser;
  ImportReport report;
  std::set<std::string> known_days;
  std::string pending;  // an incomplete last line
  StreamEntry entry;
  std::size_t entry_records = 0, chunk = 0, line_number = 0;
  std::map<std::tuple<int, core::Micros, std::string>, std::size_t> batch_of;

  const auto flush = [&]() -> core::Status {
    if (entry_records == 0) return {};
    entry.id = fmt::format("{}:{}", name, chunk++);
    std::set<std::string> days;
    for (const auto& b : entry.batches) {
      for (const auto& r : b.records) {
        if (auto d = core::format_date(r.ts); !known_days.count(d)) days.insert(std::move(d));
      }
    }
    for (const auto& d : days) {
      if (auto r = c.query("SELECT logpipe_ensure_partition($1::date)", {d}); !r) return r.error();
      known_days.insert(d);
    }
    auto written = write_entries(c, "import", std::span(&entry, 1), {.shard = rollup_shard(name)});
    if (!written) return written.error();
    report.records_stored += static_cast<std::int64_t>(written->records_stored);
    entry = {};
    entry_records = 0;
    batch_of.clear();
    return {};
  };
  const auto take_line = [&](std::string_view line) -> core::Status {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return {};
    model::Record record;
    std::tuple<int, core::Micros, std::string> meta;
    if (auto s = decode_line(parser, line, record, meta); !s)
      return core::make_error(core::Errc::invalid_field,
                              fmt::format("{} line {}: {}", path, line_number, s.error().message));
    auto [it, fresh] = batch_of.try_emplace(meta, entry.batches.size());
    if (fresh) {
      model::Batch batch;
      batch.tenant_id = std::get<0>(meta);
      batch.received_at = std::get<1>(meta);
      batch.source_format = std::get<2>(meta);
      entry.batches.push_back(std::move(batch));
    }
    entry.batches[it->second].records.push_back(std::move(record));
    ++report.records;
    if (++entry_records >= kRecordsPerEntry) return flush();
    return {};
  };

  std::size_t read = 0;
  std::size_t last_result = 0;
  while ((read = std::fread(in_buffer.data(), 1, in_buffer.size(), file.get())) > 0) {
    ZSTD_inBuffer in{in_buffer.data(), read, 0};
    while (in.pos < in.size) {
      ZSTD_outBuffer out{out_buffer.data(), out_buffer.size(), 0};
      last_result = ZSTD_decompressStream(ctx.get(), &out, &in);
      if (ZSTD_isError(last_result))
        return core::make_error(core::Errc::malformed,
                                fmt::format("{}: zstd: {}", path, ZSTD_getErrorName(last_result)));
      pending.append(out_buffer.data(), out.pos);
      std::size_t start = 0, newline = 0;
      while ((newline = pending.find('\n', start)) != std::string::npos) {
        if (auto s = take_line(std::string_view(pending).substr(start, newline - start)); !s)
          return s.error();
        start = newline + 1;
      }
      pending.erase(0, start);
    }
  }
  if (std::ferror(file.get())) return io_error("cannot read", path);
  if (last_result != 0)
    return core::make_error(core::Errc::malformed, fmt::format("{}: truncated zstd stream", path));
  if (!pending.empty()) {
    if (auto s = take_line(pending); !s) return s.error();
  }
  if (auto s = flush(); !s) return s.error();
  return report;
}

}  // namespace logpipe::store
