// Counts work in progress (requests answered later, tasks on other threads) so that shutdown can
// wait for zero. A token holds one unit until its last copy is gone: the count comes back down
// on every path, early returns and exceptions included.
#pragma once

#include <atomic>
#include <memory>

namespace logpipe::core {

class InFlight {
 public:
  using Token = std::shared_ptr<void>;

  // The InFlight must outlive every token.
  Token enter() {
    count_.fetch_add(1);
    return Token(nullptr, [this](void*) { count_.fetch_sub(1); });
  }
  int count() const { return count_.load(); }

 private:
  std::atomic<int> count_{0};
};

}  // namespace logpipe::core
