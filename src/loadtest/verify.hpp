// End-to-end check of a load run, per sequence number: every acknowledged (2xx) log must be
// stored exactly once, no log of a request answered with an error may be stored (an error means
// nothing was stored), and a log whose request got no answer at all (a connection cut), or a 502
// or 504 (a proxy or the server could not tell), may be stored at most once. Progress is polled
// from the `devices` rollup (one row per device of the run, cheap); the exact check streams the
// run's seq numbers out of `logs`. Syslog runs carry the device id as the host and run/seq as
// structured data (generator.hpp): their rows are found by host, and progress is a count of them.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "loadtest/generator.hpp"
#include "loadtest/loadtest.hpp"

namespace logpipe::loadtest {

// What the server answered for each seq of a run.
enum class Outcome : std::uint8_t { unanswered, acknowledged, rejected };

// 2xx: acknowledged. 502 (a proxy lost the server mid-request: it may have stored them before it
// died) and 504 (the server lost Redis before it confirmed) leave the outcome unknown, as no
// answer does. Every other status is a refusal: nothing stored.
Outcome outcome_of_status(int status);

Verification verify_stored(const std::string& database_url, const Generator& generator,
                           const std::vector<Outcome>& outcomes, std::uint64_t acknowledged,
                           std::chrono::steady_clock::time_point first_send,
                           std::chrono::milliseconds timeout, Api api = Api::batch,
                           const std::string& api_key = {});

}  // namespace logpipe::loadtest
