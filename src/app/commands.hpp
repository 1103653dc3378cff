// The subcommands. Each returns the process exit code: 0 on a clean stop, 1 when start-up
// fails (one clear line on stderr), 2 for invalid options.
#pragma once

#include "config/settings.hpp"

namespace logpipe::app {

int serve(const config::Settings& settings);
int worker(const config::Settings& settings);
int run(const config::Settings& settings);  // serve + worker in one process
int migrate(const config::Settings& settings);

}  // namespace logpipe::app
