// What the fuzz targets assert: a broken invariant aborts, which libFuzzer reports with the input.
#pragma once

#include <cstdlib>

namespace logpipe::fuzz {

inline void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace logpipe::fuzz
