#include "listeners/message_decoder.hpp"

#include <fmt/format.h>

#include "core/time.hpp"
#include "ingest/formats/gelf.hpp"
#include "ingest/formats/gelf_chunks.hpp"
#include "ingest/formats/syslog.hpp"

namespace logpipe::listeners {
namespace {

using Rejection = MessageDecoder::Rejection;

std::optional<Rejection> parse_into(const ingest::ParseLine& parse, std::string_view message,
                                    const ingest::DecodeOptions& options,
                                    std::vector<model::Record>& out) {
  auto& record = out.emplace_back();
  std::string why;
  if (parse(message, options, record, why)) return std::nullopt;
  out.pop_back();
  return Rejection{"malformed", std::move(why)};
}

class SyslogDecoder final : public MessageDecoder {
 public:
  std::optional<Rejection> decode(std::string_view, std::string_view message,
                                  const ingest::DecodeOptions& options,
                                  std::vector<model::Record>& out) override {
    return parse_into(ingest::syslog::parse, message, options, out);
  }
};

class GelfDecoder final : public MessageDecoder {
 public:
  std::optional<Rejection> decode(std::string_view transport, std::string_view message,
                                  const ingest::DecodeOptions& options,
                                  std::vector<model::Record>& out) override {
    // GELF TCP has neither chunks nor compression: a frame is the JSON.
    if (transport != "udp") return parse_into(parse_, message, options, out);
    auto whole = chunks_.add(message, core::now_micros());
    if (!whole)
      return Rejection{
          whole.error().code == core::Errc::too_large ? "too_many_pending" : "malformed",
          whole.error().message};
    if (!*whole) return std::nullopt;  // more chunks to come
    // The JSON of a message is bounded by the message limit plus room for its other fields.
    const std::size_t max_json = options.max_message_bytes + (std::size_t{64} << 10);
    std::string storage;
    auto payload = ingest::gelf_payload(**whole, storage, max_json);
    if (!payload)
      return Rejection{payload.error().code == core::Errc::too_large ? "oversized" : "malformed",
                       payload.error().message};
    return parse_into(parse_, *payload, options, out);
  }

  std::uint64_t incomplete() const override { return chunks_.expired(); }

 private:
  ingest::ParseLine parse_ = ingest::gelf_format().parse_line;
  ingest::GelfChunks chunks_;
};

}  // namespace

std::unique_ptr<MessageDecoder> make_decoder(Protocol protocol) {
  switch (protocol) {
    case Protocol::syslog:
      return std::make_unique<SyslogDecoder>();
    case Protocol::gelf:
      return std::make_unique<GelfDecoder>();
  }
  throw std::logic_error("no decoder for this listener protocol");
}

}  // namespace logpipe::listeners
