// What the logs are about: devices and services (read from the rollups) and apps (CRUD; deleting
// an app deletes its logs).
#include <fmt/format.h>
#include <simdjson.h>

#include "api/handlers.hpp"
#include "api/json_body.hpp"
#include "api/render.hpp"
#include "core/time.hpp"
#include "http/query_string.hpp"
#include "query/catalog.hpp"

namespace logpipe::api {
namespace {

using http::bhttp::status;

// {"name": "…", "description": "…"}; `name_from_path` (PUT) takes the place of the body's name.
core::Result<query::App> app_from_body(const std::string& body,
                                       std::optional<std::string> name_from_path) {
  simdjson::dom::parser parser;
  auto object = json_object_body(parser, body);
  if (!object) return object.error();
  query::App app;
  for (auto [key, value] : *object) {
    std::string_view text;
    if (key == "name" || key == "description") {
      if (value.get_string().get(text) != simdjson::SUCCESS)
        return field_error(key, "must be a string");
      (key == "name" ? app.name : app.description) = std::string(text);
    } else {
      return field_error(key, "is not a field of an app (name, description)");
    }
  }
  if (name_from_path) {
    if (!app.name.empty() && app.name != *name_from_path)
      return field_error("name", "cannot be changed (it differs from the path)");
    app.name = std::move(*name_from_path);
  } else if (app.name.empty()) {
    return field_error("name", "is required");
  }
  return app;
}

}  // namespace

void list_devices(Context& ctx, http::Request& req, http::RequestContext& rc,
                  const http::Reply& reply) {
  auto q = query::parse_device_list_query(http::query_params(req.target()), rc.principal.tenant,
                                          core::now_micros());
  if (!q) return reply(http::error_response(req, q.error()));
  answer_from_db(
      ctx, req, reply, "device list failed",
      [q = std::move(q).value()](store::Connection& c) { return query::list_devices(c, q); },
      [](const std::vector<query::DeviceSummary>& devices) { return devices_json(devices); });
}

void list_services(Context& ctx, http::Request& req, http::RequestContext& rc,
                   const http::Reply& reply) {
  answer_from_db(
      ctx, req, reply, "service list failed",
      [tenant = rc.principal.tenant](store::Connection& c) {
        return query::list_services(c, tenant);
      },
      [](const std::vector<query::NamedCount>& services) { return services_json(services); });
}

void list_apps(Context& ctx, http::Request& req, http::RequestContext& rc,
               const http::Reply& reply) {
  answer_from_db(
      ctx, req, reply, "app list failed",
      [tenant = rc.principal.tenant](store::Connection& c) { return query::list_apps(c, tenant); },
      [](const std::vector<query::App>& apps) { return apps_json(apps); });
}

void get_app(Context& ctx, http::Request& req, http::RequestContext& rc, const http::Reply& reply) {
  answer_from_db(
      ctx, req, reply, "app lookup failed",
      [tenant = rc.principal.tenant, name = std::string(rc.param("name"))](store::Connection& c) {
        return query::get_app(c, tenant, name);
      },
      [](const query::App& app) { return app_json(app); });
}

void create_app(Context& ctx, http::Request& req, http::RequestContext& rc,
                const http::Reply& reply) {
  auto app = app_from_body(req.body(), std::nullopt);
  if (!app) return reply(http::error_response(req, app.error()));
  answer_from_db(
      ctx, req, reply, "app create failed",
      [tenant = rc.principal.tenant, app = std::move(app).value()](store::Connection& c) {
        return query::create_app(c, tenant, app);
      },
      [](const query::App& created) { return app_json(created); }, status::created);
}

void update_app(Context& ctx, http::Request& req, http::RequestContext& rc,
                const http::Reply& reply) {
  auto app = app_from_body(req.body(), std::string(rc.param("name")));
  if (!app) return reply(http::error_response(req, app.error()));
  answer_from_db(
      ctx, req, reply, "app update failed",
      [tenant = rc.principal.tenant, app = std::move(app).value()](store::Connection& c) {
        return query::update_app(c, tenant, app);
      },
      [](const query::App& updated) { return app_json(updated); });
}

void delete_app(Context& ctx, http::Request& req, http::RequestContext& rc,
                const http::Reply& reply) {
  std::string name(rc.param("name"));
  answer_from_db(
      ctx, req, reply, "app delete failed",
      [&ctx, entry = audit_entry(rc, store::audit_action::kAppDelete, name),
       tenant = rc.principal.tenant, name](store::Connection& c) {
        return audited(
            ctx, c, [&] { return query::delete_app(c, tenant, name); },
            [&](const store::Deleted& gone) {
              auto e = entry;
              e.detail = fmt::format(R"({{"logs_deleted":{}}})", gone.count);
              return e;
            });
      },
      [&ctx, name](const store::Deleted& gone) {
        forget_cached_devices(ctx, gone.devices);
        core::JsonWriter w;
        return w.begin_object()
            .field("deleted", name)
            .field("logs_deleted", gone.count)
            .end_object()
            .take();
      });
}

}  // namespace logpipe::api
