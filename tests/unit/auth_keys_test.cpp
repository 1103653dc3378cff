// API keys: their shape, hashing, scopes, the carriers of every protocol, and the in-memory
// authenticator (unknown, revoked, expired, constant-time comparison by id).
#include <gtest/gtest.h>

#include <set>

#include "auth/authenticator.hpp"
#include "auth/keys.hpp"
#include "core/base64.hpp"

namespace logpipe::auth {
namespace {

TEST(Keys, GeneratedKeysHaveTheirShapeAndAreUnique) {
  std::set<std::string> seen, ids;
  for (int i = 0; i < 200; ++i) {
    auto k = generate_key();
    EXPECT_EQ(k.key.size(), 4u + 12u + 1u + 43u) << k.key;
    EXPECT_EQ(k.key.rfind("lpk_" + k.id + "_", 0), 0u) << k.key;
    ASSERT_TRUE(key_id_of(k.key));
    EXPECT_EQ(*key_id_of(k.key), k.id);
    EXPECT_TRUE(same_hash(k.hash, hash_key(k.key)));
    EXPECT_TRUE(seen.insert(k.key).second);
    EXPECT_TRUE(ids.insert(k.id).second);
  }
}

TEST(Keys, KeyIdOfRefusesWhatIsNotAKey) {
  const auto k = generate_key();
  EXPECT_FALSE(key_id_of(""));
  EXPECT_FALSE(key_id_of("secret"));
  EXPECT_FALSE(key_id_of(k.key.substr(1)));
  EXPECT_FALSE(key_id_of(k.key + "x"));
  std::string upper = k.key;
  upper[4] = 'G';  // not hex
  EXPECT_FALSE(key_id_of(upper));
  std::string no_separator = k.key;
  no_separator[16] = '-';
  EXPECT_FALSE(key_id_of(no_separator));
}

TEST(Keys, HashesDifferForKeysThatDifferInOneCharacter) {
  const auto k = generate_key();
  std::string other = k.key;
  other.back() = other.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(same_hash(hash_key(k.key), hash_key(other)));
  // SHA-256 of "abc" (FIPS 180-2's example).
  const auto abc = hash_key("abc");
  EXPECT_EQ(abc[0], 0xba);
  EXPECT_EQ(abc[31], 0xad);
}

TEST(Keys, ScopesParseAndPrint) {
  auto all = parse_scopes(" admin, ingest ,query");
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, model::kAllScopes);
  EXPECT_EQ(scopes_text(*all), "ingest,query,admin");
  EXPECT_EQ(scopes_text(*parse_scopes("query")), "query");
  auto bad = parse_scopes("ingest,root");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("\"root\""), std::string::npos);
  EXPECT_FALSE(parse_scopes(""));
  EXPECT_FALSE(parse_scopes(" , "));
}

TEST(Keys, TenantNames) {
  EXPECT_TRUE(check_tenant_name("acme"));
  EXPECT_TRUE(check_tenant_name("team-7_prod"));
  EXPECT_TRUE(check_tenant_name(std::string(63, 'a')));
  EXPECT_FALSE(check_tenant_name(""));
  EXPECT_FALSE(check_tenant_name(std::string(64, 'a')));
  EXPECT_FALSE(check_tenant_name("Acme"));
  EXPECT_FALSE(check_tenant_name("-acme"));
  EXPECT_FALSE(check_tenant_name("a b"));
  EXPECT_FALSE(check_tenant_name("a/b"));
}

TEST(Keys, EveryProtocolsCarrier) {
  const std::string key = generate_key().key;
  const auto b64 = [](std::string_view s) { return core::base64_encode(s); };
  EXPECT_EQ(key_from_headers(key, ""), key);
  EXPECT_EQ(key_from_headers(key, "Bearer other"), key);  // X-API-Key first
  EXPECT_EQ(key_from_headers("", "Bearer " + key), key);
  EXPECT_EQ(key_from_headers("", "bearer  " + key + " "), key);
  EXPECT_EQ(key_from_headers("", "Splunk " + key), key);
  EXPECT_EQ(key_from_headers("", "Basic " + b64("logpipe:" + key)), key);
  EXPECT_EQ(key_from_headers("", "Basic " + b64(":" + key)), key);
  EXPECT_EQ(key_from_headers("", "ApiKey " + key), key);
  EXPECT_EQ(key_from_headers("", "ApiKey " + b64("my-id:" + key)), key);
  EXPECT_EQ(key_from_headers("", "ApiKey " + b64(key)), key);
  EXPECT_FALSE(key_from_headers("", ""));
  EXPECT_FALSE(key_from_headers("", "Digest x"));
  EXPECT_FALSE(key_from_headers("", "Bearer"));
  EXPECT_FALSE(key_from_headers("", "Basic !!!"));
}

