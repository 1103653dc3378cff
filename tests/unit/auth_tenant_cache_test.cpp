// The tenants a syslog TLS client's certificate names: found ones are kept (tenants are never
// renamed or deleted), missing ones asked for again, so a tenant created later is found.
#include <gtest/gtest.h>

#include <map>

#include "auth/tenant_cache.hpp"

namespace logpipe::auth {
namespace {

struct FakeTenants {
  std::map<std::string, model::TenantId, std::less<>> rows;
  bool down = false;  // PostgreSQL unavailable
  int queries = 0;

  TenantCache::Find find() {
    return [this](std::string_view name) -> core::Result<Tenant> {
      ++queries;
      if (down) return core::make_error(core::Errc::unavailable, "PostgreSQL is down");
      const auto row = rows.find(name);
      if (row == rows.end()) return core::make_error(core::Errc::not_found, "no such tenant");
      Tenant t;
      t.id = row->second;
      t.name = row->first;
      return t;
    };
  }
};

TEST(AuthTenantCache, AFoundTenantIsKeptAndAMissingOneAskedForAgain) {
  FakeTenants db;
  db.rows = {{"tenant-a", 7}};
  TenantCache cache(db.find());
  EXPECT_FALSE(cache.cached("tenant-a"));

  auto a = cache.lookup("tenant-a");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->tenant, 7);
  EXPECT_EQ(a->tenant_name, "tenant-a");
  EXPECT_EQ(a->scopes, model::Scope::ingest);
  EXPECT_TRUE(a->key_id.empty());
  ASSERT_TRUE(cache.cached("tenant-a"));
  EXPECT_EQ(cache.cached("tenant-a")->tenant, 7);
  ASSERT_TRUE(cache.lookup("tenant-a"));
  EXPECT_EQ(db.queries, 1);

  // Not there yet: asked for every time, until it is created.
  auto b = cache.lookup("tenant-b");
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, core::Errc::not_found);
  EXPECT_FALSE(cache.lookup("tenant-b"));
  EXPECT_EQ(db.queries, 3);
  db.rows["tenant-b"] = 8;
  b = cache.lookup("tenant-b");
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->tenant, 8);

  // PostgreSQL down: the known tenants still answer, the others fail with its error.
  db.down = true;
  EXPECT_TRUE(cache.lookup("tenant-a"));
  EXPECT_TRUE(cache.lookup("tenant-b"));
  const auto c = cache.lookup("tenant-c");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, core::Errc::unavailable);
}

TEST(AuthTenantCache, ANameNoTenantCanHaveIsNotLookedUp) {
  FakeTenants db;
  TenantCache cache(db.find());
  for (const std::string_view name : std::initializer_list<std::string_view>{
           "", "Tenant-A", "caf\xC3\xA9", "a b", "-a", std::string_view("a\0b", 3)}) {
    const auto r = cache.lookup(name);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, core::Errc::not_found);
  }
  EXPECT_EQ(db.queries, 0);
}

}  // namespace
}  // namespace logpipe::auth
