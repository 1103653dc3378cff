// logpipe: one binary, subcommands. This file only wires the command line to src/app.
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "app/commands.hpp"
#include "config/settings.hpp"

int main(int argc, char** argv) {
  using namespace logpipe;
  CLI::App cli{
      "logpipe: collects logs over HTTP, queues them durably in Redis Streams and stores them in "
      "PostgreSQL.\nConfiguration: flags > environment (LOGPIPE_*) > logpipe.toml > defaults.",
      "logpipe"};
  cli.require_subcommand(1);
  cli.set_version_flag("--version", "logpipe 0.1.0");
  config::Options options;

  struct Command {
    const char* name;
    const char* help;
    unsigned use;
    int (*fn)(const config::Settings&);
  };
  const Command commands[] = {
      {"run", "serve + worker in one process (the single-machine default)",
       config::kServe | config::kWorker, app::run},
      {"serve", "HTTP API: validate, queue in Redis, query PostgreSQL", config::kServe, app::serve},
      {"worker", "move queued logs from the Redis stream into PostgreSQL", config::kWorker,
       app::worker},
      {"migrate", "apply the database schema migrations (idempotent)", config::kMigrate,
       app::migrate},
  };
  for (const auto& c : commands)
    options.add_to(*cli.add_subcommand(c.name, c.help), c.use);
  auto* loadtest_command = cli.add_subcommand(
      "loadtest", "send load to a logpipe server, then verify every acknowledged log was stored");
  options.add_to(*loadtest_command, config::kLoadtest);
  loadtest::CommandLine loadtest_line;
  loadtest::add_flags(*loadtest_command, loadtest_line);

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  auto settings = options.resolve();
  if (!settings) {
    fmt::print(stderr, "logpipe: {}\n", settings.error().message);
    return 2;
  }
  for (const auto& c : commands) {
    if (cli.got_subcommand(c.name)) return c.fn(*settings);
  }
  if (cli.got_subcommand(loadtest_command)) {
    auto loadtest_options = loadtest::finish_flags(loadtest_line);
    if (!loadtest_options) {
      fmt::print(stderr, "logpipe: {}\n", loadtest_options.error().message);
      return 2;
    }
    return app::loadtest(*settings, std::move(loadtest_options).value());
  }
  return 2;
}
