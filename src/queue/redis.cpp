#include "queue/redis.hpp"

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include <charconv>
#include <optional>

namespace logpipe::queue {
namespace {

core::Error unavailable(std::string_view what) {
  return core::make_error(core::Errc::unavailable, fmt::format("redis: {}", what));
}

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

std::vector<const char*> argv_of(const std::vector<std::string_view>& args,
                                 std::vector<std::size_t>& lengths) {
  std::vector<const char*> argv;
  argv.reserve(args.size());
  lengths.clear();
  for (auto a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  return argv;
}

}  // namespace

std::string RedisEndpoint::display() const {
  return fmt::format("{}:{}/{}", host, port, db);
}

core::Result<RedisEndpoint> parse_redis_url(std::string_view url) {
  const auto bad = [&](std::string_view why) {
    return core::make_error(core::Errc::invalid_argument,
                            fmt::format("invalid Redis URL \"{}\": {}", url, why));
  };
  constexpr std::string_view scheme = "redis://";
  if (url.substr(0, scheme.size()) != scheme) return bad("must start with redis://");
  std::string_view rest = url.substr(scheme.size());
  RedisEndpoint ep;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
      ep.username = userinfo.substr(0, colon);
      ep.password = userinfo.substr(colon + 1);
    } else {
      ep.password = userinfo;
    }
  }
  std::string_view hostport = rest;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    hostport = rest.substr(0, slash);
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty()) {
      auto [p, ec] = std::from_chars(db.data(), db.data() + db.size(), ep.db);
      if (ec != std::errc() || p != db.data() + db.size() || ep.db < 0) return bad("bad db number");
    }
  }
  if (auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
    std::string_view port = hostport.substr(colon + 1);
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || p != port.data() + port.size() || value == 0 || value > 65535)
      return bad("bad port");
    ep.port = static_cast<unsigned short>(value);
    hostport = hostport.substr(0, colon);
  }
  if (hostport.empty()) return bad("missing host");
  ep.host = hostport;
  return ep;
}

void ReplyDeleter::operator()(redisReply* reply) const {
  freeReplyObject(reply);
}

void ContextDeleter::operator()(redisContext* context) const {
  redisFree(context);
}

std::string reply_error(const redisReply& r) {
  return r.type == REDIS_REPLY_ERROR ? std::string(r.str, r.len) : std::string();
}
std::string_view reply_string(const redisReply& r) {
  if (r.type == REDIS_REPLY_STRING || r.type == REDIS_REPLY_STATUS || r.type == REDIS_REPLY_ERROR)
    return {r.str, r.len};
  return {};
}
bool reply_is_nil(const redisReply& r) {
  return r.type == REDIS_REPLY_NIL;
}
bool reply_is_array(const redisReply& r) {
  return r.type == REDIS_REPLY_ARRAY;
}
std::int64_t reply_integer(const redisReply& r) {
  return r.type == REDIS_REPLY_INTEGER ? r.integer : 0;
}
std::size_t reply_size(const redisReply& r) {
  return r.type == REDIS_REPLY_ARRAY ? r.elements : 0;
}
const redisReply& reply_at(const redisReply& r, std::size_t i) {
  return *r.element[i];
}

std::string format_command(const std::vector<std::string_view>& args) {
  std::vector<std::size_t> lengths;
  auto argv = argv_of(args, lengths);
  char* target = nullptr;
  const int n =
      redisFormatCommandArgv(&target, static_cast<int>(argv.size()), argv.data(), lengths.data());
  if (n < 0) throw std::bad_alloc();
  std::string out(target, static_cast<std::size_t>(n));
  redisFreeCommand(target);
  return out;
}

core::Result<SyncClient> SyncClient::connect(const RedisEndpoint& ep,
                                             std::chrono::milliseconds timeout) {
  ContextPtr ctx(redisConnectWithTimeout(ep.host.c_str(), ep.port, to_timeval(timeout)));
  if (ctx == nullptr) return unavailable("out of memory");
  if (ctx->err)
    return unavailable(fmt::format("cannot connect to {}: {}", ep.display(), ctx->errstr));
  SyncClient client(std::move(ctx));
  if (auto s = client.set_timeout(timeout); !s) return s.error();
  if (!ep.password.empty()) {
    std::vector<std::string_view> auth{"AUTH"};
    if (!ep.username.empty()) auth.push_back(ep.username);
    auth.push_back(ep.password);
    auto r = client.command(auth);
    if (!r) return r.error();
  }
  if (ep.db != 0) {
    const std::string db = std::to_string(ep.db);
    auto r = client.command({"SELECT", db});
    if (!r) return r.error();
  }
  return client;
}

bool SyncClient::broken() const {
  return context_ == nullptr || context_->err != 0;
}

core::Status SyncClient::set_timeout(std::chrono::milliseconds timeout) {
  if (redisSetTimeout(context_.get(), to_timeval(timeout)) != REDIS_OK)
    return unavailable("cannot set socket timeout");
  return {};
}

core::Result<ReplyPtr> SyncClient::read_reply() {
  void* raw = nullptr;
  if (redisGetReply(context_.get(), &raw) != REDIS_OK || raw == nullptr)
    return unavailable(context_->errstr[0] ? context_->errstr : "connection lost");
  ReplyPtr reply(static_cast<redisReply*>(raw));
  if (reply->type == REDIS_REPLY_ERROR)
    return core::make_error(core::Errc::invalid_argument, "redis: " + reply_error(*reply));
  return reply;
}

core::Result<ReplyPtr> SyncClient::command(const std::vector<std::string_view>& args) {
  if (broken()) return unavailable("connection lost");
  std::vector<std::size_t> lengths;
  auto argv = argv_of(args, lengths);
  if (redisAppendCommandArgv(context_.get(), static_cast<int>(argv.size()), argv.data(),
                             lengths.data()) != REDIS_OK)
    return unavailable(context_->errstr);
  return read_reply();
}

core::Result<std::vector<ReplyPtr>> SyncClient::pipeline(
    const std::vector<std::vector<std::string_view>>& commands) {
  if (broken()) return unavailable("connection lost");
  std::vector<std::size_t> lengths;
  for (const auto& args : commands) {
    auto argv = argv_of(args, lengths);
    if (redisAppendCommandArgv(context_.get(), static_cast<int>(argv.size()), argv.data(),
                               lengths.data()) != REDIS_OK)
      return unavailable(context_->errstr);
  }
  std::vector<ReplyPtr> replies;
  std::optional<core::Error> first_error;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    auto r = read_reply();
    if (!r) {
      if (r.error().code == core::Errc::unavailable) return r.error();
      // Keep reading so the connection stays in step; report the first error.
      if (!first_error) first_error = r.error();
      replies.emplace_back();
      continue;
    }
    replies.push_back(std::move(r).value());
  }
  if (first_error) return *first_error;
  return replies;
}

}  // namespace logpipe::queue