TEST(Keys, ABrowsersWebSocketOffersTheKeyAsASubprotocol) {
  const std::string key = generate_key().key;
  EXPECT_EQ(key_from_websocket_protocols("logpipe, logpipe.key." + key), key);
  EXPECT_EQ(key_from_websocket_protocols("logpipe.key." + key + ",logpipe"), key);
  EXPECT_EQ(key_from_websocket_protocols(" chat ,\tlogpipe.key." + key + "\t, logpipe"), key);
  EXPECT_FALSE(key_from_websocket_protocols(""));
  EXPECT_FALSE(key_from_websocket_protocols("logpipe"));
  EXPECT_FALSE(key_from_websocket_protocols("logpipe, logpipe.key."));  // no key after it
  EXPECT_FALSE(key_from_websocket_protocols("logpipe.keys." + key));
  EXPECT_FALSE(key_from_websocket_protocols(", ,"));
}

KeyInfo info_of(const GeneratedKey& g, model::TenantId tenant, model::Scope scopes) {
  KeyInfo k;
  k.id = g.id;
  k.hash = g.hash;
  k.tenant = tenant;
  k.tenant_name = "t" + std::to_string(tenant);
  k.name = "test";
  k.scopes = scopes;
  k.requests_per_second = 50;
  return k;
}

TEST(Authenticator, KnownKeysGiveTheirPrincipalOthersAreRefusedWithTheReason) {
  Authenticator a;
  Authenticator::Refusal why{};
  const auto good = generate_key();
  // Before the first load nothing is known: 503, not 401 (the keys may well be valid).
  auto early = a.authenticate(good.key, 0, why);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, core::Errc::unavailable);
  EXPECT_EQ(why, Authenticator::Refusal::not_loaded);

  const auto revoked = generate_key();
  const auto expired = generate_key();
  auto revoked_info = info_of(revoked, 2, model::Scope::ingest);
  revoked_info.revoked_at = 10;
  auto expired_info = info_of(expired, 2, model::Scope::ingest);
  expired_info.expires_at = 1000;
  a.replace(
      {info_of(good, 3, model::Scope::ingest | model::Scope::query), revoked_info, expired_info});
  EXPECT_EQ(a.size(), 3u);

  auto p = a.authenticate(good.key, 2000, why);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->tenant, 3);
  EXPECT_EQ(p->tenant_name, "t3");
  EXPECT_EQ(p->key_id, good.id);
  EXPECT_EQ(p->scopes, model::Scope::ingest | model::Scope::query);
  EXPECT_EQ(p->requests_per_second, 50u);

  const auto refused = [&](const std::string& key, core::Micros now) {
    auto r = a.authenticate(key, now, why);
    EXPECT_FALSE(r);
    if (!r) {
      EXPECT_EQ(r.error().code, core::Errc::unauthenticated);
    }
    return why;
  };
  EXPECT_EQ(refused(revoked.key, 0), Authenticator::Refusal::revoked);
  EXPECT_TRUE(a.authenticate(expired.key, 999, why));  // valid until 1000
  EXPECT_EQ(refused(expired.key, 1000), Authenticator::Refusal::expired);
  EXPECT_EQ(refused(generate_key().key, 0), Authenticator::Refusal::unknown);
  EXPECT_EQ(refused("not a key", 0), Authenticator::Refusal::unknown);
  // The right id with another secret.
  std::string forged = good.key;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(refused(forged, 0), Authenticator::Refusal::unknown);

  // A revoke made here takes effect at once.
  auto now_revoked = info_of(good, 3, model::Scope::ingest);
  now_revoked.revoked_at = 3000;
  a.put(now_revoked);
  EXPECT_EQ(refused(good.key, 3001), Authenticator::Refusal::revoked);
}

}  // namespace
}  // namespace logpipe::auth
