// Stable default consumer names. A consumer that restarts under a new name leaves its
// predecessor's pending entries waiting for claim_idle (30 s by default); one that restarts under
// the same name re-reads them at once. So the default name is "<hostname>-<i>", a slot that one
// live process at a time holds through a lease in Redis:
//
//   SET <stream>:consumer:<group>:<hostname>-<i>  "<hostname>:<pid>:<process token>"  NX PX ttl
//
// refreshed by the worker loop. A slot whose lease is held by a process of this host that is
// gone (kill(pid, 0) fails with ESRCH, or the pid is ours but the token is not: a container
// restarted with the same pid) is taken over at once; a slot held by a live process is skipped
// for the next index. Two worker processes on one host therefore never share a name, and a
// restarted one finds its predecessor's slots, and their pending entries, first.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "core/result.hpp"
#include "queue/redis.hpp"

namespace logpipe::queue {

struct SlotOptions {
  std::string stream;
  std::string group;
  std::string host;  // this host's name; empty: gethostname()
  std::chrono::milliseconds ttl{30'000};
  std::size_t max_slots = 1024;  // indices tried before giving up
};

class ConsumerSlot {
 public:
  // Takes the lowest slot index that is free or whose holder on this host is gone.
  static core::Result<ConsumerSlot> acquire(SyncClient& redis, const SlotOptions& options);

  // The consumer name: "<host>-<index>".
  const std::string& name() const { return name_; }
  // What the lease key holds while this process has the slot.
  const std::string& holder() const { return holder_; }
  // Extends the lease (or takes it again if it expired meanwhile). False when another process
  // holds the slot now: this one must stop using the name.
  core::Result<bool> refresh(SyncClient& redis) const;
  // Gives the slot up (a clean stop), if this process still holds it.
  core::Status release(SyncClient& redis) const;
  // Whether a lease held by `holder` may be taken over from this process: its holder is on this
  // host and no longer running. Exposed for tests.
  static bool holder_is_gone(const std::string& holder, const std::string& host);

 private:
  ConsumerSlot(std::string key, std::string name, std::string holder, std::chrono::milliseconds ttl)
      : key_(std::move(key)), name_(std::move(name)), holder_(std::move(holder)), ttl_(ttl) {}

  std::string key_;
  std::string name_;
  std::string holder_;
  std::chrono::milliseconds ttl_;
};

// "<prefix>:consumer:<group>:<name>": the lease key of a slot.
std::string slot_key(const std::string& stream, const std::string& group, const std::string& name);
// This host's name (gethostname), "localhost" when it has none.
std::string host_name();

}  // namespace logpipe::queue
