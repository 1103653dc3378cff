// The subcommands. Each returns the process exit code: 0 on a clean stop, 1 when start-up
// fails (one clear line on stderr), 2 for invalid options.
#pragma once

#include <string>
#include <vector>

#include "auth/key_store.hpp"
#include "client/alerts.hpp"
#include "client/query.hpp"
#include "client/tail.hpp"
#include "config/settings.hpp"
#include "loadtest/loadtest.hpp"
#include "loadtest/seed.hpp"

namespace logpipe::app {

int serve(const config::Settings& settings);
int worker(const config::Settings& settings);
int run(const config::Settings& settings);  // serve + worker in one process
int migrate(const config::Settings& settings);
// One storage maintenance round (partitions, retention, archive, search index), then exit.
int maintenance(const config::Settings& settings);
// Fills the database with generated logs (loadtest::seed).
int seed(const config::Settings& settings, loadtest::SeedOptions options);
// Stores the records of archives written by maintenance (archive_dir), exactly once.
int import_archives(const config::Settings& settings, const std::vector<std::string>& files);
// Exit 0 when every acknowledged log was found stored once (or verification was skipped), 1 when
// not, or when the target cannot be reached.
int loadtest(const config::Settings& settings, loadtest::Options options);
// The dead-letter stream: list what was set aside, replay it once the cause is fixed, or delete
// it for good.
int dlq_list(const config::Settings& settings, std::size_t limit, bool json);
int dlq_replay(const config::Settings& settings, const std::vector<std::string>& ids);
// Exit 1 when an id was not in the dead-letter stream (the others are deleted), 2 for a bad id.
int dlq_delete(const config::Settings& settings, const std::vector<std::string>& ids);
// API keys and tenants, straight on PostgreSQL (keys.cpp). Exit 1 when the database refuses
// (unknown tenant, taken name, unknown key id), 2 for invalid options.
struct KeyCreateOptions {
  std::string tenant = "default";
  std::string name;
  std::string scopes;     // "ingest,query,admin"
  std::string rate;       // requests/s: "5000/s" or "5000"; empty: the server's default
  std::string logs_rate;  // logs/s
  std::string expires;    // "90d"; empty: never
  bool json = false;
};
int keys_create(const config::Settings& settings, const KeyCreateOptions& options);
int keys_list(const config::Settings& settings, const std::string& tenant, bool json);
int keys_revoke(const config::Settings& settings, const std::vector<std::string>& ids);
int tenants_create(const config::Settings& settings, const auth::Tenant& tenant, bool json);
int tenants_list(const config::Settings& settings, bool json);
// Searches a running server's logs and prints them: exit 1 when the server cannot be reached or
// refuses the search (its error message on stderr). It reads no configuration: only its flags.
int query(const client::Query& query);
// Prints a running server's audit log (`logpipe audit`); exits as query() does.
int audit(const client::Query& query);
// Runs `logpipe alerts …` against a running server; exits as query() does.
int alerts(const client::AlertsCommandLine& line);
// Follows a running server's live tail (`logpipe tail`) until Ctrl-C (exit 0) or a reader of its
// output that left (`| head`, exit 0); exit 1 when the server refuses the request (its message
// on stderr). Network failures are reconnected, not fatal.
int tail(const client::Tail& tail);

}  // namespace logpipe::app
