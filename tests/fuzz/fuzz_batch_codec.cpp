// libFuzzer target: the stream entry codec (what a worker reads back from Redis). A corrupt or
// truncated payload must be an error value, never a crash; what decodes must encode and decode
// back to the same records.
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "queue/batch_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace logpipe;
  using fuzz::check;
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  auto batches = queue::decode_entry(payload);
  if (!batches) return 0;
  for (const auto& batch : *batches) {
    auto again = queue::decode_batch(queue::encode_batch(batch));
    check(again.ok());
    check(again->records.size() == batch.records.size());
    check(again->tenant_id == batch.tenant_id && again->received_at == batch.received_at);
    for (std::size_t i = 0; i < batch.records.size(); ++i) {
      check(again->records[i].message == batch.records[i].message);
      check(again->records[i].ts == batch.records[i].ts);
      check(again->records[i].attrs_json == batch.records[i].attrs_json);
    }
  }
  return 0;
}
