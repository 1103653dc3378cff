#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "../common/certificate.hpp"
#include "../common/temp_dir.hpp"
#include "tls/server_context.hpp"

namespace logpipe::tls {
namespace {

namespace fs = std::filesystem;

using test::TempDir;

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

// Whether a client presenting `client` (or no certificate) completes a handshake with a server of
// `server`'s context, in memory (a BIO pair).
bool handshakes(const ServerContext& server, const test::CertificateFiles* client) {
  SSL_CTX* client_context = SSL_CTX_new(TLS_client_method());
  if (client != nullptr) {
    EXPECT_EQ(SSL_CTX_use_certificate_file(client_context, client->cert.c_str(), SSL_FILETYPE_PEM),
              1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey_file(client_context, client->key.c_str(), SSL_FILETYPE_PEM),
              1);
  }
  const auto server_context = server.current();
  SSL* c = SSL_new(client_context);
  SSL* s = SSL_new(server_context->native_handle());
  BIO* client_end = nullptr;
  BIO* server_end = nullptr;
  BIO_new_bio_pair(&client_end, 0, &server_end, 0);
  SSL_set_bio(c, client_end, client_end);
  SSL_set_bio(s, server_end, server_end);
  SSL_set_connect_state(c);
  SSL_set_accept_state(s);
  int client_done = 0, server_done = 0;
  for (int round = 0; round < 20 && server_done != 1; ++round) {
    if (client_done != 1) client_done = SSL_do_handshake(c);
    server_done = SSL_do_handshake(s);
  }
  SSL_free(c);
  SSL_free(s);
  SSL_CTX_free(client_context);
  ERR_clear_error();
  return server_done == 1;
}

// Mutual TLS: only clients with a certificate of the client CA complete a handshake; the CA
// file is read again on reload, and a reload that fails keeps the CAs in force.
TEST(TlsServerContext, AClientCaRequiresItsClientCertificates) {
  TempDir dir;
  const std::string d = dir.path.string();
  const auto server = test::make_certificate(d, "server", "logs.example");
  const auto ca = test::make_ca(d, "ca", "Client CA");
  const auto other_ca = test::make_ca(d, "other-ca", "Other CA");
  const auto client = test::make_client_certificate(d, "client", "tenant-a", ca);
  const auto other_client = test::make_client_certificate(d, "other-client", "tenant-a", other_ca);
  const auto self_signed = test::make_certificate(d, "self", "tenant-a");
  const std::string ca_file = dir.file("clients.pem");
  fs::copy_file(ca.cert, ca_file);

  auto plain = ServerContext::load(server.cert, server.key, "syslog_tls");
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_FALSE((*plain)->verifies_clients());
  EXPECT_EQ((*plain)->info().client_cas, "");
  EXPECT_TRUE(handshakes(**plain, nullptr));

  auto loaded = ServerContext::load(server.cert, server.key, "syslog_tls", ca_file);
  ASSERT_TRUE(loaded) << loaded.error().message;
  auto& context = **loaded;
  EXPECT_TRUE(context.verifies_clients());
  EXPECT_EQ(context.info().client_cas, "CN=Client CA");
  EXPECT_EQ(context.info().subject, "CN=logs.example");
  EXPECT_TRUE(handshakes(context, &client));
  EXPECT_FALSE(handshakes(context, nullptr));
  EXPECT_FALSE(handshakes(context, &self_signed));
  EXPECT_FALSE(handshakes(context, &other_client));

  // Both CAs in the file: both clients pass.
  {
    std::ofstream out(ca_file, std::ios::app);
    out << std::ifstream(other_ca.cert).rdbuf();
  }
  ASSERT_TRUE(context.reload());
  EXPECT_EQ(context.info().client_cas, "CN=Client CA; CN=Other CA");
  EXPECT_TRUE(handshakes(context, &client));
  EXPECT_TRUE(handshakes(context, &other_client));

  // A CA file without a certificate fails and keeps both CAs.
  std::ofstream(ca_file, std::ios::trunc) << "-----BEGIN CERTIFICATE-----\nnot base64\n";
  const auto failed = context.reload();
  ASSERT_FALSE(failed);
  EXPECT_TRUE(contains(failed.error().message,
                       "syslog_tls_client_ca " + ca_file + ": no PEM certificate in it"))
      << failed.error().message;
  EXPECT_TRUE(handshakes(context, &other_client));

  // Only the other CA now: the first one's clients are refused.
  fs::copy_file(other_ca.cert, ca_file, fs::copy_options::overwrite_existing);
  ASSERT_TRUE(context.reload());
  EXPECT_FALSE(handshakes(context, &client));
  EXPECT_TRUE(handshakes(context, &other_client));
}

TEST(TlsServerContext, ClientCaErrorsNameTheSettingAndTheFile) {
  TempDir dir;
  const auto server = test::make_certificate(dir.path.string(), "server");
  const std::string missing = dir.file("missing.pem"), empty = dir.file("empty.pem");
  std::ofstream(empty) << "";
  auto r = ServerContext::load(server.cert, server.key, "syslog_tls", missing);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::Errc::invalid_argument);
  EXPECT_TRUE(contains(r.error().message, "syslog_tls_client_ca " + missing + ": No such file"))
      << r.error().message;
  r = ServerContext::load(server.cert, server.key, "syslog_tls", empty);
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error().message, "syslog_tls_client_ca " + empty + ": no PEM certificate"))
      << r.error().message;
}

}  // namespace
}  // namespace logpipe::tls
