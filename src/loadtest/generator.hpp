// Realistic, varied device logs for load tests and benchmarks. Record `seq` of a run is always
// the same bytes (a pure function of the run id and seq), so the pipeline benchmark can COPY
// exactly the rows the loadtest sends. Every record carries {"run":…, "seq":…} in its attrs and
// a device id of its run ("lt-<run>-d007"), which is how the loadtest finds its rows again.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace logpipe::loadtest {

// Which endpoint and body format a request uses.
enum class Api {
  batch,   // POST /api/logs/batch  {"logs":[…]}   (device_id, log_level, log_data)
  single,  // POST /api/log         one object      (device_id, log_level, log_data)
  ingest,  // POST /api/v1/ingest   NDJSON           (canonical field names)
  // Syslog over TCP, not HTTP: octet-counted RFC 5424 frames; the device id is the HOSTNAME and
  // run/seq are structured data ([lt@32473 run=… seq=…] → attrs.sd."lt@32473").
  syslog_tcp,
};

// The SD-ID of the loadtest's structured data in syslog frames.
inline constexpr const char* kSyslogSdId = "lt@32473";

const char* to_string(Api api);
const char* target_path(Api api);
const char* content_type(Api api);

class Generator {
 public:
  Generator(std::string run_id, std::size_t devices);

  const std::string& run_id() const { return run_id_; }
  std::size_t devices() const { return device_ids_.size(); }
  // Device of record `seq`: seq % devices, so each device gets every devices-th record.
  const std::string& device_of(std::uint64_t seq) const;
  const std::vector<std::string>& device_ids() const { return device_ids_; }

  // Appends the request body holding records [first_seq, first_seq + count) for `api`
  // (count must be 1 for Api::single).
  void append_body(std::string& out, Api api, std::uint64_t first_seq, std::size_t count) const;

 private:
  // One record as a JSON object; `canonical` chooses level/attrs over log_level/log_data.
  void append_record(std::string& out, std::uint64_t seq, bool canonical) const;
  // One record as an octet-counted RFC 5424 frame.
  void append_syslog_frame(std::string& out, std::uint64_t seq) const;

  std::string run_id_;
  std::vector<std::string> device_ids_;
};

// A short random run id (lower-case letters and digits).
std::string new_run_id();

}  // namespace logpipe::loadtest
