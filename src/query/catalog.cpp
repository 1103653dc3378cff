#include "query/catalog.hpp"

#include <fmt/format.h>

#include "store/forget.hpp"

namespace logpipe::query {
namespace {

constexpr int kMaxDevices = 10'000;
constexpr std::size_t kMaxAppName = 128;
constexpr std::size_t kMaxDescription = 1000;

std::string like_prefix(std::string_view prefix) {
  std::string out;
  for (const char c : prefix) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('%');
  return out;
}

constexpr std::string_view kAppColumns =
    "SELECT a.name, a.description, (extract(epoch FROM a.created_at) * 1000000)::bigint,"
    " coalesce((SELECT sum(count) FROM log_counts_daily c"
    " WHERE c.tenant_id = a.tenant_id AND c.app = a.name), 0)::bigint FROM apps a";

std::vector<App> read_apps(const store::Rows& rows) {
  std::vector<App> apps;
  apps.reserve(static_cast<std::size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i)
    apps.push_back({std::string(rows.get(i, 0)), std::string(rows.get(i, 1)), rows.get_int(i, 2),
                    rows.get_int(i, 3)});
  return apps;
}

core::Error no_app(const std::string& name) {
  return core::make_error(core::Errc::not_found, fmt::format("no app named \"{}\"", name));
}

}  // namespace

core::Result<DeviceListQuery> parse_device_list_query(const Params& params, model::TenantId tenant,
                                                      core::Micros now) {
  DeviceListQuery q;
  q.tenant = tenant;
  for (const auto& [key, value] : params) {
    if (key == "prefix") {
      q.prefix = value;
    } else if (key == "silent_for") {
      auto since = parse_time(key, value, now);
      if (!since || value.find_first_not_of("0123456789smhd") != std::string::npos)
        return invalid_param(key, "must be a duration (30s, 15m, 2h, 7d)");
      q.silent_since = *since;
    } else if (key == "sort") {
      if (value != "last_seen" && value != "device_id")
        return invalid_param(key, "must be last_seen or device_id");
      q.by_name = value == "device_id";
    } else if (key == "limit") {
      auto limit = parse_int_param(key, value, 1, kMaxDevices);
      if (!limit) return limit.error();
      q.limit = static_cast<int>(*limit);
    } else {
      return invalid_param(key, "is not a parameter (prefix, silent_for, sort, limit)");
    }
  }
  return q;
}

core::Result<std::vector<DeviceSummary>> list_devices(store::Connection& db,
                                                      const DeviceListQuery& q) {
  SqlWhere w;
  w.sql = "tenant_id = $1";
  w.args.push_back(std::to_string(q.tenant));
  if (!q.prefix.empty())
    w.sql += fmt::format(" AND device_id LIKE {}", w.param(like_prefix(q.prefix)));
  std::string having;
  if (q.silent_since)
    having = fmt::format(" HAVING max(last_seen) < {}::timestamptz",
                         w.param(core::format_rfc3339(*q.silent_since)));
  // Each device has a row per rollup shard that stored its logs: summed here.
  const std::string sql = fmt::format(
      "SELECT device_id, (extract(epoch FROM min(first_seen)) * 1000000)::bigint,"
      " (extract(epoch FROM max(last_seen)) * 1000000)::bigint, sum(log_count)::bigint"
      " FROM devices WHERE {} GROUP BY device_id{} ORDER BY {} LIMIT {}",
      w.sql, having, q.by_name ? "device_id" : "max(last_seen) DESC, device_id", q.limit);
  auto rows = db.query(sql, store::Params(w.args.begin(), w.args.end()));
  if (!rows) return rows.error();
  std::vector<DeviceSummary> devices;
  devices.reserve(static_cast<std::size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i)
    devices.push_back({std::string(rows->get(i, 0)), rows->get_int(i, 1), rows->get_int(i, 2),
                       rows->get_int(i, 3)});
  return devices;
}

core::Result<std::vector<NamedCount>> list_services(store::Connection& db, model::TenantId tenant) {
  auto rows = db.query(
      "SELECT service, sum(count)::bigint AS n FROM log_counts_daily WHERE tenant_id = $1"
      " GROUP BY service HAVING sum(count) <> 0 ORDER BY n DESC, service",
      {std::to_string(tenant)});
  if (!rows) return rows.error();
  std::vector<NamedCount> services;
  services.reserve(static_cast<std::size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i)
    services.push_back({std::string(rows->get(i, 0)), rows->get_int(i, 1)});
  return services;
}

core::Status validate_app(const App& app) {
  if (app.name.empty() || app.name.size() > kMaxAppName)
    return core::Error(core::Errc::invalid_field, "name must be 1 to 128 bytes",
                       {{-1, "name", "must be 1 to 128 bytes"}});
  for (const unsigned char c : app.name) {
    if (c < 0x20 || c == 0x7f)
      return core::Error(core::Errc::invalid_field, "name must not contain control characters",
                         {{-1, "name", "must not contain control characters"}});
  }
  if (app.description.size() > kMaxDescription)
    return core::Error(core::Errc::invalid_field, "description must be at most 1000 bytes",
                       {{-1, "description", "must be at most 1000 bytes"}});
  return {};
}

core::Result<std::vector<App>> list_apps(store::Connection& db, model::TenantId tenant) {
  auto rows = db.query(fmt::format("{} WHERE a.tenant_id = $1 ORDER BY a.name", kAppColumns),
                       {std::to_string(tenant)});
  if (!rows) return rows.error();
  return read_apps(*rows);
}

core::Result<App> get_app(store::Connection& db, model::TenantId tenant, const std::string& name) {
  auto rows = db.query(fmt::format("{} WHERE a.tenant_id = $1 AND a.name = $2", kAppColumns),
                       {std::to_string(tenant), name});
  if (!rows) return rows.error();
  if (rows->size() == 0) return no_app(name);
  return read_apps(*rows).front();
}

core::Result<App> create_app(store::Connection& db, model::TenantId tenant, const App& app) {
  if (auto ok = validate_app(app); !ok) return ok.error();
  auto rows = db.query(
      "INSERT INTO apps (tenant_id, name, description) VALUES ($1, $2, $3)"
      " ON CONFLICT DO NOTHING RETURNING name",
      {std::to_string(tenant), app.name, app.description});
  if (!rows) return rows.error();
  if (rows->size() == 0)
    return core::make_error(core::Errc::conflict,
                            fmt::format("an app named \"{}\" exists already", app.name));
  return get_app(db, tenant, app.name);
}

core::Result<App> update_app(store::Connection& db, model::TenantId tenant, const App& app) {
  if (auto ok = validate_app(app); !ok) return ok.error();
  auto rows =
      db.query("UPDATE apps SET description = $3 WHERE tenant_id = $1 AND name = $2 RETURNING name",
               {std::to_string(tenant), app.name, app.description});
  if (!rows) return rows.error();
  if (rows->size() == 0) return no_app(app.name);
  return get_app(db, tenant, app.name);
}

core::Result<store::Deleted> delete_app(store::Connection& db, model::TenantId tenant,
                                        const std::string& name) {
  return store::in_transaction(db, [&]() -> core::Result<store::Deleted> {
    auto app = db.query("DELETE FROM apps WHERE tenant_id = $1 AND name = $2 RETURNING name",
                        {std::to_string(tenant), name});
    if (!app) return app.error();
    if (app->size() == 0) return no_app(name);
    return store::delete_logs(db, "tenant_id = $1 AND app = $2", {std::to_string(tenant), name},
                              std::nullopt);
  });
}

}  // namespace logpipe::query
