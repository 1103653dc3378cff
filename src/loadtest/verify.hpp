// End-to-end check of a load run: waits until the run's acknowledged records are stored, then
// counts them exactly. Progress is read from the `devices` rollup (one row per device of the
// run, cheap to poll), the final count and duplicates from `logs` itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "loadtest/generator.hpp"
#include "loadtest/loadtest.hpp"

namespace logpipe::loadtest {

Verification verify_stored(const std::string& database_url, const Generator& generator,
                           std::uint64_t acknowledged,
                           std::chrono::steady_clock::time_point first_send,
                           std::chrono::milliseconds timeout);

}  // namespace logpipe::loadtest
