#include "harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "../common/certificate.hpp"

namespace logpipe::test {
namespace {

// In a forked child before execve: a service or logpipe started by a test must not keep the
// test's other descriptors open (sockets, pipes, a lock the test runner holds such as the one
// `flock LOCK ctest` takes), or a child outliving a crashed test would keep holding them.
void close_inherited_descriptors() {
  ::close_range(3, ~0U, 0);
}

std::string replace_database(const std::string& url, const std::string& name) {
  const auto slash = url.rfind('/');
  return url.substr(0, slash + 1) + name;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

const Services& Services::shared() {
  static const Services services = [] {
    Services s;
    std::ifstream in(LOGPIPE_SERVICES_ENV);
    std::string line;
    while (std::getline(in, line)) {
      const auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
      if (key == "LOGPIPE_REDIS_URL") s.redis_url = value;
      if (key == "LOGPIPE_DATABASE_URL") s.database_url = value;
    }
    if (s.redis_url.empty() || s.database_url.empty())
      throw std::runtime_error(std::string("no services env at ") + LOGPIPE_SERVICES_ENV +
                               "; run the tests through ctest (fixture services.start)");
    return s;
  }();
  return services;
}

queue::SyncClient shared_redis() {
  auto endpoint = queue::parse_redis_url(Services::shared().redis_url);
  if (!endpoint) throw std::runtime_error(endpoint.error().message);
  auto redis = queue::SyncClient::connect(*endpoint, 2000ms);
  if (!redis) throw std::runtime_error(redis.error().message);
  return std::move(redis).value();
}

std::set<std::string> consumer_names(queue::SyncClient& redis, const std::string& stream,
                                     const std::string& group) {
  std::set<std::string> names;
  auto r = redis.command({"XINFO", "CONSUMERS", stream, group});
  for (std::size_t i = 0; r && i < queue::reply_size(**r); ++i) {
    const redisReply& consumer = queue::reply_at(**r, i);  // [name, n, pending, p, …]
    names.emplace(queue::reply_string(queue::reply_at(consumer, 1)));
  }
  return names;
}

std::string unique_tag(const std::string& base) {
  static std::atomic<int> counter{0};
  return base + "_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
}

TestDatabase::TestDatabase(const std::string& tag) : name_("lp_" + unique_tag(tag)) {
  auto admin = store::Connection::open(Services::shared().database_url);
  if (!admin) throw std::runtime_error(admin.error().message);
  if (auto s = admin->exec("CREATE DATABASE " + name_); !s)
    throw std::runtime_error(s.error().message);
  url_ = replace_database(Services::shared().database_url, name_);
}

TestDatabase::~TestDatabase() {
  auto admin = store::Connection::open(Services::shared().database_url);
  if (admin) (void)admin->exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
}

store::Connection TestDatabase::connect() const {
  auto c = store::Connection::open(url_);
  if (!c) throw std::runtime_error(c.error().message);
  return std::move(c).value();
}

long long TestDatabase::count(const std::string& sql) const {
  auto c = connect();
  auto rows = c.query(sql);
  if (!rows) throw std::runtime_error(rows.error().message);
  return rows->get_int(0, 0);
}

// A port nothing listens on now. The kernel may hand the same ephemeral port out again once it is
// closed, so a test asking twice (HTTP and syslog) could get one port for both: each port is
// given out once per test process.
unsigned short free_port() {
  static std::mutex mutex;
  static std::set<unsigned short> given;
  const std::lock_guard lock(mutex);
  for (;;) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    const unsigned short port = ntohs(addr.sin_port);
    if (given.insert(port).second) return port;
  }
}

int connect_loopback(unsigned short port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

namespace {

void set_timeouts(int fd, std::chrono::milliseconds timeout) {
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

std::string request_head(const HttpRequest& req, bool close) {
  std::string head = req.method + " " + req.target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                     (close ? "Connection: close\r\n" : "") +
                     "Content-Length: " + std::to_string(req.body.size()) + "\r\n";
  if (req.content_type) head += "Content-Type: " + *req.content_type + "\r\n";
  for (const auto& [k, v] : req.headers)
    head += k + ": " + v + "\r\n";
  return head + "\r\n";
}

}  // namespace

HttpResponse parse_response(const std::string& raw) {
  HttpResponse response;
  const auto header_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || header_end == std::string::npos) return response;
  response.status = std::stoi(raw.substr(9, 3));
  std::istringstream lines(raw.substr(0, header_end));
  std::string line;
  std::getline(lines, line);
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (auto& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto value = line.find_first_not_of(' ', colon + 1);
    response.headers[name] = value == std::string::npos ? "" : line.substr(value);
  }
  response.body = raw.substr(header_end + 4);
  return response;
}

HttpResponse http(unsigned short port, const HttpRequest& req, std::chrono::milliseconds timeout) {
  HttpResponse response;
  const int fd = connect_loopback(port);
  if (fd < 0) return response;
  set_timeouts(fd, timeout);
  const std::string head = request_head(req, true);
  // The server may answer (e.g. 413) and close before the body is sent: ignore send errors
  // and read whatever response came.
  auto send_all = [&](const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
      const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  };
  if (send_all(head)) send_all(req.body);
  std::string raw;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return parse_response(raw);
}

TlsConnection::TlsConnection(unsigned short port, int max_version,
                             std::chrono::milliseconds timeout) {
  connect(port, timeout, max_version, {}, {});
}

TlsConnection::TlsConnection(unsigned short port, const std::string& cert_file,
                             const std::string& key_file, std::chrono::milliseconds timeout) {
  connect(port, timeout, 0, cert_file, key_file);
}

void TlsConnection::connect(unsigned short port, std::chrono::milliseconds timeout, int max_version,
                            const std::string& cert_file, const std::string& key_file) {
  // SSL_write writes with write(2), not send(MSG_NOSIGNAL): a write to a connection the server
  // closed must fail, not end the test with SIGPIPE.
  static const bool no_sigpipe = [] { return ::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();
  (void)no_sigpipe;
  fd_ = connect_loopback(port);
  if (fd_ < 0) {
    error_ = "cannot connect";
    return;
  }
  set_timeouts(fd_, timeout);
  context_ = SSL_CTX_new(TLS_client_method());
  if (!cert_file.empty() &&
      (SSL_CTX_use_certificate_chain_file(context_, cert_file.c_str()) != 1 ||
       SSL_CTX_use_PrivateKey_file(context_, key_file.c_str(), SSL_FILETYPE_PEM) != 1)) {
    error_ = "cannot load the client certificate " + cert_file;
    return;
  }
  ssl_ = SSL_new(context_);
  if (max_version != 0) {
    // OpenSSL 3 offers TLS 1.1 only at security level 0: an old client, so that the refusal
    // is the server's.
    SSL_set_security_level(ssl_, 0);
    SSL_set_cipher_list(ssl_, "DEFAULT:@SECLEVEL=0");
    SSL_set_min_proto_version(ssl_, TLS1_VERSION);
    SSL_set_max_proto_version(ssl_, max_version);
  }
  SSL_set_fd(ssl_, fd_);
  if (SSL_connect(ssl_) != 1) {
    char text[256];
    ERR_error_string_n(ERR_get_error(), text, sizeof text);
    error_ = text;
    return;
  }
  X509* cert = SSL_get1_peer_certificate(ssl_);
  fingerprint_ = test::fingerprint(cert);
  X509_free(cert);
  version_ = SSL_get_version(ssl_);
}

TlsConnection::~TlsConnection() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (context_ != nullptr) SSL_CTX_free(context_);
  if (fd_ >= 0) ::close(fd_);
}

HttpResponse TlsConnection::request(const HttpRequest& req, bool close) {
  if (!ok()) return {};
  const std::string data = request_head(req, close) + req.body;
  if (SSL_write(ssl_, data.data(), static_cast<int>(data.size())) <= 0) return {};
  // Until the end of the header, then Content-Length bytes (logpipe's answers have one), or the
  // connection's end.
  std::string raw;
  char buf[16384];
  std::size_t want = std::string::npos;
  while (raw.size() < want) {
    const int n = SSL_read(ssl_, buf, sizeof buf);
    if (n <= 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
    const auto end = raw.find("\r\n\r\n");
    if (want == std::string::npos && end != std::string::npos) {
      const auto head = parse_response(raw.substr(0, end + 4));
      const auto length = head.headers.find("content-length");
      if (length != head.headers.end()) want = end + 4 + std::stoul(length->second);
    }
  }
  return parse_response(raw);
}

bool TlsConnection::send(std::string_view data) {
  if (!ok()) return false;
  return SSL_write(ssl_, data.data(), static_cast<int>(data.size())) ==
         static_cast<int>(data.size());
}

bool TlsConnection::closed_by_peer() {
  if (!ok()) return true;
  char byte;
  const int n = SSL_read(ssl_, &byte, 1);
  const int system_error = errno;
  if (n > 0) return false;
  const int error = SSL_get_error(ssl_, n);
  ERR_clear_error();
  // A timeout (SO_RCVTIMEO: EAGAIN) leaves the connection open.
  const bool timed_out = system_error == EAGAIN || system_error == EWOULDBLOCK;
  return !(error == SSL_ERROR_WANT_READ || (error == SSL_ERROR_SYSCALL && timed_out));
}

HttpResponse https(unsigned short port, const HttpRequest& request, int max_version) {
  TlsConnection connection(port, max_version);
  return connection.request(request, true);
}

HttpResponse get(unsigned short port, const std::string& target) {
  HttpRequest r;
  r.target = target;
  r.content_type.reset();
  return http(port, r);
}

HttpResponse ingest_ndjson(unsigned short port, const std::string& body) {
  HttpRequest r;
  r.method = "POST";
  r.target = "/api/v1/ingest";
  r.content_type = "application/x-ndjson";
  r.body = body;
  return http(port, r);
}

HttpResponse post_json(unsigned short port, const std::string& target, const std::string& body) {
  HttpRequest r;
  r.method = "POST";
  r.target = target;
  r.body = body;
  return http(port, r);
}

StreamingGet::StreamingGet(unsigned short port, const std::string& target,
                           std::chrono::milliseconds timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return;
  const int receive_buffer = 64 << 10;  // before connect: it sizes the TCP window
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const std::string request =
      "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(request.size())) {
    close();
    return;
  }
  for (;;) {
    const auto line = take_line();
    if (!line || (status_ == 0 && line->rfind("HTTP/1.1 ", 0) != 0)) {
      status_ = 0;
      close();
      return;
    }
    if (line->empty()) break;  // the end of the head
    if (status_ == 0) {
      status_ = std::stoi(line->substr(9, 3));
      continue;
    }
    const auto colon = line->find(':');
    if (colon == std::string::npos) continue;
    std::string name = line->substr(0, colon);
    for (auto& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    headers_[name] = line->substr(line->find_first_not_of(' ', colon + 1));
  }
}

StreamingGet::~StreamingGet() {
  close();
}

void StreamingGet::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool StreamingGet::fill() {
  if (fd_ < 0) return false;
  char buf[65536];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) return false;
  buffer_.append(buf, static_cast<std::size_t>(n));
  return true;
}

std::optional<std::string> StreamingGet::take_line() {
  for (;;) {
    const auto end = buffer_.find("\r\n");
    if (end != std::string::npos) {
      std::string line = buffer_.substr(0, end);
      buffer_.erase(0, end + 2);
      return line;
    }
    if (!fill()) return std::nullopt;
  }
}

std::optional<std::string> StreamingGet::next_chunk() {
  if (complete_ || fd_ < 0) return std::nullopt;
  const auto size_line = take_line();
  if (!size_line) return std::nullopt;
  const std::size_t size = std::stoul(*size_line, nullptr, 16);  // extensions are not used
  if (size == 0) {
    complete_ = take_line().has_value();  // the empty line after the last chunk
    return std::nullopt;
  }
  while (buffer_.size() < size + 2) {
    if (!fill()) return std::nullopt;
  }
  std::string data = buffer_.substr(0, size);
  buffer_.erase(0, size + 2);
  return data;
}

Process::Process(std::vector<std::string> args, std::map<std::string, std::string> env) {
  log_path_ = "/tmp/" + unique_tag("logpipe_test") + ".log";
  // Everything the child needs is built before fork: children of a threaded parent should only
  // call async-signal-safe functions. No LOGPIPE_* leaks in from the developer's shell.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    if (std::string_view(*e).rfind("LOGPIPE_", 0) != 0) env_strings.emplace_back(*e);
  }
  for (const auto& [k, v] : env)
    env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, argv;
  for (auto& e : env_strings)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  const int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_ = fork();
  if (pid_ == 0) {
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close_inherited_descriptors();
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  ::close(fd);
}

Process::~Process() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  ::unlink(log_path_.c_str());
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (pid_ > 0) {
    int status = 0;
    const int r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() > until) return std::nullopt;
    std::this_thread::sleep_for(20ms);
  }
  return std::nullopt;
}

namespace {

// Why a process did not stop: the end of its output, and where each of its threads is (gdb, when
// installed). A shutdown that hangs once in a hundred runs cannot be debugged from "nullopt".
void report_stuck(pid_t pid, const std::string& output, std::chrono::milliseconds waited) {
  std::size_t tail = output.size();
  for (int lines = 0; lines < 40 && tail > 0; ++lines) {
    const std::size_t newline = output.rfind('\n', tail - 1);
    tail = newline == std::string::npos ? 0 : newline;
  }
  std::fprintf(stderr, "process %d still runs %lld ms after SIGTERM; the end of its output:\n%s\n",
               static_cast<int>(pid), static_cast<long long>(waited.count()),
               output.substr(tail).c_str());
  const std::string command = "command -v gdb >/dev/null && timeout 60 gdb -p " +
                              std::to_string(pid) +
                              " -batch -nx -ex 'thread apply all bt 25' 2>&1 | grep -E "
                              "'^(Thread|#)' | head -n 400";
  if (FILE* gdb = ::popen(command.c_str(), "r")) {
    char line[1024];
    while (std::fgets(line, sizeof line, gdb) != nullptr)
      std::fputs(line, stderr);
    ::pclose(gdb);
  }
}

}  // namespace

std::optional<int> Process::terminate(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  ::kill(pid_, SIGTERM);
  auto code = wait(timeout);
  if (!code && pid_ > 0) report_stuck(pid_, output(), timeout);
  return code;
}

void Process::kill_now() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string Process::output() const {
  return read_file(log_path_);
}

Logpipe::Logpipe(LogpipeOptions o) : port_(o.port ? o.port : free_port()) {
  std::vector<std::string> args{LOGPIPE_BINARY, o.command};
  const bool serves = o.command != "worker";
  if (serves) {
    args.push_back("--http-addr");
    args.push_back("127.0.0.1:" + std::to_string(port_));
  }
  for (auto& a : o.extra_args)
    args.push_back(a);
  std::map<std::string, std::string> env{
      {"LOGPIPE_DATABASE_URL", o.database_url},
      {"LOGPIPE_REDIS_URL", o.redis_url.empty() ? Services::shared().redis_url : o.redis_url},
      {"LOGPIPE_STREAM", o.stream},
      {"LOGPIPE_THREADS", "2"},
      {"LOGPIPE_MAX_WAIT_MS", "50"},
      // Tests of everything but authentication run without keys; those of keys set "keys".
      {"LOGPIPE_AUTH", "none"},
      // Tests sending many refused requests from 127.0.0.1 must not meet the limit on failed
      // authentications; the test of that limit sets it.
      {"LOGPIPE_IP_AUTH_FAILURES_PER_SECOND", "0"},
      // Tests send records dated long ago (a Loki timestamp of 1 ns, GELF from 2024): with the
      // default 30 days the worker's start-up maintenance round deleted them as expired while
      // the test looked for them. The tests of retention run `logpipe maintenance` with theirs.
      {"LOGPIPE_RETENTION_DAYS", "0"},
  };
  for (const auto& [name, value] : o.env)
    env[name] = value;
  process_ = std::make_unique<Process>(args, env);
  if (!serves) {
    // Until it logs this, a SIGTERM may come before its signals are blocked and kill it (a slow
    // start under ASan on a busy machine); one that cannot start is the test's to find out.
    eventually([&] { return process_->output().find("worker started") != std::string::npos; }, 15s);
    return;
  }
  const bool up = eventually(
      [&] {
        HttpRequest live;
        live.target = "/health/live";
        return (o.https ? https(port_, live) : get(port_, "/health/live")).status == 200;
      },
      15s);
  if (!up) throw std::runtime_error("logpipe did not start:\n" + process_->output());
}

std::pair<int, std::string> run_logpipe(const std::vector<std::string>& args,
                                        const std::map<std::string, std::string>& env,
                                        std::chrono::milliseconds timeout) {
  std::vector<std::string> full{LOGPIPE_BINARY};
  full.insert(full.end(), args.begin(), args.end());
  Process p(full, env);
  auto code = p.wait(timeout);
  return {code.value_or(-999), p.output()};
}

namespace {

// `name` found on PATH, as execvp would; empty when absent.
std::string on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// `node dir/script args…`, bounded by `timeout`. The script runs in a process group of its own,
// killed whole on a timeout: a browser it started must not outlive it.
NodeResult run_node_in(const std::string& dir, const std::string& install,
                       const std::string& script, const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env,
                       std::chrono::milliseconds timeout) {
  NodeResult result;
  const std::string node = on_path("node");
  if (node.empty()) {
    result.err = "node is not on PATH: the integration tests' clients need Node.js 18 or later";
    return result;
  }
  if (::access((dir + "/node_modules").c_str(), F_OK) != 0) {
    result.err = "the scripts' packages are not installed: run `make " + install + "` (npm ci in " +
                 dir + ")";
    return result;
  }
  std::vector<std::string> argv_strings{node, dir + "/" + script};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    if (std::string_view(*e).rfind("LOGPIPE_", 0) != 0) env_strings.emplace_back(*e);
  }
  for (const auto& [k, v] : env)
    env_strings.push_back(k + "=" + v);
  std::vector<char*> argv, envp;
  for (auto& a : argv_strings)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_strings)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string base = "/tmp/" + unique_tag("logpipe_node");
  const std::string out_path = base + ".out", err_path = base + ".err";
  const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const pid_t pid = fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    close_inherited_descriptors();
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  ::setpgid(pid, pid);  // as the child does: whichever runs first
  ::close(out);
  ::close(err);
  const auto until = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() > until) {
      ::kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      result.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  ::unlink(out_path.c_str());
  ::unlink(err_path.c_str());
  return result;
}

}  // namespace

