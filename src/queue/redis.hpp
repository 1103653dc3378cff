// Redis basics shared by the synchronous client (worker) and the asynchronous one (serve):
// endpoint URLs, owned replies, and a blocking hiredis connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

struct redisReply;
struct redisContext;

namespace logpipe::queue {

struct RedisEndpoint {
  std::string host = "127.0.0.1";
  unsigned short port = 6379;
  int db = 0;
  std::string username;
  std::string password;

  std::string display() const;  // host:port/db, never the password
};

// redis://[[user]:password@]host[:port][/db]
core::Result<RedisEndpoint> parse_redis_url(std::string_view url);

struct ReplyDeleter {
  void operator()(redisReply* reply) const;
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

struct ContextDeleter {
  void operator()(redisContext* context) const;
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

// Redis error replies ("-ERR …") as a string, or empty when the reply is not an error.
std::string reply_error(const redisReply& reply);
std::string_view reply_string(const redisReply& reply);  // STRING/STATUS/ERROR text
bool reply_is_nil(const redisReply& reply);
bool reply_is_array(const redisReply& reply);
std::int64_t reply_integer(const redisReply& reply);  // INTEGER, else 0
std::size_t reply_size(const redisReply& reply);      // ARRAY element count
const redisReply& reply_at(const redisReply& reply, std::size_t i);

// Commands formatted as the RESP protocol (used by the pipelined async client).
std::string format_command(const std::vector<std::string_view>& args);

// A blocking connection with timeouts; the worker's side. Not thread-safe.
class SyncClient {
 public:
  static core::Result<SyncClient> connect(const RedisEndpoint& endpoint,
                                          std::chrono::milliseconds timeout);

  // An error reply from Redis is a value too (Errc::invalid_argument with Redis' message);
  // a broken connection is Errc::unavailable and the client must be reconnected.
  core::Result<ReplyPtr> command(const std::vector<std::string_view>& args);
  // Sends all commands in one write and reads all replies.
  core::Result<std::vector<ReplyPtr>> pipeline(
      const std::vector<std::vector<std::string_view>>& commands);
  core::Status set_timeout(std::chrono::milliseconds timeout);
  bool broken() const;

 private:
  explicit SyncClient(ContextPtr context) : context_(std::move(context)) {}
  core::Result<ReplyPtr> read_reply();

  ContextPtr context_;
};

}  // namespace logpipe::queue
