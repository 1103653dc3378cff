#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "../common/certificate.hpp"
#include "tls/server_context.hpp"

namespace logpipe::tls {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  TempDir() : path(fs::temp_directory_path() / ("logpipe-tls-" + std::to_string(getpid()))) {
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
  fs::path path;
};

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

TEST(TlsServerContext, LoadsACertificateForTls12AndLater) {
  TempDir dir;
  const auto files = test::make_certificate(dir.path.string(), "a", "logs.example");
  auto loaded = ServerContext::load(files.cert, files.key, "tls");
  ASSERT_TRUE(loaded) << loaded.error().message;
  const auto info = (*loaded)->info();
  EXPECT_EQ(info.fingerprint, test::fingerprint_of_file(files.cert));
  EXPECT_EQ(info.subject, "CN=logs.example");
  EXPECT_GT(info.not_after, std::time(nullptr));
  EXPECT_LT(info.not_after, std::time(nullptr) + 2 * 24 * 3600);
  const auto context = (*loaded)->current();
  ASSERT_NE(context, nullptr);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(context->native_handle()), TLS1_2_VERSION);
}

TEST(TlsServerContext, ErrorsNameTheSettingAndTheFile) {
  TempDir dir;
  const auto a = test::make_certificate(dir.path.string(), "a");
  const auto b = test::make_certificate(dir.path.string(), "b");
  const std::string missing = dir.file("missing.pem");
  const std::string garbage = dir.file("garbage.pem");
  std::ofstream(garbage) << "not a certificate\n";

  auto r = ServerContext::load(missing, a.key, "tls");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::Errc::invalid_argument);
  EXPECT_TRUE(contains(r.error().message, "tls_cert " + missing + ": No such file"))
      << r.error().message;

  r = ServerContext::load(garbage, a.key, "syslog_tls");
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error().message, "syslog_tls_cert " + garbage)) << r.error().message;

  r = ServerContext::load(a.cert, garbage, "tls");
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error().message, "tls_key " + garbage)) << r.error().message;

  r = ServerContext::load(a.cert, b.key, "tls");
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error().message, "not the private key of tls_cert " + a.cert))
      << r.error().message;

  r = ServerContext::load("", a.key, "tls");
  ASSERT_FALSE(r);
}

// A reload swaps the context for new connections; a connection keeps the one it began with; a
// failed reload changes nothing.
TEST(TlsServerContext, ReloadSwapsTheContextAndAFailedOneKeepsTheOld) {
  TempDir dir;
  const std::string cert = dir.file("server.crt"), key = dir.file("server.key");
  const auto a = test::make_certificate(dir.path.string(), "a");
  const auto b = test::make_certificate(dir.path.string(), "b");
  fs::copy_file(a.cert, cert);
  fs::copy_file(a.key, key);
  auto loaded = ServerContext::load(cert, key, "tls");
  ASSERT_TRUE(loaded) << loaded.error().message;
  auto& context = **loaded;
  const auto held = context.current();  // an open connection's
  const std::string first = context.info().fingerprint;

  fs::copy_file(b.cert, cert, fs::copy_options::overwrite_existing);
  fs::copy_file(b.key, key, fs::copy_options::overwrite_existing);
  const auto reloaded = context.reload();
  ASSERT_TRUE(reloaded) << reloaded.error().message;
  EXPECT_EQ(reloaded->fingerprint, test::fingerprint_of_file(b.cert));
  EXPECT_NE(reloaded->fingerprint, first);
  EXPECT_NE(context.current(), held);
  EXPECT_EQ(test::fingerprint(SSL_CTX_get0_certificate(held->native_handle())), first);

  // Half-written files (the certificate replaced, not yet its key) fail and change nothing.
  const auto before = context.current();
  fs::copy_file(a.cert, cert, fs::copy_options::overwrite_existing);
  const auto failed = context.reload();
  ASSERT_FALSE(failed);
  EXPECT_TRUE(contains(failed.error().message, "not the private key")) << failed.error().message;
  EXPECT_EQ(context.current(), before);
  EXPECT_EQ(context.info().fingerprint, test::fingerprint_of_file(b.cert));

  std::ofstream(cert, std::ios::trunc) << "garbage";
  EXPECT_FALSE(context.reload());
  EXPECT_EQ(context.current(), before);
}

}  // namespace
}  // namespace logpipe::tls