NodeResult run_node(const std::string& script, const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& env,
                    std::chrono::milliseconds timeout) {
  return run_node_in(LOGPIPE_TEST_CLIENTS, "clients", script, args, env, timeout);
}

NodeResult run_browser(const std::string& script, const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env,
                       std::chrono::milliseconds timeout) {
  return run_node_in(LOGPIPE_TEST_BROWSER, "browser-tests", script, args, env, timeout);
}

PrivateAlertmanager::PrivateAlertmanager()
    : dir_("/tmp/" + unique_tag("logpipe-alertmanager")), port_(free_port()) {
  std::string binary = on_path("prometheus-alertmanager");
  if (binary.empty()) binary = on_path("alertmanager");
  if (binary.empty())
    throw std::runtime_error(
        "prometheus-alertmanager is not installed: make deps (Debian package "
        "prometheus-alertmanager)");
  std::filesystem::create_directories(dir_ + "/data");
  // Alerts are only kept and shown by the API: the one receiver sends nothing anywhere.
  std::ofstream(dir_ + "/alertmanager.yml") << "route:\n"
                                               "  receiver: nowhere\n"
                                               "receivers:\n"
                                               "  - name: nowhere\n";
  process_ = std::make_unique<Process>(
      std::vector<std::string>{binary, "--config.file=" + dir_ + "/alertmanager.yml",
                               "--storage.path=" + dir_ + "/data",
                               "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                               "--cluster.listen-address=", "--log.level=warn"},
      std::map<std::string, std::string>{});
  if (!eventually([&] { return get(port_, "/-/ready").status == 200; }, 20s))
    throw std::runtime_error("alertmanager did not become ready:\n" + process_->output());
}

PrivateAlertmanager::~PrivateAlertmanager() {
  if (process_ && !process_->terminate(5s)) process_->kill_now();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::vector<std::string> PrivateAlertmanager::alerts_named(const std::string& name) const {
  const HttpResponse response = get(port_, "/api/v2/alerts");
  std::vector<std::string> found;
  if (response.status != 200) return found;
  simdjson::dom::parser parser;
  simdjson::dom::array alerts;
  if (parser.parse(response.body).get_array().get(alerts) != simdjson::SUCCESS) return found;
  for (auto alert : alerts) {
    std::string_view alertname;
    if (alert["labels"]["alertname"].get_string().get(alertname) == simdjson::SUCCESS &&
        alertname == name)
      found.push_back(simdjson::to_string(alert));
  }
  return found;
}

std::string describe(const NodeResult& r) {
  return "node exit " + std::to_string(r.exit_code) + (r.timed_out ? " (timed out)" : "") +
         "\n--- stdout\n" + r.out + "\n--- stderr\n" + r.err;
}

namespace {
void dev_services(const std::string& args) {
  const std::string cmd = std::string(LOGPIPE_DEV_SERVICES) + " " + args + " >/dev/null";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
}
}  // namespace

PrivateService::PrivateService(std::string which)
    : which_(std::move(which)), dir_("/tmp/" + unique_tag("logpipe-" + which_)) {
  start();
  const std::string key = which_ == "redis" ? "LOGPIPE_REDIS_URL=" : "LOGPIPE_DATABASE_URL=";
  std::ifstream env(dir_ + "/services.env");
  std::string line;
  while (std::getline(env, line)) {
    if (line.rfind(key, 0) == 0) url_ = line.substr(key.size());
  }
  if (url_.empty()) throw std::runtime_error("private " + which_ + " did not start");
}
PrivateService::~PrivateService() {
  dev_services("stop --dir " + dir_ + " --remove");
}
void PrivateService::stop() {
  dev_services("stop --dir " + dir_ + " " + which_);
}
void PrivateService::crash() {
  std::ifstream pid_file(dir_ + "/redis/redis.pid");
  int pid = 0;
  if (which_ != "redis" || !(pid_file >> pid) || pid <= 0)
    throw std::runtime_error("no redis pid in " + dir_);
  ::kill(pid, SIGKILL);
  // Not our child: wait until it is gone.
  for (int i = 0; i < 500 && ::kill(pid, 0) == 0; ++i)
    std::this_thread::sleep_for(10ms);
}
void PrivateService::start() {
  dev_services("start --dir " + dir_ + " " + which_);
}

double metric(const std::string& exposition, const std::string& series) {
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return 0;
}

double metric(unsigned short port, const std::string& series) {
  return metric(get(port, "/metrics").body, series);
}

bool send_udp(unsigned short port, std::string_view datagram) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const auto sent = ::sendto(fd, datagram.data(), datagram.size(), 0,
                             reinterpret_cast<const sockaddr*>(&to), sizeof to);
  ::close(fd);
  return sent == static_cast<ssize_t>(datagram.size());
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(50ms);
  }
}

simdjson::dom::element parse_json(simdjson::dom::parser& parser, const std::string& text) {
  simdjson::dom::element element;
  if (parser.parse(text).get(element) != simdjson::SUCCESS) {
    ADD_FAILURE() << "not JSON: " << text;
    if (parser.parse(std::string("null")).get(element) != simdjson::SUCCESS) std::abort();
  }
  return element;
}

long status_kib(int pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

std::future<NodeResult> start_webhook_receiver(unsigned short port, const std::string& secret,
                                               const std::string& statuses, int requests,
                                               const std::string& mode) {
  std::vector<std::string> args{std::to_string(port), secret, statuses, std::to_string(requests)};
  if (!mode.empty()) args.push_back(mode);
  auto result = std::async(std::launch::async,
                           [args] { return run_node("webhook_receiver.js", args, {}, 45s); });
  // Listening: a connection without a request is no request to it.
  const bool up = eventually(
      [&] {
        const int fd = connect_loopback(port);
        if (fd >= 0) ::close(fd);
        return fd >= 0;
      },
      15s);
  EXPECT_TRUE(up) << "the webhook receiver did not listen on " << port;
  return result;
}

}  // namespace logpipe::test
