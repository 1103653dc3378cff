// logpipe: one binary, subcommands. This file only wires the command line to src/app.
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "app/commands.hpp"
#include "client/alerts.hpp"
#include "client/audit.hpp"
#include "client/query.hpp"
#include "client/tail.hpp"
#include "config/settings.hpp"
#include "loadtest/seed.hpp"

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
      {"maintenance",
       "one storage maintenance round: partitions ahead, retention (with archive), search index",
       config::kMaintenance, app::maintenance},
  };
  for (const auto& c : commands)
    options.add_to(*cli.add_subcommand(c.name, c.help), c.use);
  auto* loadtest_command = cli.add_subcommand(
      "loadtest", "send load to a logpipe server, then verify every acknowledged log was stored");
  options.add_to(*loadtest_command, config::kLoadtest);
  loadtest::CommandLine loadtest_line;
  loadtest::add_flags(*loadtest_command, loadtest_line);

  auto* dlq = cli.add_subcommand(
      "dlq", "the dead-letter stream: list, replay or delete what was set aside");
  dlq->require_subcommand(1);
  auto* dlq_list = dlq->add_subcommand("list", "list dead-lettered records with their errors");
  options.add_to(*dlq_list, config::kDlq);
  std::size_t dlq_limit = 100;
  bool dlq_json = false;
  dlq_list->add_option("--limit", dlq_limit, "how many, oldest first")
      ->default_val(100)
      ->check(CLI::Range(1, 100'000));
  dlq_list->add_flag("--json", dlq_json, "print JSON (the shape of GET /api/v1/dlq)");
  auto* dlq_replay = dlq->add_subcommand(
      "replay", "move dead-lettered records back into the stream (after fixing the cause)");
  options.add_to(*dlq_replay, config::kDlq);
  std::vector<std::string> dlq_ids;
  dlq_replay->add_option("--id", dlq_ids, "a dead-letter entry id (repeatable; default: all)");
  auto* dlq_delete = dlq->add_subcommand(
      "delete", "delete dead-lettered records for good (exit 1 if an id was not there)");
  options.add_to(*dlq_delete, config::kDlq);
  std::vector<std::string> dlq_delete_ids;
  dlq_delete->add_option("id", dlq_delete_ids, "dead-letter entry ids (as dlq list shows them)")
      ->required();

  auto* keys = cli.add_subcommand(
      "keys", "API keys (auth = keys): create one (shown once), list them, revoke them");
  keys->require_subcommand(1);
  app::KeyCreateOptions key_create;
  auto* keys_create = keys->add_subcommand("create", "create a key and print it (only this once)");
  options.add_to(*keys_create, config::kMigrate);
  keys_create->add_option("--tenant", key_create.tenant, "the tenant it writes and reads")
      ->default_val("default");
  keys_create->add_option("--name", key_create.name, "what it is for (a shipper, a person)")
      ->required();
  keys_create->add_option("--scopes", key_create.scopes, "ingest,query,admin (any of them)")
      ->required();
  keys_create->add_option("--rate", key_create.rate,
                          "requests per second (e.g. 5000/s); default: key_requests_per_second");
  keys_create->add_option("--logs-rate", key_create.logs_rate,
                          "logs per second; default: key_logs_per_second");
  keys_create->add_option("--expires", key_create.expires, "valid for this long (90d, 12h)");
  keys_create->add_flag("--json", key_create.json, "print the /api/v1/keys answer instead");
  auto* keys_list = keys->add_subcommand("list", "list keys (never the keys themselves)");
  options.add_to(*keys_list, config::kMigrate);
  std::string keys_tenant;
  bool keys_json = false;
  keys_list->add_option("--tenant", keys_tenant, "only this tenant's");
  keys_list->add_flag("--json", keys_json, "print JSON (the shape of GET /api/v1/keys)");
  auto* keys_revoke = keys->add_subcommand(
      "revoke", "revoke keys by id (running servers refuse them within auth_refresh)");
  options.add_to(*keys_revoke, config::kMigrate);
  std::vector<std::string> revoke_ids;
  keys_revoke->add_option("id", revoke_ids, "key ids (as keys list shows them)")->required();

  auto* tenants = cli.add_subcommand("tenants", "tenants: create one, list them");
  tenants->require_subcommand(1);
  auth::Tenant new_tenant;
  bool tenants_json = false;
  auto* tenants_create = tenants->add_subcommand("create", "create a tenant");
  options.add_to(*tenants_create, config::kMigrate);
  tenants_create->add_option("name", new_tenant.name, "its name (a-z, 0-9, _ and -)")->required();
  tenants_create
      ->add_option("--max-logs-per-day", new_tenant.max_logs_per_day,
                   "quota of logs per UTC day (default: none)")
      ->check(CLI::PositiveNumber);
  tenants_create
      ->add_option("--max-bytes-per-day", new_tenant.max_bytes_per_day,
                   "quota of bytes per UTC day (default: none)")
      ->check(CLI::PositiveNumber);
  tenants_create
      ->add_option("--retention-days", new_tenant.retention_days,
                   "days its logs are kept (default: retention_days)")
      ->check(CLI::Range(1, 36500));
  tenants_create->add_flag("--json", tenants_json, "print JSON (the /api/v1/tenants shape)");
  auto* tenants_list = tenants->add_subcommand("list", "list tenants with their quotas");
  options.add_to(*tenants_list, config::kMigrate);
  tenants_list->add_flag("--json", tenants_json, "print JSON (the shape of GET /api/v1/tenants)");

  auto* seed_command = cli.add_subcommand(
      "seed", "fill the database with realistic logs for demos and benchmarks (COPY, fast)");
  options.add_to(*seed_command, config::kMigrate);
  loadtest::SeedOptions seed_options;
  loadtest::add_seed_flags(*seed_command, seed_options);

  auto* import_command = cli.add_subcommand(
      "import", "store the records of archive files (logs_YYYYMMDD.ndjson.zst), exactly once");
  options.add_to(*import_command, config::kMigrate);
  std::vector<std::string> import_files;
  import_command->add_option("files", import_files, "archive files written by maintenance")
      ->required()
      ->check(CLI::ExistingFile);

  auto* query_command = cli.add_subcommand(
      "query", "search the logs of a running logpipe server (GET /api/v1/logs) and print them");
  client::CommandLine query_line;
  client::add_flags(*query_command, query_line);

  auto* audit_command = cli.add_subcommand(
      "audit", "print the audit log of a running logpipe server (GET /api/v1/audit), newest first");
  client::AuditCommandLine audit_line;
  client::add_audit_flags(*audit_command, audit_line);

  auto* alerts_command = cli.add_subcommand(
      "alerts", "alert rules and their history on a running logpipe server (/api/v1/alerts)");
  client::AlertsCommandLine alerts_line;
  client::add_alerts_commands(*alerts_command, alerts_line);

  auto* tail_command = cli.add_subcommand(
      "tail",
      "follow the logs of a running logpipe server as they arrive (GET /api/v1/tail), filtered");
  client::TailCommandLine tail_line;
  client::add_tail_flags(*tail_command, tail_line);

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version end here too, with 0; every usage error exits 2.
    return cli.exit(e) == 0 ? 0 : 2;
  }
  // Before the settings: a client must not fail over a server's logpipe.toml in this folder.
  if (query_command->parsed()) {
    auto query = client::finish_flags(query_line);
    if (!query) {
      fmt::print(stderr, "logpipe query: {}\n", query.error().message);
      return 2;
    }
    return app::query(*query);
  }
  if (tail_command->parsed()) {
    auto tail = client::finish_tail_flags(tail_line);
    if (!tail) {
      fmt::print(stderr, "logpipe tail: {}\n", tail.error().message);
      return 2;
    }
    return app::tail(*tail);
  }
  if (audit_command->parsed()) {
    auto query = client::finish_audit_flags(audit_line);
    if (!query) {
      fmt::print(stderr, "logpipe audit: {}\n", query.error().message);
      return 2;
    }
    return app::audit(*query);
  }
  if (alerts_command->parsed()) return app::alerts(alerts_line);
  auto settings = options.resolve();
  if (!settings) {
    fmt::print(stderr, "logpipe: {}\n", settings.error().message);
    return 2;
  }
  for (const auto& c : commands) {
    if (cli.got_subcommand(c.name)) return c.fn(*settings);
  }
  if (seed_command->parsed()) return app::seed(*settings, seed_options);
  if (import_command->parsed()) return app::import_archives(*settings, import_files);
  if (dlq_list->parsed()) return app::dlq_list(*settings, dlq_limit, dlq_json);
  if (dlq_replay->parsed()) return app::dlq_replay(*settings, dlq_ids);
  if (dlq_delete->parsed()) return app::dlq_delete(*settings, dlq_delete_ids);
  if (keys_create->parsed()) return app::keys_create(*settings, key_create);
  if (keys_list->parsed()) return app::keys_list(*settings, keys_tenant, keys_json);
  if (keys_revoke->parsed()) return app::keys_revoke(*settings, revoke_ids);
  if (tenants_create->parsed()) return app::tenants_create(*settings, new_tenant, tenants_json);
  if (tenants_list->parsed()) return app::tenants_list(*settings, tenants_json);
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
